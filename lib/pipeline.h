// The pipeline, written once for every backend: generate A and B, C = A B, hash the leaves, build the levels,
// copy the root; then Open gathers a multiproof's nodes and LeafHashes copies level 0 (lib/backend.h has the
// stages). Also the owners of a run and its buffers, which tests and benchmarks use to drive single stages.
//
// Ownership: StageRun owns a backend run, StageBuffer one buffer of it; a StageBuffer must be destroyed before the
// StageRun it came from (declare it after). Both are move-only. Thread safety: as lib/backend.h.
#pragma once

#include <memory>

#include "backend.h"

namespace vcp {

class StageRun;

class StageBuffer {
 public:
  StageBuffer() = default;
  ~StageBuffer() { Reset(); }
  StageBuffer(StageBuffer&& other) noexcept;
  StageBuffer& operator=(StageBuffer&& other) noexcept;
  StageBuffer(const StageBuffer&) = delete;
  StageBuffer& operator=(const StageBuffer&) = delete;
  BackendBuffer* get() const { return buffer_; }
  void Reset();

 private:
  friend class StageRun;
  StageBuffer(const BackendStages* stages, BackendRun* run, BackendBuffer* buffer)
      : stages_(stages), run_(run), buffer_(buffer) {}
  const BackendStages* stages_ = nullptr;
  BackendRun* run_ = nullptr;
  BackendBuffer* buffer_ = nullptr;
};

class StageRun {
 public:
  // supports() and open_run() of stages for params (validated here), on device.ordinal (what probe returned).
  static Result<StageRun> Open(const BackendStages& stages, const WorkloadParams& params, const DeviceInfo& device,
                               int threads);
  StageRun() = default;
  ~StageRun();
  StageRun(StageRun&& other) noexcept;
  StageRun& operator=(StageRun&& other) noexcept;
  StageRun(const StageRun&) = delete;
  StageRun& operator=(const StageRun&) = delete;

  Result<StageBuffer> Allocate(BufferRole role) const;
  const BackendStages& stages() const { return *stages_; }
  BackendRun* get() const { return run_; }
  const WorkloadParams& params() const { return params_; }

 private:
  const BackendStages* stages_ = nullptr;
  BackendRun* run_ = nullptr;
  WorkloadParams params_;
};

// Generate, compute and commit params (validated) on stages, on device.ordinal; device is what probe returned
// (with the selection note), kept in the Commitment. The run's A, B and C are released before this returns; the tree stays with the
// backend until the Commitment is destroyed.
Result<std::unique_ptr<Commitment>> RunPipeline(const BackendStages& stages, const WorkloadParams& params,
                                                const DeviceInfo& device, int threads);

}  // namespace vcp
