// The int8 leaf's element bytes: C mod 2^8 of each int32 element (docs/SPEC.md section 6), packed contiguously.
// Committing is dominated by SHA-256 once a leaf holds one byte per element, so gathering those bytes out of the
// int32 C must not cost a visible share: a portable tier that defines the answer and an AVX2 tier that must equal
// it (tests/gemm_test.cpp runs both), dispatched like the GEMM tiers (cpu/gemm.h, VCP_CPU_TIER applies). One call
// takes a whole row of a band of tiles (segments of one tile row each, scattered to their tiles' slots), so the
// call and dispatch cost is paid once per row of C, not once per tile row.
#pragma once

#include <cstdint>

#include "cpu/gemm.h"

namespace vcp::cpu {

// For s in [0, segments) and i in [0, length): dst[s * dst_stride + i] = the low byte of src[s * length + i].
// src (segments * length) 4-byte elements, contiguous; dst holds segments runs of length bytes, dst_stride apart.
// A tier this CPU lacks (or kPortable) runs the portable code.
void LowBytes(Tier tier, const uint32_t* src, uint64_t segments, uint32_t length, uint8_t* dst, uint64_t dst_stride);
// The tier HashLeaves uses: AVX2 when available (AVX-512 adds nothing for a pack this simple).
Tier BestLowBytesTier();

void LowBytesPortable(const uint32_t* src, uint64_t segments, uint32_t length, uint8_t* dst, uint64_t dst_stride);
void LowBytesAvx2(const uint32_t* src, uint64_t segments, uint32_t length, uint8_t* dst, uint64_t dst_stride);

}  // namespace vcp::cpu
