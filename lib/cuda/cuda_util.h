// CUDA error handling and RAII owners for the CUDA backend, its kernels' launchers, the GPU tests and the GPU
// benchmarks. Every CUDA call whose result matters goes through CudaCheck, so a failure becomes a Status that
// names the call and carries CUDA's own error text; nothing here exits or throws.
//
// Ownership: each owner releases its resource in its destructor and is move-only. Release errors are ignored on
// purpose: a destructor cannot report them, and after a sticky device error every later call fails anyway (the
// caller has already received that error as a Status).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "vcp/status.h"

namespace vcp::cuda {

// Internal("<what>: <cudaErrorName>: <cuda error string>"), or OK.
// A failing runtime call also latches its error in the thread's last-error slot; once it is reported here that
// slot is cleared, or the next LaunchCheck would blame an innocent launch for it (e.g. a run after a refused
// cudaMalloc). A sticky error (a fault inside a kernel) survives the clearing: every later call still reports it.
inline Status CudaCheck(cudaError_t err, std::string_view what) {
  if (err == cudaSuccess) return Status::Ok();
  (void)cudaGetLastError();
  return Status::Internal(std::string(what) + ": " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

inline Status CublasCheck(cublasStatus_t st, std::string_view what) {
  if (st == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + cublasLtGetStatusName(st) + ": " + cublasLtGetStatusString(st));
}

// After a <<<...>>> launch: reports a bad configuration at once (asynchronous faults surface at the next sync).
inline Status LaunchCheck(std::string_view kernel) {
  return CudaCheck(cudaGetLastError(), std::string("launching ") + std::string(kernel));
}

// Unique owner of a CUDA or cuBLASLt handle released by a C-style destroy function.
template <typename Handle, auto Destroy>
class CudaOwner {
 public:
  CudaOwner() = default;
  explicit CudaOwner(Handle h) : handle_(h) {}
  ~CudaOwner() { Reset(); }
  CudaOwner(CudaOwner&& other) noexcept : handle_(std::exchange(other.handle_, Handle{})) {}
  CudaOwner& operator=(CudaOwner&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, Handle{});
    }
    return *this;
  }
  CudaOwner(const CudaOwner&) = delete;
  CudaOwner& operator=(const CudaOwner&) = delete;
  Handle get() const { return handle_; }
  explicit operator bool() const { return handle_ != Handle{}; }
  void Reset() {
    if (handle_ != Handle{}) (void)Destroy(handle_);
    handle_ = Handle{};
  }

 private:
  Handle handle_{};
};

using StreamOwner = CudaOwner<cudaStream_t, cudaStreamDestroy>;
using EventOwner = CudaOwner<cudaEvent_t, cudaEventDestroy>;
using LtHandleOwner = CudaOwner<cublasLtHandle_t, cublasLtDestroy>;
using LtMatmulDescOwner = CudaOwner<cublasLtMatmulDesc_t, cublasLtMatmulDescDestroy>;
using LtLayoutOwner = CudaOwner<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy>;
using LtPreferenceOwner = CudaOwner<cublasLtMatmulPreference_t, cublasLtMatmulPreferenceDestroy>;

// A non-blocking stream: it never synchronises with the legacy default stream.
inline Result<StreamOwner> CreateStream() {
  cudaStream_t s = nullptr;
  VCP_RETURN_IF_ERROR(CudaCheck(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"));
  return StreamOwner(s);
}

inline Result<EventOwner> CreateEvent() {
  cudaEvent_t e = nullptr;
  VCP_RETURN_IF_ERROR(CudaCheck(cudaEventCreate(&e), "cudaEventCreate"));
  return EventOwner(e);
}

inline Result<LtHandleOwner> CreateLtHandle() {
  cublasLtHandle_t h = nullptr;
  VCP_RETURN_IF_ERROR(CublasCheck(cublasLtCreate(&h), "cublasLtCreate"));
  return LtHandleOwner(h);
}

// Seconds between two recorded events (both must have completed).
inline Result<double> ElapsedSeconds(const EventOwner& start, const EventOwner& end) {
  float ms = 0;
  VCP_RETURN_IF_ERROR(CudaCheck(cudaEventElapsedTime(&ms, start.get(), end.get()), "cudaEventElapsedTime"));
  return double(ms) * 1e-3;
}

// Device memory from cudaMalloc (256-byte aligned, which every vectorised kernel load relies on).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // `what` names the buffer in the error message ("C (4096 x 4096 int32)").
  static Result<DeviceBuffer> Allocate(size_t bytes, std::string_view what) {
    DeviceBuffer buf;
    if (bytes == 0) return Result<DeviceBuffer>(std::move(buf));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaMalloc(&buf.ptr_, bytes),
                                  "cudaMalloc of " + std::to_string(bytes) + " bytes for " + std::string(what)));
    buf.bytes_ = bytes;
    return Result<DeviceBuffer>(std::move(buf));
  }
  ~DeviceBuffer() {
    if (ptr_ != nullptr) (void)cudaFree(ptr_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      if (ptr_ != nullptr) (void)cudaFree(ptr_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace vcp::cuda
