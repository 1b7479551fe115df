// The CUDA backend: the stages of lib/backend.h on one CUDA device per run (the run's ordinal), one stream per
// run, every tensor on that device.
// Built as the plugin libvcp_cuda.so (target vcp_cuda), the only part of vcp that links the CUDA runtime and
// cuBLASLt; lib/backend_loader.cpp loads it at run time and reaches it only through vcp_cuda_backend_stages().
//
// What leaves the device: the 32-byte root at the end of a run (lib/pipeline.cpp); later, for Commitment::Open,
// only the nodes a multiproof needs (positions computed on the host, gathered on the device); all leaf hashes
// only when a caller asks for them (LeafHashes). The pipeline frees A, B and C when the run ends; the tree (all
// levels, 32 bytes per node, about 64 bytes per leaf) stays on the device until the Commitment is destroyed.
//
// Devices: a run is opened on an ordinal (CUDA_VISIBLE_DEVICES numbering) and every call that takes the run first
// makes that ordinal the calling thread's current device (cudaSetDevice is per thread and cheap once the context
// exists), so one thread per GPU runs several GPUs at once, and a Commitment opened, used and destroyed from any
// thread touches only its own GPU. Runs share nothing on the device: each has its own stream, events, cuBLASLt
// handle and workspace, so two runs on one GPU may also run concurrently.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "cuda/cuda_util.h"
#include "cuda/kernels.h"

namespace vcp {

namespace {

using cuda::CudaCheck;
using cuda::DeviceBuffer;

// Left free for the CUDA context's own allocations and cuBLASLt's internals when checking that a run fits.
constexpr uint64_t kHeadroomBytes = uint64_t{64} << 20;

struct Run;

// ---- the CUDA half of the table of workload definitions (the CPU half: lib/workload_table.h) ----

struct CudaWorkload {
  WorkloadKind kind;
  cuda::BLayout b_layout;       // how B is stored for this workload's GEMM (A is always row-major)
  uint64_t gemm_workspace_bytes;
  // out: rows * cols elements of matrix (shared::kMatrixA / kMatrixB), laid out as layout says.
  Status (*generate)(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols, void* out,
                     cuda::BLayout layout, cudaStream_t stream);
  Status (*prepare)(Run& run);  // host-side GEMM set-up, before anything is timed
  // c (M, N) 4-byte elements = a (M, K) * b (stored as b_layout says).
  Status (*gemm)(Run& run, const void* a, const void* b, void* c);
  std::string (*gemm_path)(const Run& run);
};

struct Run {
  int device = 0;  // CUDA ordinal; made current by every call that takes the run
  WorkloadParams params;
  const CudaWorkload* workload = nullptr;
  uint32_t input_bytes = 0;
  shared::PhiloxKey key{};
  cuda::LeafSpec spec{};
  uint64_t bytes[4] = {};  // per BufferRole
  cuda::StreamOwner stream;
  cuda::EventOwner marks[kRunMarks];
  cuda::GemmInt8Plan int8_plan;  // used by the int8 entry only
};

struct Buffer {
  BufferRole role;
  DeviceBuffer memory;
};

Run& AsRun(BackendRun* r) { return *reinterpret_cast<Run*>(r); }
const Run& AsRun(const BackendRun* r) { return *reinterpret_cast<const Run*>(r); }
Buffer& AsBuffer(BackendBuffer* b) { return *reinterpret_cast<Buffer*>(b); }
const Buffer& AsBuffer(const BackendBuffer* b) { return *reinterpret_cast<const Buffer*>(b); }

Status GenerateInt8(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols, void* out,
                    cuda::BLayout layout, cudaStream_t stream) {
  return cuda::GenerateInt8Matrix(key, matrix, rows, cols, static_cast<int8_t*>(out), layout, stream);
}
Status PrepareInt8(Run& run) {
  return cuda::PrepareGemmInt8(run.int8_plan, run.params.m, run.params.n, run.params.k);
}
// b is B^T (N, K): the K-contiguous layout cuBLASLt's int8 tensor-core kernels need (kernels/gemm_int8.cu).
Status GemmInt8(Run& run, const void* a, const void* b, void* c) {
  const WorkloadParams& p = run.params;
  return cuda::GemmInt8(run.int8_plan, p.m, p.n, p.k, static_cast<const int8_t*>(a), static_cast<const int8_t*>(b),
                        static_cast<int32_t*>(c), run.stream.get());
}
std::string Int8Path(const Run& run) { return run.int8_plan.use_cublaslt ? "cuBLASLt IMMA" : "fallback kernel"; }

Status GenerateFp32(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols, void* out,
                    cuda::BLayout layout, cudaStream_t stream) {
  return cuda::GenerateFp32Matrix(key, matrix, rows, cols, static_cast<float*>(out), layout, stream);
}
Status PrepareNothing(Run&) { return Status::Ok(); }
Status GemmFp32(Run& run, const void* a, const void* b, void* c) {
  const WorkloadParams& p = run.params;
  return cuda::GemmFp32Ordered(p.m, p.n, p.k, static_cast<const float*>(a), static_cast<const float*>(b),
                               static_cast<float*>(c), run.stream.get());
}
std::string Fp32Path(const Run&) { return "ordered-fma kernel"; }

// One entry per WorkloadKind, in kWorkloadKinds order.
constexpr CudaWorkload kCudaWorkloads[] = {
    {WorkloadKind::kInt8, cuda::BLayout::kTransposed, cuda::kInt8GemmWorkspaceBytes, &GenerateInt8, &PrepareInt8,
     &GemmInt8, &Int8Path},
    {WorkloadKind::kFp32Ordered, cuda::BLayout::kRowMajor, 0, &GenerateFp32, &PrepareNothing, &GemmFp32, &Fp32Path},
};

constexpr bool CoversEveryKind() {
  if (std::size(kCudaWorkloads) != kWorkloadKinds.size()) return false;
  for (size_t i = 0; i < kWorkloadKinds.size(); ++i) {
    if (kCudaWorkloads[i].kind != kWorkloadKinds[i]) return false;
  }
  return true;
}
static_assert(CoversEveryKind(), "kCudaWorkloads needs exactly one entry per WorkloadKind, in kWorkloadKinds order");

const CudaWorkload* FindCudaWorkload(WorkloadKind kind) {
  for (const CudaWorkload& w : kCudaWorkloads) {
    if (w.kind == kind) return &w;
  }
  return nullptr;
}

// ---- the stages ----

std::string ByteCount(uint64_t b) { return std::to_string(b) + " bytes (" + std::to_string(b >> 20) + " MiB)"; }

std::string CudaError(cudaError_t err) { return std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err); }

// Makes ordinal the calling thread's current device, before anything that allocates, launches or copies.
Status UseDevice(int ordinal) {
  return CudaCheck(cudaSetDevice(ordinal), "cudaSetDevice(" + std::to_string(ordinal) + ")");
}

// How many GPUs are visible; kUnavailable with the reason when none is.
Result<int> VisibleDevices() {
  int count = 0;
  if (const cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess) {
    (void)cudaGetLastError();
    return Status::Unavailable("no usable CUDA device: cudaGetDeviceCount says " + CudaError(err));
  }
  if (count == 0) return Status::Unavailable("no CUDA device: cudaGetDeviceCount found none");
  return count;
}

// ordinal names a visible GPU: kInvalidArgument naming the ordinals there are otherwise.
Status CheckOrdinal(int ordinal) {
  VCP_ASSIGN_OR_RETURN(int count, VisibleDevices());
  if (ordinal >= 0 && ordinal < count) return Status::Ok();
  return Status::InvalidArgument("CUDA device " + std::to_string(ordinal) + " requested; " + std::to_string(count) +
                                 " visible (ordinals 0 to " + std::to_string(count - 1) + ")");
}

Result<int> Attribute(cudaDeviceAttr attr, const char* what, int ordinal) {
  int value = 0;
  if (const cudaError_t err = cudaDeviceGetAttribute(&value, attr, ordinal); err != cudaSuccess) {
    (void)cudaGetLastError();
    return Status::Unavailable("GPU " + std::to_string(ordinal) + ": cudaDeviceGetAttribute(" + what + ") says " +
                               CudaError(err));
  }
  return value;
}

// Everything the record's device evidence carries, read from the runtime (the ordinal is valid).
Result<DeviceInfo> DescribeDevice(int ordinal) {
  cudaDeviceProp prop{};
  if (const cudaError_t err = cudaGetDeviceProperties(&prop, ordinal); err != cudaSuccess) {
    (void)cudaGetLastError();
    return Status::Unavailable("no usable CUDA device: cudaGetDeviceProperties(" + std::to_string(ordinal) +
                               ") says " + CudaError(err));
  }
  int driver = 0, runtime = 0;
  if (const cudaError_t err = cudaDriverGetVersion(&driver); err != cudaSuccess) {
    (void)cudaGetLastError();
    return Status::Unavailable("no usable CUDA driver: cudaDriverGetVersion says " + CudaError(err));
  }
  if (const cudaError_t err = cudaRuntimeGetVersion(&runtime); err != cudaSuccess) {
    (void)cudaGetLastError();
    return Status::Unavailable("cudaRuntimeGetVersion says " + CudaError(err));
  }
  DeviceInfo info;
  info.backend = "cuda";
  info.name = prop.name;
  info.ordinal = ordinal;
  info.compute_units = prop.multiProcessorCount;
  static_assert(sizeof prop.uuid.bytes == std::tuple_size_v<decltype(info.uuid)>, "a CUDA UUID is 16 bytes");
  std::memcpy(info.uuid.data(), prop.uuid.bytes, info.uuid.size());
  // The PCI address as nvidia-smi and lspci write it; CUDA reports no function number (a GPU is function 0).
  char pci[32];
  std::snprintf(pci, sizeof pci, "%04x:%02x:%02x.0", static_cast<unsigned>(prop.pciDomainID) & 0xffffu,
                static_cast<unsigned>(prop.pciBusID) & 0xffu, static_cast<unsigned>(prop.pciDeviceID) & 0xffu);
  info.pci_bus_id = pci;
  info.memory_bytes = prop.totalGlobalMem;
  // The clocks through the attribute API: cudaDeviceProp's clockRate fields are gone in CUDA 13.
  VCP_ASSIGN_OR_RETURN(int clock_khz, Attribute(cudaDevAttrClockRate, "cudaDevAttrClockRate", ordinal));
  VCP_ASSIGN_OR_RETURN(int memory_khz, Attribute(cudaDevAttrMemoryClockRate, "cudaDevAttrMemoryClockRate", ordinal));
  info.max_clock_khz = static_cast<uint32_t>(std::max(clock_khz, 0));
  info.max_memory_clock_khz = static_cast<uint32_t>(std::max(memory_khz, 0));
  info.compute_capability_major = prop.major;
  info.compute_capability_minor = prop.minor;
  info.driver_version_number = driver;
  info.runtime_version_number = runtime;
  info.driver_version = CudaVersionString(driver);
  info.runtime_version = CudaVersionString(runtime);
  return info;
}

Result<std::vector<DeviceInfo>> ListDevices() {
  VCP_ASSIGN_OR_RETURN(int count, VisibleDevices());
  std::vector<DeviceInfo> devices;
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    VCP_ASSIGN_OR_RETURN(DeviceInfo info, DescribeDevice(ordinal));
    devices.push_back(std::move(info));
  }
  return devices;
}

Result<DeviceInfo> Probe(int ordinal) {
  VCP_RETURN_IF_ERROR(CheckOrdinal(ordinal));
  VCP_ASSIGN_OR_RETURN(DeviceInfo info, DescribeDevice(ordinal));
  if (info.compute_capability_major < 8) {
    return Status::Unavailable("GPU " + std::to_string(ordinal) + " (" + info.name + ") has compute capability " +
                               std::to_string(info.compute_capability_major) + "." +
                               std::to_string(info.compute_capability_minor) +
                               "; vcp's CUDA kernels need 8.0 (Ampere) or newer");
  }
  return info;
}

Status Supports(const WorkloadParams& params, const DeviceInfo&) {
  if (FindCudaWorkload(params.kind) != nullptr) return Status::Ok();
  std::string allowed;
  for (const CudaWorkload& w : kCudaWorkloads) allowed += (allowed.empty() ? "" : ", ") + std::string(WorkloadName(w.kind));
  return Status::Unavailable("the CUDA backend has no kernels for workload " + std::string(WorkloadName(params.kind)) +
                             "; it runs " + allowed + " (use --backend cpu)");
}

// Refuses a run that cannot fit before allocating anything, naming every buffer.
Status CheckDeviceMemory(const Run& run) {
  size_t free_bytes = 0, total_bytes = 0;
  VCP_RETURN_IF_ERROR(CudaCheck(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo"));
  const uint64_t a = run.bytes[0], b = run.bytes[1], c = run.bytes[2], tree = run.bytes[3];
  const uint64_t workspace = run.workload->gemm_workspace_bytes;
  const uint64_t need = a + b + c + tree + workspace + kHeadroomBytes;
  const std::string what = "this workload needs " + ByteCount(need) + " of GPU memory (A " + ByteCount(a) +
                           ", B " + ByteCount(b) + ", C " + ByteCount(c) + ", tree " + ByteCount(tree) +
                           ", GEMM workspace " + ByteCount(workspace) + ", headroom " + ByteCount(kHeadroomBytes) +
                           ")";
  if (need > total_bytes) {
    return Status::InvalidArgument(what + " but GPU " + std::to_string(run.device) + " has " + ByteCount(total_bytes) +
                                   " in all; use smaller M, N, K or --backend cpu");
  }
  if (need > free_bytes) {
    return Status::ResourceExhausted(what + " but GPU " + std::to_string(run.device) + " has only " +
                                     ByteCount(free_bytes) + " free of " +
                                     ByteCount(total_bytes) + "; free GPU memory or use smaller M, N, K");
  }
  return Status::Ok();
}

Result<BackendRun*> OpenRun(const WorkloadParams& p, int, int ordinal) {
  VCP_RETURN_IF_ERROR(CheckOrdinal(ordinal));
  VCP_RETURN_IF_ERROR(UseDevice(ordinal));
  auto run = std::make_unique<Run>();
  run->device = ordinal;
  run->params = p;
  run->workload = FindCudaWorkload(p.kind);
  if (run->workload == nullptr) return Supports(p, DeviceInfo{});
  run->input_bytes = FindWorkload(p.kind)->input_bytes;
  const InputKey key = DeriveInputKey(p);
  run->key = shared::PhiloxKey{key.k0, key.k1};
  // The tree's shared first block, hashed once here on the host (the midstate every leaf starts from).
  run->spec = cuda::MakeLeafSpec(static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, p.seed.data());
  run->bytes[0] = uint64_t{p.m} * p.k * run->input_bytes;
  run->bytes[1] = uint64_t{p.k} * p.n * run->input_bytes;
  run->bytes[2] = uint64_t{p.m} * p.n * 4;
  run->bytes[3] = LayoutTree(TileGridOf(p).leaf_count()).nodes * 32;
  VCP_RETURN_IF_ERROR(CheckDeviceMemory(*run));
  VCP_ASSIGN_OR_RETURN(run->stream, cuda::CreateStream());
  for (auto& e : run->marks) {
    VCP_ASSIGN_OR_RETURN(e, cuda::CreateEvent());
  }
  VCP_RETURN_IF_ERROR(run->workload->prepare(*run));
  return reinterpret_cast<BackendRun*>(run.release());
}

// Waits for the stream first: the GEMM plan (cuBLASLt handle, workspace) must outlive every enqueued launch. The
// run's device is made current so its stream, events and memory are released there (a failure is ignored: see
// cuda_util.h on release errors).
void CloseRun(BackendRun* r) {
  Run* run = &AsRun(r);
  (void)UseDevice(run->device);
  if (run->stream) (void)cudaStreamSynchronize(run->stream.get());
  delete run;
}

Result<BackendBuffer*> Allocate(BackendRun* r, BufferRole role) {
  VCP_RETURN_IF_ERROR(UseDevice(AsRun(r).device));
  auto buffer = std::make_unique<Buffer>();
  buffer->role = role;
  VCP_ASSIGN_OR_RETURN(buffer->memory, DeviceBuffer::Allocate(AsRun(r).bytes[static_cast<int>(role)],
                                                              BufferRoleName(role)));
  return reinterpret_cast<BackendBuffer*>(buffer.release());
}

void Release(BackendRun* r, BackendBuffer* b) {
  (void)UseDevice(AsRun(r).device);
  delete &AsBuffer(b);
}

Status Generate(BackendRun* r, Matrix which, BackendBuffer* out) {
  Run& run = AsRun(r);
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  const WorkloadParams& p = run.params;
  const bool is_a = which == Matrix::kA;
  return run.workload->generate(run.key, static_cast<uint32_t>(which), is_a ? p.m : p.k, is_a ? p.k : p.n,
                                AsBuffer(out).memory.get(), is_a ? cuda::BLayout::kRowMajor : run.workload->b_layout,
                                run.stream.get());
}

Status Gemm(BackendRun* r, const BackendBuffer* a, const BackendBuffer* b, BackendBuffer* c) {
  Run& run = AsRun(r);
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  return run.workload->gemm(run, AsBuffer(a).memory.get(), AsBuffer(b).memory.get(), AsBuffer(c).memory.get());
}

Status HashLeavesStage(BackendRun* r, const BackendBuffer* c, BackendBuffer* tree) {
  Run& run = AsRun(r);
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  return cuda::HashLeaves(run.spec, AsBuffer(c).memory.as<uint32_t>(), run.params.n, AsBuffer(tree).memory.as<uint8_t>(),
                          run.stream.get());
}

Status BuildLevels(BackendRun* r, BackendBuffer* tree, const TreeLayout& layout) {
  Run& run = AsRun(r);
  if (layout.nodes * 32 > AsBuffer(tree).memory.bytes()) {
    return Status::InvalidArgument("the tree layout has " + std::to_string(layout.nodes) +
                                   " nodes, more than the tree buffer holds");
  }
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  return cuda::BuildMerkleLevels(AsBuffer(tree).memory.as<uint8_t>(), layout.offsets, layout.sizes, run.stream.get());
}

// Own stream and buffers per call, so several threads may open the same commitment at once.
Status GatherNodes(BackendRun* r, const BackendBuffer* tree, std::span<const uint64_t> nodes, std::span<Hash32> out) {
  static_assert(sizeof(Hash32) == 32, "device digests are copied straight into Hash32 arrays");
  if (nodes.size() != out.size()) return Status::InvalidArgument("gather: positions and output differ in size");
  if (nodes.empty()) return Status::Ok();
  const uint64_t tree_nodes = AsBuffer(tree).memory.bytes() / 32;
  for (uint64_t n : nodes) {
    if (n >= tree_nodes) {
      return Status::InvalidArgument("gather: node " + std::to_string(n) + " is beyond the tree's " +
                                     std::to_string(tree_nodes) + " nodes");
    }
  }
  VCP_RETURN_IF_ERROR(UseDevice(AsRun(r).device));
  VCP_ASSIGN_OR_RETURN(cuda::StreamOwner stream, cuda::CreateStream());
  VCP_ASSIGN_OR_RETURN(DeviceBuffer d_positions, DeviceBuffer::Allocate(nodes.size() * 8, "proof node positions"));
  VCP_ASSIGN_OR_RETURN(DeviceBuffer d_hashes, DeviceBuffer::Allocate(nodes.size() * 32, "proof nodes"));
  VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(d_positions.get(), nodes.data(), nodes.size() * 8,
                                                cudaMemcpyHostToDevice, stream.get()),
                                "copying proof node positions to the device"));
  VCP_RETURN_IF_ERROR(cuda::GatherNodes(AsBuffer(tree).memory.as<uint8_t>(), d_positions.as<uint64_t>(), nodes.size(),
                                        d_hashes.as<uint8_t>(), stream.get()));
  VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(out.data(), d_hashes.get(), nodes.size() * 32, cudaMemcpyDeviceToHost,
                                                stream.get()),
                                "copying proof nodes to the host"));
  return CudaCheck(cudaStreamSynchronize(stream.get()), "gathering proof nodes on the device");
}

Status Mark(BackendRun* r, RunMark mark) {
  Run& run = AsRun(r);
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  return CudaCheck(cudaEventRecord(run.marks[static_cast<int>(mark)].get(), run.stream.get()), "cudaEventRecord");
}

Status Finish(BackendRun* r) {
  VCP_RETURN_IF_ERROR(UseDevice(AsRun(r).device));
  return CudaCheck(cudaStreamSynchronize(AsRun(r).stream.get()), "running the workload on the device");
}

Result<double> SecondsBetween(BackendRun* r, RunMark from, RunMark to) {
  Run& run = AsRun(r);
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  return cuda::ElapsedSeconds(run.marks[static_cast<int>(from)], run.marks[static_cast<int>(to)]);
}

// Copies go through the run's stream and wait for it: ordered after every stage enqueued before them.
Status Upload(BackendRun* r, BackendBuffer* dst, uint64_t offset, std::span<const uint8_t> src) {
  Run& run = AsRun(r);
  DeviceBuffer& to = AsBuffer(dst).memory;
  VCP_RETURN_IF_ERROR(CheckBufferRange("upload", offset, src.size(), to.bytes()));
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(to.as<uint8_t>() + offset, src.data(), src.size(),
                                                cudaMemcpyHostToDevice, run.stream.get()),
                                "copying to the device"));
  return CudaCheck(cudaStreamSynchronize(run.stream.get()), "copying to the device");
}

Status Download(BackendRun* r, const BackendBuffer* src, uint64_t offset, std::span<uint8_t> dst) {
  Run& run = AsRun(r);
  const DeviceBuffer& from = AsBuffer(src).memory;
  VCP_RETURN_IF_ERROR(CheckBufferRange("download", offset, dst.size(), from.bytes()));
  VCP_RETURN_IF_ERROR(UseDevice(run.device));
  VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(dst.data(), from.as<uint8_t>() + offset, dst.size(),
                                                cudaMemcpyDeviceToHost, run.stream.get()),
                                "copying to the host"));
  return CudaCheck(cudaStreamSynchronize(run.stream.get()), "copying to the host");
}

// A is row-major; B is transposed back on the host when the workload stores B^T.
Status DownloadInput(BackendRun* r, Matrix which, const BackendBuffer* in, std::span<uint8_t> dst) {
  Run& run = AsRun(r);
  if (which == Matrix::kA || run.workload->b_layout == cuda::BLayout::kRowMajor) return Download(r, in, 0, dst);
  std::vector<uint8_t> bt(dst.size());  // B^T, (N, K) row-major
  VCP_RETURN_IF_ERROR(Download(r, in, 0, bt));
  const uint64_t k = run.params.k, n = run.params.n, e = run.input_bytes;
  if (dst.size() != k * n * e) return Status::InvalidArgument("download_input: B needs " + std::to_string(k * n * e) + " bytes");
  for (uint64_t row = 0; row < k; ++row) {
    for (uint64_t col = 0; col < n; ++col) std::memcpy(&dst[(row * n + col) * e], &bt[(col * k + row) * e], e);
  }
  return Status::Ok();
}

std::string GemmPath(const BackendRun* r) {
  const Run& run = AsRun(r);
  return run.workload->gemm_path(run);
}

void* RawPointer(BackendBuffer* b) { return AsBuffer(b).memory.get(); }

constexpr BackendStages kStages{
    kBackendInterfaceVersion, "cuda", &ListDevices, &Probe, &Supports, &OpenRun, &CloseRun, &Allocate, &Release, &Generate,
    &Gemm, &HashLeavesStage, &BuildLevels, &GatherNodes, &Mark, &Finish, &SecondsBetween, &Upload, &Download,
    &DownloadInput, &GemmPath, &RawPointer};

}  // namespace

}  // namespace vcp

// The plugin's one exported symbol (lib/backend_loader.cpp). Its table's first member is the interface version.
extern "C" __attribute__((visibility("default"))) const vcp::BackendStages* vcp_cuda_backend_stages() {
  return &vcp::kStages;
}
