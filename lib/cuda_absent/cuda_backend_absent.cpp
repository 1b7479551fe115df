// CudaBackend() for builds without nvcc: present so that backend selection, the CLI and the GPU tests compile and
// behave the same everywhere, and always unavailable with the reason.
#include "backend.h"

namespace vcp {

namespace {

constexpr const char* kNoCuda = "this vcp was built without CUDA (nvcc not found at configure time)";

Result<DeviceInfo> ProbeAbsent() { return Status::Unavailable(kNoCuda); }

Result<std::unique_ptr<Commitment>> RunAbsent(const WorkloadParams&, const RunOptions&, const DeviceInfo&) {
  return Status::Unavailable(kNoCuda);
}

}  // namespace

const Backend& CudaBackend() {
  static const Backend backend{"cuda", &ProbeAbsent, &RunAbsent};
  return backend;
}

}  // namespace vcp
