// CPU GEMM kernels for the two workloads, with run-time ISA dispatch (the BLAKE3 pattern): a portable tier that
// defines the answer, and fast tiers that must equal it bit for bit (tests/gemm_test.cpp forces each tier).
//
//   int8:          c (m, n) int32 = a (m, k) int8 * b (k, n) int8. Exact: any summation order gives the same bits
//                  while k <= 131071. Tiers: portable, AVX2, AVX-VNNI, AVX-512 VNNI.
//   fp32-ordered:  c[i][j] = fma(a[i][k-1], b[k-1][j], ... fma(a[i][0], b[0][j], +0.0f)), the left-to-right chain
//                  over k, round to nearest even. Vectorised across j only, never across k. Tiers: portable
//                  (std::fma), AVX2+FMA (also on the AVX-VNNI tier), AVX-512.
// All matrices are row-major with explicit leading dimensions (elements between row starts). Single-threaded:
// callers split work across threads (rows of C, or tiles).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vcp::cpu {

// kAvxVnni is AVX2 + FMA + the VEX-encoded VNNI (Alder Lake, Sierra Forest and later: CPUs with VNNI but without
// AVX-512); only the int8 GEMM has code of its own there, every other kernel runs its AVX2 code (RunsAvx2Code).
// kAvx512Vnni needs AVX-512 F, BW, VL and VNNI (Ice Lake, Zen 4 and later); every kernel has this tier. The values
// are stable (benchmark arguments), not an order: ChooseTier prefers kAvx512Vnni, then kAvxVnni, then kAvx2.
enum class Tier { kPortable = 0, kAvx2 = 1, kAvx512Vnni = 2, kAvxVnni = 3 };

std::string_view TierName(Tier tier);
// Supported by this CPU (cpuid + OS register state), detected once and cached.
bool TierAvailable(Tier tier);
// The tier a process runs, chosen once on first use and cached (the BLAKE3 pattern): the fastest available one,
// unless the environment variable VCP_CPU_TIER=portable|avx2|avxvnni|avx512vnni names an available tier, which is then
// used (an unknown name or a tier the CPU lacks is ignored). Every CPU kernel (GEMMs, Philox, leaf bytes)
// dispatches on it.
Tier SelectedTier();
// The choice SelectedTier makes, as a pure function of the forced name (nullptr: none), for tests.
Tier ChooseTier(const char* forced);
// The tiers the int8 and fp32-ordered GEMMs run: SelectedTier().
Tier BestInt8Tier();
Tier BestFp32Tier();
// Whether a kernel without code of its own for `tier` runs its AVX2 code there: kAvx2 or kAvxVnni, on a CPU that
// has the tier.
bool RunsAvx2Code(Tier tier);

// a (m, k) lda; b (k, n) ldb; c (m, n) ldc. Requires k <= 131071 and an available tier.
void GemmInt8(Tier tier, size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
              int32_t* c, size_t ldc);

// a (m, k) lda; b (k, n) ldb; c (m, n) ldc.
void GemmFp32Ordered(Tier tier, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                     float* c, size_t ldc);

}  // namespace vcp::cpu
