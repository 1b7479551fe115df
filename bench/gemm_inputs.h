// bench/gemm_inputs.h: the GEMM benchmarks' inputs, shapes and rate counter, shared by gemm_bench.cpp and onednn_bench.cpp
// so that every engine multiplies the same matrices and reports the same GMAC/s.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace vcp::bench {

// Full-range int8 and the spec's fp32 inputs (multiples of 2^-23 in [-1, 1)).
inline std::vector<int8_t> RandomInt8(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> v(count);
  for (auto& x : v) x = static_cast<int8_t>(rng());
  return v;
}

inline std::vector<float> RandomFp32(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(count);
  for (auto& x : v) x = static_cast<float>(static_cast<int32_t>(rng() >> 8) - (1 << 23)) * 0x1p-23f;
  return v;
}

inline void ReportMacs(benchmark::State& state, size_t m, size_t n, size_t k) {
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  state.SetItemsProcessed(static_cast<int64_t>(macs) * state.iterations());
  state.counters["GMAC"] =  // shown as GMAC/s
      benchmark::Counter(macs * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

// The shapes every fast GEMM engine runs: 256^3 to 4096^3 (issue 11 compares at 1024-4096), and the verifier's
// tiles 64 x 64 x 8192 and 32 x 32 x 8192.
inline void GemmShapes(benchmark::internal::Benchmark* b) {
  for (int64_t s : {256, 512, 1024, 2048, 4096}) b->Args({s, s, s});
  b->Args({64, 64, 8192});
  b->Args({32, 32, 8192});
  b->ArgNames({"m", "n", "k"});
  b->Unit(benchmark::kMillisecond);
}

// The portable (defining) tiers and Eigen's int32 GEMM are 10-60x slower: the same shapes up to 1024^3, so a full
// run stays minutes long.
inline void SlowGemmShapes(benchmark::internal::Benchmark* b) {
  for (int64_t s : {256, 512, 1024}) b->Args({s, s, s});
  b->Args({64, 64, 8192});
  b->Args({32, 32, 8192});
  b->ArgNames({"m", "n", "k"});
  b->Unit(benchmark::kMillisecond);
}

}  // namespace vcp::bench
