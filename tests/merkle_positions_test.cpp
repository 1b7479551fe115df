// The CUDA backend opens tiles by copying only the multiproof's nodes from its level-stored device tree; the
// positions come from MultiProofNodePositions (lib/merkle_positions.h). These host tests check the claim
// behind it on every tree size 1..70: each position's node of vcp::MerkleTree's levels is MTH of the subtree it
// stands for (a tiny recursive RFC 6962 reference in this file), the positions' ranges and the opened leaves tile
// [0, n) left to right, and the hashes at those positions are exactly vcp::ProveMulti's.
#include "merkle_positions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "vcp/bytes.h"
#include "vcp/hash.h"
#include "vcp/merkle.h"

namespace vcp {
namespace {

// MTH(D[lo:hi]) literally from RFC 6962 section 2.1, over leaf hashes.
Hash32 RefMth(const std::vector<Hash32>& leaves, uint64_t lo, uint64_t hi) {
  if (hi - lo == 1) return leaves[lo];
  uint64_t k = 1;
  while (2 * k < hi - lo) k *= 2;
  return MerkleNodeHash(RefMth(leaves, lo, lo + k), RefMth(leaves, lo + k, hi));
}

std::vector<Hash32> SomeLeaves(uint64_t n) {
  std::vector<Hash32> leaves(n);
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t bytes[2] = {uint8_t(i), uint8_t(i >> 8)};
    leaves[i] = MerkleLeafHash(bytes);
  }
  return leaves;
}

// Checks every property of the positions for one index set; returns a failure naming the set.
::testing::AssertionResult CheckPositions(const MerkleTree& tree, const std::vector<Hash32>& leaves,
                                          const std::vector<uint64_t>& indices) {
  const uint64_t n = tree.size();
  std::string set = "n = " + std::to_string(n) + ", indices {";
  for (uint64_t i : indices) set += std::to_string(i) + " ";
  set += "}";
  auto positions = MultiProofNodePositions(n, indices);
  if (!positions.ok()) return ::testing::AssertionFailure() << set << ": " << positions.status().ToString();
  auto proof = ProveMulti(tree, indices);
  if (!proof.ok()) return ::testing::AssertionFailure() << set << ": ProveMulti: " << proof.status().ToString();
  if (positions->size() != proof->hashes.size()) {
    return ::testing::AssertionFailure() << set << ": " << positions->size() << " positions, ProveMulti gives "
                                         << proof->hashes.size() << " hashes";
  }
  // Walk [0, n) left to right: each position covers the next run of leaves, each opened index the next leaf.
  uint64_t cursor = 0;
  size_t next_index = 0;
  for (size_t p = 0; p < positions->size(); ++p) {
    const NodePosition pos = (*positions)[p];
    while (next_index < indices.size() && indices[next_index] == cursor) {
      ++cursor;
      ++next_index;
    }
    if (pos.level >= tree.levels().size() || pos.index >= tree.levels()[pos.level].size()) {
      return ::testing::AssertionFailure() << set << ": position " << p << " (level " << pos.level << ", node "
                                           << pos.index << ") is outside the tree";
    }
    const uint64_t lo = pos.index << pos.level, hi = std::min<uint64_t>((pos.index + 1) << pos.level, n);
    if (lo != cursor) {
      return ::testing::AssertionFailure() << set << ": position " << p << " covers leaves from " << lo
                                           << " but the walk is at leaf " << cursor;
    }
    const Hash32& node = tree.levels()[pos.level][pos.index];
    if (node != RefMth(leaves, lo, hi)) {
      return ::testing::AssertionFailure() << set << ": node (" << pos.level << ", " << pos.index
                                           << ") is not MTH of leaves [" << lo << ", " << hi << ")";
    }
    if (node != proof->hashes[p]) {
      return ::testing::AssertionFailure() << set << ": proof hash " << p << " differs from ProveMulti's";
    }
    cursor = hi;
  }
  while (next_index < indices.size() && indices[next_index] == cursor) {
    ++cursor;
    ++next_index;
  }
  if (cursor != n || next_index != indices.size()) {
    return ::testing::AssertionFailure() << set << ": positions and opened leaves cover [0, " << cursor
                                         << ") instead of [0, " << n << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST(CudaProofPositions, LevelSizesMatchMerkleTree) {
  for (uint64_t n = 1; n <= 70; ++n) {
    const MerkleTree tree = MerkleTree::Build(SomeLeaves(n), 1);
    const std::vector<uint64_t> sizes = MerkleLevelSizes(n);
    ASSERT_EQ(sizes.size(), tree.levels().size()) << "n = " << n;
    for (size_t h = 0; h < sizes.size(); ++h) EXPECT_EQ(sizes[h], tree.levels()[h].size()) << "n = " << n;
  }
  EXPECT_EQ(MerkleLevelSizes(1), (std::vector<uint64_t>{1}));
  EXPECT_EQ(MerkleLevelSizes(5), (std::vector<uint64_t>{5, 3, 2, 1}));
}

// Hand-worked cases, including the uneven right subtree [4, 7) as node 1 of level 2.
TEST(CudaProofPositions, KnownAnswers) {
  const uint64_t zero[] = {0}, six[] = {6};
  EXPECT_EQ(*MultiProofNodePositions(5, zero), (std::vector<NodePosition>{{0, 1}, {1, 1}, {0, 4}}));
  EXPECT_EQ(*MultiProofNodePositions(7, zero), (std::vector<NodePosition>{{0, 1}, {1, 1}, {2, 1}}));
  EXPECT_EQ(*MultiProofNodePositions(7, six), (std::vector<NodePosition>{{2, 0}, {1, 2}}));
  EXPECT_TRUE(MultiProofNodePositions(1, zero)->empty());
  const uint64_t all[] = {0, 1, 2, 3, 4, 5, 6};
  EXPECT_TRUE(MultiProofNodePositions(7, all)->empty());
}

TEST(CudaProofPositions, EqualProveMultiOnAllSizesUpTo70) {
  std::mt19937_64 rng(6962);
  for (uint64_t n = 1; n <= 70; ++n) {
    const std::vector<Hash32> leaves = SomeLeaves(n);
    const MerkleTree tree = MerkleTree::Build(leaves, 1);
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(CheckPositions(tree, leaves, {i}));
      for (uint64_t j = i + 1; j < n; ++j) ASSERT_TRUE(CheckPositions(tree, leaves, {i, j}));
    }
    std::vector<uint64_t> every(n);
    for (uint64_t i = 0; i < n; ++i) every[i] = i;
    ASSERT_TRUE(CheckPositions(tree, leaves, every));
    for (int trial = 0; trial < 30; ++trial) {
      std::vector<uint64_t> subset;
      const uint64_t keep_one_in = 1 + rng() % 6;
      for (uint64_t i = 0; i < n; ++i) {
        if (rng() % keep_one_in == 0) subset.push_back(i);
      }
      if (subset.empty()) subset.push_back(rng() % n);
      ASSERT_TRUE(CheckPositions(tree, leaves, subset));
    }
  }
}

TEST(CudaProofPositions, RejectsBadIndexSets) {
  const uint64_t unsorted[] = {3, 1}, repeated[] = {2, 2}, beyond[] = {0, 9}, one[] = {0};
  EXPECT_EQ(MultiProofNodePositions(9, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultiProofNodePositions(9, unsorted).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultiProofNodePositions(9, repeated).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultiProofNodePositions(9, beyond).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultiProofNodePositions(0, one).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(MultiProofNodePositions(10, beyond).ok());
}

}  // namespace
}  // namespace vcp
