// Philox4x32-10 with AVX-512 F/VL (compiled with -mavx512f ...): eight blocks per zmm, one per 64-bit lane, four
// zmm in flight. Same rounds and constants as Random123's philox4x32 (Salmon et al., SC'11): per round,
// (hi0, lo0) = M0 * c0 and (hi1, lo1) = M1 * c2, then c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0), and the key is
// bumped by the Weyl constants between rounds. tests/philox_test.cpp holds this equal to the portable tier.
//
// Why 64-bit lanes: each state word lives in the LOW half of a lane, so one vpmuludq (M * c, 32 x 32 -> 64 per
// lane) yields lo in the low half and hi in the high half: the new c1 / c3 are the product itself and the new
// c0 / c2 need one shift. The high halves carry garbage that vpmuludq never reads and the final packing drops.
// A lane also holds a whole 64-bit block index, so counters step with 64-bit adds and the carry into the
// counter's high word (hi32(b) = b >> 32) is exact across 2^32-block boundaries.
//
// GCC 12's AVX-512 headers self-initialise their "undefined" operands (`__m512i __Y = __Y;`), which
// -Wmaybe-uninitialized reports at every inlined intrinsic (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "cpu/philox_fill.h"

namespace vcp::cpu::detail {

namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
constexpr int kRounds = 10;
constexpr uint64_t kLanes = 8;  // blocks per zmm
constexpr int kInFlight = 4;    // independent zmm per step, to cover vpmuludq's latency
constexpr uint64_t kStepBlocks = kLanes * kInFlight;

// Round constants, broadcast once per call. Round 0 multiplies the constant c2 = matrix, so its product
// p = M1 * matrix is a scalar: its halves fold into round 0's and round 1's xor constants.
struct Constants {
  __m512i m0, m1;
  __m512i x0[kRounds];  // xored into the new c0: hi(p) ^ k0 in round 0, lo(p) ^ k0 in round 1, then k0
  __m512i x2[kRounds];  // xored into the new c2: k1
  __m512i c1_round0;    // c1 after round 0: lo(p)
  Constants(shared::PhiloxKey key, uint32_t matrix) {
    m0 = _mm512_set1_epi64(kM0);
    m1 = _mm512_set1_epi64(kM1);
    const uint64_t p = uint64_t{kM1} * matrix;
    uint32_t k0 = key.k0, k1 = key.k1;
    for (int r = 0; r < kRounds; ++r) {
      uint32_t fold = 0;
      if (r == 0) fold = static_cast<uint32_t>(p >> 32);
      if (r == 1) fold = static_cast<uint32_t>(p);
      x0[r] = _mm512_set1_epi64(k0 ^ fold);
      x2[r] = _mm512_set1_epi64(k1);
      k0 += kW0;
      k1 += kW1;
    }
    c1_round0 = _mm512_set1_epi64(static_cast<uint32_t>(p));
  }
};

// Lane l of a zmm holds flat block kLaneBlock[l] of its eight, so that the final packing (in-lane unpacks only)
// puts blocks 0..3 in the first output zmm and 4..7 in the second.
constexpr uint64_t kLaneBlock[kLanes] = {0, 4, 1, 5, 2, 6, 3, 7};

// Counters for the flat blocks f = 0 .. runs * run_blocks - 1, block(f) = first + (f / run_blocks) * stride +
// f % run_blocks. Each of the kInFlight zmm keeps its lanes' block index and position within the run, and moves
// kStepBlocks flat blocks per step without a loop however short the runs: with kStepBlocks = whole * run_blocks
// + part (part < run_blocks), a lane crosses `whole` run ends, plus one more where its position plus `part`
// reaches run_blocks, and each crossing adds gap = stride - run_blocks (mod 2^64) to the block index. When part
// is 0 (run_blocks divides kStepBlocks, as for the verifier's 2- and 8-block runs, or a single run) a step is one
// add.
struct Walk {
  __m512i run_blocks, step, part, gap;
  Walk(uint64_t stride, uint64_t run_blocks_in) {
    const uint64_t gap_in = stride - run_blocks_in;
    run_blocks = _mm512_set1_epi64(static_cast<int64_t>(run_blocks_in));
    step = _mm512_set1_epi64(static_cast<int64_t>(kStepBlocks + kStepBlocks / run_blocks_in * gap_in));
    part = _mm512_set1_epi64(static_cast<int64_t>(kStepBlocks % run_blocks_in));
    gap = _mm512_set1_epi64(static_cast<int64_t>(gap_in));
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
  __m512i block, in_run;
  Counters() = default;
  // The v-th register in flight at the first step.
  Counters(uint64_t first, uint64_t stride, uint64_t run_blocks, int v) {
    const uint64_t* flat = kStepFlat.f + kLanes * v;
    in_run = _mm512_loadu_si512(flat);
    if (run_blocks >= kStepBlocks) {  // the first step lies in the first run (and a single run is this case)
      block = _mm512_add_epi64(_mm512_set1_epi64(static_cast<int64_t>(first)), in_run);
      return;
    }
    alignas(64) uint64_t start_block[kLanes], start_in_run[kLanes];
    for (uint64_t l = 0; l < kLanes; ++l) {
      start_block[l] = first + flat[l] / run_blocks * stride + flat[l] % run_blocks;
      start_in_run[l] = flat[l] % run_blocks;
    }
    block = _mm512_load_si512(start_block);
    in_run = _mm512_load_si512(start_in_run);
  }
  template <bool kCrosses>
  void Advance(const Walk& w) {
    block = _mm512_add_epi64(block, w.step);
    if (!kCrosses) return;
    in_run = _mm512_add_epi64(in_run, w.part);
    const __mmask8 crossed = _mm512_cmpge_epu64_mask(in_run, w.run_blocks);
    in_run = _mm512_mask_sub_epi64(in_run, crossed, in_run, w.run_blocks);
    block = _mm512_mask_add_epi64(block, crossed, block, w.gap);
  }
};

inline __m512i Xor3(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi64(a, b, c, 0x96); }

// Philox of the blocks in b[0..N) (lane order kLaneBlock), written as 16 bytes per block to out: zmm v's blocks
// are flat blocks 8v .. 8v+7, of which only the first `blocks` (counted over all N) are stored.
template <int N>
inline void PhiloxStep(const Constants& k, const __m512i* b, uint64_t blocks, uint8_t* out) {
  __m512i c0[N], c1[N], c2[N], c3[N];
#pragma GCC unroll 4
  for (int v = 0; v < N; ++v) {
    const __m512i p0 = _mm512_mul_epu32(b[v], k.m0);
    c0[v] = _mm512_xor_si512(_mm512_srli_epi64(b[v], 32), k.x0[0]);
    c1[v] = k.c1_round0;
    c2[v] = _mm512_xor_si512(_mm512_srli_epi64(p0, 32), k.x2[0]);
    c3[v] = p0;
  }
#pragma GCC unroll 4
  for (int v = 0; v < N; ++v) {  // round 1: c1 is the constant lo(p), folded into x0[1]
    const __m512i p0 = _mm512_mul_epu32(c0[v], k.m0);
    const __m512i p1 = _mm512_mul_epu32(c2[v], k.m1);
    c0[v] = _mm512_xor_si512(_mm512_srli_epi64(p1, 32), k.x0[1]);
    c2[v] = Xor3(_mm512_srli_epi64(p0, 32), c3[v], k.x2[1]);
    c1[v] = p1;
    c3[v] = p0;
  }
#pragma GCC unroll 8
  for (int r = 2; r < kRounds - 1; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < N; ++v) {
      const __m512i p0 = _mm512_mul_epu32(c0[v], k.m0);
      const __m512i p1 = _mm512_mul_epu32(c2[v], k.m1);
      c0[v] = Xor3(_mm512_srli_epi64(p1, 32), c1[v], k.x0[r]);
      c2[v] = Xor3(_mm512_srli_epi64(p0, 32), c3[v], k.x2[r]);
      c1[v] = p1;
      c3[v] = p0;
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < N; ++v) {
    // The last round packs as it goes: with its dword halves swapped, product P1 holds (hi1, lo1) per lane, so
    // xoring c1 ^ k0 into the even dwords only leaves the lane as (new c0, new c1); likewise (c2, c3) from P0.
    const __m512i p0 = _mm512_mul_epu32(c0[v], k.m0);
    const __m512i p1 = _mm512_mul_epu32(c2[v], k.m1);
    const __m512i w01 = _mm512_mask_ternarylogic_epi32(_mm512_shuffle_epi32(p1, _MM_PERM_CDAB), 0x5555, c1[v],
                                                       k.x0[kRounds - 1], 0x96);
    const __m512i w23 = _mm512_mask_ternarylogic_epi32(_mm512_shuffle_epi32(p0, _MM_PERM_CDAB), 0x5555, c3[v],
                                                       k.x2[kRounds - 1], 0x96);
    // Lane pairs into blocks.
    const __m512i lo = _mm512_unpacklo_epi64(w01, w23);  // flat blocks 0..3
    const __m512i hi = _mm512_unpackhi_epi64(w01, w23);  // flat blocks 4..7
    uint8_t* dst = out + 16 * kLanes * v;
    const uint64_t here = blocks > kLanes * v ? blocks - kLanes * v : 0;
    if (here >= kLanes) {
      _mm512_storeu_si512(dst, lo);
      _mm512_storeu_si512(dst + 64, hi);
    } else {
      const auto words = static_cast<unsigned>(4 * here);  // 0..28 words of this zmm's 32
      _mm512_mask_storeu_epi32(dst, static_cast<__mmask16>(words >= 16 ? 0xFFFFu : (1u << words) - 1u), lo);
      if (words > 16) _mm512_mask_storeu_epi32(dst + 64, static_cast<__mmask16>((1u << (words - 16)) - 1u), hi);
    }
  }
}

// The blocks of PhiloxRunsAvx512, kStepBlocks at a time, then the tail one zmm at a time.
template <bool kCrosses>
void Generate(const Constants& k, uint64_t first, uint64_t stride, uint64_t run_blocks, uint64_t total,
              uint8_t* out) {
  const Walk walk(stride, run_blocks);
  Counters counters[kInFlight];
  for (int v = 0; v < kInFlight; ++v) counters[v] = Counters(first, stride, run_blocks, v);
  uint64_t done = 0;
  for (; done + kStepBlocks <= total; done += kStepBlocks) {
    __m512i b[kInFlight];
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

void PhiloxRunsAvx512(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t run_blocks,
                      uint64_t runs, uint8_t* out) {
  const Constants k(key, matrix);
  const uint64_t total = run_blocks * runs;
  if (runs == 1) {  // one run: no run ends to cross (and its length may be any uint64)
    Generate<false>(k, first, 0, ~uint64_t{0}, total, out);
  } else if (kStepBlocks % run_blocks == 0) {
    Generate<false>(k, first, stride, run_blocks, total, out);
  } else {
    Generate<true>(k, first, stride, run_blocks, total, out);
  }
}

void Fp32FromWordsAvx512(const uint8_t* words, uint64_t n, uint8_t* out) {
  const __m512i centre = _mm512_set1_epi32(8388608);
  const __m512 scale = _mm512_set1_ps(0x1p-23f);
  // (w >> 8) - 2^23 is exact as an int32 and as a float, and scaling by 2^-23 is exact: Fp32FromWord's steps.
  for (uint64_t i = 0; i < n; i += 16) {
    const auto mask = static_cast<__mmask16>(n - i >= 16 ? 0xFFFFu : (1u << (n - i)) - 1u);
    const __m512i w = _mm512_maskz_loadu_epi32(mask, words + 4 * i);
    const __m512i centred = _mm512_sub_epi32(_mm512_srli_epi32(w, 8), centre);
    _mm512_mask_storeu_ps(out + 4 * i, mask, _mm512_mul_ps(_mm512_cvtepi32_ps(centred), scale));
  }
}

}  // namespace vcp::cpu::detail
