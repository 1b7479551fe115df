// The AVX-512 VNNI tier of the int8 GEMM (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; the
// dispatcher calls it only on CPUs that have all four). Same loop nest as gemm_avx2.cpp (pack B panels, pack A
// blocks, a register-tiled micro-kernel); see there for the blocking. There is no fp32 code here: fp32-ordered
// runs the AVX2 kernel.
//
// Why the result is exact. _mm512_dpbusd_epi32 multiplies UNSIGNED bytes by SIGNED bytes, four per 32-bit lane,
// and adds the four products to the lane. A is signed, so the kernel feeds it a + 128 (in 0..255; the bit pattern
// is a ^ 0x80) and subtracts the offset afterwards:
//     sum_p a[i][p] * b[p][j]  =  sum_p (a[i][p] + 128) * b[p][j]  -  128 * sum_p b[p][j].
// The accumulators start at C's value so far (or 0) minus 128 * colsum(b) (colsum over the block's k, computed
// while packing B) and then take the unsigned products. (a + 128) * b can reach 255 * 128 per term, so for large k the running sum leaves the
// int32 range; VPDPBUSD and VPADDD wrap (two's complement, arithmetic mod 2^32), so every accumulator holds the
// true value mod 2^32. The true value of each block, and of each c[i][j] built from the blocks, is a sum of
// |a*b| <= 2^14 terms and lies within int32 for k <= 131071 (16384 * 131071 < 2^31), and the only int32 congruent
// to it mod 2^32 is itself: the wrapped arithmetic returns it exactly. (The four-term sum inside one VPDPBUSD,
// at most 4 * 255 * 128 in magnitude, never wraps on its own; nothing saturates: that is VPDPBUSDS.)
//
// Packed layouts (4 consecutive k per 32-bit lane):
//   A block: row-major bytes a ^ 0x80, row stride kcq = kc rounded up to a multiple of 4, padded with 0x80
//            (a = 0); a 32-bit load at column 4g is broadcast to all lanes.
//   B panel: for each group g, kNr lanes of 4 bytes (b[4g][j], ..., b[4g+3][j]); missing rows/columns are 0,
//            which zeroes the padded terms whatever A holds.
//   bias:    -128 * colsum(b) for each column of the block, zero past nc.
//
// Like gemm_avx2.cpp, this file uses no standard-library templates (their out-of-line copies would be compiled
// for AVX-512 and could be the ones the linker keeps).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace vcp::cpu::detail {

void GemmInt8Portable(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                      int32_t* c, size_t ldc);

namespace {

constexpr size_t kMr = 8;     // rows of the register tile
constexpr size_t kNr = 32;    // columns of the register tile: two zmm vectors of 16 lanes
constexpr size_t kKc = 512;   // k per block (a multiple of 4, so only the last block has a ragged length)
constexpr size_t kMc = 128;   // rows of A per packed block (a multiple of kMr)
constexpr size_t kNc = 512;   // columns of B per packed block (a multiple of kNr)
constexpr size_t kLanes = 16;  // 32-bit lanes in a zmm register
static_assert(kKc % 4 == 0 && kMc % kMr == 0 && kNc % kNr == 0, "blocks must hold whole groups and tiles");

inline size_t Min(size_t x, size_t y) { return x < y ? x : y; }
inline size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }

// Packed blocks, one set per thread, allocated on first use.
struct Scratch {
  uint8_t* a = nullptr;   // kMc x kKc bytes
  int8_t* b = nullptr;    // kKc x kNc bytes
  int32_t* bias = nullptr;  // kNc
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    std::free(a);
    std::free(b);
    std::free(bias);
  }
  bool Ready() {
    if (a == nullptr) a = static_cast<uint8_t*>(std::aligned_alloc(64, kMc * kKc));
    if (b == nullptr) b = static_cast<int8_t*>(std::aligned_alloc(64, kKc * kNc));
    if (bias == nullptr) bias = static_cast<int32_t*>(std::aligned_alloc(64, kNc * sizeof(int32_t)));
    return a != nullptr && b != nullptr && bias != nullptr;
  }
};
thread_local Scratch scratch;

// a (mc, kc) lda -> out (RoundUp(mc, kMr), kcq) bytes a ^ 0x80; padding rows and columns hold 0x80.
void PackA(size_t mc, size_t kc, const int8_t* a, size_t lda, uint8_t* out) {
  const size_t kcq = RoundUp(kc, 4);
  for (size_t r = 0; r < RoundUp(mc, kMr); ++r) {
    uint8_t* dst = out + r * kcq;
    const size_t valid = r < mc ? kc : 0;
    for (size_t p = 0; p < valid; ++p) dst[p] = static_cast<uint8_t>(static_cast<uint8_t>(a[r * lda + p]) ^ 0x80u);
    for (size_t p = valid; p < kcq; ++p) dst[p] = 0x80;
  }
}

// b (kc, nc) ldb -> out: RoundUp(nc, kNr) / kNr panels of (kcq / 4) x kNr lanes of 4 bytes, and
// bias[j] = -128 * sum_p b[p][j] for j < RoundUp(nc, kNr) (zero past nc).
void PackB(size_t kc, size_t nc, const int8_t* b, size_t ldb, int8_t* out, int32_t* bias) {
  const size_t groups = (kc + 3) / 4;
  const size_t ncp = RoundUp(nc, kNr);
  for (size_t j = 0; j < ncp; ++j) bias[j] = 0;
  for (size_t p = 0; p < kc; ++p) {
    for (size_t j = 0; j < nc; ++j) bias[j] -= 128 * int32_t{b[p * ldb + j]};
  }
  const int8_t zeros[16] = {};
  for (size_t g = 0; g < groups; ++g) {
    // Rows 4g..4g+3, the ones past kc read as zeros.
    const int8_t* rows[4];
    for (size_t t = 0; t < 4; ++t) rows[t] = 4 * g + t < kc ? b + (4 * g + t) * ldb : nullptr;
    for (size_t j0 = 0; j0 < ncp; j0 += 16) {
      int8_t* dst = out + (j0 / kNr) * groups * kNr * 4 + g * kNr * 4 + (j0 % kNr) * 4;
      if (j0 + 16 <= nc) {
        // Interleave 16 columns of the four rows into 4-byte lanes: bytes (r0, r1) pairs, then pairs of pairs.
        __m128i x[4];
        for (size_t t = 0; t < 4; ++t) {
          x[t] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[t] != nullptr ? rows[t] + j0 : zeros));
        }
        const __m128i lo01 = _mm_unpacklo_epi8(x[0], x[1]), hi01 = _mm_unpackhi_epi8(x[0], x[1]);
        const __m128i lo23 = _mm_unpacklo_epi8(x[2], x[3]), hi23 = _mm_unpackhi_epi8(x[2], x[3]);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(lo01, lo23));       // columns 0-3
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(lo01, lo23));  // 4-7
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(hi01, hi23));  // 8-11
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(hi01, hi23));  // 12-15
      } else {
        for (size_t j = 0; j < 16; ++j) {
          for (size_t t = 0; t < 4; ++t) {
            dst[4 * j + t] = rows[t] != nullptr && j0 + j < nc ? rows[t][j0 + j] : int8_t{0};
          }
        }
      }
    }
  }
}

// One row of the register tile: (c0, c1) = columns 0-15 and 16-31 += the four offset bytes of A at a_quad times
// the four B bytes in each lane.
inline void DotRow(const uint8_t* a_quad, __m512i b0, __m512i b1, __m512i& c0, __m512i& c1) {
  int32_t quad;
  std::memcpy(&quad, a_quad, sizeof(quad));
  const __m512i av = _mm512_set1_epi32(quad);
  c0 = _mm512_dpbusd_epi32(c0, av, b0);
  c1 = _mm512_dpbusd_epi32(c1, av, b1);
}

// out (kMr, kNr) ld_out = in (kMr, kNr) ld_in + bias (kNr, every row) + (a ^ 0x80) (kMr, 4 * groups) * b panel
// (4 * groups, kNr), all mod 2^32 (see the top of the file). a: packed A rows with stride kcq; in may alias out.
// Named registers, starting values from memory and noipa, as in gemm_avx2.cpp: that keeps GCC's loop copy-free.
__attribute__((noipa)) void Kernel(size_t groups, const uint8_t* a, size_t kcq, const int8_t* b, const int32_t* bias,
                                   const int32_t* in, size_t ld_in, int32_t* out, size_t ld_out) {
  static_assert(kMr == 8 && kNr == 32, "the kernel body is written out for an 8 x 32 tile");
  const __m512i bias0 = _mm512_loadu_si512(bias), bias1 = _mm512_loadu_si512(bias + kLanes);
  const auto load = [&](size_t r, size_t v) {
    return _mm512_add_epi32(_mm512_loadu_si512(in + r * ld_in + v * kLanes), v == 0 ? bias0 : bias1);
  };
  __m512i c00 = load(0, 0), c01 = load(0, 1), c10 = load(1, 0), c11 = load(1, 1);
  __m512i c20 = load(2, 0), c21 = load(2, 1), c30 = load(3, 0), c31 = load(3, 1);
  __m512i c40 = load(4, 0), c41 = load(4, 1), c50 = load(5, 0), c51 = load(5, 1);
  __m512i c60 = load(6, 0), c61 = load(6, 1), c70 = load(7, 0), c71 = load(7, 1);
  for (size_t g = 0; g < groups; ++g, a += 4, b += 4 * kNr) {
    const __m512i b0 = _mm512_loadu_si512(b);
    const __m512i b1 = _mm512_loadu_si512(b + 4 * kLanes);
    DotRow(a, b0, b1, c00, c01);
    DotRow(a + kcq, b0, b1, c10, c11);
    DotRow(a + 2 * kcq, b0, b1, c20, c21);
    DotRow(a + 3 * kcq, b0, b1, c30, c31);
    DotRow(a + 4 * kcq, b0, b1, c40, c41);
    DotRow(a + 5 * kcq, b0, b1, c50, c51);
    DotRow(a + 6 * kcq, b0, b1, c60, c61);
    DotRow(a + 7 * kcq, b0, b1, c70, c71);
  }
  const auto store = [&](size_t r, __m512i lo, __m512i hi) {
    _mm512_storeu_si512(out + r * ld_out, lo);
    _mm512_storeu_si512(out + r * ld_out + kLanes, hi);
  };
  store(0, c00, c01);
  store(1, c10, c11);
  store(2, c20, c21);
  store(3, c30, c31);
  store(4, c40, c41);
  store(5, c50, c51);
  store(6, c60, c61);
  store(7, c70, c71);
}

alignas(64) constexpr int32_t kZeroTile[kMr * kNr] = {};

}  // namespace

void GemmInt8Avx512Vnni(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                        int32_t* c, size_t ldc) {
  if (k == 0 || !scratch.Ready()) {
    // k == 0 is the empty sum; a failed scratch allocation leaves the (slow) defining version.
    GemmInt8Portable(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  for (size_t jc = 0; jc < n; jc += kNc) {
    const size_t nc = Min(kNc, n - jc);
    for (size_t pc = 0; pc < k; pc += kKc) {
      const size_t kc = Min(kKc, k - pc), kcq = RoundUp(kc, 4), groups = kcq / 4;
      const bool accumulate = pc > 0;
      PackB(kc, nc, b + pc * ldb + jc, ldb, scratch.b, scratch.bias);
      for (size_t ic = 0; ic < m; ic += kMc) {
        const size_t mc = Min(kMc, m - ic);
        PackA(mc, kc, a + ic * lda + pc, lda, scratch.a);
        for (size_t jr = 0; jr < nc; jr += kNr) {
          const int8_t* b_panel = scratch.b + jr * kcq;
          const int32_t* bias = scratch.bias + jr;
          const size_t cols = Min(kNr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += kMr) {
            const size_t rows = Min(kMr, mc - ir);
            const uint8_t* a_rows = scratch.a + ir * kcq;
            int32_t* c_tile = c + (ic + ir) * ldc + jc + jr;
            if (rows == kMr && cols == kNr) {
              Kernel(groups, a_rows, kcq, b_panel, bias, accumulate ? c_tile : kZeroTile, accumulate ? ldc : kNr,
                     c_tile, ldc);
              continue;
            }
            // An edge tile goes through a full-size local copy; its padding lanes compute unused values.
            alignas(64) int32_t edge[kMr * kNr] = {};
            for (size_t r = 0; r < rows && accumulate; ++r) {
              std::memcpy(edge + r * kNr, c_tile + r * ldc, cols * sizeof(int32_t));
            }
            Kernel(groups, a_rows, kcq, b_panel, bias, edge, kNr, edge, kNr);
            for (size_t r = 0; r < rows; ++r) std::memcpy(c_tile + r * ldc, edge + r * kNr, cols * sizeof(int32_t));
          }
        }
      }
    }
  }
}

}  // namespace vcp::cpu::detail
