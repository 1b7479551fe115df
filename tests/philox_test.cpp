// Philox4x32-10 against Random123's published known answers; every CPU tier's blocks, strided runs and fp32
// conversion against Random123's scalar call element by element (the BLAKE3 pattern: edge counts, odd tails,
// counters crossing 2^32 and 2^64); the spec's element mapping (docs/SPEC.md section 3) against a hand-written
// reading of it; and the fills against shared::Int8Element / Fp32Element. The fills run the process's tier:
// tests/CMakeLists.txt runs this file again under VCP_CPU_TIER=portable and avx2.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/philox_fill.h"
#include "shared/philox_inputs.h"

namespace {

using vcp::shared::PhiloxKey;

struct Kat {
  uint32_t ctr[4];
  uint32_t key[2];
  uint32_t out[4];
};

// Random123's kat_vectors for philox4x32_10.
constexpr Kat kKats[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST(Philox, Random123KnownAnswers) {
  for (const Kat& kat : kKats) {
    r123::Philox4x32 rng;
    r123::Philox4x32::ctr_type c = {{kat.ctr[0], kat.ctr[1], kat.ctr[2], kat.ctr[3]}};
    r123::Philox4x32::key_type k = {{kat.key[0], kat.key[1]}};
    const auto out = rng(c, k);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out.v[i], kat.out[i]) << "word " << i;
  }
}

TEST(Philox, BlockCounterLayout) {
  // PhiloxBlock(key, matrix, b) is Philox on counter (lo32(b), hi32(b), matrix, 0): the first KAT in that form.
  const auto w = vcp::shared::PhiloxBlock(PhiloxKey{0, 0}, 0, 0);
  EXPECT_EQ(w.v[0], 0x6627e8d5u);
  EXPECT_EQ(w.v[3], 0x9b00dbd8u);
  const auto all_ones = vcp::shared::PhiloxBlock(PhiloxKey{0xffffffff, 0xffffffff}, 0xffffffff,
                                                 0xffffffffffffffffull);
  EXPECT_NE(all_ones.v[0], 0x408f276du) << "counter word 3 is 0, not 0xffffffff, so this must differ from the KAT";
}

using vcp::cpu::Tier;

constexpr PhiloxKey kKeys[] = {{0, 0}, {0x01234567, 0x89abcdef}, {0xffffffff, 0xfffffffe}};
constexpr uint32_t kSentinel = 0xa5a5a5a5u;

// words (blocks.size(), 4): Random123's words for each listed block.
std::vector<uint32_t> Reference(PhiloxKey key, uint32_t matrix, const std::vector<uint64_t>& blocks) {
  std::vector<uint32_t> words;
  for (uint64_t b : blocks) {
    const auto w = vcp::shared::PhiloxBlock(key, matrix, b);
    words.insert(words.end(), w.v, w.v + 4);
  }
  return words;
}

std::string Describe(PhiloxKey key, uint32_t matrix) {
  return "key (" + std::to_string(key.k0) + ", " + std::to_string(key.k1) + ") matrix " + std::to_string(matrix);
}

class PhiloxTierTest : public ::testing::TestWithParam<Tier> {
 protected:
  void SetUp() override {
    if (!vcp::cpu::TierAvailable(GetParam())) {
      GTEST_SKIP() << "this CPU lacks the " << vcp::cpu::TierName(GetParam()) << " tier";
    }
  }
};

TEST_P(PhiloxTierTest, BlocksEqualRandom123) {
  std::vector<uint64_t> counts;
  for (uint64_t c = 0; c <= 40; ++c) counts.push_back(c);
  for (uint64_t c : {47, 48, 49, 63, 64, 65, 97, 257}) counts.push_back(c);
  for (const PhiloxKey& key : kKeys) {
    for (uint32_t matrix : {0u, 1u}) {
      for (uint64_t block0 : {uint64_t{0}, uint64_t{1}, uint64_t{7}, (uint64_t{1} << 32) - 5,
                              (uint64_t{1} << 32) - 40, uint64_t{0x123456789abull}, ~uint64_t{0} - 19}) {
        for (uint64_t count : counts) {
          std::vector<uint64_t> blocks;
          for (uint64_t i = 0; i < count; ++i) blocks.push_back(block0 + i);  // wraps past 2^64 as uint64 does
          std::vector<uint32_t> got(4 * count + 4, kSentinel);
          vcp::cpu::PhiloxBlocks(GetParam(), key, matrix, block0, count, got.data());
          std::vector<uint32_t> want = Reference(key, matrix, blocks);
          want.insert(want.end(), 4, kSentinel);  // nothing written past the last block
          ASSERT_EQ(got, want) << Describe(key, matrix) << " block0 " << block0 << " count " << count;
        }
      }
    }
  }
}

TEST_P(PhiloxTierTest, BlockRunsEqualElementwise) {
  for (const PhiloxKey& key : kKeys) {
    for (uint64_t first : {uint64_t{0}, uint64_t{5}, (uint64_t{1} << 32) - 37}) {
      // Runs shorter than, equal to and longer than a vector and a step of several vectors (AVX2 steps 24
      // blocks, AVX-512 32), dividing a step or not.
      for (uint64_t run_blocks : {1, 2, 3, 4, 8, 17, 24, 32, 40, 64}) {
        // Gapless (stride = run_blocks), a one-block gap, the verifier's int8 / fp32 strides for N = 8192,
        // a stride past 2^32, and overlapping runs (stride 0 and 1).
        for (uint64_t stride : {run_blocks, run_blocks + 1, uint64_t{512}, uint64_t{2048}, (uint64_t{1} << 33) + 3,
                                uint64_t{0}, uint64_t{1}}) {
          for (uint64_t runs : {0, 1, 2, 3, 7, 31, 100}) {
            std::vector<uint64_t> blocks;
            for (uint64_t r = 0; r < runs; ++r) {
              for (uint64_t i = 0; i < run_blocks; ++i) blocks.push_back(first + r * stride + i);
            }
            std::vector<uint32_t> got(4 * blocks.size() + 4, kSentinel);
            vcp::cpu::PhiloxBlockRuns(GetParam(), key, 1, first, stride, run_blocks, runs, got.data());
            std::vector<uint32_t> want = Reference(key, 1, blocks);
            want.insert(want.end(), 4, kSentinel);
            ASSERT_EQ(got, want) << Describe(key, 1) << " first " << first << " stride " << stride << " run_blocks "
                                 << run_blocks << " runs " << runs;
          }
        }
      }
    }
  }
}

TEST_P(PhiloxTierTest, Fp32FromWordsEqualsScalar) {
  // The edges of the mapping (-1, 0, 1 - 2^-23, the dropped low byte) and then Philox words, over lengths that
  // leave every tail of a 16-word vector; both into a separate buffer and in place.
  std::vector<uint32_t> words = {0x00000000u, 0x000000ffu, 0x00000100u, 0x7fffffffu, 0x80000000u,
                                 0x800000ffu, 0x80000100u, 0xfffffeffu, 0xffffff00u, 0xffffffffu};
  std::vector<uint32_t> philox(4 * 16);
  vcp::cpu::PhiloxBlocks(Tier::kPortable, kKeys[1], 1, 0, 16, philox.data());
  words.insert(words.end(), philox.begin(), philox.end());
  for (size_t n = 0; n <= words.size(); ++n) {
    std::vector<float> got(n + 1, -2.0f);
    vcp::cpu::Fp32FromWords(GetParam(), words.data(), n, got.data());
    std::vector<uint32_t> in_place(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(n));
    vcp::cpu::Fp32FromWords(GetParam(), in_place.data(), n, reinterpret_cast<float*>(in_place.data()));
    for (size_t i = 0; i < n; ++i) {
      const float want = vcp::shared::Fp32FromWord(words[i]);
      ASSERT_EQ(std::memcmp(&got[i], &want, 4), 0) << "word " << std::hex << words[i] << " n " << std::dec << n;
      ASSERT_EQ(std::memcmp(&in_place[i], &want, 4), 0) << "in place, word " << std::hex << words[i];
    }
    EXPECT_EQ(got[n], -2.0f) << "nothing written past n = " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(PhiloxTiers, PhiloxTierTest,
                         ::testing::Values(Tier::kPortable, Tier::kAvx2, Tier::kAvxVnni, Tier::kAvx512Vnni),
                         [](const ::testing::TestParamInfo<Tier>& tier) {
                           return std::string(vcp::cpu::TierName(tier.param));
                         });

TEST(Philox, Int8ElementMapping) {
  const PhiloxKey key{0xdeadbeef, 0x00c0ffee};
  const auto w = vcp::shared::PhiloxBlock(key, 1, 2);
  // Element 2*16 + 5 of B is byte 1 of word 1 of block 2, read as two's complement.
  const auto expected = static_cast<int8_t>((w.v[1] >> 8) & 0xff);
  EXPECT_EQ(vcp::shared::Int8Element(key, 1, 37), expected);
}

TEST(Philox, Fp32ElementMapping) {
  EXPECT_EQ(vcp::shared::Fp32FromWord(0x00000000u), -1.0f);
  EXPECT_EQ(vcp::shared::Fp32FromWord(0xffffffffu), 1.0f - 0x1p-23f);
  EXPECT_EQ(vcp::shared::Fp32FromWord(0x80000000u), 0.0f);
  EXPECT_EQ(vcp::shared::Fp32FromWord(0x800001ffu), 0x1p-23f) << "the low 8 bits are dropped";
  const PhiloxKey key{1, 2};
  const auto w = vcp::shared::PhiloxBlock(key, 0, 3);
  EXPECT_EQ(vcp::shared::Fp32Element(key, 0, 14), vcp::shared::Fp32FromWord(w.v[2]));
}

TEST(Philox, FillsEqualElementwise) {
  const PhiloxKey key{0x31415926, 0x53589793};
  // Aligned and unaligned starts and ends for both block sizes (16 int8, 4 fp32 elements), and starts just
  // before elements 2^32 * 4 (fp32) and 2^32 * 16 (int8), where the block counter's high word first turns 1.
  for (uint64_t first : {uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{4}, uint64_t{5}, uint64_t{15}, uint64_t{16},
                         uint64_t{17}, uint64_t{31}, uint64_t{1000}, uint64_t{4095}, (uint64_t{1} << 34) - 9,
                         (uint64_t{1} << 36) - 23}) {
    for (uint64_t count : {0, 1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 100, 1023, 1025, 5000}) {
      std::vector<int8_t> i8(count + 1, 0x5a);
      vcp::cpu::FillInt8(key, 0, first, count, i8.data());
      std::vector<float> f32(count + 1, -2.0f);
      vcp::cpu::FillFp32(key, 1, first, count, f32.data());
      for (uint64_t i = 0; i < count; ++i) {
        ASSERT_EQ(i8[i], vcp::shared::Int8Element(key, 0, first + i)) << first << "+" << i << " of " << count;
        const float want = vcp::shared::Fp32Element(key, 1, first + i);
        ASSERT_EQ(std::memcmp(&f32[i], &want, 4), 0) << first << "+" << i << " of " << count;
      }
      EXPECT_EQ(i8[count], 0x5a) << "FillInt8 wrote past " << first << "+" << count;
      EXPECT_EQ(f32[count], -2.0f) << "FillFp32 wrote past " << first << "+" << count;
    }
  }
}

// The strided fills (a tile's columns of B): whole-block runs, which take the one-call path, and runs that start,
// step or end inside a block, which take the run-at-a-time path, against the elementwise definition.
TEST(Philox, RunFillsEqualElementwise) {
  const PhiloxKey key{0x27182818, 0x28459045};
  struct Case {
    uint64_t first, stride, count, runs;
  };
  for (const Case& c : {Case{0, 8192, 32, 64}, Case{4096, 8192, 64, 17}, Case{16, 16, 16, 9}, Case{32, 0, 16, 5},
                        Case{3, 8192, 32, 7}, Case{16, 8190, 32, 7}, Case{0, 8192, 30, 7}, Case{0, 100, 4, 1},
                        Case{(uint64_t{1} << 36) - 64, 64, 48, 3}}) {
    std::vector<int8_t> i8(c.runs * c.count + 1, 0x5a);
    vcp::cpu::FillInt8Runs(key, 0, c.first, c.stride, c.count, c.runs, i8.data());
    std::vector<float> f32(c.runs * c.count + 1, -2.0f);
    vcp::cpu::FillFp32Runs(key, 1, c.first, c.stride, c.count, c.runs, f32.data());
    for (uint64_t r = 0; r < c.runs; ++r) {
      for (uint64_t i = 0; i < c.count; ++i) {
        const uint64_t e = c.first + r * c.stride + i;
        ASSERT_EQ(i8[r * c.count + i], vcp::shared::Int8Element(key, 0, e)) << "run " << r << " element " << i;
        const float want = vcp::shared::Fp32Element(key, 1, e);
        ASSERT_EQ(std::memcmp(&f32[r * c.count + i], &want, 4), 0) << "run " << r << " element " << i;
      }
    }
    EXPECT_EQ(i8.back(), 0x5a) << "FillInt8Runs wrote past its runs, first " << c.first;
    EXPECT_EQ(f32.back(), -2.0f) << "FillFp32Runs wrote past its runs, first " << c.first;
  }
}

}  // namespace
