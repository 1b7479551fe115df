// What one core's vector units can do for an int8 product at best, from registers alone (no loads, no blocking,
// no loop-carried chain longer than one add): the ceiling a GEMM kernel of that instruction mix cannot pass. Each
// loop body is the inner step of a 6 x 16 tile, 12 independent accumulators, written in assembly so that the
// compiler can neither merge nor drop the repeated products. Items are multiply-adds (the GEMM benchmarks' MAC).
//   exact_avx2      VPMADDWD (16 int16 x int16 products, summed in pairs) + VPADDD: 16 MACs per 2 instructions;
//                   the AVX2 tier's kernel (gemm_avx2.cpp), exact.
//   saturating_avx2 VPMADDUBSW (32 u8 x s8 products, pairs summed with int16 saturation) + VPMADDWD by ones +
//                   VPADDD: 32 MACs per 3 instructions; oneDNN's int8 kernel on CPUs without VNNI, NOT exact.
//   exact_avxvnni   VPDPBUSD on ymm (VEX, AVX-VNNI): 32 MACs per instruction, exact.
//   exact_avx512vnni VPDPBUSD on zmm: 64 MACs per instruction, exact.
// A kernel of one mix against oneDNN's of another is bounded by the ratio of their ceilings (docs/PERFORMANCE.md).
// A mix this CPU lacks reports an error instead of a figure.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "cpu/gemm.h"

#if defined(__x86_64__)
namespace {

constexpr uint64_t kSteps = 1 << 14;  // loop iterations per benchmark iteration

#define VCP_MADD_ADD(c) "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #c ", %%ymm" #c "\n\t"
#define VCP_UBSW(c) \
  "vpmaddubsw %%ymm12, %%ymm14, %%ymm15\n\tvpmaddwd %%ymm13, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #c \
  ", %%ymm" #c "\n\t"
#define VCP_DPBUSD_Y(c) "%{vex%} vpdpbusd %%ymm12, %%ymm14, %%ymm" #c "\n\t"
#define VCP_DPBUSD_Z(c) "vpdpbusd %%zmm12, %%zmm14, %%zmm" #c "\n\t"
#define VCP_TWELVE(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11)

// Registers are zeroed first (the values do not change the timing of these instructions).
#define VCP_ZERO_YMM "vpxor %%xmm12, %%xmm12, %%xmm12\n\tvpxor %%xmm13, %%xmm13, %%xmm13\n\tvpxor %%xmm14, %%xmm14, %%xmm14\n\t"
#define VCP_CLOBBER_YMM \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
      "xmm13", "xmm14", "xmm15"

void ExactAvx2(uint64_t steps) {
  asm volatile(VCP_ZERO_YMM
               "1:\n\t" VCP_TWELVE(VCP_MADD_ADD) "dec %0\n\tjnz 1b\n\tvzeroupper"
               : "+r"(steps)
               :
               : VCP_CLOBBER_YMM, "cc");
}

void SaturatingAvx2(uint64_t steps) {
  asm volatile(VCP_ZERO_YMM
               "1:\n\t" VCP_TWELVE(VCP_UBSW) "dec %0\n\tjnz 1b\n\tvzeroupper"
               : "+r"(steps)
               :
               : VCP_CLOBBER_YMM, "cc");
}

void ExactAvxVnni(uint64_t steps) {
  asm volatile(VCP_ZERO_YMM
               "1:\n\t" VCP_TWELVE(VCP_DPBUSD_Y) "dec %0\n\tjnz 1b\n\tvzeroupper"
               : "+r"(steps)
               :
               : VCP_CLOBBER_YMM, "cc");
}

void ExactAvx512Vnni(uint64_t steps) {
  asm volatile("vpxord %%zmm12, %%zmm12, %%zmm12\n\tvpxord %%zmm14, %%zmm14, %%zmm14\n\t"
               "1:\n\t" VCP_TWELVE(VCP_DPBUSD_Z) "dec %0\n\tjnz 1b\n\tvzeroupper"
               : "+r"(steps)
               :
               : VCP_CLOBBER_YMM, "cc");
}

struct Mix {
  const char* name;
  void (*loop)(uint64_t);
  uint64_t macs_per_step;
  bool (*available)();
};

// The library's own detection (cpu/gemm.h) says which instructions this CPU runs.
bool HasAvx2() { return vcp::cpu::TierAvailable(vcp::cpu::Tier::kAvx2); }
bool HasAvxVnni() { return vcp::cpu::TierAvailable(vcp::cpu::Tier::kAvxVnni); }
bool HasAvx512Vnni() { return vcp::cpu::TierAvailable(vcp::cpu::Tier::kAvx512Vnni); }

const Mix kMixes[] = {
    {"exact_avx2", ExactAvx2, 12 * 16, HasAvx2},
    {"saturating_avx2", SaturatingAvx2, 12 * 32, HasAvx2},
    {"exact_avxvnni", ExactAvxVnni, 12 * 32, HasAvxVnni},
    {"exact_avx512vnni", ExactAvx512Vnni, 12 * 64, HasAvx512Vnni},
};

// Arg: the mix (index into kMixes).
void BM_Int8Ceiling(benchmark::State& state) {
  const Mix& mix = kMixes[state.range(0)];
  state.SetLabel(mix.name);
  if (!mix.available()) {
    state.SkipWithError((std::string("this CPU lacks the instructions of ") + mix.name).c_str());
    return;
  }
  for (auto _ : state) mix.loop(kSteps);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSteps * mix.macs_per_step));
}
BENCHMARK(BM_Int8Ceiling)->ArgName("mix")->DenseRange(0, 3);

}  // namespace
#endif  // __x86_64__
