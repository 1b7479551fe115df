// GPU benchmarks: what the proof costs on top of the work it proves.
//
//   BM_GpuInt8PlainGemm          cuBLASLt int8 GEMM alone (the no-proof baseline a provider would otherwise run)
//   BM_GpuInt8GemmCommit         the same GEMM + leaf hashing + tree levels + root to the host
//   BM_GpuInt8GenerateGemmCommit the whole CUDA backend run: Philox inputs + the above
//   BM_GpuCublasSgemm            cuBLAS SGEMM, CUBLAS_DEFAULT_MATH (no TF32): the baseline for fp32-ordered
//   BM_GpuFp32OrderedGemm        vcp's ordered-fma GEMM (kernels/gemm_fp32_ordered.cu)
//   BM_GpuHashLeaves             device leaf hashing alone, bytes of C per second
// at n = M = N = K = 4096, 8192, 16384 and the default tile. Every vcp step is a stage of the engine's CUDA backend
// (lib/backend.h, the plugin libvcp_cuda.so), driven here as lib/pipeline.cpp drives it; only the cuBLAS SGEMM
// baseline calls a vendor library itself, on the very same device buffers. Times are cudaEvent times of the
// device work only (UseManualTime: the stages' marks); buffers are allocated and inputs generated once per
// benchmark, outside the timed region. The proof overhead is BM_GpuInt8GemmCommit / BM_GpuInt8PlainGemm - 1.
//
// The JSON context carries the GPU (name, SMs, clocks, memory, driver and runtime versions). Without a usable
// device every benchmark reports an error instead of a time; built without CUDA this file registers nothing.
#if VCP_HAVE_CUDA

#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "backend.h"
#include "pipeline.h"
#include "vcp/bytes.h"
#include "vcp/workload.h"

namespace vcp {
namespace {

// Describes the CUDA backend's device in the benchmark context. Runs during static initialisation, before the
// benchmark library prints its context (its context map is a constant-initialised pointer, so this is safe).
bool AddGpuContext() {
  auto cuda = CudaBackend();
  Result<DeviceInfo> info = cuda.ok() ? (*cuda)->probe(0) : Result<DeviceInfo>(cuda.status());
  if (!info.ok()) {
    benchmark::AddCustomContext("gpu", std::string(info.status().message()));
    return false;
  }
  // The device evidence the engine reads (DeviceInfo, as an epoch record carries it), plus the memory bus width.
  benchmark::AddCustomContext("gpu_name", info->name);
  benchmark::AddCustomContext("gpu_uuid", ToHex(info->uuid));
  benchmark::AddCustomContext("gpu_pci_bus_id", info->pci_bus_id);
  benchmark::AddCustomContext("gpu_sm_count", std::to_string(info->compute_units));
  benchmark::AddCustomContext("cuda_driver", info->driver_version);
  benchmark::AddCustomContext("cuda_runtime", info->runtime_version);
  benchmark::AddCustomContext("gpu_compute_capability", std::to_string(info->compute_capability_major) + "." +
                                                            std::to_string(info->compute_capability_minor));
  benchmark::AddCustomContext("gpu_sm_clock_max_mhz", std::to_string(info->max_clock_khz / 1000));
  benchmark::AddCustomContext("gpu_memory_clock_max_mhz", std::to_string(info->max_memory_clock_khz / 1000));
  benchmark::AddCustomContext("gpu_memory_mib", std::to_string(info->memory_bytes >> 20));
  int bus_bits = 0;
  if (cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, info->ordinal) == cudaSuccess) {
    benchmark::AddCustomContext("gpu_memory_bus_bits", std::to_string(bus_bits));
  }
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

bool CheckCuda(benchmark::State& state, cudaError_t err, const char* what) {
  if (err == cudaSuccess) return true;
  state.SkipWithError((std::string(what) + ": " + cudaGetErrorString(err)).c_str());
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

// One run of the CUDA backend's stages with every buffer allocated and A, B generated.
struct Bench {
  const BackendStages* stages = nullptr;
  WorkloadParams p;
  TreeLayout layout;
  StageRun run;
  StageBuffer a, b, c, tree;  // after run: released first

  Status Init(const BackendStages& cuda, const DeviceInfo& device, const WorkloadParams& params) {
    stages = &cuda;
    p = params;
    layout = LayoutTree(TileGridOf(p).leaf_count());
    VCP_ASSIGN_OR_RETURN(run, StageRun::Open(cuda, p, device, 0));
    VCP_ASSIGN_OR_RETURN(a, run.Allocate(BufferRole::kA));
    VCP_ASSIGN_OR_RETURN(b, run.Allocate(BufferRole::kB));
    VCP_ASSIGN_OR_RETURN(c, run.Allocate(BufferRole::kC));
    VCP_ASSIGN_OR_RETURN(tree, run.Allocate(BufferRole::kTree));
    VCP_RETURN_IF_ERROR(Generate());
    return stages->finish(run.get());
  }

  Status Generate() {
    VCP_RETURN_IF_ERROR(stages->generate(run.get(), Matrix::kA, a.get()));
    return stages->generate(run.get(), Matrix::kB, b.get());
  }
  Status Gemm() { return stages->gemm(run.get(), a.get(), b.get(), c.get()); }
  Status HashLeaves() { return stages->hash_leaves(run.get(), c.get(), tree.get()); }
  // Leaves, levels and the root to the host: what a commitment costs after C exists.
  Status Commit() {
    VCP_RETURN_IF_ERROR(HashLeaves());
    VCP_RETURN_IF_ERROR(stages->build_levels(run.get(), tree.get(), layout));
    Hash32 root{};
    return stages->download(run.get(), tree.get(), 32 * layout.offsets.back(), root);
  }

  // Runs `work` once untimed (module loading, cuBLASLt's first call), then once per iteration between the run's
  // kStart and kCommitted marks (device events).
  template <typename Work>
  void Time(benchmark::State& state, Work work) {
    if (!Check(state, work()) || !Check(state, stages->finish(run.get()))) return;
    for (auto _ : state) {
      if (!Check(state, stages->mark(run.get(), RunMark::kStart)) || !Check(state, work()) ||
          !Check(state, stages->mark(run.get(), RunMark::kCommitted)) || !Check(state, stages->finish(run.get()))) {
        break;
      }
      auto seconds = stages->seconds_between(run.get(), RunMark::kStart, RunMark::kCommitted);
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
  auto cuda = CudaBackend();
  if (!cuda.ok()) {
    state.SkipWithError(std::string(cuda.status().message()).c_str());
    return;
  }
  auto device = (*cuda)->probe(0);
  if (!device.ok()) {
    state.SkipWithError(std::string(device.status().message()).c_str());
    return;
  }
  Bench bench;
  if (!Check(state, bench.Init(**cuda, *device, Cube(kind, static_cast<uint32_t>(state.range(0)))))) return;
  body(bench);
}

void BM_GpuInt8PlainGemm(benchmark::State& state) {
  RunBench(state, WorkloadKind::kInt8, [&](Bench& bench) {
    bench.Time(state, [&] { return bench.Gemm(); });
    state.SetLabel(bench.stages->gemm_path(bench.run.get()));
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

// The vendor baseline on the backend's own A and B, on a stream and events of its own (cuBLAS is not a stage).
void BM_GpuCublasSgemm(benchmark::State& state) {
  RunBench(state, WorkloadKind::kFp32Ordered, [&](Bench& bench) {
    cublasHandle_t handle = nullptr;
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr, stop = nullptr;
    if (CheckCuda(state, cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate") &&
        CheckCuda(state, cudaEventCreate(&start), "cudaEventCreate") &&
        CheckCuda(state, cudaEventCreate(&stop), "cudaEventCreate") &&
        CheckCublas(state, cublasCreate(&handle), "cublasCreate") &&
        CheckCublas(state, cublasSetStream(handle, stream), "cublasSetStream") &&
        CheckCublas(state, cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode")) {
      const int n = static_cast<int>(bench.p.n), m = static_cast<int>(bench.p.m), k = static_cast<int>(bench.p.k);
      const float alpha = 1.0f, beta = 0.0f;
      const auto* a = static_cast<const float*>(bench.stages->raw_pointer(bench.a.get()));
      const auto* b = static_cast<const float*>(bench.stages->raw_pointer(bench.b.get()));
      auto* c = static_cast<float*>(bench.stages->raw_pointer(bench.c.get()));
      // Row-major C = A B is column-major C^T = B^T A^T: the row-major buffers passed as they are.
      auto sgemm = [&] { return cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, b, n, a, k, &beta, c, n); };
      if (CheckCublas(state, sgemm(), "cublasSgemm (warm-up)") &&
          CheckCuda(state, cudaStreamSynchronize(stream), "warm-up")) {
        for (auto _ : state) {
          float ms = 0;
          if (!CheckCuda(state, cudaEventRecord(start, stream), "cudaEventRecord") ||
              !CheckCublas(state, sgemm(), "cublasSgemm") ||
              !CheckCuda(state, cudaEventRecord(stop, stream), "cudaEventRecord") ||
              !CheckCuda(state, cudaEventSynchronize(stop), "cublasSgemm") ||
              !CheckCuda(state, cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime")) {
            break;
          }
          state.SetIterationTime(double(ms) * 1e-3);
        }
      }
      SetOpsCounter(state, bench.p.m);
    }
    if (handle != nullptr) (void)cublasDestroy(handle);
    if (start != nullptr) (void)cudaEventDestroy(start);
    if (stop != nullptr) (void)cudaEventDestroy(stop);
    if (stream != nullptr) (void)cudaStreamDestroy(stream);
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
