#include "cpu/low_bytes.h"

namespace vcp::cpu {

void LowBytesPortable(const uint32_t* src, uint64_t segments, uint32_t length, uint8_t* dst, uint64_t dst_stride) {
  for (uint64_t s = 0; s < segments; ++s) {
    const uint32_t* in = src + s * length;
    uint8_t* out = dst + s * dst_stride;
    for (uint32_t i = 0; i < length; ++i) out[i] = static_cast<uint8_t>(in[i]);
  }
}

void LowBytes(Tier tier, const uint32_t* src, uint64_t segments, uint32_t length, uint8_t* dst, uint64_t dst_stride) {
  // Any tier above portable runs the AVX2 code, and only where the CPU has it (a tier it lacks gets the defined
  // result from the portable code instead of a fault, as the GEMMs do).
  static const bool avx2 = TierAvailable(Tier::kAvx2);
  if (tier != Tier::kPortable && avx2) {
    LowBytesAvx2(src, segments, length, dst, dst_stride);
  } else {
    LowBytesPortable(src, segments, length, dst, dst_stride);
  }
}

Tier BestLowBytesTier() {
  // The selected tier, capped at AVX2 (an available AVX-512 tier implies AVX2).
  return SelectedTier() == Tier::kPortable ? Tier::kPortable : Tier::kAvx2;
}

}  // namespace vcp::cpu
