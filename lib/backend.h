// The one internal backend interface: a table of stage functions behind opaque handles (ggml-backend's pattern).
// The CPU engine (lib/backend_cpu.cpp) and the CUDA plugin (lib/cuda/cuda_backend.cpp, loaded at run time by
// lib/backend_loader.cpp) each fill one table; the pipeline that strings the stages together is written once,
// in lib/pipeline.cpp:
//
//   list_devices() / probe(ordinal)        the devices there are, with their evidence; the one a run will use
//   supports(params)                       refuse before anything is allocated (CUTLASS's can_implement)
//   open_run(params, ordinal)              per-run state on one device; checks that A, B, C and the tree fit
//   generate(A), generate(B)               A (M, K), B (K, N) from the seed, in the backend's own layout
//   gemm(A, B) -> C                        C (M, N) row-major, 4-byte elements
//   hash_leaves(C) -> tree level 0         one 32-byte digest per tile, in leaf order
//   build_levels(tree)                     levels 1.. in the same buffer (TreeLayout); the last holds the root
//   gather_nodes(tree, positions)          the nodes a multiproof needs (Commitment::Open)
//
// Buffers and runs are opaque: only the backend that made them reads them. upload / download / download_input
// move bytes in the spec's layout, so tests can feed one stage the CPU's output of the stage before and compare.
//
// Ownership: open_run's BackendRun is released with close_run, allocate's BackendBuffer with release (all of a
// run's buffers before the run). Thread safety: one thread drives a run's stages; gather_nodes and download may
// be called from several threads at once on a finished run (Commitment::Open is); runs are independent, so
// several threads may drive runs on the same or different devices at once. A device backend makes the run's
// device current in the calling thread in every call that takes the run (CUDA: cudaSetDevice), so a run
// opened in one thread may be used, opened from and closed in another. Errors: Status, nothing throws.
//
// The table crosses a shared-library boundary (the CUDA plugin), so it is C++ built by the same compiler in the
// same build; interface_version is its first member forever, and the loader refuses a table of another version
// before reading anything else. Change kBackendInterfaceVersion with every change to this file's declarations.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/engine.h"

namespace vcp {

// 2: probe takes a device ordinal, list_devices, open_run takes the ordinal, DeviceInfo carries evidence.
inline constexpr uint32_t kBackendInterfaceVersion = 2;

struct BackendRun;     // defined by each backend
struct BackendBuffer;  // defined by each backend

// The buffers of a run; the backend sizes each from the run's workload.
enum class BufferRole {
  kA,     // A (M, K): input_bytes per element
  kB,     // B (K, N), stored as the backend likes (CUDA keeps int8 B transposed)
  kC,     // C (M, N) row-major, 4 bytes per element
  kTree,  // every level of the Merkle tree back to back, 32 bytes per node (TreeLayout)
};
const char* BufferRoleName(BufferRole role);

// The tree as levels in one buffer: level h holds sizes[h] nodes starting at node offsets[h].
struct TreeLayout {
  std::vector<uint64_t> sizes, offsets;
  uint64_t nodes = 0;
};
TreeLayout LayoutTree(uint64_t leaf_count);

// Timestamps a run records between stages; seconds_between reads them once the run has finished.
enum class RunMark : int { kStart = 0, kGenerated = 1, kMultiplied = 2, kCommitted = 3 };
inline constexpr int kRunMarks = 4;

struct BackendStages {
  uint32_t interface_version;  // kBackendInterfaceVersion of the build that made this table; always first
  const char* name;            // "cpu" or "cuda", as DeviceInfo::backend

  // Every device this backend sees, index = ordinal, with the evidence filled (also devices it cannot run on);
  // kUnavailable with the reason when there is none. Cheap and side-effect free when the device is absent.
  Result<std::vector<DeviceInfo>> (*list_devices)();
  // The device `ordinal` when a run can use it: kUnavailable with the reason when there is no usable device,
  // kInvalidArgument naming the visible ordinals when ordinal is out of range. The CPU ignores ordinal.
  Result<DeviceInfo> (*probe)(int ordinal);
  // Whether this backend can run params (validated) on device, before anything is allocated: InvalidArgument
  // or Unavailable saying what is not supported and what is.
  Status (*supports)(const WorkloadParams& params, const DeviceInfo& device);

  // Per-run state for params (validated and supported) on device `ordinal` (ignored by the CPU); threads: CPU
  // threads (0 = all), ignored by devices. Refuses (ResourceExhausted / InvalidArgument, with every buffer's
  // size) a run that cannot fit, and an ordinal out of range as probe does.
  Result<BackendRun*> (*open_run)(const WorkloadParams& params, int threads, int ordinal);
  void (*close_run)(BackendRun* run);
  Result<BackendBuffer*> (*allocate)(BackendRun* run, BufferRole role);
  void (*release)(BackendRun* run, BackendBuffer* buffer);

  // The stages. They may run asynchronously: errors inside a device kernel surface at finish().
  Status (*generate)(BackendRun* run, Matrix which, BackendBuffer* out);
  Status (*gemm)(BackendRun* run, const BackendBuffer* a, const BackendBuffer* b, BackendBuffer* c);
  Status (*hash_leaves)(BackendRun* run, const BackendBuffer* c, BackendBuffer* tree);
  Status (*build_levels)(BackendRun* run, BackendBuffer* tree, const TreeLayout& layout);
  // out[i] = node nodes[i] of tree (node numbers as TreeLayout counts them). Synchronous.
  Status (*gather_nodes)(BackendRun* run, const BackendBuffer* tree, std::span<const uint64_t> nodes,
                         std::span<Hash32> out);

  // Records mark; waits for everything enqueued; seconds from one mark to another (after finish).
  Status (*mark)(BackendRun* run, RunMark mark);
  Status (*finish)(BackendRun* run);
  Result<double> (*seconds_between)(BackendRun* run, RunMark from, RunMark to);

  // Synchronous copies at a byte offset: C and the tree are in the spec's layout (C row-major, 4-byte elements;
  // tree per TreeLayout). download_input gives a generated A or B in the spec's row-major layout whatever the
  // backend stores.
  Status (*upload)(BackendRun* run, BackendBuffer* dst, uint64_t offset, std::span<const uint8_t> src);
  Status (*download)(BackendRun* run, const BackendBuffer* src, uint64_t offset, std::span<uint8_t> dst);
  Status (*download_input)(BackendRun* run, Matrix which, const BackendBuffer* in, std::span<uint8_t> dst);

  // Which GEMM implementation the run uses ("cuBLASLt IMMA", "fallback kernel", "avx512vnni", ...): benchmarks
  // label their results with it, tests check that both int8 paths are exercised.
  std::string (*gemm_path)(const BackendRun* run);
  // The buffer's address in the backend's own address space (a device pointer for CUDA), for benchmarks that
  // run a vendor baseline (cuBLAS SGEMM) on the very same buffers. Never dereferenced by the engine.
  void* (*raw_pointer)(BackendBuffer* buffer);
};

const BackendStages& CpuBackend();

// The CUDA plugin's table, loaded on first use (lib/backend_loader.cpp), or kUnavailable with the reason: "this
// vcp was built without CUDA ...", "no NVIDIA driver (libcuda.so.1 not found)", "the CUDA plugin was not found
// (...)", a plugin of another interface version. A returned table still has to be probed (the driver and plugin
// are here; a usable GPU may not be). Thread-safe; the plugin stays loaded for the life of the process.
Result<const BackendStages*> CudaBackend();

// Loads the plugin at path (dlopen), calls its entry point vcp_cuda_backend_stages and checks the table's
// interface version; kUnavailable naming the file and both versions otherwise. CudaBackend() uses it; tests call
// it on plugins of their own.
Result<const BackendStages*> LoadBackendPlugin(const std::string& path);

// The loaded table by name ("cpu" or "cuda"), for tests and benchmarks that drive stages.
Result<const BackendStages*> FindBackend(std::string_view name);

// DeviceInfo's version strings from CUDA's version integers (1000 x major + 10 x minor): 12040 -> "12.4"; 0 -> "".
inline std::string CudaVersionString(int version) {
  if (version <= 0) return {};
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

// The check behind every backend's Upload and Download: `count` bytes at `offset` lie inside a buffer of `size`.
inline Status CheckBufferRange(const char* what, uint64_t offset, uint64_t count, uint64_t size) {
  if (offset > size || count > size - offset) {
    return Status::InvalidArgument(std::string(what) + " of " + std::to_string(count) + " bytes at offset " +
                                   std::to_string(offset) + " is outside the buffer of " + std::to_string(size) +
                                   " bytes");
  }
  return Status::Ok();
}

}  // namespace vcp
