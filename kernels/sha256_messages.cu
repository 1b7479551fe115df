// SHA-256 of arbitrary byte messages on the device, one thread per message, with shared::Sha256Stream: the test
// hook that checks the device's SHA-256 (the code path of lib/shared/sha256_portable.h as nvcc compiles it)
// against OpenSSL on every length class, including lengths that are not whole words. Not used by the backend.
#include "cuda/kernels.h"

namespace vcp::cuda {

namespace {

constexpr unsigned kThreads = 64;

// data: the messages' bytes. offsets, lengths: (count). digests: (count, 32) bytes.
__global__ void __launch_bounds__(kThreads) Sha256MessagesKernel(const uint8_t* __restrict__ data,
                                                                 const uint64_t* __restrict__ offsets,
                                                                 const uint64_t* __restrict__ lengths, uint64_t count,
                                                                 uint8_t* __restrict__ digests) {
  const uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  shared::Sha256Stream stream;
  stream.Init();
  stream.Update(data + offsets[i], lengths[i]);
  stream.Final(digests + 32 * i);
}

}  // namespace

Status Sha256Messages(const uint8_t* data, const uint64_t* offsets, const uint64_t* lengths, uint64_t count,
                      uint8_t* digests, cudaStream_t stream) {
  if (count == 0) return Status::Ok();
  const uint64_t grid = (count + kThreads - 1) / kThreads;
  if (grid > 0x7fffffffu) return Status::InvalidArgument("SHA-256 of messages: too many messages for one launch");
  Sha256MessagesKernel<<<static_cast<unsigned>(grid), kThreads, 0, stream>>>(data, offsets, lengths, count, digests);
  return LaunchCheck("SHA-256 messages kernel");
}

}  // namespace vcp::cuda
