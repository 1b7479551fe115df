// The spec's input generator (docs/SPEC.md section 3, lib/shared/philox_inputs.h) on the CPU: Philox blocks for
// whole matrices (the engine), single rows and strided column segments (the verifier's tile recompute), and the
// int8 / fp32 element fills built on them. Dispatched like the GEMMs (cpu/gemm.h): a portable tier that defines
// the answer, AVX2 (four blocks per ymm) and AVX-512 (eight blocks per zmm) tiers that must equal it bit for bit
// (tests/philox_test.cpp forces each); a tier this CPU lacks runs the portable code.
#pragma once

#include <cstdint>

#include "cpu/gemm.h"
#include "shared/philox_inputs.h"

namespace vcp::cpu {

// words (runs * run_blocks, 4), row-major: row r * run_blocks + i holds the four words of Philox block
// (first + r * stride + i) of `matrix`, for r < runs and i < run_blocks (block indices wrap modulo 2^64, as the
// portable uint64 arithmetic does). The verifier's tile segments are short runs (run_blocks = 2 for 32 int8
// columns, 8 for 32 fp32 columns) of many rows (runs = K, stride = N / elements per block), so the counters are
// stepped in registers, never one call per run.
void PhiloxBlockRuns(Tier tier, shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride,
                     uint64_t run_blocks, uint64_t runs, uint32_t* words);

// words (count, 4), row-major: blocks [block0, block0 + count) of `matrix`.
void PhiloxBlocks(Tier tier, shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint64_t count,
                  uint32_t* words);

// out (n) = shared::Fp32FromWord(words[i]) for i < n, bit for bit. words (n); out may equal words (in place).
void Fp32FromWords(Tier tier, const uint32_t* words, uint64_t n, float* out);

// out (count) = element (first + i) of `matrix`, i < count, at SelectedTier().
void FillInt8(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, int8_t* out);
void FillFp32(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, float* out);

// out (runs, count), row-major: out[r * count + i] = element (first + r * stride + i) of `matrix`, for r < runs
// and i < count, at SelectedTier(): a verifier tile's columns of B are K runs of T elements, N apart. Runs of
// whole Philox blocks are one PhiloxBlockRuns straight into out (an int8 block's 16 bytes are its elements; fp32
// words are converted in place); any other runs are filled one at a time.
void FillInt8Runs(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t count,
                  uint64_t runs, int8_t* out);
void FillFp32Runs(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t count,
                  uint64_t runs, float* out);

// The tiers' entry points, one definition each in philox_fill.cpp, philox_fill_avx2.cpp and
// philox_fill_avx512.cpp, called by the dispatchers above only on a CPU that has the tier. Each writes the
// blocks of PhiloxBlockRuns as bytes, 16 per block (the words little-endian, which on this little-endian host is
// their memory image): out (runs * run_blocks * 16) bytes, any alignment, so that FillInt8 can write its int8
// elements in place. Require run_blocks > 0 and runs > 0.
namespace detail {
void PhiloxRunsPortable(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride,
                        uint64_t run_blocks, uint64_t runs, uint8_t* out);
void PhiloxRunsAvx2(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t run_blocks,
                    uint64_t runs, uint8_t* out);
void PhiloxRunsAvx512(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t run_blocks,
                      uint64_t runs, uint8_t* out);
// words (n) -> out (n) as in Fp32FromWords; both as bytes so that the conversion may run in place.
void Fp32FromWordsPortable(const uint8_t* words, uint64_t n, uint8_t* out);
void Fp32FromWordsAvx2(const uint8_t* words, uint64_t n, uint8_t* out);
void Fp32FromWordsAvx512(const uint8_t* words, uint64_t n, uint8_t* out);
}  // namespace detail

}  // namespace vcp::cpu
