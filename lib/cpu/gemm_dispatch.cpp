// Run-time choice of a GEMM tier (the BLAKE3 dispatch pattern). This file is compiled for the baseline ISA; it
// only calls into gemm_avx2.cpp / gemm_avxvnni.cpp / gemm_avx512.cpp after the CPU has said it runs their
// instructions.
#include <cpuid.h>

#include <cstdlib>
#include <string_view>

#include "cpu/gemm.h"

namespace vcp::cpu {

// The tiers' entry points, one definition each in gemm_portable.cpp, gemm_avx2.cpp, gemm_avxvnni.cpp and
// gemm_avx512.cpp / gemm_fp32_avx512.cpp. All
// follow the contract of GemmInt8 / GemmFp32Ordered in gemm.h: a (m, k) lda; b (k, n) ldb; c (m, n) ldc.
namespace detail {
void GemmInt8Portable(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                      int32_t* c, size_t ldc);
void GemmInt8Avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                  int32_t* c, size_t ldc);
void GemmInt8AvxVnni(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                     int32_t* c, size_t ldc);
void GemmInt8Avx512Vnni(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                        int32_t* c, size_t ldc);
void GemmFp32OrderedPortable(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                             float* c, size_t ldc);
void GemmFp32OrderedAvx2(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                         float* c, size_t ldc);
void GemmFp32OrderedAvx512(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                           float* c, size_t ldc);
}  // namespace detail

std::string_view TierName(Tier tier) {
  switch (tier) {
    case Tier::kPortable:
      return "portable";
    case Tier::kAvx2:
      return "avx2";
    case Tier::kAvxVnni:
      return "avxvnni";
    case Tier::kAvx512Vnni:
      return "avx512vnni";
  }
  return "unknown";
}

namespace {

// GCC's __builtin_cpu_supports reports a vector extension only when cpuid lists it AND the OS saves its
// registers (XCR0 via xgetbv), so no separate OS check is needed. Read once: cpuid is a serialising instruction.
// AVX-VNNI is read from cpuid directly (leaf 7, subleaf 1, EAX bit 4): clang 14's __builtin_cpu_supports does not
// know it. It uses only the ymm state, which the AVX2 check has already found saved.
bool CpuidAvxVnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && (eax & (1u << 4)) != 0;
}

struct CpuTiers {
  bool avx2 = false;
  bool avxvnni = false;
  bool avx512 = false;
  CpuTiers() {
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    avxvnni = avx2 && CpuidAvxVnni();
    avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
};

const CpuTiers& Cpu() {
  static const CpuTiers tiers;
  return tiers;
}

}  // namespace

bool TierAvailable(Tier tier) {
  switch (tier) {
    case Tier::kPortable:
      return true;
    case Tier::kAvx2:
      return Cpu().avx2;
    case Tier::kAvxVnni:
      return Cpu().avxvnni;
    case Tier::kAvx512Vnni:
      return Cpu().avx512;
  }
  return false;
}

Tier ChooseTier(const char* forced) {
  if (forced != nullptr) {
    const std::string_view name(forced);
    for (Tier tier : {Tier::kPortable, Tier::kAvx2, Tier::kAvxVnni, Tier::kAvx512Vnni}) {
      if (name == TierName(tier) && TierAvailable(tier)) return tier;
    }
  }
  for (Tier tier : {Tier::kAvx512Vnni, Tier::kAvxVnni, Tier::kAvx2}) {
    if (TierAvailable(tier)) return tier;
  }
  return Tier::kPortable;
}

Tier SelectedTier() {
  static const Tier tier = ChooseTier(std::getenv("VCP_CPU_TIER"));
  return tier;
}

Tier BestInt8Tier() { return SelectedTier(); }
Tier BestFp32Tier() { return SelectedTier(); }

bool RunsAvx2Code(Tier tier) { return (tier == Tier::kAvx2 || tier == Tier::kAvxVnni) && TierAvailable(tier); }

// A tier the CPU lacks runs the portable code (same bits by construction) rather than faulting.
void GemmInt8(Tier tier, size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
              int32_t* c, size_t ldc) {
  if (m == 0 || n == 0) return;
  if (tier == Tier::kAvx512Vnni && TierAvailable(tier)) {
    detail::GemmInt8Avx512Vnni(m, n, k, a, lda, b, ldb, c, ldc);
  } else if (tier == Tier::kAvxVnni && TierAvailable(tier)) {
    detail::GemmInt8AvxVnni(m, n, k, a, lda, b, ldb, c, ldc);
  } else if (tier == Tier::kAvx2 && TierAvailable(tier)) {
    detail::GemmInt8Avx2(m, n, k, a, lda, b, ldb, c, ldc);
  } else {
    detail::GemmInt8Portable(m, n, k, a, lda, b, ldb, c, ldc);
  }
}

void GemmFp32Ordered(Tier tier, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                     float* c, size_t ldc) {
  if (m == 0 || n == 0) return;
  if (tier == Tier::kAvx512Vnni && TierAvailable(tier)) {
    detail::GemmFp32OrderedAvx512(m, n, k, a, lda, b, ldb, c, ldc);
  } else if (RunsAvx2Code(tier)) {
    detail::GemmFp32OrderedAvx2(m, n, k, a, lda, b, ldb, c, ldc);
  } else {
    detail::GemmFp32OrderedPortable(m, n, k, a, lda, b, ldb, c, ldc);
  }
}

}  // namespace vcp::cpu
