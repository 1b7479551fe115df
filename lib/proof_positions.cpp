// Multiproof node positions in a level-stored tree (lib/cuda/proof_positions.h).
#include "cuda/proof_positions.h"

#include <algorithm>
#include <bit>
#include <string>

namespace vcp {

namespace {

// ceil(log2(size)) for size >= 1: the level whose node a >> h is the subtree [a, a + size).
uint32_t LevelOf(uint64_t size) { return static_cast<uint32_t>(std::bit_width(size - 1)); }

// The RFC 6962 multiproof recursion over [lo, hi) with the opened indices s inside it: split at the largest power
// of two below hi - lo; a side without an opened index contributes its root, a side with one recurses.
void Walk(uint64_t lo, uint64_t hi, std::span<const uint64_t> s, std::vector<NodePosition>& out) {
  if (hi - lo == 1) return;
  const uint64_t mid = lo + std::bit_floor(hi - lo - 1);
  const size_t left_count = static_cast<size_t>(std::lower_bound(s.begin(), s.end(), mid) - s.begin());
  const auto left = s.first(left_count), right = s.subspan(left_count);
  if (left.empty()) {
    const uint32_t h = LevelOf(mid - lo);
    out.push_back({h, lo >> h});
  } else {
    Walk(lo, mid, left, out);
  }
  if (right.empty()) {
    const uint32_t h = LevelOf(hi - mid);
    out.push_back({h, mid >> h});
  } else {
    Walk(mid, hi, right, out);
  }
}

}  // namespace

std::vector<uint64_t> MerkleLevelSizes(uint64_t leaf_count) {
  std::vector<uint64_t> sizes{leaf_count};
  while (sizes.back() > 1) sizes.push_back((sizes.back() + 1) / 2);
  return sizes;
}

Result<std::vector<NodePosition>> MultiProofNodePositions(uint64_t tree_size, std::span<const uint64_t> indices) {
  if (tree_size == 0) return Status::InvalidArgument("a multiproof needs a tree of at least one leaf, got size 0");
  if (indices.empty()) return Status::InvalidArgument("a multiproof must open at least one leaf, got no indices");
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= tree_size) {
      return Status::InvalidArgument("index " + std::to_string(indices[i]) + " is out of range: the tree has " +
                                     std::to_string(tree_size) + " leaves (indices 0.." +
                                     std::to_string(tree_size - 1) + ")");
    }
    if (i > 0 && indices[i] <= indices[i - 1]) {
      return Status::InvalidArgument("indices must be strictly increasing, but index " + std::to_string(indices[i]) +
                                     " follows " + std::to_string(indices[i - 1]) + " at position " +
                                     std::to_string(i));
    }
  }
  std::vector<NodePosition> out;
  Walk(0, tree_size, indices, out);
  return out;
}

}  // namespace vcp
