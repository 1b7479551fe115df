// The AVX-512 VNNI tier of the int8 GEMM (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; the
// dispatcher calls it only on CPUs that have all four). Same loop nest as gemm_avx2.cpp (pack B panels, then a
// register-tiled micro-kernel over blocks of A's rows); see there for the blocking. Unlike there, A is read in
// place wherever it can be: its rows are already k-contiguous, which is all the kernel's broadcasts need, and on
// few-row GEMMs (the verifier's T x T x K tiles) copying A cost a quarter of the time. fp32-ordered's AVX-512
// tier is gemm_fp32_avx512.cpp.
//
// Why the result is exact. _mm512_dpbusd_epi32 multiplies UNSIGNED bytes by SIGNED bytes, four per 32-bit lane,
// and adds the four products to the lane. A is signed, so the kernel feeds it a + 128 (in 0..255; the bit pattern
// is a ^ 0x80, one XOR of each broadcast quad) and subtracts the offset afterwards:
//     sum_p a[i][p] * b[p][j]  =  sum_p (a[i][p] + 128) * b[p][j]  -  128 * sum_p b[p][j].
// The accumulators start at -128 * colsum(b) (over the block's k, computed while packing B), take the unsigned
// products, then C's value so far. (a + 128) * b can reach 255 * 128 per term, so for large k the running sum
// leaves the int32 range; VPDPBUSD and VPADDD wrap (two's complement, arithmetic mod 2^32), so every accumulator
// holds the true value mod 2^32. The true value of each block, and of each c[i][j] built from the blocks, is a sum
// of |a*b| <= 2^14 terms and lies within int32 for k <= 131071 (16384 * 131071 < 2^31), and the only int32
// congruent to it mod 2^32 is itself: the wrapped arithmetic returns it exactly. (The four-term sum inside one
// VPDPBUSD, at most 4 * 255 * 128 in magnitude, never wraps on its own; nothing saturates: that is VPDPBUSDS.)
//
// Layouts (4 consecutive k per 32-bit lane):
//   A rows: the caller's (stride lda), or, for a block whose k is not a multiple of 4 or whose rows do not fill
//           whole tiles, a copy with row stride kcq = kc rounded up to a multiple of 4, zero-padded (a = 0); a
//           32-bit load at column 4g is broadcast to all lanes and flipped to a + 128 there.
//   B panel: for each group g, kNr lanes of 4 bytes (b[4g][j], ..., b[4g+3][j]); missing rows/columns are 0,
//            which zeroes the padded terms whatever A holds.
//   bias:    -128 * colsum(b) for each column of the block, zero past nc.
//
// Like gemm_avx2.cpp, this file uses no standard-library templates (their out-of-line copies would be compiled
// for AVX-512 and could be the ones the linker keeps).
//
// GCC 12's AVX-512 headers self-initialise their "undefined" operands, which -Wmaybe-uninitialized reports at the
// inlined 128-bit shuffles (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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
// Blocks measured on Zen 5 (48 KiB L1d, 1 MiB L2): k blocks of 1024 rather than 512 halve the passes over C
// (+5-10% at n >= 2048); 256 was slower on the verifier's tiles.
constexpr size_t kKc = 1024;  // k per block (a multiple of 4, so only the last block has a ragged length)
constexpr size_t kMc = 128;   // rows of A per packed block (a multiple of kMr)
constexpr size_t kNc = 512;   // columns of B per packed block (a multiple of kNr)
constexpr size_t kLanes = 16;  // 32-bit lanes in a zmm register
static_assert(kKc % 4 == 0 && kMc % kMr == 0 && kNc % kNr == 0, "blocks must hold whole groups and tiles");

inline size_t Min(size_t x, size_t y) { return x < y ? x : y; }
inline size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }
// The first min(count, 64) lanes of a 64-byte mask.
inline __mmask64 FirstBytes(size_t count) { return count >= 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1; }

// Packed blocks, one set per thread, allocated on first use.
struct Scratch {
  int8_t* a = nullptr;      // kMc x kKc bytes, for the blocks A cannot be read in place
  int8_t* b = nullptr;      // kKc x kNc bytes
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
    if (a == nullptr) a = static_cast<int8_t*>(std::aligned_alloc(64, kMc * kKc));
    if (b == nullptr) b = static_cast<int8_t*>(std::aligned_alloc(64, kKc * kNc));
    if (bias == nullptr) bias = static_cast<int32_t*>(std::aligned_alloc(64, kNc * sizeof(int32_t)));
    return a != nullptr && b != nullptr && bias != nullptr;
  }
};
thread_local Scratch scratch;

// a (mc, kc) lda -> out (RoundUp(mc, kMr), kcq), zero-padded. 64 bytes at a time; the ragged end of a row through
// masks (a masked load reads zeros).
void PackA(size_t mc, size_t kc, const int8_t* a, size_t lda, int8_t* out) {
  const size_t kcq = RoundUp(kc, 4);
  for (size_t r = 0; r < mc; ++r) {
    for (size_t p = 0; p < kcq; p += 64) {
      const __m512i bytes = _mm512_maskz_loadu_epi8(FirstBytes(kc > p ? kc - p : 0), a + r * lda + p);
      _mm512_mask_storeu_epi8(out + r * kcq + p, FirstBytes(kcq - p), bytes);
    }
  }
  std::memset(out + mc * kcq, 0, (RoundUp(mc, kMr) - mc) * kcq);
}

// Four rows of one panel's 32 columns, r0..r3 (32 bytes each), interleaved into the panel's group layout: two
// vectors of 16 lanes holding (r0[j], r1[j], r2[j], r3[j]) for columns j = 0-15 and 16-31. The byte and word
// unpacks work within 128-bit halves, leaving columns (0-3 | 16-19), (4-7 | 20-23), (8-11 | 24-27) and
// (12-15 | 28-31); two 128-bit shuffles put the halves in column order.
inline void InterleaveGroup(__m256i r0, __m256i r1, __m256i r2, __m256i r3, __m512i& lo, __m512i& hi) {
  const __m256i lo01 = _mm256_unpacklo_epi8(r0, r1), hi01 = _mm256_unpackhi_epi8(r0, r1);
  const __m256i lo23 = _mm256_unpacklo_epi8(r2, r3), hi23 = _mm256_unpackhi_epi8(r2, r3);
  const __m512i q01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_unpacklo_epi16(lo01, lo23)),
                                         _mm256_unpackhi_epi16(lo01, lo23), 1);  // 0-3 | 16-19 | 4-7 | 20-23
  const __m512i q23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_unpacklo_epi16(hi01, hi23)),
                                         _mm256_unpackhi_epi16(hi01, hi23), 1);  // 8-11 | 24-27 | 12-15 | 28-31
  lo = _mm512_shuffle_i64x2(q01, q23, 0x88);  // halves 0, 2 of q01, then 0, 2 of q23: columns 0-15
  hi = _mm512_shuffle_i64x2(q01, q23, 0xDD);  // halves 1, 3 of each: columns 16-31
}

// One group of a panel: rows 4g..4g+3 (the first `valid`, 1-4, read; the rest zero) of the panel's 32 columns
// (cols masks a ragged last panel; masked-off bytes read as zero), interleaved to dst (2 x 64 bytes), and the
// packed vectors' lane sums added to (sum0, sum1).
inline void PackGroup(const int8_t* src, size_t ldb, size_t valid, __mmask32 cols, int8_t* dst, __m512i& sum0,
                      __m512i& sum1) {
  __m256i r[4];
  for (size_t t = 0; t < 4; ++t) {
    r[t] = t < valid ? _mm256_maskz_loadu_epi8(cols, src + t * ldb) : _mm256_setzero_si256();
  }
  __m512i lo, hi;
  InterleaveGroup(r[0], r[1], r[2], r[3], lo, hi);
  _mm512_storeu_si512(dst, lo);
  _mm512_storeu_si512(dst + 4 * kLanes, hi);
  const __m512i ones = _mm512_set1_epi8(1);
  sum0 = _mm512_dpbusd_epi32(sum0, ones, lo);
  sum1 = _mm512_dpbusd_epi32(sum1, ones, hi);
}

// Two whole panels at once, for one whole group: rows src[0..3] (ldb apart) of 64 columns interleaved into the
// group layout of panels p0 and p1 (2 x 64 bytes each), sums as in PackGroup. Within each 128-bit quarter the
// unpacks leave columns 0-3, 4-7, 8-11, 12-15 of that quarter's 16 in u0..u3; a 4 x 4 transpose of quarters
// then gives, for each 16 columns, the vector the layout wants.
inline void PackGroupPair(const int8_t* src, size_t ldb, int8_t* p0, int8_t* p1, __m512i* sums) {
  const __m512i r0 = _mm512_loadu_si512(src), r1 = _mm512_loadu_si512(src + ldb);
  const __m512i r2 = _mm512_loadu_si512(src + 2 * ldb), r3 = _mm512_loadu_si512(src + 3 * ldb);
  const __m512i lo01 = _mm512_unpacklo_epi8(r0, r1), hi01 = _mm512_unpackhi_epi8(r0, r1);
  const __m512i lo23 = _mm512_unpacklo_epi8(r2, r3), hi23 = _mm512_unpackhi_epi8(r2, r3);
  const __m512i u0 = _mm512_unpacklo_epi16(lo01, lo23), u1 = _mm512_unpackhi_epi16(lo01, lo23);
  const __m512i u2 = _mm512_unpacklo_epi16(hi01, hi23), u3 = _mm512_unpackhi_epi16(hi01, hi23);
  const __m512i t0 = _mm512_shuffle_i64x2(u0, u1, 0x44), t1 = _mm512_shuffle_i64x2(u0, u1, 0xEE);
  const __m512i t2 = _mm512_shuffle_i64x2(u2, u3, 0x44), t3 = _mm512_shuffle_i64x2(u2, u3, 0xEE);
  const __m512i v[4] = {_mm512_shuffle_i64x2(t0, t2, 0x88), _mm512_shuffle_i64x2(t0, t2, 0xDD),
                        _mm512_shuffle_i64x2(t1, t3, 0x88), _mm512_shuffle_i64x2(t1, t3, 0xDD)};
  _mm512_storeu_si512(p0, v[0]);
  _mm512_storeu_si512(p0 + 4 * kLanes, v[1]);
  _mm512_storeu_si512(p1, v[2]);
  _mm512_storeu_si512(p1 + 4 * kLanes, v[3]);
  const __m512i ones = _mm512_set1_epi8(1);
  for (size_t i = 0; i < 4; ++i) sums[i] = _mm512_dpbusd_epi32(sums[i], ones, v[i]);
}

// bias (kNr) = -128 * sum for the sums (sum0, sum1) of one panel's columns 0-15 and 16-31; the sums are at most
// 128 * kKc in magnitude, far inside int32.
inline void StoreBias(__m512i sum0, __m512i sum1, int32_t* bias) {
  _mm512_storeu_si512(bias, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum0, 7)));
  _mm512_storeu_si512(bias + kLanes, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum1, 7)));
}

// b (kc, nc) ldb -> out: RoundUp(nc, kNr) / kNr panels of (kcq / 4) x kNr lanes of 4 bytes, and
// bias[j] = -128 * sum_p b[p][j] for j < RoundUp(nc, kNr) (zero past nc, where the packed bytes are zero). The
// column sums come from the packed bytes themselves: VPDPBUSD of all-ones (unsigned) with a packed vector adds
// each lane's four b values, so the sums cost one instruction per 64 packed bytes. Whole groups of pairs of whole
// panels, nearly all of the work, take full-width loads; the last group and a ragged last panel go through masks.
void PackB(size_t kc, size_t nc, const int8_t* b, size_t ldb, int8_t* out, int32_t* bias) {
  const size_t groups = (kc + 3) / 4, full_groups = kc / 4;
  const size_t ncp = RoundUp(nc, kNr), panel_bytes = groups * kNr * 4;
  size_t jp = 0;
  for (; jp + 2 * kNr <= nc; jp += 2 * kNr) {
    int8_t* p0 = out + (jp / kNr) * panel_bytes;
    __m512i sums[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                       _mm512_setzero_si512()};
    const int8_t* src = b + jp;
    size_t g = 0;
    for (; g < full_groups; ++g, src += 4 * ldb) {
      PackGroupPair(src, ldb, p0 + g * kNr * 4, p0 + panel_bytes + g * kNr * 4, sums);
    }
    for (; g < groups; ++g, src += 4 * ldb) {
      PackGroup(src, ldb, kc - 4 * g, ~__mmask32{0}, p0 + g * kNr * 4, sums[0], sums[1]);
      PackGroup(src + kNr, ldb, kc - 4 * g, ~__mmask32{0}, p0 + panel_bytes + g * kNr * 4, sums[2], sums[3]);
    }
    StoreBias(sums[0], sums[1], bias + jp);
    StoreBias(sums[2], sums[3], bias + jp + kNr);
  }
  for (; jp < ncp; jp += kNr) {
    int8_t* panel = out + (jp / kNr) * panel_bytes;
    const __mmask32 cols = static_cast<__mmask32>(FirstBytes(nc - jp));
    const int8_t* src = b + jp;
    __m512i sum0 = _mm512_setzero_si512(), sum1 = _mm512_setzero_si512();
    for (size_t g = 0; g < groups; ++g, src += 4 * ldb) {
      PackGroup(src, ldb, g < full_groups ? 4 : kc - 4 * g, cols, panel + g * kNr * 4, sum0, sum1);
    }
    StoreBias(sum0, sum1, bias + jp);
  }
}

// One row of the register tile: (c0, c1) = columns 0-15 and 16-31 += the four bytes of A at a_quad, offset to
// a + 128, times the four B bytes in each lane. (Broadcasts measured free in a register-only loop; the flip was not
// timed alone, but this kernel with it beat the one reading a pre-flipped copy of A on every shape measured.)
inline void DotRow(const int8_t* a_quad, __m512i b0, __m512i b1, __m512i& c0, __m512i& c1) {
  int32_t quad;
  std::memcpy(&quad, a_quad, sizeof(quad));
  const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(quad), _mm512_set1_epi8(static_cast<char>(0x80)));
  c0 = _mm512_dpbusd_epi32(c0, av, b0);
  c1 = _mm512_dpbusd_epi32(c1, av, b1);
}

// out (kMr, kNr) ld_out = in (kMr, kNr) ld_in + bias (kNr, every row) + (a ^ 0x80) (kMr, 4 * groups) * b panel
// (4 * groups, kNr), all mod 2^32 (see the top of the file). a: kMr rows, a_stride apart; in may alias out.
// The accumulators start from the bias and take `in` only after the loop (addition mod 2^32 commutes): C's tile
// is usually a cache miss, and its lines, prefetched at the start, arrive while the products run instead of
// stalling the first ones. Named registers and noipa, as in gemm_avx2.cpp: that keeps GCC's loop copy-free.
__attribute__((noipa)) void Kernel(size_t groups, const int8_t* a, size_t a_stride, const int8_t* b,
                                   const int32_t* bias, const int32_t* in, size_t ld_in, int32_t* out, size_t ld_out) {
  static_assert(kMr == 8 && kNr == 32, "the kernel body is written out for an 8 x 32 tile");
  for (size_t r = 0; r < kMr; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(in + r * ld_in), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(in + r * ld_in + kLanes), _MM_HINT_T0);
  }
  const __m512i bias0 = _mm512_loadu_si512(bias), bias1 = _mm512_loadu_si512(bias + kLanes);
  __m512i c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
  __m512i c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1, c60 = bias0, c61 = bias1, c70 = bias0, c71 = bias1;
  for (size_t g = 0; g < groups; ++g, a += 4, b += 4 * kNr) {
    const __m512i b0 = _mm512_loadu_si512(b);
    const __m512i b1 = _mm512_loadu_si512(b + 4 * kLanes);
    DotRow(a, b0, b1, c00, c01);
    DotRow(a + a_stride, b0, b1, c10, c11);
    DotRow(a + 2 * a_stride, b0, b1, c20, c21);
    DotRow(a + 3 * a_stride, b0, b1, c30, c31);
    DotRow(a + 4 * a_stride, b0, b1, c40, c41);
    DotRow(a + 5 * a_stride, b0, b1, c50, c51);
    DotRow(a + 6 * a_stride, b0, b1, c60, c61);
    DotRow(a + 7 * a_stride, b0, b1, c70, c71);
  }
  const auto store = [&](size_t r, __m512i lo, __m512i hi) {
    const int32_t* src = in + r * ld_in;
    _mm512_storeu_si512(out + r * ld_out, _mm512_add_epi32(lo, _mm512_loadu_si512(src)));
    _mm512_storeu_si512(out + r * ld_out + kLanes, _mm512_add_epi32(hi, _mm512_loadu_si512(src + kLanes)));
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
        // In place unless a group would run past a row's end or a tile past the block's last row.
        const bool in_place = kc % 4 == 0 && mc % kMr == 0;
        if (!in_place) PackA(mc, kc, a + ic * lda + pc, lda, scratch.a);
        const int8_t* a_block = in_place ? a + ic * lda + pc : scratch.a;
        const size_t a_stride = in_place ? lda : kcq;
        for (size_t jr = 0; jr < nc; jr += kNr) {
          const int8_t* b_panel = scratch.b + jr * kcq;
          const int32_t* bias = scratch.bias + jr;
          const size_t cols = Min(kNr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += kMr) {
            const size_t rows = Min(kMr, mc - ir);
            const int8_t* a_rows = a_block + ir * a_stride;
            int32_t* c_tile = c + (ic + ir) * ldc + jc + jr;
            if (rows == kMr && cols == kNr) {
              Kernel(groups, a_rows, a_stride, b_panel, bias, accumulate ? c_tile : kZeroTile,
                     accumulate ? ldc : kNr, c_tile, ldc);
              continue;
            }
            // An edge tile goes through a full-size local copy; its padding lanes compute unused values.
            alignas(64) int32_t edge[kMr * kNr] = {};
            for (size_t r = 0; r < rows && accumulate; ++r) {
              std::memcpy(edge + r * kNr, c_tile + r * ldc, cols * sizeof(int32_t));
            }
            Kernel(groups, a_rows, a_stride, b_panel, bias, edge, kNr, edge, kNr);
            for (size_t r = 0; r < rows; ++r) std::memcpy(c_tile + r * ldc, edge + r * kNr, cols * sizeof(int32_t));
          }
        }
      }
    }
  }
}

}  // namespace vcp::cpu::detail
