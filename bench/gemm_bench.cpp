// Single-threaded CPU GEMM throughput: the int8 tiers against Eigen's int32 GEMM on the same (widened) inputs, and
// the fp32-ordered kernel against Eigen's (unordered) float GEMM. Square shapes, plus the verifier's tile shapes
// (T x T x K: T rows of A times T columns of B). Rates are multiply-accumulates per second: items_per_second, and
// the "GMAC" counter in units of 10^9 per second.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm.h"
#include "gemm_inputs.h"

namespace {

using MatrixI32 = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixF32 = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

using vcp::bench::GemmShapes;
using vcp::bench::RandomFp32;
using vcp::bench::RandomInt8;
using vcp::bench::ReportMacs;
using vcp::bench::SlowGemmShapes;

// Args: m, n, k. a (m, k), b (k, n), c (m, n), all tight.
void RunGemmInt8(benchmark::State& state, vcp::cpu::Tier tier) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  const auto a = RandomInt8(m * k, 1), b = RandomInt8(k * n, 2);
  std::vector<int32_t> c(m * n);
  for (auto _ : state) {
    vcp::cpu::GemmInt8(tier, m, n, k, a.data(), k, b.data(), n, c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(vcp::cpu::TierName(tier)));
  ReportMacs(state, m, n, k);
}

void BM_GemmInt8Best(benchmark::State& state) { RunGemmInt8(state, vcp::cpu::BestInt8Tier()); }
void BM_GemmInt8Portable(benchmark::State& state) { RunGemmInt8(state, vcp::cpu::Tier::kPortable); }

// Eigen's GEMM on the same int8 values widened to int32: the baseline the int8 kernels are measured against.
void BM_EigenInt32(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  const auto a8 = RandomInt8(m * k, 1), b8 = RandomInt8(k * n, 2);
  MatrixI32 a(m, k), b(k, n), c(m, n);
  for (size_t e = 0; e < a8.size(); ++e) a.data()[e] = a8[e];
  for (size_t e = 0; e < b8.size(); ++e) b.data()[e] = b8[e];
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  ReportMacs(state, m, n, k);
}

void BM_GemmFp32OrderedBest(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  const auto a = RandomFp32(m * k, 3), b = RandomFp32(k * n, 4);
  std::vector<float> c(m * n);
  const vcp::cpu::Tier tier = vcp::cpu::BestFp32Tier();
  for (auto _ : state) {
    vcp::cpu::GemmFp32Ordered(tier, m, n, k, a.data(), k, b.data(), n, c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(vcp::cpu::TierName(tier)));
  ReportMacs(state, m, n, k);
}

// Eigen's float GEMM (free to reassociate over k, so not a valid fp32-ordered engine; a speed reference only).
void BM_EigenFp32(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  const auto av = RandomFp32(m * k, 3), bv = RandomFp32(k * n, 4);
  const MatrixF32 a = Eigen::Map<const MatrixF32>(av.data(), m, k), b = Eigen::Map<const MatrixF32>(bv.data(), k, n);
  MatrixF32 c(m, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  ReportMacs(state, m, n, k);
}

BENCHMARK(BM_GemmInt8Best)->Apply(GemmShapes);
BENCHMARK(BM_GemmInt8Portable)->Apply(SlowGemmShapes);
BENCHMARK(BM_EigenInt32)->Apply(SlowGemmShapes);
BENCHMARK(BM_GemmFp32OrderedBest)->Apply(GemmShapes);
BENCHMARK(BM_EigenFp32)->Apply(SlowGemmShapes);

// Which tiers ran, in the JSON context.
const bool kContextAdded = [] {
  benchmark::AddCustomContext("gemm_int8_tier", std::string(vcp::cpu::TierName(vcp::cpu::BestInt8Tier())));
  benchmark::AddCustomContext("gemm_fp32_tier", std::string(vcp::cpu::TierName(vcp::cpu::BestFp32Tier())));
  return true;
}();

}  // namespace
