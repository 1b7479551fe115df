// The portable tier (it defines the answer: Random123's own call through shared::PhiloxBlock), the dispatchers,
// and the element fills.
#include "cpu/philox_fill.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace vcp::cpu {

// The 16 bytes of a block are its words little-endian, and so its 16 int8 elements in order (the spec's byte
// order); the fast tiers store the words' memory image.
static_assert(std::endian::native == std::endian::little, "the Philox tiers store words in host byte order");

namespace detail {

void PhiloxRunsPortable(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride,
                        uint64_t run_blocks, uint64_t runs, uint8_t* out) {
  for (uint64_t r = 0; r < runs; ++r) {
    const uint64_t base = first + r * stride;
    for (uint64_t i = 0; i < run_blocks; ++i) {
      const auto w = shared::PhiloxBlock(key, matrix, base + i);
      // Word by word: GCC keeps the words in registers then, where one 16-byte copy goes through the stack.
      for (int j = 0; j < 4; ++j) std::memcpy(out + 4 * j, &w.v[j], 4);
      out += 16;
    }
  }
}

void Fp32FromWordsPortable(const uint8_t* words, uint64_t n, uint8_t* out) {
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t w;
    std::memcpy(&w, words + 4 * i, 4);
    const float f = shared::Fp32FromWord(w);
    std::memcpy(out + 4 * i, &f, 4);
  }
}

}  // namespace detail

namespace {

// out (runs * run_blocks * 16) bytes: PhiloxBlockRuns' blocks.
void Runs(Tier tier, shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t run_blocks,
          uint64_t runs, uint8_t* out) {
  if (run_blocks == 0 || runs == 0) return;
  if (tier == Tier::kAvx512Vnni && TierAvailable(tier)) {
    detail::PhiloxRunsAvx512(key, matrix, first, stride, run_blocks, runs, out);
  } else if (RunsAvx2Code(tier)) {
    detail::PhiloxRunsAvx2(key, matrix, first, stride, run_blocks, runs, out);
  } else {
    detail::PhiloxRunsPortable(key, matrix, first, stride, run_blocks, runs, out);
  }
}

void Fp32(Tier tier, const uint8_t* words, uint64_t n, uint8_t* out) {
  if (tier == Tier::kAvx512Vnni && TierAvailable(tier)) {
    detail::Fp32FromWordsAvx512(words, n, out);
  } else if (RunsAvx2Code(tier)) {
    detail::Fp32FromWordsAvx2(words, n, out);
  } else {
    detail::Fp32FromWordsPortable(words, n, out);
  }
}

// Blocks per FillFp32 batch: 8 KiB of words, which stay in L1 between generation and conversion.
constexpr uint64_t kFp32BatchBlocks = 512;

// Whether the runs of a *Runs fill are all whole blocks of per_block elements.
bool WholeBlocks(uint64_t per_block, uint64_t first, uint64_t stride, uint64_t count) {
  return first % per_block == 0 && stride % per_block == 0 && count % per_block == 0 && count > 0;
}

}  // namespace

void PhiloxBlockRuns(Tier tier, shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride,
                     uint64_t run_blocks, uint64_t runs, uint32_t* words) {
  Runs(tier, key, matrix, first, stride, run_blocks, runs, reinterpret_cast<uint8_t*>(words));
}

void PhiloxBlocks(Tier tier, shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint64_t count,
                  uint32_t* words) {
  Runs(tier, key, matrix, block0, 0, count, 1, reinterpret_cast<uint8_t*>(words));
}

void Fp32FromWords(Tier tier, const uint32_t* words, uint64_t n, float* out) {
  Fp32(tier, reinterpret_cast<const uint8_t*>(words), n, reinterpret_cast<uint8_t*>(out));
}

void FillInt8(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, int8_t* out) {
  constexpr uint64_t kPer = shared::kInt8PerBlock;
  auto* bytes = reinterpret_cast<uint8_t*>(out);
  uint64_t e = first;
  const uint64_t end = first + count;
  // A partial first or last block is one block: Random123's scalar call costs less than a vector batch's set-up.
  const auto partial = [&](uint64_t n) {
    const auto w = shared::PhiloxBlock(key, matrix, e / kPer);
    std::memcpy(bytes, reinterpret_cast<const uint8_t*>(w.v) + e % kPer, n);
    bytes += n;
    e += n;
  };
  if (e < end && e % kPer != 0) partial(std::min(end, (e / kPer + 1) * kPer) - e);
  // Whole blocks are their own 16 elements: generated straight into out.
  const uint64_t whole = (end - e) / kPer;
  Runs(SelectedTier(), key, matrix, e / kPer, 0, whole, 1, bytes);
  bytes += whole * kPer;
  e += whole * kPer;
  if (e < end) partial(end - e);
}

void FillFp32(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, float* out) {
  constexpr uint64_t kPer = shared::kFp32PerBlock;
  const Tier tier = SelectedTier();
  alignas(64) uint8_t words[kFp32BatchBlocks * 16];
  auto* bytes = reinterpret_cast<uint8_t*>(out);
  uint64_t e = first;
  const uint64_t end = first + count;
  while (e < end) {
    const uint64_t block0 = e / kPer;
    const uint64_t blocks = std::min(kFp32BatchBlocks, (end - 1) / kPer - block0 + 1);
    Runs(tier, key, matrix, block0, 0, blocks, 1, words);
    const uint64_t n = std::min(end, (block0 + blocks) * kPer) - e;
    Fp32(tier, words + 4 * (e - block0 * kPer), n, bytes);
    bytes += 4 * n;
    e += n;
  }
}

void FillInt8Runs(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t count,
                  uint64_t runs, int8_t* out) {
  constexpr uint64_t kPer = shared::kInt8PerBlock;
  if (runs > 1 && WholeBlocks(kPer, first, stride, count)) {
    Runs(SelectedTier(), key, matrix, first / kPer, stride / kPer, count / kPer, runs, reinterpret_cast<uint8_t*>(out));
    return;
  }
  for (uint64_t r = 0; r < runs; ++r) FillInt8(key, matrix, first + r * stride, count, out + r * count);
}

void FillFp32Runs(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t count,
                  uint64_t runs, float* out) {
  constexpr uint64_t kPer = shared::kFp32PerBlock;
  if (runs > 1 && WholeBlocks(kPer, first, stride, count)) {
    auto* bytes = reinterpret_cast<uint8_t*>(out);
    const Tier tier = SelectedTier();
    Runs(tier, key, matrix, first / kPer, stride / kPer, count / kPer, runs, bytes);
    Fp32(tier, bytes, runs * count, bytes);
    return;
  }
  for (uint64_t r = 0; r < runs; ++r) FillFp32(key, matrix, first + r * stride, count, out + r * count);
}

}  // namespace vcp::cpu
