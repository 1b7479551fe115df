// Philox4x32-10 on eight counters at once with AVX2 (compiled with -mavx2). Same rounds and constants as
// Random123's philox4x32 (Salmon et al., SC'11): per round, (hi0, lo0) = M0 * c0 and (hi1, lo1) = M1 * c2, then
// c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0); the key is bumped by the Weyl constants between rounds.
// tests/philox_test.cpp holds this equal to the portable Random123 call.
#include <immintrin.h>

#include "cpu/philox_fill.h"

namespace vcp::cpu {

namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

// 32 x 32 -> 64-bit products of eight lanes, split into low and high halves, lane order kept.
inline void MulHiLo(__m256i x, __m256i m, __m256i& lo, __m256i& hi) {
  const __m256i even = _mm256_mul_epu32(x, m);                          // lanes 0, 2, 4, 6
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);    // lanes 1, 3, 5, 7
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

void Philox8(shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint32_t* words /* (8, 4) */) {
  alignas(32) uint32_t lo32[8], hi32[8];
  for (int i = 0; i < 8; ++i) {
    lo32[i] = static_cast<uint32_t>(block0 + i);
    hi32[i] = static_cast<uint32_t>((block0 + i) >> 32);
  }
  __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo32));
  __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi32));
  __m256i c2 = _mm256_set1_epi32(static_cast<int>(matrix));
  __m256i c3 = _mm256_setzero_si256();
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kM0)), m1 = _mm256_set1_epi32(static_cast<int>(kM1));
  uint32_t k0 = key.k0, k1 = key.k1;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    __m256i lo0, hi0, lo1, hi1;
    MulHiLo(c0, m0, lo0, hi0);
    MulHiLo(c2, m1, lo1, hi1);
    const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
    const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  alignas(32) uint32_t out[4][8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[0]), c0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[1]), c1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[2]), c2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[3]), c3);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) words[4 * i + j] = out[j][i];
}

}  // namespace

void PhiloxBlocksAvx2(shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint64_t count, uint32_t* words) {
  uint64_t i = 0;
  for (; i + 8 <= count; i += 8) Philox8(key, matrix, block0 + i, words + 4 * i);
  if (i < count) PhiloxBlocksPortable(key, matrix, block0 + i, count - i, words + 4 * i);
}

}  // namespace vcp::cpu
