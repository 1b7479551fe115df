// vcp/engine.h: run a workload on a backend (CPU engine or CUDA), commit its output, open tiles, and check
// openings on the CPU from the seed alone; list the devices a backend can see, with their evidence.
//
// Ownership: RunWorkload returns a Commitment that owns the committed tree (host memory for the CPU backend,
// device memory for CUDA, on the GPU that ran it) until it is destroyed; DeviceInfo and ListDevices' vector are
// plain values. Thread safety: a Commitment may be opened and destroyed from any thread, from several at once;
// RunWorkload, SelectBackend and ListDevices may be called concurrently (each run owns its buffers and, on CUDA,
// its stream on its own GPU), so D threads with RunOptions::device = 0..D-1 run D GPUs at the same time. A CUDA
// run or Commitment call makes its GPU the calling thread's current CUDA device (cudaSetDevice) and leaves it so.
// Errors: Status / Result; an unusable backend is kUnavailable with the reason, an impossible shape or a device
// ordinal outside the visible GPUs kInvalidArgument (naming the ordinals allowed), a device failure kInternal
// with the CUDA error text. Nothing throws and nothing exits.
//
// The CUDA backend is a plugin, libvcp_cuda.so, loaded on first use (next to the executable's ../lib/, or
// $VCP_CUDA_PLUGIN); libvcp itself links no CUDA library. Without the plugin, the NVIDIA driver or a usable GPU,
// kAuto runs on the CPU and DeviceInfo::selection_note says why (docs/CUDA.md lists the reasons).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/hash.h"
#include "vcp/merkle.h"
#include "vcp/status.h"
#include "vcp/workload.h"
#include "vcp/export.h"

namespace vcp {

enum class BackendChoice { kAuto, kCpu, kCuda };
VCP_EXPORT std::string_view BackendChoiceName(BackendChoice choice);
VCP_EXPORT Result<BackendChoice> ParseBackendChoice(std::string_view name);  // "auto", "cpu" or "cuda"

struct VCP_EXPORT RunOptions {
  BackendChoice backend = BackendChoice::kAuto;  // VCP_BACKEND=cpu|cuda overrides kAuto
  int threads = 0;                               // CPU threads; 0 = all hardware threads
  int device = 0;  // CUDA device ordinal (CUDA_VISIBLE_DEVICES numbering, the index in ListDevices); the CPU
                   // backend ignores it. Negative is refused everywhere.
};

// What a backend can read about one device: the run's description and the evidence an epoch record carries
// (informative: nothing here is proven; see docs/PROTOCOL.md). Fields a backend cannot read stay 0 / empty.
struct VCP_EXPORT DeviceInfo {
  std::string backend;         // "cpu" or "cuda"
  std::string name;            // CPU model (from /proc/cpuinfo) or GPU name
  int ordinal = 0;             // CUDA device ordinal (index in ListDevices); 0 for the CPU
  int compute_units = 0;       // CPU: threads a run uses (ListDevices: hardware threads); CUDA: SM count
  std::array<uint8_t, 16> uuid{};    // CUDA: the GPU's UUID (nvidia-smi's GPU-xxxxxxxx-...); CPU: all zero
  std::string pci_bus_id;      // CUDA: "domain:bus:device.function" in hex, "0000:1b:00.0"; CPU: empty
  uint64_t memory_bytes = 0;   // CUDA: global memory; CPU: 0
  uint32_t max_clock_khz = 0;         // CUDA: maximum SM clock, kHz
  uint32_t max_memory_clock_khz = 0;  // CUDA: maximum memory clock, kHz
  int compute_capability_major = 0, compute_capability_minor = 0;  // CUDA: 9.0 for Hopper
  int driver_version_number = 0;   // CUDA's integer: 12040 = 12.4 (cudaDriverGetVersion); CPU: 0
  int runtime_version_number = 0;  // the CUDA runtime the plugin runs with (cudaRuntimeGetVersion); CPU: 0
  std::string driver_version;      // "12.4", formatted from driver_version_number; empty for the CPU
  std::string runtime_version;     // formatted from runtime_version_number; empty for the CPU
  std::string selection_note;  // why this backend was chosen, one line: "CPU engine (auto: no NVIDIA driver
                               // (libcuda.so.1 not found))", "CUDA backend (--backend cuda)", ...; empty in
                               // ListDevices' entries
};

struct VCP_EXPORT RunTimings {
  double generate_seconds = 0, gemm_seconds = 0, commit_seconds = 0, total_seconds = 0;
  // Which GEMM code ran: the CPU engine's instruction-set tier ("portable", "avx2", "avxvnni", "avx512vnni": one
  // choice per process, VCP_CPU_TIER forces one) or the CUDA backend's int8 path.
  std::string gemm_path;
};

class VCP_EXPORT Commitment {
 public:
  virtual ~Commitment() = default;
  virtual const WorkloadParams& params() const = 0;
  virtual const Hash32& root() const = 0;
  virtual uint64_t leaf_count() const = 0;
  virtual const DeviceInfo& device() const = 0;
  virtual const RunTimings& timings() const = 0;
  // Multiproof for strictly increasing leaf indices.
  virtual Result<MultiProof> Open(std::span<const uint64_t> leaf_indices) const = 0;
  // All leaf hashes (copied from the device for CUDA): tests and protocol storage.
  virtual Result<std::vector<Hash32>> LeafHashes() const = 0;
};

// Resolves kAuto / VCP_BACKEND to the backend that will run, with the reason, and describes the device
// options.device names (CUDA) without running anything. With kAuto a GPU ordinal outside the visible GPUs is
// kInvalidArgument, not a silent fall-back to the CPU; with no GPU at all kAuto runs on the CPU.
VCP_EXPORT Result<DeviceInfo> SelectBackend(const RunOptions& options);

// Every device of a backend, for a provider that runs one thread per device and for the record's evidence.
// kCuda: every visible GPU, index = ordinal (also one vcp cannot run on: compute capability below 8.0, which
// RunWorkload refuses), kUnavailable with the reason when there is none (no plugin, no driver, no GPU). kCpu: one
// entry, the host CPU, compute_units = hardware threads. kAuto: the backend SelectBackend resolves to
// (VCP_BACKEND included). Entries have no selection_note.
VCP_EXPORT Result<std::vector<DeviceInfo>> ListDevices(BackendChoice backend);

VCP_EXPORT Result<std::unique_ptr<Commitment>> RunWorkload(const WorkloadParams& params, const RunOptions& options);

// Verifier: recomputes each opened tile on the CPU from the seed, hashes it, and checks the multiproof against
// root. Rejected lists the opened tiles and gives both roots.
[[nodiscard]] VCP_EXPORT Status CheckOpening(const WorkloadParams& params, const Hash32& root,
                                             const MultiProof& proof, int threads = 0);

}  // namespace vcp
