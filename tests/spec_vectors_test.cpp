// The engine against the known answers of docs/SPEC.md section 9 (tests/vectors/spec_v2.json). A change that moves
// any byte of the spec fails here, on purpose: it needs a new spec version.
//
// The file is generated from the engine by this test: VCP_UPDATE_SPEC_VECTORS=FILE vcp_tests
// --gtest_filter='SpecVectorsFile.*' writes FILE, then checks it like the checked-in one. Without the variable the
// test regenerates every value (including the seed searches of fp32_tie and fp32_zero) and requires the file to
// equal it key for key. Beside that, tiny reference implementations show the vectors discriminate: a
// ties-away-from-zero fma chain gives another root for fp32_tie, a chain that starts with c = a * b gives -0 and
// another root for fp32_zero, and the proofs verify against the root.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "cpu/philox_fill.h"
#include "shared/philox_inputs.h"
#include "test_util.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/merkle.h"

namespace {

using namespace vcp;
using Json = nlohmann::ordered_json;

std::string Hex32(uint32_t v) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", v);
  return hex;
}

Seed CountingSeed() {  // 00 01 .. 1f
  Seed s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(i);
  return s;
}
Seed ShapeSeed() {  // bytes 7 i mod 256
  Seed s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(7 * i);
  return s;
}
Seed SearchSeed(uint32_t counter) {  // u32 LE counter || 28 zero bytes
  Seed s{};
  for (int i = 0; i < 4; ++i) s[i] = static_cast<uint8_t>(counter >> (8 * i));
  return s;
}

WorkloadParams Params(WorkloadKind kind, uint32_t m, uint32_t n, uint32_t k, uint32_t tile, const Seed& seed) {
  WorkloadParams p;
  p.kind = kind;
  p.m = m;
  p.n = n;
  p.k = k;
  p.tile = tile;
  p.seed = seed;
  return p;
}

std::vector<uint32_t> EngineC(const WorkloadParams& p) {
  const uint64_t e = FindWorkload(p.kind)->input_bytes;
  std::vector<uint8_t> a(uint64_t{p.m} * p.k * e), b(uint64_t{p.k} * p.n * e);
  std::vector<uint32_t> c(uint64_t{p.m} * p.n);
  EXPECT_TRUE(GenerateInput(p, Matrix::kA, a, 1).ok());
  EXPECT_TRUE(GenerateInput(p, Matrix::kB, b, 1).ok());
  EXPECT_TRUE(ComputeOutput(p, a, b, c, 1).ok());
  return c;
}

std::vector<float> Fp32Input(const WorkloadParams& p, Matrix which) {
  std::vector<float> v(uint64_t(which == Matrix::kA ? p.m : p.k) * (which == Matrix::kA ? p.k : p.n));
  EXPECT_TRUE(GenerateFp32(p, which, v, 1).ok());
  return v;
}

// Root of the tree over C (M, N) of 4-byte elements, through LeafBytes (not HashLeaves).
Hash32 RootOf(const WorkloadParams& p, const std::vector<uint32_t>& c) {
  std::vector<Hash32> leaves;
  for (uint64_t l = 0; l < TileGridOf(p).leaf_count(); ++l) {
    const Tile t = TileAt(p, l);
    std::vector<uint32_t> e;
    for (uint32_t r = 0; r < t.rows; ++r)
      for (uint32_t col = 0; col < t.cols; ++col) e.push_back(c[uint64_t{t.row0 + r} * p.n + t.col0 + col]);
    leaves.push_back(MerkleLeafHash(LeafBytes(p, t, e)));
  }
  return MerkleTree::Build(leaves, 1).root();
}

// ---- exact fp32-ordered chains --------------------------------------------------------------------------------
// Inputs are multiples of 2^-23 in [-1, 1); every product is a multiple of 2^-46 and so is every accumulator (a
// value of at most 24 significant bits that is rounded from multiples of 2^-46 stays one), so x = a * b + c is
// the int64 X * 2^-46 exactly while |c| < 2^17 (here K <= 16, |c| <= 16). Rounding X to 24 significant bits by
// hand shows every tie and lets the chain round ties away from zero.
enum class Ties { kEven, kAway };

float RoundTo24Bits(int64_t x, Ties ties, bool& tie) {
  tie = false;
  if (x == 0) return 0.0f;  // an exact zero sum of a chain from +0 is +0 (round to nearest)
  const uint64_t mag = x < 0 ? uint64_t(-x) : uint64_t(x);
  const int shift = std::max(0, static_cast<int>(std::bit_width(mag)) - 24);
  uint64_t q = mag >> shift;
  if (shift > 0) {
    const uint64_t rest = mag & ((uint64_t{1} << shift) - 1), half = uint64_t{1} << (shift - 1);
    tie = rest == half;
    if (rest > half || (tie && (ties == Ties::kAway || (q & 1)))) ++q;
  }
  const float f = std::ldexp(static_cast<float>(q), shift - 46);  // q <= 2^24: exact
  return x < 0 ? -f : f;
}

int64_t Scaled(float v, int exponent) { return static_cast<int64_t>(std::ldexp(static_cast<double>(v), exponent)); }

struct Chain {
  float c = 0.0f;
  int ties = 0;
  int tie_step = -1;  // the last tied step
};
// C[i][j] of p's inputs a (M, K), b (K, N) as the left-to-right chain from +0, rounding ties as asked.
Chain ExactChain(const WorkloadParams& p, const std::vector<float>& a, const std::vector<float>& b, uint32_t i,
                 uint32_t j, Ties ties) {
  Chain ch;
  for (uint32_t kk = 0; kk < p.k; ++kk) {
    const int64_t x = Scaled(a[uint64_t{i} * p.k + kk], 23) * Scaled(b[uint64_t{kk} * p.n + j], 23) + Scaled(ch.c, 46);
    bool tie = false;
    ch.c = RoundTo24Bits(x, ties, tie);
    if (tie) {
      ++ch.ties;
      ch.tie_step = static_cast<int>(kk);
    }
  }
  return ch;
}

std::vector<uint32_t> ExactC(const WorkloadParams& p, Ties ties) {
  const std::vector<float> a = Fp32Input(p, Matrix::kA), b = Fp32Input(p, Matrix::kB);
  std::vector<uint32_t> c(uint64_t{p.m} * p.n);
  for (uint32_t i = 0; i < p.m; ++i) {
    for (uint32_t j = 0; j < p.n; ++j) {
      c[uint64_t{i} * p.n + j] = std::bit_cast<uint32_t>(ExactChain(p, a, b, i, j, ties).c);
    }
  }
  return c;
}

// A wrong implementation: the chain's first step is the rounded product c = a * b instead of fma(a, b, +0).
std::vector<uint32_t> ProductFirstC(const WorkloadParams& p) {
  const std::vector<float> a = Fp32Input(p, Matrix::kA), b = Fp32Input(p, Matrix::kB);
  std::vector<uint32_t> c(uint64_t{p.m} * p.n);
  for (uint32_t i = 0; i < p.m; ++i) {
    for (uint32_t j = 0; j < p.n; ++j) {
      volatile float first = a[uint64_t{i} * p.k] * b[j];  // volatile: no contraction into an fma
      float acc = first;
      for (uint32_t kk = 1; kk < p.k; ++kk) acc = std::fma(a[uint64_t{i} * p.k + kk], b[uint64_t{kk} * p.n + j], acc);
      c[uint64_t{i} * p.n + j] = std::bit_cast<uint32_t>(acc);
    }
  }
  return c;
}

// ---- the generator ----------------------------------------------------------------------------------------------

Json WorkloadEntry(WorkloadKind kind) {
  const WorkloadParams p = Params(kind, 40, 72, 33, 16, CountingSeed());
  const InputKey key = DeriveInputKey(p);
  Json a8 = Json::array(), b8 = Json::array();
  if (kind == WorkloadKind::kInt8) {
    std::vector<int8_t> a(uint64_t{p.m} * p.k), b(uint64_t{p.k} * p.n);
    EXPECT_TRUE(GenerateInt8(p, Matrix::kA, a).ok());
    EXPECT_TRUE(GenerateInt8(p, Matrix::kB, b).ok());
    for (int i = 0; i < 8; ++i) {
      a8.push_back(int{a[i]});
      b8.push_back(int{b[i]});
    }
  } else {
    const std::vector<float> a = Fp32Input(p, Matrix::kA), b = Fp32Input(p, Matrix::kB);
    for (int i = 0; i < 8; ++i) {
      a8.push_back(Hex32(std::bit_cast<uint32_t>(a[i])));
      b8.push_back(Hex32(std::bit_cast<uint32_t>(b[i])));
    }
  }
  std::vector<Hash32> leaves(TileGridOf(p).leaf_count());
  EXPECT_TRUE(HashLeaves(p, EngineC(p), leaves, 1).ok());
  Json hashes = Json::array();
  for (const Hash32& h : leaves) hashes.push_back(ToHex(h));
  return Json{{"seed", ToHex(p.seed)}, {"m", p.m}, {"n", p.n}, {"k", p.k}, {"tile", p.tile},
              {"philox_key", {Hex32(key.k0), Hex32(key.k1)}}, {"a_first8", a8}, {"b_first8", b8},
              {"leaf_hashes", hashes}, {"root", ToHex(MerkleTree::Build(leaves, 1).root())}};
}

Json HexList(const std::vector<Hash32>& hashes) {
  Json out = Json::array();
  for (const Hash32& h : hashes) out.push_back(ToHex(h));
  return out;
}

Json ProofsEntry() {
  const WorkloadParams p = Params(WorkloadKind::kInt8, 40, 72, 33, 16, CountingSeed());
  std::vector<Hash32> leaves(TileGridOf(p).leaf_count());
  EXPECT_TRUE(HashLeaves(p, EngineC(p), leaves, 1).ok());
  const MerkleTree tree = MerkleTree::Build(leaves, 1);
  Json inclusion = Json::array();
  for (uint64_t leaf : {0u, 5u, 14u}) {
    inclusion.push_back(Json{{"leaf", leaf}, {"path", HexList(*tree.InclusionProof(leaf))}});
  }
  const std::vector<uint64_t> indices = {1, 6, 7, 14};
  const MultiProof mp = *ProveMulti(tree, indices);
  return Json{{"workload", "int8"},
              {"inclusion", inclusion},
              {"multiproof", {{"indices", indices}, {"hashes", HexList(mp.hashes)}}},
              {"multiproof_file", ToHex(SerializeMultiProof(mp))}};
}

Json ShapesEntry() {
  struct Shape {
    WorkloadKind kind;
    uint32_t m, n, k, tile;
  };
  const Shape shapes[] = {{WorkloadKind::kInt8, 20, 12, 5, 8},         {WorkloadKind::kInt8, 70, 33, 40, 32},
                          {WorkloadKind::kFp32Ordered, 70, 33, 40, 32}, {WorkloadKind::kInt8, 300, 260, 3, 256},
                          {WorkloadKind::kFp32Ordered, 300, 260, 3, 256}, {WorkloadKind::kInt8, 9, 9, 1, 8}};
  Json out = Json::array();
  for (const Shape& s : shapes) {
    const WorkloadParams p = Params(s.kind, s.m, s.n, s.k, s.tile, ShapeSeed());
    out.push_back(Json{{"workload", WorkloadName(s.kind)}, {"seed", ToHex(p.seed)}, {"m", p.m}, {"n", p.n},
                       {"k", p.k}, {"tile", p.tile}, {"root", ToHex(RootOf(p, EngineC(p)))},
                       {"leaf_count", TileGridOf(p).leaf_count()}});
  }
  return out;
}

constexpr uint32_t kSearchLimit = 1u << 22;

Json TieEntry() {
  for (uint32_t s = 0; s < kSearchLimit; ++s) {
    const WorkloadParams p = Params(WorkloadKind::kFp32Ordered, 16, 16, 16, 8, SearchSeed(s));
    const std::vector<float> a = Fp32Input(p, Matrix::kA), b = Fp32Input(p, Matrix::kB);
    for (uint32_t i = 0; i < p.m; ++i) {
      for (uint32_t j = 0; j < p.n; ++j) {
        const Chain even = ExactChain(p, a, b, i, j, Ties::kEven);
        if (even.ties != 1) continue;
        const Chain away = ExactChain(p, a, b, i, j, Ties::kAway);
        if (away.ties != 1 || away.tie_step != even.tie_step || away.c == even.c) continue;
        return Json{{"seed", ToHex(p.seed)}, {"m", p.m}, {"n", p.n}, {"k", p.k}, {"tile", p.tile},
                    {"root", ToHex(RootOf(p, EngineC(p)))}, {"i", i}, {"j", j}, {"step", even.tie_step},
                    {"c_ties_even", Hex32(std::bit_cast<uint32_t>(even.c))},
                    {"c_ties_away", Hex32(std::bit_cast<uint32_t>(away.c))},
                    {"found_by",
                     "seed = u32 LE s || 28 zero bytes for the smallest s >= 0 where some C[i][j] (first in row-major "
                     "order) has exactly one tied fma step (a * b + c exactly halfway between two binary32 values, "
                     "found with exact integer arithmetic: inputs are multiples of 2^-23, accumulators of 2^-46) "
                     "both when ties round to even and when every step rounds ties away from zero, at the same step "
                     "k = step (0-based), and the two final values differ"}};
      }
    }
  }
  ADD_FAILURE() << "no fp32 tie found in " << kSearchLimit << " seeds";
  return Json();
}

Json ZeroEntry() {
  for (uint32_t s = 0; s < kSearchLimit; ++s) {
    const WorkloadParams p = Params(WorkloadKind::kFp32Ordered, 1024, 16, 1, 8, SearchSeed(s));
    const std::vector<float> a = Fp32Input(p, Matrix::kA);
    for (uint64_t idx = 0; idx < a.size(); ++idx) {
      if (a[idx] != 0.0f) continue;
      return Json{{"seed", ToHex(p.seed)}, {"m", p.m}, {"n", p.n}, {"k", p.k}, {"tile", p.tile},
                  {"root", ToHex(RootOf(p, EngineC(p)))}, {"a_zero_index", idx},
                  {"found_by",
                   "seed = u32 LE s || 28 zero bytes for the smallest s >= 0 where an element of A is exactly 0 "
                   "(Philox word w with w >> 8 = 2^23); a_zero_index is the first such index"}};
    }
  }
  ADD_FAILURE() << "no zero input found in " << kSearchLimit << " seeds";
  return Json();
}

Json HighWordEntry() {
  Json out = Json::array();
  {
    const WorkloadParams p = Params(WorkloadKind::kInt8, 1048576, 1, 131071, 32, CountingSeed());
    const InputKey k = DeriveInputKey(p);
    Json elements = Json::array();
    for (uint64_t off : {0u, 5u, 15u, 16u}) {
      const uint64_t index = (uint64_t{1} << 36) + off;
      elements.push_back(Json{{"index", index}, {"block", index / shared::kInt8PerBlock},
                              {"value", int{shared::Int8Element({k.k0, k.k1}, shared::kMatrixA, index)}}});
    }
    out.push_back(Json{{"workload", "int8"}, {"seed", ToHex(p.seed)}, {"m", p.m}, {"n", p.n}, {"k", p.k},
                       {"elements", elements}});
  }
  {
    const WorkloadParams p = Params(WorkloadKind::kFp32Ordered, 1048576, 1, 32768, 32, CountingSeed());
    const InputKey k = DeriveInputKey(p);
    Json elements = Json::array();
    for (uint64_t off : {0u, 1u, 3u, 4u}) {
      const uint64_t index = (uint64_t{1} << 34) + off;
      const float v = shared::Fp32Element({k.k0, k.k1}, shared::kMatrixA, index);
      elements.push_back(Json{{"index", index}, {"block", index / shared::kFp32PerBlock},
                              {"value", Hex32(std::bit_cast<uint32_t>(v))}});
    }
    out.push_back(Json{{"workload", "fp32-ordered"}, {"seed", ToHex(p.seed)}, {"m", p.m}, {"n", p.n}, {"k", p.k},
                       {"elements", elements}});
  }
  return out;
}

Json Generate() {
  return Json{{"int8", WorkloadEntry(WorkloadKind::kInt8)},
              {"fp32-ordered", WorkloadEntry(WorkloadKind::kFp32Ordered)},
              {"proofs", ProofsEntry()},
              {"shapes", ShapesEntry()},
              {"fp32_tie", TieEntry()},
              {"fp32_zero", ZeroEntry()},
              {"philox_high_word", HighWordEntry()}};
}

// The file under test: VCP_UPDATE_SPEC_VECTORS (after writing it) or the checked-in one.
std::filesystem::path VectorFile() {
  if (const char* out = std::getenv("VCP_UPDATE_SPEC_VECTORS")) return out;
  return vcp::testing::VectorsDir() / "spec_v2.json";
}

Json LoadVectors() {
  const std::string text = vcp::testing::ReadText(VectorFile());
  EXPECT_FALSE(text.empty()) << "missing " << VectorFile();
  return text.empty() ? Json() : Json::parse(text);
}

WorkloadParams ParamsOf(const Json& v, WorkloadKind kind) {
  return Params(kind, v.at("m"), v.at("n"), v.at("k"), v.value("tile", 32u),
                *FixedFromHex<32>(v.at("seed").get<std::string>()));
}

// ---- the tests ------------------------------------------------------------------------------------------------

TEST(SpecVectorsFile, EqualsTheEngineKeyForKey) {
  const Json generated = Generate();
  if (const char* out = std::getenv("VCP_UPDATE_SPEC_VECTORS")) {
    std::ofstream f(out);
    f << generated.dump(2) << "\n";
    ASSERT_TRUE(f.good()) << "cannot write " << out;
  }
  const Json file = LoadVectors();
  ASSERT_TRUE(file.is_object());
  EXPECT_EQ(file.size(), generated.size()) << "top-level keys";
  for (const auto& [key, value] : generated.items()) {
    ASSERT_TRUE(file.contains(key)) << "the file lacks " << key;
    EXPECT_EQ(file.at(key), value) << key << ": the engine gives " << value.dump();
  }
}

class SpecVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(SpecVectors, EngineReproducesEveryValue) {
  const Json all = LoadVectors();
  const Json& v = all.at(GetParam());
  const WorkloadParams p = ParamsOf(v, *ParseWorkloadKind(GetParam()));
  const InputKey key = DeriveInputKey(p);
  EXPECT_EQ(Hex32(key.k0), v.at("philox_key")[0].get<std::string>());
  EXPECT_EQ(Hex32(key.k1), v.at("philox_key")[1].get<std::string>());
  RunOptions cpu;
  cpu.backend = BackendChoice::kCpu;
  ASSERT_OK_AND_ASSIGN(auto run, RunWorkload(p, cpu));
  ASSERT_OK_AND_ASSIGN(std::vector<Hash32> leaves, run->LeafHashes());
  ASSERT_EQ(leaves.size(), v.at("leaf_hashes").size());
  for (size_t i = 0; i < leaves.size(); ++i)
    EXPECT_EQ(ToHex(leaves[i]), v.at("leaf_hashes")[i].get<std::string>()) << "leaf " << i;
  EXPECT_EQ(ToHex(run->root()), v.at("root").get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Workloads, SpecVectors, ::testing::Values("int8", "fp32-ordered"),
                         [](const auto& test_param) { return test_param.param == "int8" ? "int8" : "fp32_ordered"; });

TEST(SpecVectorsProofs, VerifyAgainstTheRootAndParse) {
  const Json all = LoadVectors();
  const Json& proofs = all.at("proofs");
  const Json& v = all.at("int8");
  std::vector<Hash32> leaves;
  for (const auto& h : v.at("leaf_hashes")) leaves.push_back(*FixedFromHex<32>(h.get<std::string>()));
  const Hash32 root = *FixedFromHex<32>(v.at("root").get<std::string>());
  for (const auto& inc : proofs.at("inclusion")) {
    const uint64_t leaf = inc.at("leaf");
    std::vector<Hash32> path;
    for (const auto& h : inc.at("path")) path.push_back(*FixedFromHex<32>(h.get<std::string>()));
    EXPECT_TRUE(VerifyInclusion(leaf, leaves.size(), leaves[leaf], path, root).ok()) << "leaf " << leaf;
    ASSERT_GT(path.size(), 1u);
    std::reverse(path.begin(), path.end());  // a top-down path is not the spec's
    EXPECT_FALSE(VerifyInclusion(leaf, leaves.size(), leaves[leaf], path, root).ok()) << "leaf " << leaf;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> file, FromHex(proofs.at("multiproof_file").get<std::string>()));
  ASSERT_OK_AND_ASSIGN(MultiProof mp, ParseMultiProof(file));
  EXPECT_EQ(mp.indices, proofs.at("multiproof").at("indices").get<std::vector<uint64_t>>());
  EXPECT_EQ(HexList(mp.hashes), proofs.at("multiproof").at("hashes"));
  std::vector<Hash32> opened;
  for (uint64_t i : mp.indices) opened.push_back(leaves[i]);
  EXPECT_TRUE(VerifyMulti(mp, opened, root).ok());
  EXPECT_EQ(file[4], 2) << "multiproof file version";
  EXPECT_EQ(file[5], 1) << "multiproof file hash id";
}

TEST(SpecVectorsShapes, RootsAndLeafCounts) {
  const Json all = LoadVectors();
  ASSERT_EQ(all.at("shapes").size(), 6u);
  for (const auto& s : all.at("shapes")) {
    const WorkloadParams p = ParamsOf(s, *ParseWorkloadKind(s.at("workload").get<std::string>()));
    RunOptions cpu;
    cpu.backend = BackendChoice::kCpu;
    ASSERT_OK_AND_ASSIGN(auto run, RunWorkload(p, cpu));
    EXPECT_EQ(ToHex(run->root()), s.at("root").get<std::string>()) << s.dump();
    EXPECT_EQ(TileGridOf(p).leaf_count(), s.at("leaf_count").get<uint64_t>());
  }
}

TEST(SpecVectorsFp32, TieSurvivesAndTiesAwayGivesAnotherRoot) {
  const Json all = LoadVectors();
  const Json& v = all.at("fp32_tie");
  const WorkloadParams p = ParamsOf(v, WorkloadKind::kFp32Ordered);
  const uint32_t i = v.at("i"), j = v.at("j");
  const std::vector<uint32_t> engine = EngineC(p);
  const std::vector<uint32_t> even = ExactC(p, Ties::kEven), away = ExactC(p, Ties::kAway);
  EXPECT_EQ(engine, even) << "the exact ties-to-even chain must be the engine's (std::fma) chain";
  EXPECT_EQ(Hex32(engine[uint64_t{i} * p.n + j]), v.at("c_ties_even").get<std::string>());
  EXPECT_EQ(Hex32(away[uint64_t{i} * p.n + j]), v.at("c_ties_away").get<std::string>());
  const Chain chain =
      ExactChain(p, Fp32Input(p, Matrix::kA), Fp32Input(p, Matrix::kB), i, j, Ties::kEven);
  EXPECT_EQ(chain.ties, 1);
  EXPECT_EQ(chain.tie_step, v.at("step").get<int>());
  EXPECT_EQ(ToHex(RootOf(p, engine)), v.at("root").get<std::string>());
  EXPECT_NE(ToHex(RootOf(p, away)), v.at("root").get<std::string>()) << "ties-away-from-zero must not pass";
}

TEST(SpecVectorsFp32, ZeroInputAndProductFirstGivesAnotherRoot) {
  const Json all = LoadVectors();
  const Json& v = all.at("fp32_zero");
  const WorkloadParams p = ParamsOf(v, WorkloadKind::kFp32Ordered);
  ASSERT_EQ(p.k, 1u);
  const uint64_t zero = v.at("a_zero_index");
  const std::vector<float> a = Fp32Input(p, Matrix::kA);
  ASSERT_LT(zero, a.size());
  EXPECT_EQ(std::bit_cast<uint32_t>(a[zero]), 0u) << "A element must be +0";
  const std::vector<uint32_t> engine = EngineC(p), wrong = ProductFirstC(p);
  int negative_zeros = 0;
  for (uint32_t j = 0; j < p.n; ++j) {
    EXPECT_EQ(engine[zero * p.n + j], 0u) << "fma(+0, b, +0) = +0, column " << j;
    negative_zeros += wrong[zero * p.n + j] == 0x80000000u;
  }
  EXPECT_GT(negative_zeros, 0) << "a product-first chain gives -0 where b < 0";
  EXPECT_EQ(ToHex(RootOf(p, engine)), v.at("root").get<std::string>());
  EXPECT_NE(ToHex(RootOf(p, wrong)), v.at("root").get<std::string>());
}

TEST(SpecVectorsPhilox, HighCounterWord) {
  const Json all = LoadVectors();
  ASSERT_EQ(all.at("philox_high_word").size(), 2u);
  for (const auto& entry : all.at("philox_high_word")) {
    const WorkloadKind kind = *ParseWorkloadKind(entry.at("workload").get<std::string>());
    const WorkloadParams p = ParamsOf(entry, kind);
    ASSERT_OK(ValidateWorkload(p));
    const InputKey k = DeriveInputKey(p);
    const shared::PhiloxKey key{k.k0, k.k1};
    for (const auto& e : entry.at("elements")) {
      const uint64_t index = e.at("index");
      EXPECT_LT(index, uint64_t{p.m} * p.k);
      EXPECT_GE(e.at("block").get<uint64_t>(), uint64_t{1} << 32) << "the counter's high word must be nonzero";
      if (kind == WorkloadKind::kInt8) {
        int8_t filled = 0;
        cpu::FillInt8(key, shared::kMatrixA, index, 1, &filled);  // the engine's block-at-a-time path
        EXPECT_EQ(int{filled}, e.at("value").get<int>()) << index;
        EXPECT_EQ(e.at("block").get<uint64_t>(), index / 16);
      } else {
        float filled = 0;
        cpu::FillFp32(key, shared::kMatrixA, index, 1, &filled);
        EXPECT_EQ(Hex32(std::bit_cast<uint32_t>(filled)), e.at("value").get<std::string>()) << index;
        EXPECT_EQ(e.at("block").get<uint64_t>(), index / 4);
      }
    }
  }
}

}  // namespace
