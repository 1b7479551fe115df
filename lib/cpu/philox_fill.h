// Fills runs of consecutive input elements (docs/SPEC.md section 3) on the CPU: whole matrices for the engine,
// single rows / column segments for the verifier. Same values as shared::Int8Element / Fp32Element, computed a
// block at a time (AVX2 eight blocks at a time where the CPU has it).
#pragma once

#include <cstdint>

#include "shared/philox_inputs.h"

namespace vcp::cpu {

// out[i] = element (first + i) of `matrix`, for i < count.
void FillInt8(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, int8_t* out);
void FillFp32(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, float* out);

// Philox output words of blocks [block0, block0 + count): words (count, 4), row-major. Portable and AVX2 tiers;
// the AVX2 one must equal the portable one (tests/philox_test.cpp).
void PhiloxBlocksPortable(shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint64_t count, uint32_t* words);
void PhiloxBlocksAvx2(shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint64_t count, uint32_t* words);
bool PhiloxAvx2Available();

}  // namespace vcp::cpu
