// The spec's input generator (docs/SPEC.md section 3): every element of A (M x K, row-major) and B (K x N,
// row-major) is a pure function of the Philox key, the matrix and the element's row-major index, so the verifier
// can regenerate one row or column without the rest of the matrix.
//
// Philox4x32-10 is Random123's; the key is two 32-bit words derived on the host from the workload seed
// (lib/workload.cpp, DeriveInputKey). The counter for block b of matrix X is (lo32(b), hi32(b), X, 0) where
// X = 0 for A and 1 for B. Each block yields four 32-bit words w[0..3]:
//   int8:  16 elements per block; element e is byte (e % 16) of w[0] || w[1] || w[2] || w[3] (little-endian),
//          read as a two's-complement int8 (full range -128..127).
//   fp32:  4 elements per block; element e comes from word w[e % 4]: ((int32)(w >> 8) - 2^23) * 2^-23,
//          a multiple of 2^-23 in [-1, 1 - 2^-23], exact in binary32.
#pragma once

#include <cstdint>

#include <Random123/philox.h>

#include "hd.h"

namespace vcp::shared {

enum InputMatrix : uint32_t { kMatrixA = 0, kMatrixB = 1 };

struct PhiloxKey {
  uint32_t k0;
  uint32_t k1;
};

constexpr uint64_t kInt8PerBlock = 16;
constexpr uint64_t kFp32PerBlock = 4;

// The four output words of block `block` of `matrix`.
VCP_HD r123::Philox4x32::ctr_type PhiloxBlock(PhiloxKey key, uint32_t matrix, uint64_t block) {
  r123::Philox4x32 rng;
  r123::Philox4x32::ctr_type ctr = {{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), matrix, 0u}};
  r123::Philox4x32::key_type k = {{key.k0, key.k1}};
  return rng(ctr, k);
}

// Byte j (0..15) of a block, little-endian across w[0..3], as int8.
VCP_HD int8_t Int8FromBlock(const r123::Philox4x32::ctr_type& w, unsigned j) {
  return static_cast<int8_t>(static_cast<uint8_t>(w.v[j >> 2] >> (8u * (j & 3u))));
}

VCP_HD float Fp32FromWord(uint32_t word) {
  // (w >> 8) is 24 bits; centring it gives an integer in [-2^23, 2^23 - 1], exact in binary32.
  return static_cast<float>(static_cast<int32_t>(word >> 8) - 8388608) * 0x1p-23f;
}

// Element `index` (row-major) of an int8 matrix.
VCP_HD int8_t Int8Element(PhiloxKey key, uint32_t matrix, uint64_t index) {
  return Int8FromBlock(PhiloxBlock(key, matrix, index / kInt8PerBlock), static_cast<unsigned>(index % kInt8PerBlock));
}

// Element `index` (row-major) of an fp32 matrix.
VCP_HD float Fp32Element(PhiloxKey key, uint32_t matrix, uint64_t index) {
  return Fp32FromWord(PhiloxBlock(key, matrix, index / kFp32PerBlock).v[index % kFp32PerBlock]);
}

}  // namespace vcp::shared
