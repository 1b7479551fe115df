#include "cpu/philox_fill.h"

#include <algorithm>
#include <cstring>

namespace vcp::cpu {

void PhiloxBlocksPortable(shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint64_t count, uint32_t* words) {
  for (uint64_t i = 0; i < count; ++i) {
    const auto w = shared::PhiloxBlock(key, matrix, block0 + i);
    for (int j = 0; j < 4; ++j) words[4 * i + j] = w.v[j];
  }
}

bool PhiloxAvx2Available() {
  static const bool available = __builtin_cpu_supports("avx2");
  return available;
}

namespace {

// Blocks per batch: enough to keep the AVX2 lanes busy, small enough to stay in L1.
constexpr uint64_t kBatchBlocks = 64;

void PhiloxBlocks(shared::PhiloxKey key, uint32_t matrix, uint64_t block0, uint64_t count, uint32_t* words) {
  if (PhiloxAvx2Available()) {
    PhiloxBlocksAvx2(key, matrix, block0, count, words);
  } else {
    PhiloxBlocksPortable(key, matrix, block0, count, words);
  }
}

// Generic run fill: `per_block` elements per Philox block; convert(words_of_block, j) gives element j of a block.
template <typename T, typename Convert>
void FillRun(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, T* out, uint64_t per_block,
             const Convert& convert) {
  uint32_t words[kBatchBlocks * 4];
  uint64_t e = first;
  const uint64_t end = first + count;
  while (e < end) {
    const uint64_t block0 = e / per_block;
    const uint64_t last_block = (end - 1) / per_block;
    const uint64_t blocks = std::min<uint64_t>(kBatchBlocks, last_block - block0 + 1);
    PhiloxBlocks(key, matrix, block0, blocks, words);
    const uint64_t batch_end = std::min(end, (block0 + blocks) * per_block);
    for (; e < batch_end; ++e) {
      const uint64_t local = e - block0 * per_block;
      *out++ = convert(&words[(local / per_block) * 4], static_cast<unsigned>(local % per_block));
    }
  }
}

}  // namespace

void FillInt8(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, int8_t* out) {
  // Little-endian host: the 16 bytes of a block's words are the 16 int8 elements in order, so whole runs are a copy.
  uint32_t words[kBatchBlocks * 4];
  uint64_t e = first;
  const uint64_t end = first + count;
  while (e < end) {
    const uint64_t block0 = e / shared::kInt8PerBlock;
    const uint64_t blocks = std::min<uint64_t>(kBatchBlocks, (end - 1) / shared::kInt8PerBlock - block0 + 1);
    PhiloxBlocks(key, matrix, block0, blocks, words);
    const uint64_t batch_first = block0 * shared::kInt8PerBlock;
    const uint64_t batch_end = std::min(end, batch_first + blocks * shared::kInt8PerBlock);
    std::memcpy(out, reinterpret_cast<const uint8_t*>(words) + (e - batch_first), batch_end - e);
    out += batch_end - e;
    e = batch_end;
  }
}

void FillFp32(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t count, float* out) {
  FillRun(key, matrix, first, count, out, shared::kFp32PerBlock,
          [](const uint32_t* w, unsigned j) { return shared::Fp32FromWord(w[j]); });
}

}  // namespace vcp::cpu
