// GPU benchmarks: what the proof costs on top of the work it proves.
//
//   BM_GpuInt8PlainGemm          cuBLASLt int8 GEMM alone (the no-proof baseline a provider would otherwise run)
//   BM_GpuInt8GemmCommit         the same GEMM + leaf hashing + tree levels + root to the host
//   BM_GpuInt8GenerateGemmCommit the whole CUDA backend run: Philox inputs + the above
//   BM_GpuCublasSgemm            cuBLAS SGEMM, CUBLAS_DEFAULT_MATH (no TF32): the baseline for fp32-ordered
//   BM_GpuFp32OrderedGemm        vcp's ordered-fma GEMM (kernels/gemm_fp32_ordered.cu)
//   BM_GpuHashLeaves             device leaf hashing alone, bytes of C per second
// at n = M = N = K = 4096, 8192, 16384 and the default tile. Times are cudaEvent times of the device work only
// (UseManualTime); buffers are allocated and inputs generated once per benchmark, outside the timed region. The
// proof overhead is BM_GpuInt8GemmCommit / BM_GpuInt8PlainGemm - 1.
//
// The JSON context carries the GPU (name, SMs, clocks, memory, driver and runtime versions). Without a usable
// device every benchmark reports an error instead of a time; built without CUDA this file registers nothing.
#if VCP_HAVE_CUDA

#include <benchmark/benchmark.h>
#include <cublas_v2.h>

#include <string>
#include <vector>

#include "backend.h"
#include "cuda/kernels.h"
#include "merkle_positions.h"
#include "vcp/workload.h"

namespace vcp {
namespace {

std::string CudaVersion(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

// Describes device 0 in the benchmark context. Runs during static initialisation, before the benchmark library
// prints its context (its context map is a constant-initialised pointer, so this is safe).
bool AddGpuContext() {
  int count = 0;
  if (const cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess || count == 0) {
    benchmark::AddCustomContext("gpu", err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device");
    return false;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return false;
  int sm_khz = 0, mem_khz = 0, driver = 0, runtime = 0;
  (void)cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, 0);
  (void)cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
  (void)cudaDriverGetVersion(&driver);
  (void)cudaRuntimeGetVersion(&runtime);
  benchmark::AddCustomContext("gpu_name", prop.name);
  benchmark::AddCustomContext("gpu_compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor));
  benchmark::AddCustomContext("gpu_sm_count", std::to_string(prop.multiProcessorCount));
  benchmark::AddCustomContext("gpu_sm_clock_max_mhz", std::to_string(sm_khz / 1000));
  benchmark::AddCustomContext("gpu_memory_clock_max_mhz", std::to_string(mem_khz / 1000));
  benchmark::AddCustomContext("gpu_memory_bus_bits", std::to_string(prop.memoryBusWidth));
  benchmark::AddCustomContext("gpu_memory_mib", std::to_string(prop.totalGlobalMem >> 20));
  benchmark::AddCustomContext("cuda_driver", CudaVersion(driver));
  benchmark::AddCustomContext("cuda_runtime", CudaVersion(runtime));
  benchmark::AddCustomContext("sgemm_math_mode", "CUBLAS_DEFAULT_MATH (no TF32)");
  return true;
}
[[maybe_unused]] const bool kGpuContextAdded = AddGpuContext();

// Reports a failed Status as the benchmark's error; true when OK.
bool Check(benchmark::State& state, const Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(status.ToString().c_str());
  return false;
}

bool CheckCublas(benchmark::State& state, cublasStatus_t st, const char* what) {
  if (st == CUBLAS_STATUS_SUCCESS) return true;
  state.SkipWithError((std::string(what) + ": cuBLAS status " + std::to_string(int(st))).c_str());
  return false;
}

WorkloadParams Cube(WorkloadKind kind, uint32_t n) {
  WorkloadParams p;
  p.kind = kind;
  p.m = p.n = p.k = n;
  for (size_t i = 0; i < p.seed.size(); ++i) p.seed[i] = uint8_t(i);
  return p;
}

// Everything one benchmark needs on the device: inputs, C, tree, a stream and two timing events.
struct Bench {
  WorkloadParams p;
  cuda::StreamOwner stream;
  cuda::EventOwner start, stop;
  cuda::DeviceBuffer a, b, c, tree;
  std::vector<uint64_t> level_sizes, level_offsets;
  cuda::LeafSpec spec{};
  shared::PhiloxKey key{};
  cuda::GemmInt8Plan plan;
  cuda::CudaOwner<void*, cudaFreeHost> root;  // 32 bytes of pinned memory, so the root's copy stays asynchronous

  // Allocates, generates A and B (B^T for int8) and, for int8, prepares the GEMM plan.
  Status Init(const WorkloadParams& params) {
    p = params;
    VCP_RETURN_IF_ERROR(ValidateWorkload(p));
    VCP_RETURN_IF_ERROR(cuda::CudaCheck(cudaSetDevice(0), "cudaSetDevice"));
    VCP_ASSIGN_OR_RETURN(stream, cuda::CreateStream());
    VCP_ASSIGN_OR_RETURN(start, cuda::CreateEvent());
    VCP_ASSIGN_OR_RETURN(stop, cuda::CreateEvent());
    const uint64_t elem = p.kind == WorkloadKind::kInt8 ? 1 : 4;
    VCP_ASSIGN_OR_RETURN(a, cuda::DeviceBuffer::Allocate(uint64_t{p.m} * p.k * elem, "A"));
    VCP_ASSIGN_OR_RETURN(b, cuda::DeviceBuffer::Allocate(uint64_t{p.k} * p.n * elem, "B"));
    VCP_ASSIGN_OR_RETURN(c, cuda::DeviceBuffer::Allocate(uint64_t{p.m} * p.n * 4, "C"));
    level_sizes = MerkleLevelSizes(TileGridOf(p).leaf_count());
    uint64_t nodes = 0;
    for (uint64_t s : level_sizes) {
      level_offsets.push_back(nodes);
      nodes += s;
    }
    VCP_ASSIGN_OR_RETURN(tree, cuda::DeviceBuffer::Allocate(nodes * 32, "tree"));
    spec = cuda::LeafSpec{static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, {}};
    for (size_t i = 0; i < p.seed.size(); ++i) spec.seed[i] = p.seed[i];
    const InputKey k = DeriveInputKey(p);
    key = shared::PhiloxKey{k.k0, k.k1};
    if (p.kind == WorkloadKind::kInt8) VCP_RETURN_IF_ERROR(cuda::PrepareGemmInt8(plan, p.m, p.n, p.k));
    void* pinned = nullptr;
    VCP_RETURN_IF_ERROR(cuda::CudaCheck(cudaMallocHost(&pinned, 32), "cudaMallocHost"));
    root = cuda::CudaOwner<void*, cudaFreeHost>(pinned);
    VCP_RETURN_IF_ERROR(Generate());
    return cuda::CudaCheck(cudaStreamSynchronize(stream.get()), "generating inputs");
  }

  Status Generate() {
    return cuda::GenerateInputs(p.kind, key, p.m, p.n, p.k, a.get(), b.get(),
                                p.kind == WorkloadKind::kInt8 ? cuda::BLayout::kTransposed : cuda::BLayout::kRowMajor,
                                stream.get());
  }
  Status Gemm() {
    if (p.kind == WorkloadKind::kInt8) {
      return cuda::GemmInt8(plan, p.m, p.n, p.k, a.as<int8_t>(), b.as<int8_t>(), c.as<int32_t>(), stream.get());
    }
    return cuda::GemmFp32Ordered(p.m, p.n, p.k, a.as<float>(), b.as<float>(), c.as<float>(), stream.get());
  }
  Status HashLeaves() { return cuda::HashLeaves(spec, c.as<uint32_t>(), p.n, tree.as<uint8_t>(), stream.get()); }
  // Leaves, levels and the root to the host: what a commitment costs after C exists.
  Status Commit() {
    VCP_RETURN_IF_ERROR(HashLeaves());
    VCP_RETURN_IF_ERROR(cuda::BuildMerkleLevels(tree.as<uint8_t>(), level_offsets, level_sizes, stream.get()));
    return cuda::CudaCheck(cudaMemcpyAsync(root.get(), tree.as<uint8_t>() + 32 * level_offsets.back(), 32,
                                           cudaMemcpyDeviceToHost, stream.get()),
                           "copying the root");
  }

  // Runs `work` once untimed (module loading, cuBLASLt's first call), then once per iteration between events.
  template <typename Work>
  void Time(benchmark::State& state, Work work) {
    if (!Check(state, work()) || !Check(state, cuda::CudaCheck(cudaStreamSynchronize(stream.get()), "warm-up"))) {
      return;
    }
    for (auto _ : state) {
      if (!Check(state, cuda::CudaCheck(cudaEventRecord(start.get(), stream.get()), "cudaEventRecord")) ||
          !Check(state, work()) ||
          !Check(state, cuda::CudaCheck(cudaEventRecord(stop.get(), stream.get()), "cudaEventRecord")) ||
          !Check(state, cuda::CudaCheck(cudaEventSynchronize(stop.get()), "the timed work"))) {
        break;
      }
      auto seconds = cuda::ElapsedSeconds(start, stop);
      if (!Check(state, seconds.status())) break;
      state.SetIterationTime(*seconds);
    }
  }
};

void SetOpsCounter(benchmark::State& state, uint32_t n) {
  const double ops = 2.0 * double(n) * double(n) * double(n);
  state.counters["TOPS"] = benchmark::Counter(ops * double(state.iterations()) * 1e-12, benchmark::Counter::kIsRate);
}

template <typename Body>
void RunBench(benchmark::State& state, WorkloadKind kind, Body body) {
  if (auto probe = CudaBackend().probe(); !probe.ok()) {
    state.SkipWithError(std::string(probe.status().message()).c_str());
    return;
  }
  Bench bench;
  if (!Check(state, bench.Init(Cube(kind, static_cast<uint32_t>(state.range(0)))))) return;
  body(bench);
}

void BM_GpuInt8PlainGemm(benchmark::State& state) {
  RunBench(state, WorkloadKind::kInt8, [&](Bench& bench) {
    state.SetLabel(bench.plan.use_cublaslt ? "cuBLASLt IMMA" : "fallback kernel");
    bench.Time(state, [&] { return bench.Gemm(); });
    SetOpsCounter(state, bench.p.m);
  });
}

void BM_GpuInt8GemmCommit(benchmark::State& state) {
  RunBench(state, WorkloadKind::kInt8, [&](Bench& bench) {
    bench.Time(state, [&]() -> Status {
      VCP_RETURN_IF_ERROR(bench.Gemm());
      return bench.Commit();
    });
    SetOpsCounter(state, bench.p.m);
  });
}

void BM_GpuInt8GenerateGemmCommit(benchmark::State& state) {
  RunBench(state, WorkloadKind::kInt8, [&](Bench& bench) {
    bench.Time(state, [&]() -> Status {
      VCP_RETURN_IF_ERROR(bench.Generate());
      VCP_RETURN_IF_ERROR(bench.Gemm());
      return bench.Commit();
    });
    SetOpsCounter(state, bench.p.m);
  });
}

void BM_GpuFp32OrderedGemm(benchmark::State& state) {
  RunBench(state, WorkloadKind::kFp32Ordered, [&](Bench& bench) {
    bench.Time(state, [&] { return bench.Gemm(); });
    SetOpsCounter(state, bench.p.m);
  });
}

void BM_GpuCublasSgemm(benchmark::State& state) {
  RunBench(state, WorkloadKind::kFp32Ordered, [&](Bench& bench) {
    cublasHandle_t raw = nullptr;
    if (!CheckCublas(state, cublasCreate(&raw), "cublasCreate")) return;
    const cuda::CudaOwner<cublasHandle_t, cublasDestroy> handle(raw);
    if (!CheckCublas(state, cublasSetStream(raw, bench.stream.get()), "cublasSetStream") ||
        !CheckCublas(state, cublasSetMathMode(raw, CUBLAS_DEFAULT_MATH), "cublasSetMathMode")) {
      return;
    }
    const int n = static_cast<int>(bench.p.n), m = static_cast<int>(bench.p.m), k = static_cast<int>(bench.p.k);
    const float alpha = 1.0f, beta = 0.0f;
    // Row-major C = A B is column-major C^T = B^T A^T: the row-major buffers passed as they are.
    bench.Time(state, [&]() -> Status {
      const cublasStatus_t st = cublasSgemm(raw, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, bench.b.as<float>(), n,
                                            bench.a.as<float>(), k, &beta, bench.c.as<float>(), n);
      if (st != CUBLAS_STATUS_SUCCESS) return Status::Internal("cublasSgemm: status " + std::to_string(int(st)));
      return Status::Ok();
    });
    SetOpsCounter(state, bench.p.m);
  });
}

void BM_GpuHashLeaves(benchmark::State& state) {
  RunBench(state, WorkloadKind::kInt8, [&](Bench& bench) {
    if (!Check(state, bench.Gemm())) return;  // C holds real products; the hash speed does not depend on them
    bench.Time(state, [&] { return bench.HashLeaves(); });
    state.SetBytesProcessed(state.iterations() * int64_t(bench.p.m) * int64_t(bench.p.n) * 4);
  });
}

#define VCP_GPU_BENCH(fn) \
  BENCHMARK(fn)->ArgName("n")->Arg(4096)->Arg(8192)->Arg(16384)->UseManualTime()->Unit(benchmark::kMillisecond)
VCP_GPU_BENCH(BM_GpuInt8PlainGemm);
VCP_GPU_BENCH(BM_GpuInt8GemmCommit);
VCP_GPU_BENCH(BM_GpuInt8GenerateGemmCommit);
VCP_GPU_BENCH(BM_GpuCublasSgemm);
VCP_GPU_BENCH(BM_GpuFp32OrderedGemm);
VCP_GPU_BENCH(BM_GpuHashLeaves);

}  // namespace
}  // namespace vcp

#endif  // VCP_HAVE_CUDA
