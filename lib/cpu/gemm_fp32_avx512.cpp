// The AVX-512 tier of the fp32-ordered GEMM (compiled with -mavx512f, -mavx512bw, -mavx512vl and -mavx512vnni;
// the dispatcher calls it only on CPUs with Tier::kAvx512Vnni). Every element of C is the chain
// fma(a[i][k-1], b[k-1][j], ... fma(a[i][0], b[0][j], +0.0f)) of lib/cpu/gemm.h: lane j of an accumulator takes
// one fma per p, for p = 0, 1, ..., k-1 in order; vectorisation is across j only. The loop nest:
//
//   for each block of kNc columns of B and C
//     for each block of kKc values of k, in increasing k:   pack B (kc, nc) into panels of kNr columns (L2)
//       for each group of kMr rows of A and C:             copy A (kMr, kc) into one panel (L1)
//         for each panel of kNr columns:                   the micro-kernel continues the (kMr, kNr) chains of a C
//                                                          tile over the kc values of p, in registers throughout
//
// The register tile is 12 x 32: 24 zmm accumulators, two zmm of B and one broadcast of A per row, 27 of the 32
// registers. Each p costs 2 vector loads and 12 broadcasts for 24 fmas, within two loads per cycle, and the 24
// independent chains cover the fma latency (4 cycles at 2 per cycle needs 8). The A panel (12 x 512 floats, 24
// KiB) is reused by every panel of the B block (512 x 256 floats, 512 KiB, in L2) that the kernel sweeps: the long
// kc halves the C traffic and the per-call overhead against the AVX2 tier's B-panel-in-L1 order (kc 256, whose
// panel is 32 KiB of a 48 KiB L1), which measured a few percent slower at 1024^3 and 2048^3 on this Zen 5. The A
// panel stays row-major (a plain copy): the kernel's twelve broadcasts for one p then read twelve rows, which costs
// nothing in the loop, while a p-major panel needs a transpose that measured 10% slower on the verifier's tiles.
//
// A chain is stored to C at the end of a k block and reloaded at the start of the next, which is exact; the first
// k block starts from a +0.0f tile. Edge tiles need no copies: the kernel masks C's columns past `cols` and rows
// past `rows` (masked loads give zeros and masked stores write nothing), and the A panel and B block pad missing
// rows and columns with zeros, whose lanes compute unused values. k is never padded.
//
// The file uses no standard-library templates: inline functions instantiated here would be compiled for AVX-512
// and might be the copy the linker keeps for baseline code too.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace vcp::cpu::detail {

void GemmFp32OrderedPortable(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                             float* c, size_t ldc);

namespace {

constexpr size_t kLanes = 16;        // 32-bit lanes in a zmm register
constexpr size_t kMr = 12;           // rows of the register tile
constexpr size_t kNv = 2;            // zmm vectors per row of the register tile
constexpr size_t kNr = kNv * kLanes;  // columns of the register tile
// Block sizes measured on Zen 5 (48 KiB L1d, 1 MiB L2), keeping the B block within half of L2: kc 384..768 with
// nc 160..384 were within noise of each other at 1024^3; kc 1024 (nc 128) lost about 5% at 2048^3.
constexpr size_t kKc = 512;  // k per block
constexpr size_t kNc = 256;  // columns of B per packed block (a multiple of kNr)
constexpr size_t kInPlaceMaxRows = 64;  // see b_in_place in GemmFp32OrderedAvx512
static_assert(kMr % 3 == 0 && kNc % kNr == 0, "A rows are addressed in threes; B blocks hold whole panels");

inline size_t Min(size_t x, size_t y) { return x < y ? x : y; }

// One A panel and one B block per thread (callers run GEMMs on several threads at once), allocated on first use.
struct Scratch {
  float* a = nullptr;  // kMr x kKc
  float* b = nullptr;  // kKc x kNc
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    std::free(a);
    std::free(b);
  }
  bool Ready() {
    if (a == nullptr) a = static_cast<float*>(std::aligned_alloc(64, kMr * kKc * sizeof(float)));
    if (b == nullptr) b = static_cast<float*>(std::aligned_alloc(64, kKc * kNc * sizeof(float)));
    return a != nullptr && b != nullptr;
  }
};
thread_local Scratch scratch;

// a (rows, kc) lda, rows <= kMr -> out (kMr, kc), row-major; rows past `rows` are zero.
void PackA(size_t rows, size_t kc, const float* a, size_t lda, float* out) {
  for (size_t r = 0; r < kMr; ++r) {
    if (r < rows) {
      std::memcpy(out + r * kc, a + r * lda, kc * sizeof(float));
    } else {
      std::memset(out + r * kc, 0, kc * sizeof(float));
    }
  }
}

// The mask of the first `count` of 16 lanes (count <= 16).
inline __mmask16 FirstLanes(size_t count) { return static_cast<__mmask16>((1u << count) - 1); }

// b (kc, nc) ldb -> out: ceil(nc / kNr) panels of (kc, kNr), 64-byte aligned rows; missing columns are zero.
void PackB(size_t kc, size_t nc, const float* b, size_t ldb, float* out) {
  for (size_t p = 0; p < kc; ++p) {
    const float* row = b + p * ldb;
    for (size_t j0 = 0; j0 < nc; j0 += kNr) {
      float* dst = out + j0 * kc + p * kNr;
      for (size_t v = 0; v < kNv; ++v) {
        const size_t j = j0 + v * kLanes;
        const __mmask16 mask = FirstLanes(j < nc ? Min(kLanes, nc - j) : 0);
        _mm512_store_ps(dst + v * kLanes, _mm512_maskz_loadu_ps(mask, row + j));
      }
    }
  }
}

// out (rows, cols) ld_out: each element's chain continues from in (rows, cols) ld_in (a +0.0f tile for the first k
// block; in may alias out) over p = 0..kc-1 of the A panel a (kMr, kc) and the B panel b (kc, kNr) ld_b (packed:
// ld_b = kNr; in place: ldb). rows <= kMr, cols <= kNr. `next` is the C tile the following call reads; it is
// prefetched so that its loads do not stall that call's first fmas (a C tile is touched once per call, so it is
// rarely in L1 otherwise). The accumulators are a fully unrolled array with constant indices, which GCC 12 keeps
// in 24 registers (the inner loop has no spills or copies); noipa keeps call sites from specialising it.
__attribute__((noipa)) void Kernel(size_t kc, const float* a, const float* b, size_t ld_b, const float* in,
                                   size_t ld_in, float* out, size_t ld_out, size_t rows, size_t cols,
                                   const float* next) {
#pragma GCC unroll 16
  for (size_t r = 0; r < kMr; ++r) {
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) {
      // Integer arithmetic: rows of `next` past the end of C are prefetched (harmless) but never formed as pointers.
      const uintptr_t line = reinterpret_cast<uintptr_t>(next) + (r * ld_out + v * kLanes) * sizeof(float);
      _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
    }
  }
  __mmask16 col_mask[kNv];
#pragma GCC unroll 4
  for (size_t v = 0; v < kNv; ++v) col_mask[v] = FirstLanes(v * kLanes < cols ? Min(kLanes, cols - v * kLanes) : 0);
  // Rows past `rows` get an empty mask (computed without branches): their loads give zeros, their stores nothing.
  const auto mask = [&](size_t r, size_t v) {
    return static_cast<__mmask16>(col_mask[v] & -static_cast<unsigned>(r < rows));
  };
  __m512 acc[kMr][kNv];
  // Rows past `rows` read and write through row 0's address with an empty mask, so no pointer leaves C.
#pragma GCC unroll 16
  for (size_t r = 0; r < kMr; ++r) {
    const float* row = r < rows ? in + r * ld_in : in;
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) acc[r][v] = _mm512_maskz_loadu_ps(mask(r, v), row + v * kLanes);
  }
  // Row r of the A panel is read at a_base[r / 3] + (r % 3) * kc: four pointers and one index with scales 4 and 8
  // address all twelve rows, which leaves GCC enough integer registers to keep the loop free of reloads.
  const float* a_base[kMr / 3];
#pragma GCC unroll 8
  for (size_t q = 0; q < kMr / 3; ++q) a_base[q] = a + 3 * q * kc;
  for (size_t p = 0; p < kc; ++p, b += ld_b) {
    __m512 b_row[kNv];
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) b_row[v] = _mm512_loadu_ps(b + v * kLanes);
#pragma GCC unroll 16
    for (size_t r = 0; r < kMr; ++r) {
      const __m512 a_rp = _mm512_set1_ps(a_base[r / 3][(r % 3) * kc + p]);
#pragma GCC unroll 4
      for (size_t v = 0; v < kNv; ++v) acc[r][v] = _mm512_fmadd_ps(a_rp, b_row[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (size_t r = 0; r < kMr; ++r) {
    float* row = r < rows ? out + r * ld_out : out;
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) _mm512_mask_storeu_ps(row + v * kLanes, mask(r, v), acc[r][v]);
  }
}

// The starting tile of the first k block: +0.0f, the chains' defined start (never -0.0f).
alignas(64) constexpr float kZeroTile[kMr * kNr] = {};

}  // namespace

void GemmFp32OrderedAvx512(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                           float* c, size_t ldc) {
  if (k == 0 || !scratch.Ready()) {
    // k == 0 is the empty chain (+0.0f); a failed scratch allocation leaves the (slow) defining version.
    GemmFp32OrderedPortable(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  // Few row groups (m <= kInPlaceMaxRows) reuse a block of B too little to repay copying it: the kernel then
  // reads whole panels of B where they lie (n a multiple of kNr, so no panel is ragged). These are the verifier's
  // tiles (32 x 32 and 64 x 64 by k), 8-11% faster so. B with long rows (ldb > 2 * kNr) is copied whatever m is:
  // rows ldb apart (4 KiB and more in a square GEMM) make the in-place reads cost more than the copy (measured at
  // 64 x 1024 x 1024).
  const bool b_in_place = m <= kInPlaceMaxRows && ldb <= 2 * kNr && n % kNr == 0;
  for (size_t jc = 0; jc < n; jc += kNc) {
    const size_t nc = Min(kNc, n - jc);
    for (size_t pc = 0; pc < k; pc += kKc) {  // increasing k: the chains continue block after block
      const size_t kc = Min(kKc, k - pc);
      const bool accumulate = pc > 0;
      if (!b_in_place) PackB(kc, nc, b + pc * ldb + jc, ldb, scratch.b);
      for (size_t ir = 0; ir < m; ir += kMr) {
        const size_t rows = Min(kMr, m - ir);
        PackA(rows, kc, a + ir * lda + pc, lda, scratch.a);
        for (size_t jr = 0; jr < nc; jr += kNr) {
          float* c_tile = c + ir * ldc + jc + jr;
          // The next call's tile: the next panel of these rows, or the first panel of the next rows.
          const float* next = jr + kNr < nc ? c_tile + kNr : ir + kMr < m ? c + (ir + kMr) * ldc + jc : c_tile;
          const float* b_panel = b_in_place ? b + pc * ldb + jc + jr : scratch.b + jr * kc;
          Kernel(kc, scratch.a, b_panel, b_in_place ? ldb : kNr, accumulate ? c_tile : kZeroTile,
                 accumulate ? ldc : kNr, c_tile, ldc, rows, Min(kNr, nc - jr), next);
        }
      }
    }
  }
}

}  // namespace vcp::cpu::detail
