// The CPU engine against a tiny reference written from docs/SPEC.md inside this test: element-by-element inputs,
// naive int64 / std::fma products, leaves laid out byte by byte, hashed with plain SHA-256.
#include <gtest/gtest.h>

#include "test_util.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "backend.h"
#include "shared/philox_inputs.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/merkle.h"
#include "vcp/workload.h"

namespace {

using namespace vcp;

using vcp::testing::MakeWorkload;
using vcp::testing::ScopedEnv;

// ---- the reference ----

shared::PhiloxKey RefKey(const WorkloadParams& p) {
  // SHA-256(u8 16 || "vcp.v2.input-key" || seed || u8 kind || u32 M || u32 N || u32 K), first 8 bytes LE.
  std::vector<uint8_t> msg = {16};
  const std::string tag = "vcp.v2.input-key";
  msg.insert(msg.end(), tag.begin(), tag.end());
  msg.insert(msg.end(), p.seed.begin(), p.seed.end());
  msg.push_back(static_cast<uint8_t>(p.kind));
  for (uint32_t v : {p.m, p.n, p.k})
    for (int i = 0; i < 4; ++i) msg.push_back(static_cast<uint8_t>(v >> (8 * i)));
  const Hash32 d = Sha256(msg);
  return {uint32_t(d[0]) | uint32_t(d[1]) << 8 | uint32_t(d[2]) << 16 | uint32_t(d[3]) << 24,
          uint32_t(d[4]) | uint32_t(d[5]) << 8 | uint32_t(d[6]) << 16 | uint32_t(d[7]) << 24};
}

// C (M, N) as 4-byte words.
std::vector<uint32_t> RefC(const WorkloadParams& p) {
  const shared::PhiloxKey key = RefKey(p);
  std::vector<uint32_t> c(uint64_t{p.m} * p.n);
  for (uint64_t i = 0; i < p.m; ++i) {
    for (uint64_t j = 0; j < p.n; ++j) {
      if (p.kind == WorkloadKind::kInt8) {
        int64_t acc = 0;
        for (uint64_t kk = 0; kk < p.k; ++kk)
          acc += int64_t{shared::Int8Element(key, 0, i * p.k + kk)} * shared::Int8Element(key, 1, kk * p.n + j);
        const auto v = static_cast<int32_t>(acc);
        std::memcpy(&c[i * p.n + j], &v, 4);
      } else if (p.kind == WorkloadKind::kFp32Ordered) {
        float acc = 0.0f;
        for (uint64_t kk = 0; kk < p.k; ++kk)
          acc = std::fma(shared::Fp32Element(key, 0, i * p.k + kk), shared::Fp32Element(key, 1, kk * p.n + j), acc);
        std::memcpy(&c[i * p.n + j], &acc, 4);
      } else {
        ADD_FAILURE() << "the reference has no definition of workload " << int(p.kind);
        return c;
      }
    }
  }
  return c;
}

// Spec v2 leaf bytes, written field by field from docs/SPEC.md section 6.
std::vector<uint8_t> RefLeaf(const WorkloadParams& p, const std::vector<uint32_t>& c, uint32_t tr, uint32_t tc) {
  ByteWriter w;
  w.U8(2);  // spec version
  w.U8(1);  // hash id: SHA-256
  w.U8(static_cast<uint8_t>(p.kind));
  w.U8(0);
  w.U32(p.tile);
  w.U32(p.m);
  w.U32(p.n);
  w.U32(p.k);
  w.Bytes(p.seed);
  for (int i = 0; i < 11; ++i) w.U8(0);
  for (uint32_t i = tr * p.tile; i < std::min(p.m, (tr + 1) * p.tile); ++i) {
    for (uint32_t j = tc * p.tile; j < std::min(p.n, (tc + 1) * p.tile); ++j) {
      const uint32_t v = c[uint64_t{i} * p.n + j];
      if (p.kind == WorkloadKind::kInt8) {
        w.U8(static_cast<uint8_t>(v & 0xff));  // C mod 2^8
      } else {
        w.U32(v);
      }
    }
  }
  w.U32(tr);
  w.U32(tc);
  return w.Take();
}

std::vector<Hash32> RefLeafHashes(const WorkloadParams& p, const std::vector<uint32_t>& c) {
  std::vector<Hash32> out;
  const uint32_t rows = (p.m + p.tile - 1) / p.tile, cols = (p.n + p.tile - 1) / p.tile;
  for (uint32_t tr = 0; tr < rows; ++tr)
    for (uint32_t tc = 0; tc < cols; ++tc) {
      std::vector<uint8_t> msg = {0x00};
      const auto leaf = RefLeaf(p, c, tr, tc);
      msg.insert(msg.end(), leaf.begin(), leaf.end());
      out.push_back(Sha256(msg));
    }
  return out;
}

// The engine's C for a workload, as 4-byte words, through the workload-generic entry points.
std::vector<uint32_t> EngineC(const WorkloadParams& p, int threads) {
  const uint64_t e = FindWorkload(p.kind)->input_bytes;
  std::vector<uint8_t> a(uint64_t{p.m} * p.k * e), b(uint64_t{p.k} * p.n * e);
  std::vector<uint32_t> c(uint64_t{p.m} * p.n);
  EXPECT_TRUE(GenerateInput(p, Matrix::kA, a, threads).ok());
  EXPECT_TRUE(GenerateInput(p, Matrix::kB, b, threads).ok());
  EXPECT_TRUE(ComputeOutput(p, a, b, c, threads).ok());
  return c;
}

RunOptions Cpu(int threads = 0) {
  RunOptions o;
  o.backend = BackendChoice::kCpu;
  o.threads = threads;
  return o;
}

// ---- the tests ----

TEST(Workload, InputKeyMatchesReference) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kFp32Ordered, 3, 5, 7, 8);
  const InputKey k = DeriveInputKey(p);
  const shared::PhiloxKey ref = RefKey(p);
  EXPECT_EQ(k.k0, ref.k0);
  EXPECT_EQ(k.k1, ref.k1);
  WorkloadParams other = p;
  other.m = 4;
  EXPECT_NE(DeriveInputKey(other).k0, k.k0) << "the key binds the shape";
}

TEST(Workload, GeneratedInputsEqualElementwiseDefinition) {
  for (WorkloadKind kind : kWorkloadKinds) {
    const WorkloadParams p = MakeWorkload(kind, 19, 23, 37, 8);
    const shared::PhiloxKey key = RefKey(p);
    if (kind == WorkloadKind::kInt8) {
      std::vector<int8_t> a(19 * 37), b(37 * 23);
      ASSERT_TRUE(GenerateInt8(p, Matrix::kA, a, 2).ok());
      ASSERT_TRUE(GenerateInt8(p, Matrix::kB, b, 2).ok());
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], shared::Int8Element(key, 0, i));
      for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(b[i], shared::Int8Element(key, 1, i));
    } else {
      std::vector<float> a(19 * 37), b(37 * 23);
      ASSERT_TRUE(GenerateFp32(p, Matrix::kA, a, 2).ok());
      ASSERT_TRUE(GenerateFp32(p, Matrix::kB, b, 2).ok());
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], shared::Fp32Element(key, 0, i));
      for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(b[i], shared::Fp32Element(key, 1, i));
    }
  }
}

// The table: every kind has an entry with its spec facts; an id without one is refused, naming the allowed ones;
// the typed entry points refuse a workload of the other kind instead of reinterpreting it.
TEST(Workload, TableCoversEveryKindAndTypedCallsCheckTheKind) {
  for (WorkloadKind kind : kWorkloadKinds) {
    const WorkloadInfo* info = FindWorkload(kind);
    ASSERT_NE(info, nullptr) << int(kind);
    EXPECT_EQ(info->kind, kind);
    ASSERT_OK_AND_ASSIGN(WorkloadKind parsed, ParseWorkloadKind(info->name));
    EXPECT_EQ(parsed, kind);
  }
  EXPECT_EQ(FindWorkload(WorkloadKind::kInt8)->input_bytes, 1u);
  EXPECT_EQ(FindWorkload(WorkloadKind::kInt8)->max_k, kMaxInt8K);
  EXPECT_EQ(FindWorkload(WorkloadKind::kFp32Ordered)->input_bytes, 4u);
  EXPECT_EQ(FindWorkload(static_cast<WorkloadKind>(3)), nullptr);
  EXPECT_EQ(WorkloadName(static_cast<WorkloadKind>(3)), "unknown");
  WorkloadParams p = MakeWorkload(WorkloadKind::kFp32Ordered, 4, 4, 4, 8);
  std::vector<int8_t> a(16);
  const Status wrong = GenerateInt8(p, Matrix::kA, a);
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("needs an int8 workload"), std::string_view::npos) << wrong.message();
  p.kind = static_cast<WorkloadKind>(3);
  const Status unknown = ValidateWorkload(p);
  EXPECT_NE(unknown.message().find("allowed: 1 (int8), 2 (fp32-ordered)"), std::string_view::npos)
      << unknown.message();
}

TEST(Workload, Int8InputsCoverTheFullRange) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kInt8, 64, 64, 64, 8);
  std::vector<int8_t> a(64 * 64);
  ASSERT_TRUE(GenerateInt8(p, Matrix::kA, a).ok());
  EXPECT_EQ(*std::min_element(a.begin(), a.end()), -128);
  EXPECT_EQ(*std::max_element(a.begin(), a.end()), 127);
}

class EdgeShapes : public ::testing::TestWithParam<std::tuple<WorkloadKind, uint32_t, uint32_t, uint32_t, uint32_t>> {};

TEST_P(EdgeShapes, EngineEqualsReferenceLeafByLeaf) {
  const auto [kind, m, n, k, tile] = GetParam();
  const WorkloadParams p = MakeWorkload(kind, m, n, k, tile);
  const std::vector<uint32_t> ref_c = RefC(p);
  for (int threads : {1, 3}) {
    const std::vector<uint32_t> c = EngineC(p, threads);
    ASSERT_EQ(std::memcmp(c.data(), ref_c.data(), c.size() * 4), 0) << "C differs, threads " << threads;
  }
  const std::vector<Hash32> ref_leaves = RefLeafHashes(p, ref_c);
  std::vector<Hash32> leaves(TileGridOf(p).leaf_count());
  ASSERT_EQ(leaves.size(), ref_leaves.size());
  ASSERT_TRUE(HashLeaves(p, ref_c, leaves, 2).ok());
  EXPECT_EQ(leaves, ref_leaves);
  for (uint64_t t = 0; t < leaves.size(); ++t) {
    auto tile_words = ComputeTileFromSeed(p, t);
    ASSERT_TRUE(tile_words.ok()) << tile_words.status().ToString();
    EXPECT_EQ(LeafHashOfTile(p, TileAt(p, t), *tile_words), ref_leaves[t]) << "tile " << t;
    const Tile tl = TileAt(p, t);
    EXPECT_EQ(MerkleLeafHash(LeafBytes(p, tl, *tile_words)), ref_leaves[t]);
  }
  auto run = RunWorkload(p, Cpu(2));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ((*run)->root(), MerkleTree::Build(ref_leaves).root());
  EXPECT_EQ(*(*run)->LeafHashes(), ref_leaves);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, EdgeShapes,
    ::testing::Values(std::make_tuple(WorkloadKind::kInt8, 1u, 1u, 1u, 8u),
                      std::make_tuple(WorkloadKind::kInt8, 7u, 7u, 7u, 8u),
                      std::make_tuple(WorkloadKind::kInt8, 8u, 8u, 8u, 8u),
                      std::make_tuple(WorkloadKind::kInt8, 9u, 9u, 9u, 8u),
                      std::make_tuple(WorkloadKind::kInt8, 31u, 33u, 32u, 32u),
                      std::make_tuple(WorkloadKind::kInt8, 40u, 72u, 33u, 16u),
                      std::make_tuple(WorkloadKind::kInt8, 37u, 41u, 43u, 8u),
                      std::make_tuple(WorkloadKind::kFp32Ordered, 1u, 1u, 1u, 8u),
                      std::make_tuple(WorkloadKind::kFp32Ordered, 7u, 9u, 8u, 8u),
                      std::make_tuple(WorkloadKind::kFp32Ordered, 31u, 33u, 32u, 32u),
                      std::make_tuple(WorkloadKind::kFp32Ordered, 40u, 72u, 33u, 16u),
                      std::make_tuple(WorkloadKind::kFp32Ordered, 37u, 41u, 101u, 8u)));

TEST(Workload, LeafLayout) {
  for (WorkloadKind kind : kWorkloadKinds) {
    const WorkloadParams p = MakeWorkload(kind, 40, 72, 33, 16);
    const Tile t = TileAt(p, 14);  // last tile: tile row 2, tile col 4, 8 x 8 elements
    EXPECT_EQ(t.tile_row, 2u);
    EXPECT_EQ(t.tile_col, 4u);
    EXPECT_EQ(t.rows, 8u);
    EXPECT_EQ(t.cols, 8u);
    std::vector<uint32_t> words(64, 0xa1b2c3d4u);
    words[1] = 0xffffff80u;  // int8: -128, low byte 0x80
    const std::vector<uint8_t> leaf = LeafBytes(p, t, words);
    const size_t e = kind == WorkloadKind::kInt8 ? 1 : 4;
    ASSERT_EQ(leaf.size(), 63u + 64u * e + 8u);
    const std::vector<uint8_t> head(leaf.begin(), leaf.begin() + 20);
    EXPECT_EQ(ToHex(head), std::string("02") + "01" + (e == 1 ? "01" : "02") + "00" + "10000000" + "28000000" +
                               "48000000" + "21000000");
    EXPECT_TRUE(std::equal(p.seed.begin(), p.seed.end(), leaf.begin() + 20));
    for (int i = 52; i < 63; ++i) EXPECT_EQ(leaf[i], 0);
    if (e == 1) {
      EXPECT_EQ(ToHex(std::vector<uint8_t>(leaf.begin() + 63, leaf.begin() + 66)), "d480d4") << "low bytes";
    } else {
      EXPECT_EQ(ToHex(std::vector<uint8_t>(leaf.begin() + 63, leaf.begin() + 67)), "d4c3b2a1") << "little-endian";
    }
    EXPECT_EQ(ToHex(std::vector<uint8_t>(leaf.end() - 8, leaf.end())), "0200000004000000") << "tile row, col last";
    // The first 64 bytes of 0x00 || leaf are the same for every tile of the tree.
    const std::vector<uint8_t> other = LeafBytes(p, TileAt(p, 0), std::vector<uint32_t>(256, 1));
    EXPECT_TRUE(std::equal(leaf.begin(), leaf.begin() + 63, other.begin()));
  }
}

// int8 leaves commit C mod 2^8 only: two C that agree in every low byte give the same leaves, and one that differs
// in one low byte changes exactly its leaf.
TEST(Workload, Int8LeavesCommitTheLowByte) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kInt8, 40, 72, 33, 16);
  std::vector<uint32_t> c = EngineC(p, 1);
  std::vector<Hash32> base(TileGridOf(p).leaf_count()), high(base.size()), low(base.size());
  ASSERT_OK(HashLeaves(p, c, base, 1));
  std::vector<uint32_t> c2 = c;
  c2[100] += 0x100;
  ASSERT_OK(HashLeaves(p, c2, high, 1));
  EXPECT_EQ(high, base);
  c2[100] += 1;
  ASSERT_OK(HashLeaves(p, c2, low, 1));
  EXPECT_NE(low[1], base[1]);  // element 100 = row 1, column 28: tile (0, 1), leaf 1
  int differing = 0;
  for (size_t i = 0; i < base.size(); ++i) differing += low[i] != base[i];
  EXPECT_EQ(differing, 1);
}

TEST(Workload, DamagedElementIsCaughtOnlyInItsTile) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kInt8, 40, 72, 33, 16);
  std::vector<uint32_t> c = EngineC(p, 2);
  c[17 * 72 + 50] ^= 1;  // row 17, col 50: tile row 1, tile col 3, leaf 1*5 + 3 = 8
  std::vector<Hash32> leaves(TileGridOf(p).leaf_count());
  ASSERT_TRUE(HashLeaves(p, c, leaves).ok());
  const MerkleTree tree = MerkleTree::Build(leaves);
  for (uint64_t t = 0; t < leaves.size(); ++t) {
    const uint64_t idx[] = {t};
    auto proof = ProveMulti(tree, idx);
    ASSERT_TRUE(proof.ok());
    const Status verdict = CheckOpening(p, tree.root(), *proof, 1);
    if (t == 8) {
      EXPECT_EQ(verdict.code(), StatusCode::kRejected) << "the damaged tile must be caught";
    } else {
      EXPECT_TRUE(verdict.ok()) << "tile " << t << ": " << verdict.ToString();
    }
  }
  const uint64_t several[] = {0, 8, 14};
  auto proof = ProveMulti(tree, several);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(CheckOpening(p, tree.root(), *proof).code(), StatusCode::kRejected);
}

TEST(Workload, CheckOpeningRejectsMismatchedProofShape) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kInt8, 16, 16, 16, 8);
  auto run = RunWorkload(p, Cpu());
  ASSERT_TRUE(run.ok());
  const uint64_t idx[] = {1, 2};
  auto proof = (*run)->Open(idx);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(CheckOpening(p, (*run)->root(), *proof).ok());
  WorkloadParams other_seed = p;
  other_seed.seed[0] ^= 1;
  EXPECT_EQ(CheckOpening(other_seed, (*run)->root(), *proof).code(), StatusCode::kRejected);
  WorkloadParams other_shape = p;
  other_shape.m = 24;
  EXPECT_EQ(CheckOpening(other_shape, (*run)->root(), *proof).code(), StatusCode::kRejected);
}

TEST(Workload, ValidationSaysWhatIsAllowed) {
  WorkloadParams p = MakeWorkload(WorkloadKind::kInt8, 8, 8, 131072, 32);
  Status s = ValidateWorkload(p);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("131071"), std::string_view::npos) << s.message();
  p.k = 131071;
  EXPECT_TRUE(ValidateWorkload(p).ok());
  p.kind = WorkloadKind::kFp32Ordered;
  p.k = 131072;
  EXPECT_TRUE(ValidateWorkload(p).ok()) << "the int8 bound does not apply to fp32-ordered";
  for (uint32_t tile : {0u, 4u, 12u, 512u}) {
    p.tile = tile;
    s = ValidateWorkload(p);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << tile;
    EXPECT_NE(s.message().find("power of two from 8 to 256"), std::string_view::npos) << s.message();
  }
  p.tile = 8;
  p.m = 0;
  EXPECT_EQ(ValidateWorkload(p).code(), StatusCode::kInvalidArgument);
  p.m = kMaxDimension + 1;
  EXPECT_EQ(ValidateWorkload(p).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseWorkloadKind("int4").ok());
  EXPECT_EQ(*ParseWorkloadKind("fp32-ordered"), WorkloadKind::kFp32Ordered);
}

TEST(Engine, HugeShapeIsRefusedBeforeAllocating) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kFp32Ordered, kMaxDimension, kMaxDimension, kMaxDimension, 256);
  auto run = RunWorkload(p, Cpu());
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(run.status().message().find("MiB"), std::string_view::npos) << run.status().message();
}

TEST(Engine, BackendSelection) {
  ScopedEnv no_env("VCP_BACKEND", nullptr);
  RunOptions o;
  o.backend = BackendChoice::kCpu;
  ASSERT_OK_AND_ASSIGN(DeviceInfo cpu, SelectBackend(o));
  EXPECT_EQ(cpu.backend, "cpu");
  EXPECT_EQ(cpu.selection_note, "CPU engine (--backend cpu)");
  {
    ScopedEnv bad_env("VCP_BACKEND", "tpu");
    o.backend = BackendChoice::kAuto;
    auto bad = SelectBackend(o);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("VCP_BACKEND"), std::string_view::npos) << bad.status().message();
    EXPECT_NE(bad.status().message().find("allowed: auto, cpu, cuda"), std::string_view::npos);
  }
  {
    ScopedEnv cpu_env("VCP_BACKEND", "cpu");
    ASSERT_OK_AND_ASSIGN(DeviceInfo forced, SelectBackend(RunOptions{}));
    EXPECT_EQ(forced.backend, "cpu");
    EXPECT_EQ(forced.selection_note, "CPU engine (VCP_BACKEND=cpu)");
    // An explicit choice beats the environment.
    ScopedEnv cuda_env("VCP_BACKEND", "cuda");
    ASSERT_OK_AND_ASSIGN(DeviceInfo explicit_cpu, SelectBackend(RunOptions{.backend = BackendChoice::kCpu}));
    EXPECT_EQ(explicit_cpu.backend, "cpu");
  }
  // Why CUDA can or cannot run here, as the loader and the probe say it.
  auto cuda_stages = CudaBackend();
  Result<DeviceInfo> cuda_probe =
      cuda_stages.ok() ? (*cuda_stages)->probe(0) : Result<DeviceInfo>(cuda_stages.status());
  ASSERT_OK_AND_ASSIGN(DeviceInfo automatic, SelectBackend(RunOptions{}));
  auto cuda = SelectBackend(RunOptions{.backend = BackendChoice::kCuda});
  if (cuda_probe.ok()) {
    EXPECT_EQ(automatic.backend, "cuda");
    EXPECT_EQ(automatic.selection_note, "CUDA backend (auto: a usable GPU was found)");
    ASSERT_OK(cuda);
    EXPECT_EQ(cuda->backend, "cuda");
  } else {
    const std::string reason(cuda_probe.status().message());
    ASSERT_FALSE(reason.empty());
    EXPECT_EQ(reason.find('\n'), std::string::npos) << "the reason must fit the one line vcp run prints";
    EXPECT_EQ(automatic.backend, "cpu");
    EXPECT_EQ(automatic.selection_note, "CPU engine (auto: " + reason + ")");
    ASSERT_FALSE(cuda.ok());
    EXPECT_EQ(cuda.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(cuda.status().message().find(reason), std::string_view::npos) << cuda.status().message();
    EXPECT_NE(cuda.status().message().find("--backend cpu"), std::string_view::npos) << cuda.status().message();
  }
}

TEST(Engine, RunTwiceGivesIdenticalRoots) {
  const WorkloadParams p = MakeWorkload(WorkloadKind::kFp32Ordered, 65, 66, 67, 16);
  auto first = RunWorkload(p, Cpu(1));
  auto second = RunWorkload(p, Cpu(2));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*first)->root(), (*second)->root());
  EXPECT_EQ((*first)->leaf_count(), 25u);
}

}  // namespace
