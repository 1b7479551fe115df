// The one internal backend interface: the CPU engine (lib/backend_cpu.cpp) and the CUDA backend (lib/cuda/)
// each provide a Probe and a Run; engine.cpp selects between them (ggml-backend's pattern, without the vtable
// machinery).
#pragma once

#include <memory>

#include "vcp/engine.h"

namespace vcp {

struct Backend {
  const char* name;
  // OK with the device description when usable here; kUnavailable with the reason otherwise.
  Result<DeviceInfo> (*probe)();
  // Generate, compute and commit. params is validated.
  Result<std::unique_ptr<Commitment>> (*run)(const WorkloadParams& params, const RunOptions& options,
                                             const DeviceInfo& device);
};

const Backend& CpuBackend();
// Present in every build; without nvcc its probe reports that the library was built without CUDA.
const Backend& CudaBackend();

}  // namespace vcp
