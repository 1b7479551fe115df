// Collects the tree nodes a multiproof needs into one small buffer, so Commitment::Open copies a few hundred
// bytes to the host in one transfer instead of one transfer per node (or the whole tree).
#include "cuda/kernels.h"

namespace vcp::cuda {

namespace {

constexpr unsigned kThreads = 128;

// nodes: the tree buffer, 32 bytes per node. positions: (count). out: (count, 32) bytes.
__global__ void __launch_bounds__(kThreads) GatherKernel(const uint8_t* __restrict__ nodes,
                                                         const uint64_t* __restrict__ positions, uint64_t count,
                                                         uint8_t* __restrict__ out) {
  const uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const uint4* src = reinterpret_cast<const uint4*>(nodes + 32 * positions[i]);
  uint4* dst = reinterpret_cast<uint4*>(out + 32 * i);
  dst[0] = src[0];
  dst[1] = src[1];
}

}  // namespace

Status GatherNodes(const uint8_t* nodes, const uint64_t* positions, uint64_t count, uint8_t* out,
                   cudaStream_t stream) {
  if (count == 0) return Status::Ok();
  const uint64_t grid = (count + kThreads - 1) / kThreads;
  if (grid > 0x7fffffffu) return Status::InvalidArgument("node gather: too many nodes for one launch");
  GatherKernel<<<static_cast<unsigned>(grid), kThreads, 0, stream>>>(nodes, positions, count, out);
  return LaunchCheck("node gather kernel");
}

}  // namespace vcp::cuda
