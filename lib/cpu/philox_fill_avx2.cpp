// Philox4x32-10 with AVX2 (compiled with -mavx2): four blocks per ymm, one per 64-bit lane, six ymm in flight.
// The same scheme as philox_fill_avx512.cpp (read its header comment for why 64-bit lanes), without ternary
// logic or mask registers; tests/philox_test.cpp holds it equal to the portable tier.
#include <immintrin.h>

#include <cstring>

#include "cpu/philox_fill.h"

namespace vcp::cpu::detail {

namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
constexpr int kRounds = 10;
constexpr uint64_t kLanes = 4;  // blocks per ymm
constexpr int kInFlight = 6;    // independent ymm per step (spilling some of their state is cheaper than stalls)
constexpr uint64_t kStepBlocks = kLanes * kInFlight;

// Round constants as in philox_fill_avx512.cpp: round 0's product M1 * matrix is a scalar folded into x0.
struct Constants {
  __m256i m0, m1;
  __m256i x0[kRounds];  // xored into the new c0: hi(p) ^ k0 in round 0, lo(p) ^ k0 in round 1, then k0
  __m256i x2[kRounds];  // xored into the new c2: k1
  __m256i c1_round0;    // c1 after round 0: lo(p)
  Constants(shared::PhiloxKey key, uint32_t matrix) {
    m0 = _mm256_set1_epi64x(kM0);
    m1 = _mm256_set1_epi64x(kM1);
    const uint64_t p = uint64_t{kM1} * matrix;
    uint32_t k0 = key.k0, k1 = key.k1;
    for (int r = 0; r < kRounds; ++r) {
      uint32_t fold = 0;
      if (r == 0) fold = static_cast<uint32_t>(p >> 32);
      if (r == 1) fold = static_cast<uint32_t>(p);
      x0[r] = _mm256_set1_epi64x(k0 ^ fold);
      x2[r] = _mm256_set1_epi64x(k1);
      k0 += kW0;
      k1 += kW1;
    }
    c1_round0 = _mm256_set1_epi64x(static_cast<uint32_t>(p));
  }
};

// Lane l of a ymm holds flat block kLaneBlock[l] of its four, so that the final in-lane unpacks put blocks 0, 1
// in the first output ymm and 2, 3 in the second.
constexpr uint64_t kLaneBlock[kLanes] = {0, 2, 1, 3};

// Counters as in philox_fill_avx512.cpp (Walk, Counters). AVX2 compares 64-bit lanes signed only, which is exact
// here: in_run stays below 2 * run_blocks, and run_blocks is below 2^62 (a single run is never compared).
struct Walk {
  __m256i run_blocks, step, part, gap;
  Walk(uint64_t stride, uint64_t run_blocks_in) {
    const uint64_t gap_in = stride - run_blocks_in;
    run_blocks = _mm256_set1_epi64x(static_cast<int64_t>(run_blocks_in));
    step = _mm256_set1_epi64x(static_cast<int64_t>(kStepBlocks + kStepBlocks / run_blocks_in * gap_in));
    part = _mm256_set1_epi64x(static_cast<int64_t>(kStepBlocks % run_blocks_in));
    gap = _mm256_set1_epi64x(static_cast<int64_t>(gap_in));
  }
};

// kStepFlat[kLanes * v + l]: the flat block of lane l of the v-th register in flight, at the first step.
constexpr struct StepFlat {
  uint64_t f[kStepBlocks];
  constexpr StepFlat() : f() {
    for (uint64_t i = 0; i < kStepBlocks; ++i) f[i] = i / kLanes * kLanes + kLaneBlock[i % kLanes];
  }
} kStepFlat;

struct Counters {
  __m256i block, in_run;
  Counters() = default;
  // The v-th register in flight at the first step.
  Counters(uint64_t first, uint64_t stride, uint64_t run_blocks, int v) {
    const uint64_t* flat = kStepFlat.f + kLanes * v;
    in_run = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(flat));
    if (run_blocks >= kStepBlocks) {  // the first step lies in the first run (and a single run is this case)
      block = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<int64_t>(first)), in_run);
      return;
    }
    alignas(32) uint64_t start_block[kLanes], start_in_run[kLanes];
    for (uint64_t l = 0; l < kLanes; ++l) {
      start_block[l] = first + flat[l] / run_blocks * stride + flat[l] % run_blocks;
      start_in_run[l] = flat[l] % run_blocks;
    }
    block = _mm256_load_si256(reinterpret_cast<const __m256i*>(start_block));
    in_run = _mm256_load_si256(reinterpret_cast<const __m256i*>(start_in_run));
  }
  template <bool kCrosses>
  void Advance(const Walk& w) {
    block = _mm256_add_epi64(block, w.step);
    if (!kCrosses) return;
    in_run = _mm256_add_epi64(in_run, w.part);
    const __m256i inside = _mm256_cmpgt_epi64(w.run_blocks, in_run);
    in_run = _mm256_sub_epi64(in_run, _mm256_andnot_si256(inside, w.run_blocks));
    block = _mm256_add_epi64(block, _mm256_andnot_si256(inside, w.gap));
  }
};

inline __m256i Xor3(__m256i a, __m256i b, __m256i c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }

// Philox of the blocks in b[0..N) (lane order kLaneBlock), written as 16 bytes per block to out: ymm v's blocks
// are flat blocks 4v .. 4v+3, of which only the first `blocks` (counted over all N) are stored.
template <int N>
inline void PhiloxStep(const Constants& k, const __m256i* b, uint64_t blocks, uint8_t* out) {
  __m256i c0[N], c1[N], c2[N], c3[N];
#pragma GCC unroll 8
  for (int v = 0; v < N; ++v) {
    const __m256i p0 = _mm256_mul_epu32(b[v], k.m0);
    c0[v] = _mm256_xor_si256(_mm256_srli_epi64(b[v], 32), k.x0[0]);
    c1[v] = k.c1_round0;
    c2[v] = _mm256_xor_si256(_mm256_srli_epi64(p0, 32), k.x2[0]);
    c3[v] = p0;
  }
#pragma GCC unroll 8
  for (int v = 0; v < N; ++v) {  // round 1: c1 is the constant lo(p), folded into x0[1]
    const __m256i p0 = _mm256_mul_epu32(c0[v], k.m0);
    const __m256i p1 = _mm256_mul_epu32(c2[v], k.m1);
    c0[v] = _mm256_xor_si256(_mm256_srli_epi64(p1, 32), k.x0[1]);
    c2[v] = Xor3(_mm256_srli_epi64(p0, 32), c3[v], k.x2[1]);
    c1[v] = p1;
    c3[v] = p0;
  }
#pragma GCC unroll 8
  for (int r = 2; r < kRounds; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < N; ++v) {
      const __m256i p0 = _mm256_mul_epu32(c0[v], k.m0);
      const __m256i p1 = _mm256_mul_epu32(c2[v], k.m1);
      c0[v] = Xor3(_mm256_srli_epi64(p1, 32), c1[v], k.x0[r]);
      c2[v] = Xor3(_mm256_srli_epi64(p0, 32), c3[v], k.x2[r]);
      c1[v] = p1;
      c3[v] = p0;
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < N; ++v) {
    // Pairs (c0, c1) and (c2, c3) into one 64-bit lane each, then lane pairs into blocks.
    const __m256i w01 = _mm256_blend_epi32(c0[v], _mm256_shuffle_epi32(c1[v], 0xB1), 0xAA);
    const __m256i w23 = _mm256_blend_epi32(c2[v], _mm256_shuffle_epi32(c3[v], 0xB1), 0xAA);
    const __m256i lo = _mm256_unpacklo_epi64(w01, w23);  // flat blocks 0, 1
    const __m256i hi = _mm256_unpackhi_epi64(w01, w23);  // flat blocks 2, 3
    uint8_t* dst = out + 16 * kLanes * v;
    const uint64_t here = blocks > kLanes * v ? blocks - kLanes * v : 0;
    if (here >= kLanes) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), lo);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32), hi);
    } else if (here > 0) {
      alignas(32) uint8_t staged[16 * kLanes];
      _mm256_store_si256(reinterpret_cast<__m256i*>(staged), lo);
      _mm256_store_si256(reinterpret_cast<__m256i*>(staged + 32), hi);
      std::memcpy(dst, staged, 16 * here);
    }
  }
}

// The blocks of PhiloxRunsAvx2, kStepBlocks at a time, then the tail one ymm at a time.
template <bool kCrosses>
void Generate(const Constants& k, uint64_t first, uint64_t stride, uint64_t run_blocks, uint64_t total,
              uint8_t* out) {
  const Walk walk(stride, run_blocks);
  Counters counters[kInFlight];
  for (int v = 0; v < kInFlight; ++v) counters[v] = Counters(first, stride, run_blocks, v);
  uint64_t done = 0;
  for (; done + kStepBlocks <= total; done += kStepBlocks) {
    __m256i b[kInFlight];
    for (int v = 0; v < kInFlight; ++v) {
      b[v] = counters[v].block;
      counters[v].Advance<kCrosses>(walk);
    }
    PhiloxStep<kInFlight>(k, b, kStepBlocks, out + 16 * done);
  }
  for (int v = 0; done < total; ++v, done += kLanes) {
    PhiloxStep<1>(k, &counters[v].block, total - done, out + 16 * done);
  }
}

}  // namespace

void PhiloxRunsAvx2(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t run_blocks,
                    uint64_t runs, uint8_t* out) {
  const Constants k(key, matrix);
  const uint64_t total = run_blocks * runs;
  if (runs == 1) {  // one run: no run ends to cross (and its length may be any uint64)
    Generate<false>(k, first, 0, uint64_t{1} << 62, total, out);
  } else if (kStepBlocks % run_blocks == 0) {
    Generate<false>(k, first, stride, run_blocks, total, out);
  } else {
    Generate<true>(k, first, stride, run_blocks, total, out);
  }
}

void Fp32FromWordsAvx2(const uint8_t* words, uint64_t n, uint8_t* out) {
  const __m256i centre = _mm256_set1_epi32(8388608);
  const __m256 scale = _mm256_set1_ps(0x1p-23f);
  // (w >> 8) - 2^23 is exact as an int32 and as a float, and scaling by 2^-23 is exact: Fp32FromWord's steps.
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + 4 * i));
    const __m256i centred = _mm256_sub_epi32(_mm256_srli_epi32(w, 8), centre);
    _mm256_storeu_ps(reinterpret_cast<float*>(out + 4 * i), _mm256_mul_ps(_mm256_cvtepi32_ps(centred), scale));
  }
  Fp32FromWordsPortable(words + 4 * i, n - i, out + 4 * i);
}

}  // namespace vcp::cpu::detail
