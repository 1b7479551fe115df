// The CUDA kernels' per-thread hashing (lib/cuda/tree_hash.h) run on the host: HashLeaf (spec v2: midstate, one
// byte per int8 element, trailer after the data) must equal OpenSSL over the CPU engine's LeafBytes and the
// engine's own leaf hash for every tile size, both workloads, K = 1, every edge-tile shape (power-of-two widths
// take the quad-load path, others the byte path) and every residue of the data length mod 64 (the padding
// cases), with and without a row stride beyond N; HashNode must equal MerkleNodeHash. The GPU compiles these same
// functions (kernels/hash_leaves.cu, kernels/merkle_levels.cu).
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
  return cuda::MakeLeafSpec(static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, p.seed.data());
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
    const Hash32 expected = MerkleLeafHash(LeafBytes(p, t, elements));
    if (LeafHashOfTile(p, t, elements) != expected) {
      return ::testing::AssertionFailure() << "LeafHashOfTile differs from OpenSSL over LeafBytes at leaf " << leaf;
    }
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
      // Full tiles plus a short last tile row and a last tile column 5 wide (byte path) or 4 wide (quad path).
      for (uint32_t extra : {5u, 4u}) {
        const uint32_t m = 2 * tile + 3, n = tile + extra;
        for (uint64_t ldc : {uint64_t{n}, uint64_t{n} + 3, uint64_t{n} + 4}) {
          const auto c = RandomMatrix(m, ldc, rng);
          for (uint32_t k : {17u, 1u}) {
            EXPECT_TRUE(AllLeavesMatch(MakeWorkload(kind, m, n, k, tile, uint8_t(tile + k)), c, ldc));
          }
        }
      }
    }
  }
}

// One-row tiles 1..128 wide (T = 128): every residue of the data length mod 64 for int8 (one byte per element)
// and of the element count mod 16 for fp32-ordered, so both padding cases (0x80 and the length in the last data
// block, or the length pushed into an extra block) and every split of the trailer across a block boundary.
TEST(CudaTreeHash, LeafEqualsCpuForEveryPaddingResidue) {
  std::mt19937 rng(2);
  for (WorkloadKind kind : kWorkloadKinds) {
    const uint32_t e = kind == WorkloadKind::kInt8 ? 1 : 4;
    std::set<uint64_t> residues;
    std::set<uint64_t> blocks;
    for (uint32_t n = 1; n <= 128; ++n) {
      const auto c = RandomMatrix(1, n, rng);
      ASSERT_TRUE(AllLeavesMatch(MakeWorkload(kind, 1, n, 3, 128, uint8_t(n)), c, n));
      residues.insert(uint64_t{e} * n % 64);
      blocks.insert((uint64_t{e} * n + 17 + 63) / 64 - uint64_t{e} * n / 64);  // tail blocks: 1 or 2
    }
    EXPECT_EQ(residues.size(), e == 1 ? 64u : 16u) << WorkloadName(kind);
    EXPECT_EQ(blocks, (std::set<uint64_t>{1, 2})) << WorkloadName(kind);
  }
  // Small tiles spanning rows (T = 16, every rows x cols up to 17 x 17) for int8.
  for (uint32_t m = 1; m <= 17; ++m) {
    for (uint32_t n = 1; n <= 17; ++n) {
      const auto c = RandomMatrix(m, n, rng);
      ASSERT_TRUE(AllLeavesMatch(MakeWorkload(WorkloadKind::kInt8, m, n, 3, 16, uint8_t(m * n)), c, n));
    }
  }
}

// The midstate is the state after 0x00 || header: one compression from the initial state, and a wrong one (e.g.
// a LeafSpec filled field by field) changes every leaf.
TEST(CudaTreeHash, MidstateIsTheFirstBlock) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kInt8, 40, 40, 5, 8, 9);
  std::vector<uint8_t> first(64, 0);
  shared::WriteLeafHeader(first.data() + 1, 1, p.m, p.n, p.k, p.tile, p.seed.data());
  uint32_t w[16];
  for (int i = 0; i < 16; ++i) w[i] = shared::LoadBe32(first.data() + 4 * i);
  shared::Sha256State s = shared::Sha256Init();
  shared::Sha256Compress(s, w);
  cuda::LeafSpec spec = SpecOf(p);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(spec.midstate[i], s.h[i]) << i;
  std::mt19937 rng(5);
  const auto c = RandomMatrix(p.m, p.n, rng);
  uint32_t good[8], bad[8];
  cuda::HashLeaf(spec, c.data(), p.n, 0, good);
  spec.midstate[0] ^= 1;
  cuda::HashLeaf(spec, c.data(), p.n, 0, bad);
  EXPECT_NE(DigestBytes(good), DigestBytes(bad));
}

// The whole-matrix entry point of the CPU engine, as the GPU tests use it.
TEST(CudaTreeHash, LeavesEqualCpuHashLeaves) {
  std::mt19937 rng(3);
  for (uint32_t tile : {8u, 32u}) {
    for (WorkloadKind kind : kWorkloadKinds) {
      const WorkloadParams p = MakeWorkload(kind, 100, 75, 9, tile, 42);
      const auto c = RandomMatrix(p.m, p.n, rng);
      std::vector<Hash32> expected(TileGridOf(p).leaf_count());
      ASSERT_OK(HashLeaves(p, c, expected, 1));
      const cuda::LeafSpec spec = SpecOf(p);
      for (uint64_t leaf = 0; leaf < expected.size(); ++leaf) {
        uint32_t words[8];
        cuda::HashLeaf(spec, c.data(), p.n, leaf, words);
        ASSERT_EQ(DigestBytes(words), expected[leaf]) << WorkloadName(kind) << " T = " << tile << ", leaf " << leaf;
      }
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

TEST(CudaTreeHash, ByteSwapAndQuadLoad) {
  EXPECT_EQ(cuda::ByteSwap32(0x01020304u), 0x04030201u);
  const uint32_t in[4] = {1, 2, 3, 4};
  const cuda::Quad q = cuda::LoadQuad(in);
  EXPECT_EQ(q.x, 1u);
  EXPECT_EQ(q.y, 2u);
  EXPECT_EQ(q.z, 3u);
  EXPECT_EQ(q.w, 4u);
}

}  // namespace
}  // namespace vcp
