// Philox4x32-10 against Random123's published known answers, the AVX2 batch against the portable call, and the
// spec's element mapping (docs/SPEC.md section 3) against a hand-written reading of it.
#include <gtest/gtest.h>

#include <cstring>
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

TEST(Philox, Avx2BatchEqualsPortable) {
  if (!vcp::cpu::PhiloxAvx2Available()) GTEST_SKIP() << "this CPU has no AVX2";
  const PhiloxKey key{0x01234567, 0x89abcdef};
  for (uint64_t block0 : {uint64_t{0}, uint64_t{7}, uint64_t{0xfffffffcull}, uint64_t{0x123456789abull}}) {
    for (uint64_t count : {1, 7, 8, 9, 16, 33, 64}) {
      std::vector<uint32_t> fast(count * 4), slow(count * 4);
      vcp::cpu::PhiloxBlocksAvx2(key, 1, block0, count, fast.data());
      vcp::cpu::PhiloxBlocksPortable(key, 1, block0, count, slow.data());
      EXPECT_EQ(fast, slow) << "block0 " << block0 << " count " << count;
    }
  }
}

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

TEST(Philox, FillRunsEqualElementwise) {
  const PhiloxKey key{0x31415926, 0x53589793};
  for (uint64_t first : {0, 1, 15, 16, 17, 1000, 4095}) {
    for (uint64_t count : {1, 2, 15, 16, 17, 100, 1025, 5000}) {
      std::vector<int8_t> i8(count);
      vcp::cpu::FillInt8(key, 0, first, count, i8.data());
      std::vector<float> f32(count);
      vcp::cpu::FillFp32(key, 1, first, count, f32.data());
      for (uint64_t i = 0; i < count; ++i) {
        ASSERT_EQ(i8[i], vcp::shared::Int8Element(key, 0, first + i)) << first << "+" << i;
        const float want = vcp::shared::Fp32Element(key, 1, first + i);
        ASSERT_EQ(std::memcmp(&f32[i], &want, 4), 0) << first << "+" << i;
      }
    }
  }
}

}  // namespace
