// oneDNN's matmul as a vendor CPU baseline for gemm_bench.cpp, on the same shapes and the same inputs: int8
// (s8 x s8 -> s32, what the int8 workload computes) and fp32 (unordered, like Eigen's float GEMM: a speed
// reference only, not a valid fp32-ordered engine). One thread, like the other GEMM benchmarks: oneDNN (Debian's
// build uses OpenMP) is limited to one OpenMP thread before its first primitive is created. The primitive is
// created once outside the timed loop, and its int8 result is compared (==) with vcp's engine on the same inputs
// before anything is timed (counter exact, and the label says INEXACT when they differ); the label names the
// implementation oneDNN picked (e.g. brg:avx512_core_vnni), so a report can tell a JIT kernel from a reference
// fallback. Rates: items_per_second and "GMAC" as in
// gemm_bench.cpp. Built only when CMake finds libdnnl (bench/CMakeLists.txt).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <dnnl.hpp>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "cpu/gemm.h"
#include "gemm_inputs.h"

namespace {

using vcp::bench::GemmShapes;
using vcp::bench::RandomFp32;
using vcp::bench::RandomInt8;
using vcp::bench::ReportMacs;

// Args: m, n, k. src a (m, k), weights b (k, n), dst c (m, n), all row-major and tight ("ab" format tag), of
// in_type, in_type and out_type; the memory objects wrap the caller's buffers (oneDNN copies nothing). `check`
// runs after one untimed execution and returns an error message, empty when c is right.
void RunMatmul(benchmark::State& state, dnnl::memory::data_type in_type, dnnl::memory::data_type out_type,
               void* a, void* b, void* c, const std::function<std::string()>& check) {
  using tag = dnnl::memory::format_tag;
  const auto m = static_cast<dnnl::memory::dim>(state.range(0));
  const auto n = static_cast<dnnl::memory::dim>(state.range(1));
  const auto k = static_cast<dnnl::memory::dim>(state.range(2));
  omp_set_num_threads(1);
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dnnl::memory::desc a_md({m, k}, in_type, tag::ab), b_md({k, n}, in_type, tag::ab),
        c_md({m, n}, out_type, tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), engine);
    const dnnl::matmul matmul(pd);
    dnnl::memory a_mem(a_md, engine, a), b_mem(b_md, engine, b), c_mem(c_md, engine, c);
    const std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}};
    matmul.execute(stream, args);
    stream.wait();
    // A result that differs is still timed (a user picking oneDNN gets that speed) but labelled, with
    // exact = 0: oneDNN's int8 kernels for CPUs without VNNI sum pairs of u8 * s8 products in saturating int16
    // (VPMADDUBSW), so on an AVX2-only CPU (or with ONEDNN_MAX_CPU_ISA=AVX2) its s8 x s8 -> s32 is not the
    // exact product the int8 workload defines.
    const std::string mismatch = check();
    state.counters["exact"] = mismatch.empty() ? 1 : 0;
    for (auto _ : state) {
      matmul.execute(stream, args);
      stream.wait();
      benchmark::DoNotOptimize(c);
      benchmark::ClobberMemory();
    }
    state.SetLabel(mismatch.empty() ? pd.impl_info_str() : std::string(pd.impl_info_str()) + " INEXACT: " + mismatch);
  } catch (const dnnl::error& e) {
    state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
    return;
  }
  ReportMacs(state, static_cast<size_t>(m), static_cast<size_t>(n), static_cast<size_t>(k));
}

void BM_OnednnInt8(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  auto a = RandomInt8(m * k, 1), b = RandomInt8(k * n, 2);
  std::vector<int32_t> c(m * n);
  // int8 sums are exact, so oneDNN must agree with vcp's engine bit for bit (a baseline computing something else,
  // e.g. saturating or with a u8 source, would not be a baseline).
  const auto check = [&]() -> std::string {
    std::vector<int32_t> want(m * n);
    vcp::cpu::GemmInt8(vcp::cpu::BestInt8Tier(), m, n, k, a.data(), k, b.data(), n, want.data(), n);
    return c == want ? std::string() : "oneDNN's s8 x s8 -> s32 result differs from vcp's int8 GEMM";
  };
  RunMatmul(state, dnnl::memory::data_type::s8, dnnl::memory::data_type::s32, a.data(), b.data(), c.data(), check);
}

void BM_OnednnFp32(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  auto a = RandomFp32(m * k, 3), b = RandomFp32(k * n, 4);
  std::vector<float> c(m * n);
  // No equality check: oneDNN reassociates the k sums, so its float result legitimately differs in the last bits.
  RunMatmul(state, dnnl::memory::data_type::f32, dnnl::memory::data_type::f32, a.data(), b.data(), c.data(),
            [] { return std::string(); });
}

BENCHMARK(BM_OnednnInt8)->Apply(GemmShapes);
BENCHMARK(BM_OnednnFp32)->Apply(GemmShapes);

// The oneDNN that ran (the run-time library, which may differ from the header CMake found), in the JSON context.
const bool kContextAdded = [] {
  const dnnl_version_t* v = dnnl_version();
  benchmark::AddCustomContext("onednn_version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                                    std::to_string(v->patch));
  return true;
}();

}  // namespace
