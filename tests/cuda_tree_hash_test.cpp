// The CUDA kernels' per-thread hashing (lib/cuda/tree_hash.h) run on the host: HashLeaf must equal the CPU
// engine's leaf hash (OpenSSL over LeafBytes) for every tile size, every edge-tile shape and every residue of the
// element count mod 16 (the padding cases), with and without a row stride beyond N; HashNode must equal
// MerkleNodeHash. The GPU compiles these same functions (kernels/hash_leaves.cu, kernels/merkle_levels.cu).
#include "cuda/tree_hash.h"

#include <gtest/gtest.h>

#include "test_util.h"

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "vcp/bytes.h"
#include "vcp/merkle.h"
#include "vcp/workload.h"

namespace vcp {
namespace {

Hash32 DigestBytes(const uint32_t words[8]) {
  Hash32 out{};
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = uint8_t(words[i] >> (24 - 8 * j));
  }
  return out;
}

void DigestWords(const Hash32& h, uint32_t words[8]) {
  for (int i = 0; i < 8; ++i) words[i] = shared::LoadBe32(h.data() + 4 * i);
}

cuda::LeafSpec SpecOf(const WorkloadParams& p) {
  cuda::LeafSpec spec{static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, {}};
  for (size_t i = 0; i < p.seed.size(); ++i) spec.seed[i] = p.seed[i];
  return spec;
}

using vcp::testing::MakeWorkload;

// C (M, ldc) of arbitrary 32-bit values; columns N..ldc-1 are padding HashLeaf must never read into a leaf.
std::vector<uint32_t> RandomMatrix(uint32_t m, uint64_t ldc, std::mt19937& rng) {
  std::vector<uint32_t> c(m * ldc);
  for (auto& v : c) v = rng();
  return c;
}

// Compares HashLeaf on every leaf of p with LeafHashOfTile over the same tile, read from C (M, ldc).
::testing::AssertionResult AllLeavesMatch(const WorkloadParams& p, const std::vector<uint32_t>& c, uint64_t ldc) {
  const cuda::LeafSpec spec = SpecOf(p);
  const uint64_t leaves = TileGridOf(p).leaf_count();
  for (uint64_t leaf = 0; leaf < leaves; ++leaf) {
    const Tile t = TileAt(p, leaf);
    std::vector<uint32_t> elements;
    for (uint32_t r = 0; r < t.rows; ++r) {
      for (uint32_t col = 0; col < t.cols; ++col) elements.push_back(c[(t.row0 + r) * ldc + t.col0 + col]);
    }
    uint32_t words[8];
    cuda::HashLeaf(spec, c.data(), ldc, leaf, words);
    const Hash32 expected = LeafHashOfTile(p, t, elements);
    if (DigestBytes(words) != expected) {
      return ::testing::AssertionFailure() << WorkloadName(p.kind) << " " << p.m << " x " << p.n << " x " << p.k
                                           << " T = " << p.tile << " ldc = " << ldc << ": leaf " << leaf << " (tile "
                                           << t.rows << " x " << t.cols << ") hashes to " << ToHex(DigestBytes(words))
                                           << ", the CPU engine to " << ToHex(expected);
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(CudaTreeHash, LeafEqualsCpuForEveryTileSizeAndEdge) {
  std::mt19937 rng(1);
  for (uint32_t tile = 8; tile <= 256; tile *= 2) {
    for (WorkloadKind kind : kWorkloadKinds) {
      // Full tiles plus a short last tile row and column.
      const uint32_t m = 2 * tile + 3, n = tile + 5;
      for (uint64_t ldc : {uint64_t{n}, uint64_t{n} + 3, uint64_t{n} + 4}) {
        const auto c = RandomMatrix(m, ldc, rng);
        EXPECT_TRUE(AllLeavesMatch(MakeWorkload(kind, m, n, 17, tile, uint8_t(tile)), c, ldc));
      }
    }
  }
}

// Tiles of every rows x cols up to 16 x 16 (T = 16): every residue of the element count mod 16, so every padding
// case (0x80 word in the same block as the length, or the length pushed into an extra block at 14 and 15).
TEST(CudaTreeHash, LeafEqualsCpuForEveryPaddingResidue) {
  std::mt19937 rng(2);
  std::set<uint32_t> residues;
  for (uint32_t m = 1; m <= 17; ++m) {
    for (uint32_t n = 1; n <= 17; ++n) {
      const auto c = RandomMatrix(m, n, rng);
      ASSERT_TRUE(AllLeavesMatch(MakeWorkload(WorkloadKind::kInt8, m, n, 3, 16, uint8_t(m * n)), c, n));
      residues.insert(((m - 1) % 16 + 1) * ((n - 1) % 16 + 1) % 16);
    }
  }
  EXPECT_EQ(residues.size(), 16u);
}

// The whole-matrix entry point of the CPU engine, as the GPU tests use it.
TEST(CudaTreeHash, LeavesEqualCpuHashLeaves) {
  std::mt19937 rng(3);
  for (uint32_t tile : {8u, 32u}) {
    const WorkloadParams p = MakeWorkload(WorkloadKind::kFp32Ordered, 100, 75, 9, tile, 42);
    const auto c = RandomMatrix(p.m, p.n, rng);
    std::vector<Hash32> expected(TileGridOf(p).leaf_count());
    ASSERT_TRUE(HashLeaves(p, c, expected, 1).ok());
    const cuda::LeafSpec spec = SpecOf(p);
    for (uint64_t leaf = 0; leaf < expected.size(); ++leaf) {
      uint32_t words[8];
      cuda::HashLeaf(spec, c.data(), p.n, leaf, words);
      ASSERT_EQ(DigestBytes(words), expected[leaf]) << "T = " << tile << ", leaf " << leaf;
    }
  }
}

TEST(CudaTreeHash, NodeEqualsMerkleNodeHash) {
  std::mt19937 rng(4);
  for (int trial = 0; trial < 200; ++trial) {
    Hash32 l, r;
    for (auto& b : l) b = uint8_t(rng());
    for (auto& b : r) b = uint8_t(rng());
    if (trial == 0) {  // extreme bytes through the one-byte shift
      l.fill(0);
      r.fill(0xff);
    }
    uint32_t lw[8], rw[8], out[8];
    DigestWords(l, lw);
    DigestWords(r, rw);
    cuda::HashNode(lw, rw, out);
    ASSERT_EQ(DigestBytes(out), MerkleNodeHash(l, r)) << "trial " << trial;
  }
}

TEST(CudaTreeHash, ByteSwap) {
  EXPECT_EQ(cuda::ByteSwap32(0x01020304u), 0x04030201u);
  uint32_t in[16], w[16];
  for (uint32_t i = 0; i < 16; ++i) in[i] = 0x00010203u + 0x04040404u * i;
  cuda::LoadBlock16(in, w);
  for (uint32_t i = 0; i < 16; ++i) EXPECT_EQ(w[i], cuda::ByteSwap32(in[i]));
}

}  // namespace
}  // namespace vcp
