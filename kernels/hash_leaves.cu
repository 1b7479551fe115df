// Leaf hashing on the device: one thread per leaf (T x T tile of C) runs HashLeaf from lib/cuda/tree_hash.h,
// the same function the host tests check against the CPU engine and OpenSSL. C never leaves the device; only
// the 32-byte digests are written, in leaf order, into level 0 of the tree buffer.
//
// One thread per leaf is the natural grain: SHA-256 is sequential within a message, and a leaf is, after the
// first block shared by the whole tree (its state computed once on the host, LeafSpec::midstate), 17 compressions
// for int8 (one byte per element) and 65 for fp32-ordered at T = 32. Threads of a warp take consecutive leaves,
// i.e. neighbouring tiles of one tile row, so their 128-bit loads of C hit neighbouring segments of the same rows
// of C. Blocks are small (64 threads) so that even a few thousand leaves spread over every SM.
#include "cuda/kernels.h"

namespace vcp::cuda {

namespace {

constexpr unsigned kThreads = 64;

// c: (M, ldc) row-major. out: (leaves, 32) bytes.
__global__ void __launch_bounds__(kThreads) HashLeavesKernel(LeafSpec spec, const uint32_t* __restrict__ c,
                                                             uint64_t ldc, uint64_t leaves, uint8_t* __restrict__ out) {
  const uint64_t leaf = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (leaf >= leaves) return;
  uint32_t d[8];
  HashLeaf(spec, c, ldc, leaf, d);
  // Digest bytes are the state words big-endian; a little-endian uint4 store of byte-swapped words writes them.
  uint4* o = reinterpret_cast<uint4*>(out + 32 * leaf);
  o[0] = make_uint4(ByteSwap32(d[0]), ByteSwap32(d[1]), ByteSwap32(d[2]), ByteSwap32(d[3]));
  o[1] = make_uint4(ByteSwap32(d[4]), ByteSwap32(d[5]), ByteSwap32(d[6]), ByteSwap32(d[7]));
}

}  // namespace

Status HashLeaves(const LeafSpec& spec, const uint32_t* c, uint64_t ldc, uint8_t* leaf_hashes, cudaStream_t stream) {
  if (spec.m == 0 || spec.n == 0 || ldc < spec.n || spec.tile == 0) {
    return Status::InvalidArgument("leaf hashing: need M, N, T >= 1 and ldc >= N; got M = " + std::to_string(spec.m) +
                                   ", N = " + std::to_string(spec.n) + ", T = " + std::to_string(spec.tile) +
                                   ", ldc = " + std::to_string(ldc));
  }
  const uint64_t leaves =
      uint64_t(shared::TileCount1D(spec.m, spec.tile)) * shared::TileCount1D(spec.n, spec.tile);
  const uint64_t grid = (leaves + kThreads - 1) / kThreads;
  if (grid > 0x7fffffffu) {
    return Status::InvalidArgument("leaf hashing: " + std::to_string(leaves) +
                                   " leaves need more than 2^31 - 1 blocks");
  }
  HashLeavesKernel<<<static_cast<unsigned>(grid), kThreads, 0, stream>>>(spec, c, ldc, leaves, leaf_hashes);
  return LaunchCheck("leaf hashing kernel");
}

}  // namespace vcp::cuda
