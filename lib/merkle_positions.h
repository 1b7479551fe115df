// Where a multiproof's nodes sit in a tree stored as levels (vcp::MerkleTree, and the CUDA backend's device tree,
// which copies only these nodes to the host). Implemented in lib/merkle.cpp by the same walk ProveMulti uses.
//
// Levels: level 0 holds the n leaf hashes, level h + 1 pairs level h left to right and carries an unpaired last
// node up unchanged, ending in one node. Node j of level h covers the leaves [j * 2^h, min((j + 1) * 2^h, n)) and
// equals MTH of that range; every subtree the RFC 6962 recursion visits is such a node (proof in lib/merkle.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vcp/hash.h"
#include "vcp/status.h"

namespace vcp {

// Level h + 1 from level h: above[j] = NODE(below[2j], below[2j + 1]), or below[2j] carried up when it is unpaired.
// above holds ceil(below.size() / 2) nodes. threads = 0: all hardware threads. (MerkleTree::Build and the CPU
// backend's level stage.)
void HashLevel(std::span<const Hash32> below, std::span<Hash32> above, int threads);

// Sizes of levels 0, 1, ..., top: n, ceil(n / 2), ..., 1. Requires n >= 1.
std::vector<uint64_t> MerkleLevelSizes(uint64_t leaf_count);

struct NodePosition {
  uint32_t level = 0;
  uint64_t index = 0;
  bool operator==(const NodePosition&) const = default;
};

// The positions of MultiProof::hashes for these leaf indices, in the same order (the roots of the maximal
// subtrees without an opened leaf, met by a left-to-right depth-first walk). indices must be non-empty, strictly
// increasing and below tree_size (InvalidArgument otherwise, as ProveMulti).
Result<std::vector<NodePosition>> MultiProofNodePositions(uint64_t tree_size, std::span<const uint64_t> indices);

}  // namespace vcp
