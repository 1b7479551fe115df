// CPU GEMM kernels for the two workloads, with run-time ISA dispatch (the BLAKE3 pattern): a portable tier that
// defines the answer, and fast tiers that must equal it bit for bit (tests/gemm_test.cpp forces each tier).
//
//   int8:          c (m, n) int32 = a (m, k) int8 * b (k, n) int8. Exact: any summation order gives the same bits
//                  while k <= 131071. Tiers: portable, AVX2, AVX-512 VNNI.
//   fp32-ordered:  c[i][j] = fma(a[i][k-1], b[k-1][j], ... fma(a[i][0], b[0][j], +0.0f)), the left-to-right chain
//                  over k, round to nearest even. Vectorised across j only, never across k. Tiers: portable
//                  (std::fma), AVX2+FMA.
// All matrices are row-major with explicit leading dimensions (elements between row starts). Single-threaded:
// callers split work across threads (rows of C, or tiles).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vcp::cpu {

enum class Tier { kPortable = 0, kAvx2 = 1, kAvx512Vnni = 2 };

std::string_view TierName(Tier tier);
// Compiled in and supported by this CPU (cpuid + OS state).
bool TierAvailable(Tier tier);
// The fastest available int8 tier, unless VCP_CPU_TIER=portable|avx2|avx512vnni forces one (if available).
Tier BestInt8Tier();
// The fastest available fp32-ordered tier (portable or AVX2); VCP_CPU_TIER applies too.
Tier BestFp32Tier();

// a (m, k) lda; b (k, n) ldb; c (m, n) ldc. Requires k <= 131071 and an available tier.
void GemmInt8(Tier tier, size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
              int32_t* c, size_t ldc);

// a (m, k) lda; b (k, n) ldb; c (m, n) ldc. kAvx512Vnni runs the AVX2 code (no separate fp32 tier).
void GemmFp32Ordered(Tier tier, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                     float* c, size_t ldc);

}  // namespace vcp::cpu
