// vcp/engine.h: run a workload on a backend (CPU engine or CUDA), commit its output, open tiles, and check
// openings on the CPU from the seed alone.
//
// Ownership: RunWorkload returns a Commitment that owns the committed tree (host memory for the CPU backend,
// device memory for CUDA) until it is destroyed. Thread safety: a Commitment may be opened from several threads;
// RunWorkload may be called concurrently (each call owns its buffers). Errors: Status / Result; an unusable
// backend is kUnavailable with the reason, an impossible shape kInvalidArgument, a device failure kInternal with
// the CUDA error text. Nothing throws and nothing exits.
//
// The CUDA backend is a plugin, libvcp_cuda.so, loaded on first use (next to the executable's ../lib/, or
// $VCP_CUDA_PLUGIN); libvcp itself links no CUDA library. Without the plugin, the NVIDIA driver or a usable GPU,
// kAuto runs on the CPU and DeviceInfo::selection_note says why (docs/CUDA.md lists the reasons).
#pragma once

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

namespace vcp {

enum class BackendChoice { kAuto, kCpu, kCuda };
std::string_view BackendChoiceName(BackendChoice choice);
Result<BackendChoice> ParseBackendChoice(std::string_view name);  // "auto", "cpu" or "cuda"

struct RunOptions {
  BackendChoice backend = BackendChoice::kAuto;  // VCP_BACKEND=cpu|cuda overrides kAuto
  int threads = 0;                               // CPU threads; 0 = all hardware threads
};

struct DeviceInfo {
  std::string backend;         // "cpu" or "cuda"
  std::string name;            // CPU model or GPU name
  int compute_units = 0;       // threads used, or SM count
  std::string driver_version;  // CUDA only
  std::string runtime_version; // CUDA only
  std::string selection_note;  // why this backend was chosen, one line: "CPU engine (auto: no NVIDIA driver
                               // (libcuda.so.1 not found))", "CUDA backend (--backend cuda)", ...
};

struct RunTimings {
  double generate_seconds = 0, gemm_seconds = 0, commit_seconds = 0, total_seconds = 0;
};

class Commitment {
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

// Resolves kAuto / VCP_BACKEND to the backend that will run, with the reason, without running anything.
Result<DeviceInfo> SelectBackend(const RunOptions& options);

Result<std::unique_ptr<Commitment>> RunWorkload(const WorkloadParams& params, const RunOptions& options);

// Verifier: recomputes each opened tile on the CPU from the seed, hashes it, and checks the multiproof against
// root. Rejected lists the opened tiles and gives both roots.
[[nodiscard]] Status CheckOpening(const WorkloadParams& params, const Hash32& root, const MultiProof& proof,
                                  int threads = 0);

}  // namespace vcp
