// The per-thread hashing steps of the CUDA backend: one leaf digest (kernels/hash_leaves.cu) and one Merkle node
// (kernels/merkle_levels.cu). They are host/device functions so that tests/cuda_tree_hash_test.cpp runs the very
// code the GPU runs, on every machine, against OpenSSL and the CPU engine. They add no arithmetic of their own:
// the header and midstate come from shared::LeafMidstate and every compression from shared::Sha256Compress; what
// lives here is only how the leaf bytes are cut into big-endian message words.
//
// A digest is carried as its eight SHA-256 state words h[0 .. 8) (exclusive end); the 32 digest bytes are those
// words big-endian.
#pragma once

#include <cstdint>

#include "shared/hd.h"
#include "shared/leaf_layout.h"
#include "shared/sha256_portable.h"

namespace vcp::cuda {

// What every leaf of one tree shares: the SHA-256 state after the first block (0x00 || header), computed once per
// tree on the host by MakeLeafSpec, which carries K and the seed; plus the fields the tile grid and the element
// width follow from. The tile coordinates come from the leaf index.
struct LeafSpec {
  uint32_t workload_id;  // 1 = int8, 2 = fp32-ordered (WorkloadKind's values)
  uint32_t m, n, tile;
  uint32_t midstate[8];  // shared::LeafMidstate of the tree's header
};

// The only way to build a LeafSpec: its midstate is computed here from the fields, once per tree.
inline LeafSpec MakeLeafSpec(uint32_t workload_id, uint32_t m, uint32_t n, uint32_t k, uint32_t tile,
                             const uint8_t* seed) {
  LeafSpec spec{workload_id, m, n, tile, {}};
  const shared::Sha256State s = shared::LeafMidstate(workload_id, m, n, k, tile, seed);
  for (int i = 0; i < 8; ++i) spec.midstate[i] = s.h[i];
  return spec;
}

VCP_HD uint32_t ByteSwap32(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __byte_perm(x, 0, 0x0123);
#else
  return __builtin_bswap32(x);
#endif
}

// Four consecutive elements at p (on the device 16-byte aligned: one 128-bit load through the read-only cache).
struct Quad {
  uint32_t x, y, z, w;
};
VCP_HD Quad LoadQuad(const uint32_t* p) {
#if defined(__CUDA_ARCH__)
  const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
  return Quad{v.x, v.y, v.z, v.w};
#else
  return Quad{p[0], p[1], p[2], p[3]};
#endif
}

// The message of leaf `leaf_index` after its first block: the tile's leaf element bytes (int8: the low byte of
// each element; fp32-ordered: 4 bytes little-endian), the 8 trailer bytes (tile row, col), then FIPS 180-4
// padding (0x80, zeros, the 64-bit bit length at the end of the last block).
struct LeafMessage {
  const uint32_t* p;  // the tile's first element in C
  uint64_t ldc;
  shared::TileRect t;
  uint32_t e;           // leaf bytes per element
  uint64_t data_bytes;  // e * rows * cols
  uint64_t blocks;      // blocks after the first one
  uint64_t bits;        // whole message length, (64 + data + 8) * 8

  // Byte q of the message after the first block, from the definition: the general path (edge tiles whose width
  // is not a power of two) and the final one or two blocks take every byte here.
  VCP_HD uint32_t Byte(uint64_t q) const {
    if (q < data_bytes) {
      const uint64_t element = q / e;
      const uint32_t r = static_cast<uint32_t>(element / t.cols), col = static_cast<uint32_t>(element % t.cols);
      return (p[r * ldc + col] >> (8 * (q % e))) & 0xffu;
    }
    q -= data_bytes;
    if (q < 8) return ((q < 4 ? t.tile_row : t.tile_col) >> (8 * (q % 4))) & 0xffu;
    if (q == 8) return 0x80u;
    const uint64_t length_at = blocks * 64 - 8 - data_bytes;  // where the bit length starts, relative to q
    if (q >= length_at) return static_cast<uint32_t>(bits >> (56 - 8 * (q - length_at))) & 0xffu;
    return 0;
  }
  VCP_HD void ByteBlock(uint64_t b, uint32_t w[16]) const {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int i = 0; i < 16; ++i) {
      const uint64_t q = 64 * b + 4 * i;
      w[i] = (Byte(q) << 24) | (Byte(q + 1) << 16) | (Byte(q + 2) << 8) | Byte(q + 3);
    }
  }
  // Block b of the data when the tile's width is a power of two >= 4: every group of 4 elements lies in one tile
  // row, so a block is 16 (int8) or 4 (fp32) quad loads at shifted offsets, no division.
  VCP_HD void QuadBlock(uint64_t b, uint32_t log2_cols, uint32_t w[16]) const {
    const uint32_t col_mask = t.cols - 1;
    if (e == 1) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
      for (int i = 0; i < 16; ++i) {
        const uint64_t e0 = 64 * b + 4 * i;
        const Quad v = LoadQuad(p + (e0 >> log2_cols) * ldc + (e0 & col_mask));
        w[i] = ((v.x & 0xffu) << 24) | ((v.y & 0xffu) << 16) | ((v.z & 0xffu) << 8) | (v.w & 0xffu);
      }
    } else {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
      for (int i = 0; i < 4; ++i) {
        const uint64_t e0 = 16 * b + 4 * i;
        const Quad v = LoadQuad(p + (e0 >> log2_cols) * ldc + (e0 & col_mask));
        w[4 * i + 0] = ByteSwap32(v.x);
        w[4 * i + 1] = ByteSwap32(v.y);
        w[4 * i + 2] = ByteSwap32(v.z);
        w[4 * i + 3] = ByteSwap32(v.w);
      }
    }
  }
};

// Digest of leaf `leaf_index` = SHA-256(0x00 || header || the tile's leaf element bytes || tile row || tile col),
// continuing from spec.midstate. c holds C (M, N) row-major with a row stride of ldc elements (ldc >= N): int32
// values or binary32 bit patterns. Compressions per leaf after the shared first one: ceil((e T^2 + 17) / 64), so
// 17 for int8 and 65 for fp32-ordered at T = 32.
VCP_HD void HashLeaf(const LeafSpec& spec, const uint32_t* c, uint64_t ldc, uint64_t leaf_index, uint32_t digest[8]) {
  LeafMessage msg;
  msg.t = shared::TileRectOf(spec.m, spec.n, spec.tile, leaf_index);
  msg.p = c + uint64_t(msg.t.row0) * ldc + msg.t.col0;
  msg.ldc = ldc;
  msg.e = shared::LeafElementBytes(spec.workload_id);
  msg.data_bytes = uint64_t(msg.e) * msg.t.rows * msg.t.cols;
  msg.blocks = (msg.data_bytes + shared::kLeafTrailerBytes + 1 + 8 + 63) / 64;
  msg.bits = (64 + msg.data_bytes + shared::kLeafTrailerBytes) * 8;

  shared::Sha256State s;
  for (int i = 0; i < 8; ++i) s.h[i] = spec.midstate[i];
  uint32_t w[16];
  // The quad loads need 16-byte alignment on the device: col0 is a multiple of T >= 8, the row stride a multiple
  // of 4 elements, the buffer 256-byte aligned.
  const uint32_t cols = msg.t.cols;
  const bool quads = cols >= 4 && (cols & (cols - 1)) == 0 && ldc % 4 == 0;
  const uint64_t quad_blocks = quads ? msg.data_bytes / 64 : 0;
  uint32_t log2_cols = 0;
  while ((1u << log2_cols) < cols) ++log2_cols;
  for (uint64_t b = 0; b < quad_blocks; ++b) {
    msg.QuadBlock(b, log2_cols, w);
    shared::Sha256Compress(s, w);
  }
  for (uint64_t b = quad_blocks; b < msg.blocks; ++b) {
    msg.ByteBlock(b, w);
    shared::Sha256Compress(s, w);
  }
  for (int i = 0; i < 8; ++i) digest[i] = s.h[i];
}

// Digest of an interior node = SHA-256(0x01 || left || right), 65 bytes in two blocks. The one-byte prefix shifts
// every digest byte by one place, so each message word takes the low 3 bytes of one digest word and the high
// byte of the next.
VCP_HD void HashNode(const uint32_t left[8], const uint32_t right[8], uint32_t out[8]) {
  uint32_t w[16];
  w[0] = 0x01000000u | (left[0] >> 8);
  for (int i = 1; i < 8; ++i) w[i] = (left[i - 1] << 24) | (left[i] >> 8);
  w[8] = (left[7] << 24) | (right[0] >> 8);
  for (int i = 1; i < 8; ++i) w[8 + i] = (right[i - 1] << 24) | (right[i] >> 8);
  shared::Sha256State s = shared::Sha256Init();
  shared::Sha256Compress(s, w);
  // Block 1: the last byte of right, the 0x80 terminator, zeros, and the length 65 * 8 = 520 bits.
  w[0] = (right[7] << 24) | 0x00800000u;
  for (int i = 1; i < 15; ++i) w[i] = 0;
  w[15] = 65 * 8;
  shared::Sha256Compress(s, w);
  for (int i = 0; i < 8; ++i) out[i] = s.h[i];
}

}  // namespace vcp::cuda
