// The per-thread hashing steps of the CUDA backend: one leaf digest (kernels/hash_leaves.cu) and one Merkle node
// (kernels/merkle_levels.cu). They are host/device functions so that tests/cuda_tree_hash_test.cpp runs the very
// code the GPU runs, on every machine, against OpenSSL and the CPU engine. They add no arithmetic of their own:
// the header comes from shared::WriteLeafHeader and every compression from shared::Sha256Compress; what lives
// here is only how the leaf bytes are cut into big-endian message words.
//
// A digest is carried as its eight SHA-256 state words h[0..7]; the 32 digest bytes are those words big-endian.
#pragma once

#include <cstdint>

#include "shared/hd.h"
#include "shared/leaf_layout.h"
#include "shared/sha256_portable.h"

namespace vcp::cuda {

// What every leaf header of one workload shares; the tile coordinates come from the leaf index.
struct LeafSpec {
  uint32_t workload_id;  // 1 = int8, 2 = fp32-ordered (WorkloadKind's values)
  uint32_t m, n, k, tile;
  uint8_t seed[32];
};

VCP_HD uint32_t ByteSwap32(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __byte_perm(x, 0, 0x0123);
#else
  return __builtin_bswap32(x);
#endif
}

// The message words of 16 consecutive elements at p: each element's 4 little-endian leaf bytes read as one
// big-endian SHA-256 word, i.e. the element byte-swapped. On the device p must be 16-byte aligned (four 128-bit
// loads through the read-only cache).
VCP_HD void LoadBlock16(const uint32_t* p, uint32_t w[16]) {
#if defined(__CUDA_ARCH__)
  const uint4* q = reinterpret_cast<const uint4*>(p);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const uint4 v = __ldg(q + i);
    w[4 * i + 0] = ByteSwap32(v.x);
    w[4 * i + 1] = ByteSwap32(v.y);
    w[4 * i + 2] = ByteSwap32(v.z);
    w[4 * i + 3] = ByteSwap32(v.w);
  }
#else
  for (int i = 0; i < 16; ++i) w[i] = ByteSwap32(p[i]);
#endif
}

// Digest of leaf `leaf_index` = SHA-256(0x00 || 63-byte header || the tile's elements, row-major, little-endian).
// c holds C (M, N) row-major with a row stride of ldc elements (ldc >= N): int32 values or binary32 bit patterns.
//
// Message layout: block 0 is exactly 0x00 || header (leaf_layout.h); then the tile's 4*rows*cols bytes, 16
// elements per block; then FIPS 180-4 padding. Because the data is a whole number of 4-byte words, the padding is
// word-aligned: after rem = count % 16 trailing elements comes the word 0x80000000, zeros, and the 64-bit bit
// length in words 14 and 15; when rem >= 14 the length does not fit and one more block of zeros carries it.
VCP_HD void HashLeaf(const LeafSpec& spec, const uint32_t* c, uint64_t ldc, uint64_t leaf_index, uint32_t digest[8]) {
  const shared::TileRect t = shared::TileRectOf(spec.m, spec.n, spec.tile, leaf_index);
  shared::Sha256State s = shared::Sha256Init();
  uint32_t w[16];
  {
    uint8_t first[64];
    first[0] = 0x00;  // RFC 6962 leaf prefix
    shared::WriteLeafHeader(first + 1, spec.workload_id, spec.m, spec.n, spec.k, spec.tile, t.tile_row, t.tile_col,
                            spec.seed);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int i = 0; i < 16; ++i) w[i] = shared::LoadBe32(first + 4 * i);
    shared::Sha256Compress(s, w);
  }

  const uint64_t count = uint64_t(t.rows) * t.cols;
  const uint32_t* p = c + uint64_t(t.row0) * ldc + t.col0;  // the next element to hash
  uint32_t col = 0;                                          // its column within the tile
  // Steps p through the tile row-major: to the next element of the row, or to the start of the next row.
  auto next = [&]() -> uint32_t {
    const uint32_t v = *p;
    if (++col == t.cols) {
      col = 0;
      p += ldc - (t.cols - 1);
    } else {
      ++p;
    }
    return v;
  };

  if (t.cols % 16 == 0 && ldc % 4 == 0) {
    // Every block of 16 elements lies within one tile row and starts 16-byte aligned (col0 is a multiple of
    // T >= 16 here, the row stride a multiple of 4 elements, the buffer 256-byte aligned). count % 16 == 0, so
    // the final block below takes no element.
    for (uint32_t r = 0; r < t.rows; ++r, p += ldc) {
      for (uint32_t j = 0; j < t.cols; j += 16) {
        LoadBlock16(p + j, w);
        shared::Sha256Compress(s, w);
      }
    }
  } else {
    // Edge tiles and T = 8: a block may span tile rows, so elements are taken one by one.
    for (uint64_t b = 0; b < count / 16; ++b) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
      for (int i = 0; i < 16; ++i) w[i] = ByteSwap32(next());
      shared::Sha256Compress(s, w);
    }
  }

  const uint32_t rem = static_cast<uint32_t>(count % 16);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (uint32_t i = 0; i < 16; ++i) {
    uint32_t v = 0;
    if (i < rem) {
      v = ByteSwap32(next());
    } else if (i == rem) {
      v = 0x80000000u;
    }
    w[i] = v;
  }
  if (rem >= 14) {
    shared::Sha256Compress(s, w);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int i = 0; i < 16; ++i) w[i] = 0;
  }
  const uint64_t bits = (64 + 4 * count) * 8;  // prefix byte + header + data
  w[14] = static_cast<uint32_t>(bits >> 32);
  w[15] = static_cast<uint32_t>(bits);
  shared::Sha256Compress(s, w);
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
