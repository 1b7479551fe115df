// The AVX-VNNI tier of the int8 GEMM (compiled with -mavx2 -mfma -mavxvnni; the dispatcher calls it only on CPUs
// with AVX2, FMA and the VEX-encoded VNNI of Alder Lake, Sierra Forest and later, which lack AVX-512). The same
// unsigned x signed dot product as the AVX-512 VNNI tier (gemm_avx512.cpp: why the offset a + 128 and the column
// sums make it exact, mod 2^32, for k <= 131071), on 8-lane ymm registers; the loop nest is gemm_avx2.cpp's. The
// fp32-ordered GEMM and the other kernels run their AVX2 code on this tier.
//
// Layouts (4 consecutive k per 32-bit lane):
//   A rows: the caller's (stride lda) when the block's k is a multiple of 4; the rows of a last, partial tile of
//           rows (and every row of a block with ragged k) come from a copy with row stride kcq = kc rounded up to a
//           multiple of 4, zero-padded. A 32-bit load at column 4g is broadcast and flipped to a + 128.
//   B panel: for each group g, kNr lanes of 4 bytes (b[4g][j], ..., b[4g+3][j]); missing rows/columns are 0.
//   bias:    -128 * colsum(b) for each column of the block, zero past nc.
//
// Like gemm_avx2.cpp, this file uses no standard-library templates.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace vcp::cpu::detail {

void GemmInt8Portable(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                      int32_t* c, size_t ldc);

namespace {

// A 6 x 16 tile: 12 accumulators, two B vectors, the broadcast and the flip constant fill the 16 ymm registers.
constexpr size_t kMr = 6;     // rows of the register tile
constexpr size_t kNr = 16;    // columns of the register tile: two ymm vectors of 8 lanes
constexpr size_t kKc = 1024;  // k per block (a multiple of 4, so only the last block has a ragged length)
constexpr size_t kMc = 120;   // rows of A per block (a multiple of kMr)
constexpr size_t kNc = 512;   // columns of B per packed block (a multiple of kNr)
constexpr size_t kLanes = 8;  // 32-bit lanes in a ymm register
static_assert(kKc % 4 == 0 && kMc % kMr == 0 && kNc % kNr == 0, "blocks must hold whole groups and tiles");

inline size_t Min(size_t x, size_t y) { return x < y ? x : y; }
inline size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }

// Packed blocks, one set per thread, allocated on first use.
struct Scratch {
  int8_t* a = nullptr;      // kMc x kKc bytes, for the rows A cannot be read in place
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

// a (rows, kc) lda -> out (RoundUp(rows, kMr), kcq), zero-padded: the rows past `rows` and the columns past kc.
void PackA(size_t rows, size_t kc, const int8_t* a, size_t lda, int8_t* out) {
  const size_t kcq = RoundUp(kc, 4);
  for (size_t r = 0; r < rows; ++r) {
    std::memcpy(out + r * kcq, a + r * lda, kc);
    std::memset(out + r * kcq + kc, 0, kcq - kc);
  }
  std::memset(out + rows * kcq, 0, (RoundUp(rows, kMr) - rows) * kcq);
}

// One group of a panel: rows 4g..4g+3 (the first `valid`, 1-4, read; the rest zero) of the panel's first `cols`
// (1-16) columns (the rest zero), interleaved to dst (64 bytes: lanes (r0[j], r1[j], r2[j], r3[j]) for j = 0-15),
// and the packed lanes' sums added to (sum0, sum1), columns 0-7 and 8-15. The byte unpacks pair rows 0/1 and 2/3
// for columns 0-7 (lo) and 8-15 (hi); the word unpacks then give the quads of columns 0-3, 4-7, 8-11, 12-15.
inline void PackGroup(const int8_t* src, size_t ldb, size_t valid, size_t cols, int8_t* dst, __m256i& sum0,
                      __m256i& sum1) {
  __m128i r[4];
  for (size_t t = 0; t < 4; ++t) {
    if (t >= valid) {
      r[t] = _mm_setzero_si128();
    } else if (cols == kNr) {
      r[t] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + t * ldb));
    } else {
      alignas(16) int8_t row[kNr] = {};
      std::memcpy(row, src + t * ldb, cols);
      r[t] = _mm_load_si128(reinterpret_cast<const __m128i*>(row));
    }
  }
  const __m128i lo01 = _mm_unpacklo_epi8(r[0], r[1]), hi01 = _mm_unpackhi_epi8(r[0], r[1]);
  const __m128i lo23 = _mm_unpacklo_epi8(r[2], r[3]), hi23 = _mm_unpackhi_epi8(r[2], r[3]);
  const __m256i v0 = _mm256_set_m128i(_mm_unpackhi_epi16(lo01, lo23), _mm_unpacklo_epi16(lo01, lo23));
  const __m256i v1 = _mm256_set_m128i(_mm_unpackhi_epi16(hi01, hi23), _mm_unpacklo_epi16(hi01, hi23));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 4 * kLanes), v1);
  const __m256i ones = _mm256_set1_epi8(1);
  sum0 = _mm256_dpbusd_avx_epi32(sum0, ones, v0);
  sum1 = _mm256_dpbusd_avx_epi32(sum1, ones, v1);
}

// b (kc, nc) ldb -> out: RoundUp(nc, kNr) / kNr panels of (kcq / 4) x kNr lanes of 4 bytes, and
// bias[j] = -128 * sum_p b[p][j] for j < RoundUp(nc, kNr) (zero past nc). The column sums come from the packed
// bytes, as in gemm_avx512.cpp (VPDPBUSD of all-ones bytes); they are at most 128 * kKc, far inside int32.
void PackB(size_t kc, size_t nc, const int8_t* b, size_t ldb, int8_t* out, int32_t* bias) {
  const size_t groups = (kc + 3) / 4, panel_bytes = groups * kNr * 4;
  for (size_t jp = 0; jp < nc; jp += kNr) {
    int8_t* panel = out + (jp / kNr) * panel_bytes;
    const size_t cols = Min(kNr, nc - jp);
    const int8_t* src = b + jp;
    __m256i sum0 = _mm256_setzero_si256(), sum1 = _mm256_setzero_si256();
    for (size_t g = 0; g < groups; ++g, src += 4 * ldb) {
      PackGroup(src, ldb, Min(4, kc - 4 * g), cols, panel + g * kNr * 4, sum0, sum1);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(bias + jp), _mm256_sub_epi32(_mm256_setzero_si256(),
                                                                                _mm256_slli_epi32(sum0, 7)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(bias + jp + kLanes),
                        _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sum1, 7)));
  }
}

// One row of the register tile: (c0, c1) = columns 0-7 and 8-15 += the four bytes of A at a_quad, offset to
// a + 128 by the XOR with flip, times the four B bytes in each lane.
inline void DotRow(const int8_t* a_quad, __m256i flip, __m256i b0, __m256i b1, __m256i& c0, __m256i& c1) {
  int32_t quad;
  std::memcpy(&quad, a_quad, sizeof(quad));
  const __m256i av = _mm256_xor_si256(_mm256_set1_epi32(quad), flip);
  c0 = _mm256_dpbusd_avx_epi32(c0, av, b0);
  c1 = _mm256_dpbusd_avx_epi32(c1, av, b1);
}

// out (kMr, kNr) ld_out = in (kMr, kNr) ld_in + bias (kNr, every row) + (a ^ 0x80) (kMr, 4 * groups) * b panel
// (4 * groups, kNr), all mod 2^32. a: kMr rows, a_stride apart; in may alias out. As in gemm_avx512.cpp, C's tile
// is prefetched and added after the loop; named registers and noipa, as in gemm_avx2.cpp.
__attribute__((noipa)) void Kernel(size_t groups, const int8_t* a, size_t a_stride, const int8_t* b,
                                   const int32_t* bias, const int32_t* in, size_t ld_in, int32_t* out, size_t ld_out) {
  static_assert(kMr == 6 && kNr == 16, "the kernel body is written out for a 6 x 16 tile");
  for (size_t r = 0; r < kMr; ++r) _mm_prefetch(reinterpret_cast<const char*>(in + r * ld_in), _MM_HINT_T0);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m256i bias0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias));
  const __m256i bias1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + kLanes));
  __m256i c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;
  __m256i c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
  for (size_t g = 0; g < groups; ++g, a += 4, b += 4 * kNr) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 4 * kLanes));
    DotRow(a, flip, b0, b1, c00, c01);
    DotRow(a + a_stride, flip, b0, b1, c10, c11);
    DotRow(a + 2 * a_stride, flip, b0, b1, c20, c21);
    DotRow(a + 3 * a_stride, flip, b0, b1, c30, c31);
    DotRow(a + 4 * a_stride, flip, b0, b1, c40, c41);
    DotRow(a + 5 * a_stride, flip, b0, b1, c50, c51);
  }
  const auto store = [&](size_t r, __m256i lo, __m256i hi) {
    const int32_t* src = in + r * ld_in;
    const __m256i in_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    const __m256i in_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + kLanes));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * ld_out), _mm256_add_epi32(lo, in_lo));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * ld_out + kLanes), _mm256_add_epi32(hi, in_hi));
  };
  store(0, c00, c01);
  store(1, c10, c11);
  store(2, c20, c21);
  store(3, c30, c31);
  store(4, c40, c41);
  store(5, c50, c51);
}

alignas(32) constexpr int32_t kZeroTile[kMr * kNr] = {};

}  // namespace

void GemmInt8AvxVnni(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
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
        // Whole tiles of rows are read in place when k is a multiple of 4; the rows from `copied` on (all of them
        // for ragged k, else a last partial tile) come from the zero-padded copy, where a group never runs past a
        // row's end and the missing rows exist.
        const size_t copied = kc % 4 == 0 ? mc / kMr * kMr : 0;
        if (copied < mc) PackA(mc - copied, kc, a + (ic + copied) * lda + pc, lda, scratch.a);
        for (size_t jr = 0; jr < nc; jr += kNr) {
          const int8_t* b_panel = scratch.b + jr * kcq;
          const int32_t* bias = scratch.bias + jr;
          const size_t cols = Min(kNr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += kMr) {
            const size_t rows = Min(kMr, mc - ir);
            const bool in_place = ir < copied;
            const int8_t* a_rows = in_place ? a + (ic + ir) * lda + pc : scratch.a + (ir - copied) * kcq;
            const size_t a_stride = in_place ? lda : kcq;
            int32_t* c_tile = c + (ic + ir) * ldc + jc + jr;
            if (rows == kMr && cols == kNr) {
              Kernel(groups, a_rows, a_stride, b_panel, bias, accumulate ? c_tile : kZeroTile,
                     accumulate ? ldc : kNr, c_tile, ldc);
              continue;
            }
            // An edge tile goes through a full-size local copy; its padding lanes compute unused values.
            alignas(32) int32_t edge[kMr * kNr] = {};
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
