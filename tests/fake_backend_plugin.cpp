// A stand-in plugin for tests/backend_stages_test.cpp: it exports the CUDA plugin's entry point, but its table
// claims an interface version this vcp does not implement, which the loader must refuse before reading anything
// else in the table (so every other member is left null).
#include "backend.h"

namespace {
constexpr vcp::BackendStages kStages{vcp::kBackendInterfaceVersion + 100, "fake"};
}  // namespace

extern "C" __attribute__((visibility("default"))) const vcp::BackendStages* vcp_cuda_backend_stages() {
  return &kStages;
}
