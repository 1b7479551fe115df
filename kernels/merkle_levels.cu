// The Merkle tree above the leaves, on the device, level by level: parent i of a level is
// HashNode(child 2i, child 2i + 1) (tree_hash.h: SHA-256(0x01 || left || right)), and when a level has an odd
// number of nodes its last node is copied up unchanged. That is vcp::MerkleTree's level construction, which
// yields exactly the RFC 6962 tree (vcp/merkle.h). One launch per level; each level is half the previous, so the
// whole tree costs about two compressions per leaf, against 65 for hashing the leaves at T = 32.
#include "cuda/kernels.h"

namespace vcp::cuda {

namespace {

constexpr unsigned kThreads = 128;

// Digest bytes <-> state words: the bytes are the words big-endian.
__device__ __forceinline__ void LoadDigest(const uint8_t* p, uint32_t h[8]) {
  const uint4* q = reinterpret_cast<const uint4*>(p);
  const uint4 lo = q[0], hi = q[1];
  h[0] = ByteSwap32(lo.x); h[1] = ByteSwap32(lo.y); h[2] = ByteSwap32(lo.z); h[3] = ByteSwap32(lo.w);
  h[4] = ByteSwap32(hi.x); h[5] = ByteSwap32(hi.y); h[6] = ByteSwap32(hi.z); h[7] = ByteSwap32(hi.w);
}

// child: (child_count, 32) bytes. parent: (ceil(child_count / 2), 32) bytes.
__global__ void __launch_bounds__(kThreads) LevelKernel(const uint8_t* __restrict__ child, uint64_t child_count,
                                                        uint8_t* __restrict__ parent) {
  const uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= (child_count + 1) / 2) return;
  uint4* dst = reinterpret_cast<uint4*>(parent + 32 * i);
  if (2 * i + 1 < child_count) {
    uint32_t l[8], r[8], h[8];
    LoadDigest(child + 64 * i, l);
    LoadDigest(child + 64 * i + 32, r);
    HashNode(l, r, h);
    dst[0] = make_uint4(ByteSwap32(h[0]), ByteSwap32(h[1]), ByteSwap32(h[2]), ByteSwap32(h[3]));
    dst[1] = make_uint4(ByteSwap32(h[4]), ByteSwap32(h[5]), ByteSwap32(h[6]), ByteSwap32(h[7]));
  } else {
    // The unpaired last node is promoted, never duplicated or rehashed.
    const uint4* src = reinterpret_cast<const uint4*>(child + 64 * i);
    dst[0] = src[0];
    dst[1] = src[1];
  }
}

}  // namespace

Status BuildMerkleLevels(uint8_t* nodes, std::span<const uint64_t> level_offsets,
                         std::span<const uint64_t> level_sizes, cudaStream_t stream) {
  if (level_sizes.empty() || level_offsets.size() != level_sizes.size() || level_sizes.back() != 1) {
    return Status::InvalidArgument("Merkle levels: need matching offset and size lists ending in a level of 1 node");
  }
  for (size_t h = 0; h + 1 < level_sizes.size(); ++h) {
    if (level_sizes[h + 1] != (level_sizes[h] + 1) / 2 || level_offsets[h + 1] < level_offsets[h] + level_sizes[h]) {
      return Status::InvalidArgument("Merkle levels: level " + std::to_string(h + 1) + " has " +
                                     std::to_string(level_sizes[h + 1]) + " nodes at offset " +
                                     std::to_string(level_offsets[h + 1]) + "; expected ceil(" +
                                     std::to_string(level_sizes[h]) + " / 2) nodes after the previous level");
    }
    const uint64_t parents = level_sizes[h + 1];
    const uint64_t grid = (parents + kThreads - 1) / kThreads;
    if (grid > 0x7fffffffu) return Status::InvalidArgument("Merkle levels: too many nodes for one launch");
    LevelKernel<<<static_cast<unsigned>(grid), kThreads, 0, stream>>>(nodes + 32 * level_offsets[h], level_sizes[h],
                                                                      nodes + 32 * level_offsets[h + 1]);
    VCP_RETURN_IF_ERROR(LaunchCheck("Merkle level " + std::to_string(h + 1) + " kernel"));
  }
  return Status::Ok();
}

}  // namespace vcp::cuda
