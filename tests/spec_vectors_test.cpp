// The engine against the known answers of docs/SPEC.md section 9.2 (tests/vectors/spec_v1.json). A change that
// moves any byte of the spec fails here, on purpose: it needs a new spec version.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <bit>
#include <cstdio>

#include "test_util.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"

namespace {

using namespace vcp;

class SpecVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(SpecVectors, EngineReproducesEveryValue) {
  const std::string text = vcp::testing::ReadText(vcp::testing::VectorsDir() / "spec_v1.json");
  ASSERT_FALSE(text.empty()) << "missing " << (vcp::testing::VectorsDir() / "spec_v1.json");
  const nlohmann::json all = nlohmann::json::parse(text);
  const nlohmann::json& v = all.at(GetParam());
  WorkloadParams p;
  p.kind = *ParseWorkloadKind(GetParam());
  p.m = v.at("m");
  p.n = v.at("n");
  p.k = v.at("k");
  p.tile = v.at("tile");
  p.seed = *FixedFromHex<32>(v.at("seed").get<std::string>());

  const InputKey key = DeriveInputKey(p);
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", key.k0);
  EXPECT_EQ(hex, v.at("philox_key")[0].get<std::string>());
  std::snprintf(hex, sizeof hex, "%08x", key.k1);
  EXPECT_EQ(hex, v.at("philox_key")[1].get<std::string>());

  if (p.kind == WorkloadKind::kInt8) {
    std::vector<int8_t> a(uint64_t{p.m} * p.k), b(uint64_t{p.k} * p.n);
    ASSERT_TRUE(GenerateInt8(p, Matrix::kA, a).ok());
    ASSERT_TRUE(GenerateInt8(p, Matrix::kB, b).ok());
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(a[i], v.at("a_first8")[i].get<int>()) << "A element " << i;
      EXPECT_EQ(b[i], v.at("b_first8")[i].get<int>()) << "B element " << i;
    }
  } else {
    std::vector<float> a(uint64_t{p.m} * p.k), b(uint64_t{p.k} * p.n);
    ASSERT_TRUE(GenerateFp32(p, Matrix::kA, a).ok());
    ASSERT_TRUE(GenerateFp32(p, Matrix::kB, b).ok());
    for (int i = 0; i < 8; ++i) {
      std::snprintf(hex, sizeof hex, "%08x", std::bit_cast<uint32_t>(a[i]));
      EXPECT_EQ(hex, v.at("a_first8")[i].get<std::string>()) << "A element " << i;
      std::snprintf(hex, sizeof hex, "%08x", std::bit_cast<uint32_t>(b[i]));
      EXPECT_EQ(hex, v.at("b_first8")[i].get<std::string>()) << "B element " << i;
    }
  }

  RunOptions cpu;
  cpu.backend = BackendChoice::kCpu;
  auto run = RunWorkload(p, cpu);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto leaves = (*run)->LeafHashes();
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), v.at("leaf_hashes").size());
  for (size_t i = 0; i < leaves->size(); ++i)
    EXPECT_EQ(ToHex((*leaves)[i]), v.at("leaf_hashes")[i].get<std::string>()) << "leaf " << i;
  EXPECT_EQ(ToHex((*run)->root()), v.at("root").get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Workloads, SpecVectors, ::testing::Values("int8", "fp32-ordered"),
                         [](const auto& test_param) { return test_param.param == "int8" ? "int8" : "fp32_ordered"; });

}  // namespace
