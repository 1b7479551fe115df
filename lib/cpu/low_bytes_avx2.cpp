#include <immintrin.h>

#include "cpu/low_bytes.h"

namespace vcp::cpu {

namespace {

// 32 elements: mask each int32 to its low byte, narrow 32 -> 16 -> 8 bits with unsigned saturating packs (no value
// saturates after the mask), then undo the packs' per-128-bit-lane interleaving with one dword permute.
inline void Pack32(const uint32_t* in, uint8_t* out) {
  const __m256i mask = _mm256_set1_epi32(0xff);
  // After the two packs, dword d of the result holds 4 bytes of source vector d % 4, half d / 4 (lane order).
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i* p = reinterpret_cast<const __m256i*>(in);
  const __m256i v0 = _mm256_and_si256(_mm256_loadu_si256(p + 0), mask);
  const __m256i v1 = _mm256_and_si256(_mm256_loadu_si256(p + 1), mask);
  const __m256i v2 = _mm256_and_si256(_mm256_loadu_si256(p + 2), mask);
  const __m256i v3 = _mm256_and_si256(_mm256_loadu_si256(p + 3), mask);
  const __m256i b = _mm256_permutevar8x32_epi32(
      _mm256_packus_epi16(_mm256_packus_epi32(v0, v1), _mm256_packus_epi32(v2, v3)), order);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), b);
}

// 8 elements (T = 8 tiles, tails): the same packs on 128-bit vectors, which keep their order.
inline void Pack8(const uint32_t* in, uint8_t* out) {
  const __m128i mask = _mm_set1_epi32(0xff);
  const __m128i* p = reinterpret_cast<const __m128i*>(in);
  const __m128i v0 = _mm_and_si128(_mm_loadu_si128(p + 0), mask);
  const __m128i v1 = _mm_and_si128(_mm_loadu_si128(p + 1), mask);
  const __m128i w = _mm_packus_epi32(v0, v1);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(w, w));
}

}  // namespace

void LowBytesAvx2(const uint32_t* src, uint64_t segments, uint32_t length, uint8_t* dst, uint64_t dst_stride) {
  for (uint64_t s = 0; s < segments; ++s) {
    const uint32_t* in = src + s * length;
    uint8_t* out = dst + s * dst_stride;
    uint32_t i = 0;
    for (; i + 32 <= length; i += 32) Pack32(in + i, out + i);
    for (; i + 8 <= length; i += 8) Pack8(in + i, out + i);
    for (; i < length; ++i) out[i] = static_cast<uint8_t>(in[i]);
  }
}

}  // namespace vcp::cpu
