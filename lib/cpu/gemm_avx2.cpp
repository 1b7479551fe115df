// The AVX2 + FMA tier of both GEMMs (compiled with -mavx2 -mfma; the dispatcher calls it only on CPUs that have
// both). Structure, shared by the two kernels (the GotoBLAS / BLIS loop nest):
//
//   for each block of kNc columns of B and C
//     for each block of kKc values of k, in increasing k:  pack B (kc, nc) into column panels of kNr
//       for each block of kMc rows of A and C:              pack A (mc, kc)
//         for each panel of kNr columns, each group of kMr rows: the micro-kernel adds a (kMr, kc) x (kc, kNr)
//         product into a (kMr, kNr) tile of C, held in registers across all of kc.
//
// A panel of B (kc x kNr: 16 KiB for int8, 32 KiB for fp32) stays in L1 while the A block (L2) streams past it.
// Edge tiles (fewer than kMr rows or kNr columns) are padded with zeros in the packed copies and go through a
// small local tile, so every shape is handled by the same full-size kernel.
//
// The file uses no standard-library templates: inline functions instantiated here would be compiled for AVX2 and
// might be the copy the linker keeps for baseline code too.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace vcp::cpu::detail {

void GemmInt8Portable(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                      int32_t* c, size_t ldc);
void GemmFp32OrderedPortable(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                             float* c, size_t ldc);

namespace {

// A 6 x 16 tile: 12 accumulators, two B vectors and one broadcast fill 15 of the 16 ymm registers (the int8 madd's
// product takes the last). Against 4 x 16 (8 accumulators, two fewer independent chains than two FMA pipes with a
// 4-cycle latency need), measured on Zen 5 with the tier forced: fp32-ordered 11% faster at 1024^3, int8 within
// noise.
constexpr size_t kMr = 6;     // rows of the register tile
constexpr size_t kNr = 16;    // columns of the register tile: two ymm vectors of 8 lanes
// Block sizes measured on Zen 3 (32 KiB L1d, 512 KiB L2); 256..512 and 64..128 are all within a few percent.
constexpr size_t kKc = 512;   // k per block (even, so only the last block can have an odd length)
constexpr size_t kMc = 120;   // rows of A per packed block (a multiple of kMr)
constexpr size_t kNc = 512;   // columns of B per packed block (a multiple of kNr)
constexpr size_t kLanes = 8;  // 32-bit lanes in a ymm register
static_assert(kKc % 2 == 0 && kMc % kMr == 0 && kNc % kNr == 0, "blocks must hold whole pairs and tiles");

inline size_t Min(size_t x, size_t y) { return x < y ? x : y; }
inline size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }

// Packed blocks, one set per thread (callers run GEMMs on several threads at once), allocated on first use.
struct Scratch {
  void* a = nullptr;  // up to kMc x kKc elements of 4 bytes (fp32; int8 packs to 2 bytes)
  void* b = nullptr;  // up to kKc x kNc elements of 4 bytes
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    std::free(a);
    std::free(b);
  }
  bool Ready() {
    if (a == nullptr) a = std::aligned_alloc(64, kMc * kKc * 4);
    if (b == nullptr) b = std::aligned_alloc(64, kKc * kNc * 4);
    return a != nullptr && b != nullptr;
  }
};
thread_local Scratch scratch;

// ---------------------------------------------------------------------------------------------------------------
// int8: _mm256_madd_epi16 multiplies 16 int16 pairs and adds adjacent products into 8 int32 lanes. Both inputs
// are int8 sign-extended to int16, so each product is at most 128 * 128 = 2^14 in magnitude and a pair at most
// 2^15: exact in int32, and the int32 accumulation is exact for k <= 131071 (gemm.h). Each madd advances lane j
// of row i's accumulator, c[i][j], by two consecutive k, which fixes the packed layouts:
//   A block: row-major int16, row stride kcp = kc rounded up to even, odd tail padded with 0; a 32-bit load at
//            column 2q is the pair (a[i][2q], a[i][2q+1]), broadcast to all lanes.
//   B panel: for each pair q, kNr 32-bit lanes (b[2q][j], b[2q+1][j]) for j = 0..kNr-1; missing rows/columns 0.

// a (mc, kc) lda -> out (RoundUp(mc, kMr), kcp) int16; rows past mc are zero.
void PackAInt8(size_t mc, size_t kc, const int8_t* a, size_t lda, int16_t* out) {
  const size_t kcp = RoundUp(kc, 2);
  for (size_t r = 0; r < RoundUp(mc, kMr); ++r) {
    int16_t* dst = out + r * kcp;
    if (r >= mc) {
      std::memset(dst, 0, kcp * sizeof(int16_t));
      continue;
    }
    const int8_t* src = a + r * lda;
    size_t p = 0;
    for (; p + 16 <= kc; p += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + p));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + p), _mm256_cvtepi8_epi16(bytes));
    }
    for (; p < kc; ++p) dst[p] = src[p];
    if (kc < kcp) dst[kc] = 0;
  }
}

// b (kc, nc) ldb -> out: RoundUp(nc, kNr) / kNr panels of (kcp / 2) x kNr int16 pairs.
void PackBInt8(size_t kc, size_t nc, const int8_t* b, size_t ldb, int16_t* out) {
  static_assert(kNr == 16, "one 16-byte load per row covers a panel");
  const size_t pairs = (kc + 1) / 2;
  for (size_t q = 0; q < pairs; ++q) {
    const int8_t* row0 = b + 2 * q * ldb;
    const int8_t* row1 = 2 * q + 1 < kc ? row0 + ldb : nullptr;
    for (size_t j0 = 0; j0 < nc; j0 += kNr) {
      int16_t* dst = out + (j0 * pairs + q * kNr) * 2;
      if (j0 + kNr <= nc && row1 != nullptr) {
        // Interleave the two rows byte by byte, then sign-extend: lane j becomes (b[2q][j], b[2q+1][j]).
        const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row0 + j0));
        const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row1 + j0));
        _mm256_store_si256(reinterpret_cast<__m256i*>(dst), _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x0, x1)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(dst + 16), _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(x0, x1)));
      } else {
        for (size_t j = 0; j < kNr; ++j) {
          const bool in = j0 + j < nc;
          dst[2 * j] = in ? row0[j0 + j] : 0;
          dst[2 * j + 1] = in && row1 != nullptr ? row1[j0 + j] : 0;
        }
      }
    }
  }
}

// One row of the register tile: (c0, c1) = columns 0-7 and 8-15 += the pair at a_pair times the B vectors.
inline void MaddRow(const int16_t* a_pair, __m256i b0, __m256i b1, __m256i& c0, __m256i& c1) {
  int32_t pair;
  std::memcpy(&pair, a_pair, sizeof(pair));
  const __m256i av = _mm256_set1_epi32(pair);
  c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(av, b0));
  c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(av, b1));
}

// out (kMr, kNr) ld_out = in (kMr, kNr) ld_in + a (kMr, 2 * pairs) * b panel (2 * pairs, kNr).
// a: packed A rows with stride kcp; b: one packed B panel; in may alias out. The tile lives in twelve named
// registers and the starting values always come from memory (a zero tile for the first k block). Written this
// way (no arrays of vectors, no branch on the tile, noipa so no call site specialises it), GCC 12 keeps the loop
// free of register copies and spills; the other forms cost up to half the speed.
__attribute__((noipa)) void KernelInt8(size_t pairs, const int16_t* a, size_t kcp, const int16_t* b, const int32_t* in,
                                       size_t ld_in, int32_t* out, size_t ld_out) {
  static_assert(kMr == 6 && kNr == 16, "the kernel body is written out for a 6 x 16 tile");
  const auto load = [&](size_t r, size_t v) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + r * ld_in + v * kLanes));
  };
  __m256i c00 = load(0, 0), c01 = load(0, 1), c10 = load(1, 0), c11 = load(1, 1);
  __m256i c20 = load(2, 0), c21 = load(2, 1), c30 = load(3, 0), c31 = load(3, 1);
  __m256i c40 = load(4, 0), c41 = load(4, 1), c50 = load(5, 0), c51 = load(5, 1);
  for (size_t q = 0; q < pairs; ++q, a += 2, b += 2 * kNr) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 2 * kLanes));
    MaddRow(a, b0, b1, c00, c01);
    MaddRow(a + kcp, b0, b1, c10, c11);
    MaddRow(a + 2 * kcp, b0, b1, c20, c21);
    MaddRow(a + 3 * kcp, b0, b1, c30, c31);
    MaddRow(a + 4 * kcp, b0, b1, c40, c41);
    MaddRow(a + 5 * kcp, b0, b1, c50, c51);
  }
  const auto store = [&](size_t r, __m256i lo, __m256i hi) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * ld_out), lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * ld_out + kLanes), hi);
  };
  store(0, c00, c01);
  store(1, c10, c11);
  store(2, c20, c21);
  store(3, c30, c31);
  store(4, c40, c41);
  store(5, c50, c51);
}

// ---------------------------------------------------------------------------------------------------------------
// fp32-ordered: lane j of an accumulator is the fma chain of one c[i][j]; each step multiplies a broadcast
// a[i][p] by the row b[p][j..j+7] for p = 0, 1, ..., k-1 in order, so every element sees exactly the portable
// tier's sequence of roundings. Vectorisation is across j only; the kMr * kNr / 8 accumulators give the
// independent chains that hide the FMA latency. Between k blocks a chain is stored to C and reloaded, which is
// exact. Chains start from +0.0f and k is never padded.
//   A block: row-major copy, row stride kc; rows past mc are zero.
//   B panel: for each p, kNr floats b[p][j]; missing columns are zero.

// a (mc, kc) lda -> out (RoundUp(mc, kMr), kc).
void PackAFp32(size_t mc, size_t kc, const float* a, size_t lda, float* out) {
  for (size_t r = 0; r < RoundUp(mc, kMr); ++r) {
    if (r < mc) {
      std::memcpy(out + r * kc, a + r * lda, kc * sizeof(float));
    } else {
      std::memset(out + r * kc, 0, kc * sizeof(float));
    }
  }
}

// b (kc, nc) ldb -> out: RoundUp(nc, kNr) / kNr panels of kc x kNr.
void PackBFp32(size_t kc, size_t nc, const float* b, size_t ldb, float* out) {
  for (size_t p = 0; p < kc; ++p) {
    const float* row = b + p * ldb;
    for (size_t j0 = 0; j0 < nc; j0 += kNr) {
      float* dst = out + j0 * kc + p * kNr;
      if (j0 + kNr <= nc) {
        for (size_t v = 0; v < kNr / kLanes; ++v) {
          _mm256_store_ps(dst + v * kLanes, _mm256_loadu_ps(row + j0 + v * kLanes));
        }
      } else {
        for (size_t j = 0; j < kNr; ++j) dst[j] = j0 + j < nc ? row[j0 + j] : 0.0f;
      }
    }
  }
}

// One row of the register tile: (c0, c1) = columns 0-7 and 8-15, one fma step with a[i][p] at a_ip.
inline void FmaRow(const float* a_ip, __m256 b0, __m256 b1, __m256& c0, __m256& c1) {
  const __m256 av = _mm256_broadcast_ss(a_ip);
  c0 = _mm256_fmadd_ps(av, b0, c0);
  c1 = _mm256_fmadd_ps(av, b1, c1);
}

// out (kMr, kNr) ld_out: each element's chain continues from in (kMr, kNr) ld_in (+0.0f for the first k block)
// over p = 0..kc-1 of a (kMr, kc) rows with stride kc and one packed B panel (kc, kNr). in may alias out.
// Written like KernelInt8, for the same reason.
__attribute__((noipa)) void KernelFp32(size_t kc, const float* a, const float* b, const float* in, size_t ld_in,
                                       float* out, size_t ld_out) {
  static_assert(kMr == 6 && kNr == 16, "the kernel body is written out for a 6 x 16 tile");
  const auto load = [&](size_t r, size_t v) { return _mm256_loadu_ps(in + r * ld_in + v * kLanes); };
  __m256 c00 = load(0, 0), c01 = load(0, 1), c10 = load(1, 0), c11 = load(1, 1);
  __m256 c20 = load(2, 0), c21 = load(2, 1), c30 = load(3, 0), c31 = load(3, 1);
  __m256 c40 = load(4, 0), c41 = load(4, 1), c50 = load(5, 0), c51 = load(5, 1);
  for (size_t p = 0; p < kc; ++p, ++a, b += kNr) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + kLanes);
    FmaRow(a, b0, b1, c00, c01);
    FmaRow(a + kc, b0, b1, c10, c11);
    FmaRow(a + 2 * kc, b0, b1, c20, c21);
    FmaRow(a + 3 * kc, b0, b1, c30, c31);
    FmaRow(a + 4 * kc, b0, b1, c40, c41);
    FmaRow(a + 5 * kc, b0, b1, c50, c51);
  }
  const auto store = [&](size_t r, __m256 lo, __m256 hi) {
    _mm256_storeu_ps(out + r * ld_out, lo);
    _mm256_storeu_ps(out + r * ld_out + kLanes, hi);
  };
  store(0, c00, c01);
  store(1, c10, c11);
  store(2, c20, c21);
  store(3, c30, c31);
  store(4, c40, c41);
  store(5, c50, c51);
}

// The starting tiles of the first k block: int32 0, and +0.0f (the chains' defined start; never -0.0f).
alignas(32) constexpr int32_t kZeroTileInt32[kMr * kNr] = {};
alignas(32) constexpr float kZeroTileFp32[kMr * kNr] = {};

}  // namespace

void GemmInt8Avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                  int32_t* c, size_t ldc) {
  if (k == 0 || !scratch.Ready()) {
    // k == 0 is the empty sum; a failed scratch allocation leaves the (slow) defining version.
    GemmInt8Portable(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  int16_t* a_pack = static_cast<int16_t*>(scratch.a);
  int16_t* b_pack = static_cast<int16_t*>(scratch.b);
  for (size_t jc = 0; jc < n; jc += kNc) {
    const size_t nc = Min(kNc, n - jc);
    for (size_t pc = 0; pc < k; pc += kKc) {
      const size_t kc = Min(kKc, k - pc), kcp = RoundUp(kc, 2), pairs = kcp / 2;
      const bool accumulate = pc > 0;
      PackBInt8(kc, nc, b + pc * ldb + jc, ldb, b_pack);
      for (size_t ic = 0; ic < m; ic += kMc) {
        const size_t mc = Min(kMc, m - ic);
        PackAInt8(mc, kc, a + ic * lda + pc, lda, a_pack);
        for (size_t jr = 0; jr < nc; jr += kNr) {
          const int16_t* b_panel = b_pack + jr * kcp;
          const size_t cols = Min(kNr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += kMr) {
            const size_t rows = Min(kMr, mc - ir);
            const int16_t* a_rows = a_pack + ir * kcp;
            int32_t* c_tile = c + (ic + ir) * ldc + jc + jr;
            if (rows == kMr && cols == kNr) {
              KernelInt8(pairs, a_rows, kcp, b_panel, accumulate ? c_tile : kZeroTileInt32, accumulate ? ldc : kNr,
                         c_tile, ldc);
              continue;
            }
            // An edge tile goes through a full-size local copy; its padding lanes compute unused zeros.
            alignas(32) int32_t edge[kMr * kNr] = {};
            for (size_t r = 0; r < rows && accumulate; ++r) {
              std::memcpy(edge + r * kNr, c_tile + r * ldc, cols * sizeof(int32_t));
            }
            KernelInt8(pairs, a_rows, kcp, b_panel, edge, kNr, edge, kNr);
            for (size_t r = 0; r < rows; ++r) std::memcpy(c_tile + r * ldc, edge + r * kNr, cols * sizeof(int32_t));
          }
        }
      }
    }
  }
}

void GemmFp32OrderedAvx2(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                         float* c, size_t ldc) {
  if (k == 0 || !scratch.Ready()) {
    GemmFp32OrderedPortable(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  float* a_pack = static_cast<float*>(scratch.a);
  float* b_pack = static_cast<float*>(scratch.b);
  for (size_t jc = 0; jc < n; jc += kNc) {
    const size_t nc = Min(kNc, n - jc);
    for (size_t pc = 0; pc < k; pc += kKc) {  // increasing k: the chains continue block after block
      const size_t kc = Min(kKc, k - pc);
      const bool accumulate = pc > 0;
      PackBFp32(kc, nc, b + pc * ldb + jc, ldb, b_pack);
      for (size_t ic = 0; ic < m; ic += kMc) {
        const size_t mc = Min(kMc, m - ic);
        PackAFp32(mc, kc, a + ic * lda + pc, lda, a_pack);
        for (size_t jr = 0; jr < nc; jr += kNr) {
          const float* b_panel = b_pack + jr * kc;
          const size_t cols = Min(kNr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += kMr) {
            const size_t rows = Min(kMr, mc - ir);
            const float* a_rows = a_pack + ir * kc;
            float* c_tile = c + (ic + ir) * ldc + jc + jr;
            if (rows == kMr && cols == kNr) {
              const float* in = accumulate ? c_tile : kZeroTileFp32;
              KernelFp32(kc, a_rows, b_panel, in, accumulate ? ldc : kNr, c_tile, ldc);
              continue;
            }
            // The edge tile carries the valid chains in and out; its padding lanes compute unused zeros.
            alignas(32) float edge[kMr * kNr] = {};
            for (size_t r = 0; r < rows && accumulate; ++r) {
              std::memcpy(edge + r * kNr, c_tile + r * ldc, cols * sizeof(float));
            }
            KernelFp32(kc, a_rows, b_panel, edge, kNr, edge, kNr);
            for (size_t r = 0; r < rows; ++r) std::memcpy(c_tile + r * ldc, edge + r * kNr, cols * sizeof(float));
          }
        }
      }
    }
  }
}

}  // namespace vcp::cpu::detail
