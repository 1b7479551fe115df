// The CPU GEMM tiers (lib/cpu/gemm.h) against naive references kept in this file and against Eigen: int8 exact
// (including the k = 131071 extremes), fp32-ordered bit for bit, every tier equal to the portable one over edge
// shapes and padded leading dimensions, and the tier selection (VCP_CPU_TIER).
#include "cpu/gemm.h"
#include "cpu/low_bytes.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace vcp::cpu {
namespace {

constexpr Tier kAllTiers[] = {Tier::kPortable, Tier::kAvx2, Tier::kAvxVnni, Tier::kAvx512Vnni};

// ---------------------------------------------------------------------------------------------------------------
// References, written as literally as possible.

// c[i][j] = sum_p a[i][p] * b[p][j] in int64, so nothing can wrap. a (m, k) lda; b (k, n) ldb; c (m, n).
std::vector<int64_t> RefInt8(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b,
                             size_t ldb) {
  std::vector<int64_t> c(m * n, 0);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (size_t p = 0; p < k; ++p) sum += int64_t{a[i * lda + p]} * int64_t{b[p * ldb + j]};
      c[i * n + j] = sum;
    }
  }
  return c;
}

// c[i][j] = fma(a[i][k-1], b[k-1][j], ... fma(a[i][0], b[0][j], +0.0f)). a (m, k) lda; b (k, n) ldb; c (m, n).
std::vector<float> RefFp32(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb) {
  std::vector<float> c(m * n);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      float acc = +0.0f;
      for (size_t p = 0; p < k; ++p) acc = std::fma(a[i * lda + p], b[p * ldb + j], acc);
      c[i * n + j] = acc;
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs and comparison helpers.

std::vector<int8_t> RandomInt8(size_t count, std::mt19937& rng) {
  std::vector<int8_t> v(count);
  for (auto& x : v) x = static_cast<int8_t>(rng());  // every value in -128..127
  return v;
}

// The spec's fp32 inputs: multiples of 2^-23 in [-1, 1).
std::vector<float> RandomFp32(size_t count, std::mt19937& rng) {
  std::vector<float> v(count);
  for (auto& x : v) x = static_cast<float>(static_cast<int32_t>(rng() >> 8) - (1 << 23)) * 0x1p-23f;
  return v;
}

constexpr int32_t kSentinelInt32 = 0x5a5a5a5a;
constexpr float kSentinelFp32 = 12345.0f;

struct Shape {
  size_t m, n, k;
  size_t lda, ldb, ldc;  // each >= the row width
};

std::string Describe(const Shape& s, Tier tier) {
  return std::string(TierName(tier)) + " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
         " k=" + std::to_string(s.k) + " lda=" + std::to_string(s.lda) + " ldb=" + std::to_string(s.ldb) +
         " ldc=" + std::to_string(s.ldc);
}

// Runs GemmInt8 into a C of leading dimension s.ldc prefilled with a sentinel; checks the padding columns are
// untouched and returns the (m, n) result.
std::vector<int32_t> RunInt8(Tier tier, const Shape& s, const std::vector<int8_t>& a, const std::vector<int8_t>& b) {
  std::vector<int32_t> c(s.m * s.ldc, kSentinelInt32);
  GemmInt8(tier, s.m, s.n, s.k, a.data(), s.lda, b.data(), s.ldb, c.data(), s.ldc);
  std::vector<int32_t> out(s.m * s.n);
  for (size_t i = 0; i < s.m; ++i) {
    for (size_t j = 0; j < s.ldc; ++j) {
      if (j < s.n) {
        out[i * s.n + j] = c[i * s.ldc + j];
      } else {
        EXPECT_EQ(c[i * s.ldc + j], kSentinelInt32) << Describe(s, tier) << ": wrote past n in row " << i;
      }
    }
  }
  return out;
}

std::vector<float> RunFp32(Tier tier, const Shape& s, const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> c(s.m * s.ldc, kSentinelFp32);
  GemmFp32Ordered(tier, s.m, s.n, s.k, a.data(), s.lda, b.data(), s.ldb, c.data(), s.ldc);
  std::vector<float> out(s.m * s.n);
  for (size_t i = 0; i < s.m; ++i) {
    for (size_t j = 0; j < s.ldc; ++j) {
      if (j < s.n) {
        out[i * s.n + j] = c[i * s.ldc + j];
      } else {
        EXPECT_EQ(c[i * s.ldc + j], kSentinelFp32) << Describe(s, tier) << ": wrote past n in row " << i;
      }
    }
  }
  return out;
}

// Equal element by element; reports the first few differences with their coordinates.
::testing::AssertionResult SameInt32(const std::vector<int32_t>& got, const std::vector<int64_t>& want, size_t n) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes differ";
  size_t bad = 0;
  auto failure = ::testing::AssertionFailure();
  for (size_t e = 0; e < got.size(); ++e) {
    if (int64_t{got[e]} != want[e] && bad++ < 5) {
      failure << "c[" << e / n << "][" << e % n << "] = " << got[e] << ", want " << want[e] << "; ";
    }
  }
  return bad == 0 ? ::testing::AssertionSuccess() : failure << bad << " elements differ";
}

// Equal bit pattern by bit pattern (so +0.0 and -0.0 differ), never within a tolerance.
::testing::AssertionResult SameBits(const std::vector<float>& got, const std::vector<float>& want, size_t n) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes differ";
  if (std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0) return ::testing::AssertionSuccess();
  size_t bad = 0;
  auto failure = ::testing::AssertionFailure();
  for (size_t e = 0; e < got.size(); ++e) {
    const uint32_t g = std::bit_cast<uint32_t>(got[e]), w = std::bit_cast<uint32_t>(want[e]);
    if (g != w && bad++ < 5) {
      failure << "c[" << e / n << "][" << e % n << "] = " << got[e] << " (0x" << std::hex << g << "), want "
              << want[e] << " (0x" << w << std::dec << "); ";
    }
  }
  return failure << bad << " elements differ";
}

std::vector<int64_t> Widen(const std::vector<int32_t>& v) { return std::vector<int64_t>(v.begin(), v.end()); }

// ---------------------------------------------------------------------------------------------------------------
// Per-tier tests: each runs on every tier the CPU has and is skipped, with the reason, on the others.

class GemmTierTest : public ::testing::TestWithParam<Tier> {
 protected:
  void SetUp() override {
    if (!TierAvailable(GetParam())) {
      GTEST_SKIP() << "tier " << TierName(GetParam())
                   << " is not supported by this CPU (cpuid or OS register state), so its kernels cannot run here";
    }
  }
};

TEST_P(GemmTierTest, Int8MatchesInt64ReferenceOnRandomInputs) {
  std::mt19937 rng(1);
  for (const Shape s : {Shape{1, 1, 1, 1, 1, 1}, Shape{5, 3, 2, 2, 3, 3}, Shape{64, 64, 64, 64, 64, 64},
                        Shape{37, 45, 700, 701, 50, 47}, Shape{130, 20, 1031, 1031, 20, 20}}) {
    const auto a = RandomInt8(s.m * s.lda, rng), b = RandomInt8(s.k * s.ldb, rng);
    const auto want = RefInt8(s.m, s.n, s.k, a.data(), s.lda, b.data(), s.ldb);
    EXPECT_TRUE(SameInt32(RunInt8(GetParam(), s, a, b), want, s.n)) << Describe(s, GetParam());
  }
}

// The int8 leaf's byte gather (cpu/low_bytes.h): every tier equals the portable definition for every segment
// length around the 8- and 32-element vector steps, one or several segments, every byte value, unaligned starts.
TEST_P(GemmTierTest, LowBytesMatchPortable) {
  std::mt19937 rng(9);
  std::vector<uint32_t> in(700);
  for (uint32_t& v : in) v = rng();
  for (uint32_t i = 0; i < 256; ++i) in[i] = (rng() & 0xffffff00u) | i;
  for (uint64_t offset : {0u, 1u, 3u}) {
    for (uint64_t segments : {1u, 3u}) {
      for (uint32_t length = 0; length * segments + offset <= in.size(); length += (length < 70 ? 1 : 37)) {
        const uint64_t stride = length + 5;
        std::vector<uint8_t> want(segments * stride, 0xee), got(segments * stride, 0xee);
        LowBytesPortable(in.data() + offset, segments, length, want.data(), stride);
        LowBytes(GetParam(), in.data() + offset, segments, length, got.data(), stride);
        ASSERT_EQ(got, want) << TierName(GetParam()) << " length " << length << " segments " << segments;
        for (uint64_t s = 0; s < segments; ++s) {
          for (uint32_t i = 0; i < length; ++i) ASSERT_EQ(want[s * stride + i], uint8_t(in[offset + s * length + i]));
          for (uint64_t i = length; i < stride; ++i) ASSERT_EQ(got[s * stride + i], 0xee) << "wrote between runs";
        }
      }
    }
  }
}

TEST_P(GemmTierTest, Int8MatchesEigenInt32Product) {
  using MatrixI32 = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  std::mt19937 rng(2);
  const Shape s{96, 80, 513, 513, 80, 80};
  const auto a = RandomInt8(s.m * s.k, rng), b = RandomInt8(s.k * s.n, rng);
  MatrixI32 ea(s.m, s.k), eb(s.k, s.n);
  for (size_t e = 0; e < a.size(); ++e) ea.data()[e] = a[e];
  for (size_t e = 0; e < b.size(); ++e) eb.data()[e] = b[e];
  const MatrixI32 ec = ea * eb;
  const std::vector<int32_t> eigen(ec.data(), ec.data() + ec.size());
  EXPECT_TRUE(SameInt32(RunInt8(GetParam(), s, a, b), Widen(eigen), s.n));
}

// k = 131071 is the largest K the int8 workload allows: 128 * 128 * 131071 = 2^31 - 2^14 is the extreme sum.
// A 2 x 3 product fed all -128, all 127, and -128 against 127 must come out exact on every tier (the AVX-512 tier's
// intermediate sums wrap around int32 on the way there).
TEST_P(GemmTierTest, Int8ExactAtLargestKWithExtremeValues) {
  constexpr size_t kMaxK = 131071;
  struct Case {
    const char* name;
    int8_t a, b;  // when a_alt is set, A alternates a / a_alt along k, and B alternates b / b_alt
    std::optional<int8_t> a_alt, b_alt;
  };
  const Case cases[] = {
      {"all -128", -128, -128, std::nullopt, std::nullopt},
      {"all 127", 127, 127, std::nullopt, std::nullopt},
      {"-128 times 127", -128, 127, std::nullopt, std::nullopt},
      {"mixed -128/127 in phase", -128, -128, int8_t{127}, int8_t{127}},
      {"mixed -128/127 out of phase", -128, 127, int8_t{127}, int8_t{-128}},
  };
  for (const Case& tc : cases) {
    const Shape s{2, 3, kMaxK, kMaxK, 3, 3};
    std::vector<int8_t> a(s.m * s.k), b(s.k * s.n);
    for (size_t i = 0; i < s.m; ++i) {
      for (size_t p = 0; p < s.k; ++p) a[i * s.k + p] = tc.a_alt && p % 2 ? *tc.a_alt : tc.a;
    }
    for (size_t p = 0; p < s.k; ++p) {
      for (size_t j = 0; j < s.n; ++j) b[p * s.n + j] = tc.b_alt && p % 2 ? *tc.b_alt : tc.b;
    }
    const auto want = RefInt8(s.m, s.n, s.k, a.data(), s.k, b.data(), s.n);
    for (int64_t v : want) {
      ASSERT_GE(v, std::numeric_limits<int32_t>::min()) << tc.name;
      ASSERT_LE(v, std::numeric_limits<int32_t>::max()) << tc.name;
    }
    EXPECT_TRUE(SameInt32(RunInt8(GetParam(), s, a, b), want, s.n)) << tc.name << ", " << Describe(s, GetParam());
  }
  // Known answers, independent of the reference loop.
  const Shape one{1, 1, kMaxK, kMaxK, 1, 1};
  EXPECT_EQ(RunInt8(GetParam(), one, std::vector<int8_t>(kMaxK, -128), std::vector<int8_t>(kMaxK, -128))[0],
            2147467264);  // 2^14 * 131071
  EXPECT_EQ(RunInt8(GetParam(), one, std::vector<int8_t>(kMaxK, -128), std::vector<int8_t>(kMaxK, 127))[0],
            -2130690176);  // -16256 * 131071
  EXPECT_EQ(RunInt8(GetParam(), one, std::vector<int8_t>(kMaxK, 127), std::vector<int8_t>(kMaxK, 127))[0],
            2114044159);  // 16129 * 131071
}

TEST_P(GemmTierTest, Fp32MatchesFmaChainBitForBit) {
  std::mt19937 rng(3);
  for (const Shape s : {Shape{1, 1, 1, 1, 1, 1}, Shape{3, 5, 2, 2, 5, 5}, Shape{64, 64, 64, 64, 64, 64},
                        Shape{37, 45, 700, 701, 50, 47}, Shape{9, 20, 3000, 3000, 20, 20}}) {
    const auto a = RandomFp32(s.m * s.lda, rng), b = RandomFp32(s.k * s.ldb, rng);
    const auto want = RefFp32(s.m, s.n, s.k, a.data(), s.lda, b.data(), s.ldb);
    EXPECT_TRUE(SameBits(RunFp32(GetParam(), s, a, b), want, s.n)) << Describe(s, GetParam());
  }
}

// Exact cancellation rounds to +0.0 under round-to-nearest, and a chain that starts at +0.0 stays +0.0 when its
// first products are -0.0; a kernel that started from the first product or from -0.0 would return -0.0 here.
TEST_P(GemmTierTest, Fp32CancellationGivesPositiveZero) {
  // Known answers: a (1, 2) = [0.5, 0.5], b (2, 1) = [0.25, -0.25] -> +0.0; a = [0], b = [-0.5] -> +0.0.
  const Shape s12{1, 1, 2, 2, 1, 1}, s11{1, 1, 1, 1, 1, 1};
  EXPECT_EQ(std::bit_cast<uint32_t>(RunFp32(GetParam(), s12, {0.5f, 0.5f}, {0.25f, -0.25f})[0]), 0u);
  EXPECT_EQ(std::bit_cast<uint32_t>(RunFp32(GetParam(), s11, {0.0f}, {-0.5f})[0]), 0u);
  EXPECT_EQ(std::bit_cast<uint32_t>(RunFp32(GetParam(), s11, {-0.0f}, {0.5f})[0]), 0u);
  // Every product -0.0, over whole register tiles and a ragged edge: fma(0, -x, +0.0) = +0.0 at each step.
  for (const Shape s : {Shape{8, 32, 3, 3, 32, 32}, Shape{13, 37, 300, 300, 37, 37}}) {
    const std::vector<float> zeros(s.m * s.k, 0.0f), negative(s.k * s.n, -0.75f);
    EXPECT_TRUE(SameBits(RunFp32(GetParam(), s, zeros, negative), std::vector<float>(s.m * s.n, +0.0f), s.n))
        << Describe(s, GetParam());
  }

  // A wider case where every element cancels exactly: B's second half of rows is the negation of its first half
  // and each row of A repeats its first half. The values are multiples of 2^-6 in [-1, 1) (a subset of the spec's
  // inputs) so every product is a multiple of 2^-12 below 1 and every partial sum of at most 600 of them fits in
  // 24 bits: the chains are exact, the result is exactly zero, and it must be +0.0. A's first column is 0, so the
  // first products are -0.0 wherever B's first row is negative. 300 + 300 crosses the kernels' k blocks.
  std::mt19937 rng(4);
  const size_t half = 300;
  const Shape s{21, 35, 2 * half, 2 * half, 35, 35};
  const auto coarse = [&rng] { return static_cast<float>(static_cast<int>(rng() % 128) - 64) / 64.0f; };
  std::vector<float> a(s.m * s.k), b(s.k * s.n);
  for (size_t i = 0; i < s.m; ++i) {
    for (size_t p = 0; p < half; ++p) a[i * s.k + p] = a[i * s.k + half + p] = p == 0 ? 0.0f : coarse();
  }
  for (size_t p = 0; p < half; ++p) {
    for (size_t j = 0; j < s.n; ++j) {
      b[p * s.n + j] = coarse();
      b[(half + p) * s.n + j] = -b[p * s.n + j];
    }
  }
  const auto got = RunFp32(GetParam(), s, a, b);
  EXPECT_TRUE(SameBits(got, RefFp32(s.m, s.n, s.k, a.data(), s.k, b.data(), s.n), s.n));
  EXPECT_TRUE(SameBits(got, std::vector<float>(got.size(), +0.0f), s.n)) << "every element must be +0.0";
}

TEST_P(GemmTierTest, EmptySumIsZero) {
  for (const Shape s : {Shape{3, 4, 0, 1, 4, 5}, Shape{8, 32, 0, 1, 32, 33}}) {
    const auto c = RunInt8(GetParam(), s, std::vector<int8_t>(s.m), {});
    EXPECT_TRUE(SameInt32(c, std::vector<int64_t>(c.size(), 0), s.n)) << Describe(s, GetParam());
    const auto f = RunFp32(GetParam(), s, std::vector<float>(s.m), {});
    EXPECT_TRUE(SameBits(f, std::vector<float>(f.size(), +0.0f), s.n)) << Describe(s, GetParam());
  }
}

// Every tier against the portable tier over edge shapes: register-block sizes and their neighbours, primes,
// blocks of k crossing the kernels' k blocks, n past one column block, and leading dimensions wider than the
// matrices. The full cross product of the dimension list is sampled (about one combination in five) to stay fast.
TEST_P(GemmTierTest, EqualsPortableOverEdgeShapes) {
  const size_t dims[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 97, 131};
  std::vector<Shape> shapes;
  size_t index = 0;
  for (size_t m : dims) {
    for (size_t n : dims) {
      for (size_t k : dims) {
        if (index++ % 5 != 0) continue;
        const size_t pad = index % 3 == 0 ? 0 : index % 7 + 1;  // some tight, some wider leading dimensions
        shapes.push_back({m, n, k, k + pad, n + pad, n + 2 * pad});
      }
    }
  }
  for (size_t k : {255u, 256u, 257u, 511u, 512u, 513u, 1025u}) shapes.push_back({9, 17, k, k + 3, 19, 17});
  shapes.push_back({5, 1100, 40, 40, 1100, 1103});  // more columns than one packed block of B
  shapes.push_back({131, 33, 300, 300, 33, 40});     // more rows than one packed block of A
  // Other register tiles' sizes and their neighbours (6, 12, 14 rows; 48, 64 columns), and every block boundary
  // crossed at once.
  for (size_t m : {6u, 11u, 12u, 13u, 14u, 24u, 28u, 29u, 48u, 96u, 97u}) {
    shapes.push_back({m, m + 33, 77, 80, 130, 131});
  }
  for (size_t n : {47u, 48u, 49u, 63u, 64u, 65u, 127u, 128u, 129u}) shapes.push_back({13, n, 35, 35, n, n + 1});
  shapes.push_back({193, 1029, 1027, 1030, 1031, 1029});
  shapes.push_back({100, 200, 2051, 2055, 203, 200});  // one block of rows over three k blocks, the last ragged
  // The fp32 AVX-512 tier's blocks (12 x 32 tile, kc 512, nc 256, B read in place when m <= 64, ldb <= 64 and n is
  // a multiple of 32), each boundary from both sides.
  for (const Shape& s : {Shape{11, 32, 513, 513, 32, 32}, Shape{12, 64, 1024, 1024, 64, 64},
                         Shape{13, 33, 511, 511, 33, 35}, Shape{24, 256, 512, 515, 256, 256},
                         Shape{25, 257, 1025, 1025, 260, 257}, Shape{23, 288, 100, 100, 288, 290},
                         Shape{65, 64, 600, 600, 64, 64}, Shape{64, 32, 700, 703, 40, 32},
                         Shape{37, 64, 513, 513, 70, 64}, Shape{12, 511, 3, 3, 511, 511},
                         Shape{36, 513, 1537, 1540, 513, 520}}) {
    shapes.push_back(s);
  }

  std::mt19937 rng(5);
  for (const Shape& s : shapes) {
    const auto a8 = RandomInt8(s.m * s.lda, rng), b8 = RandomInt8(s.k * s.ldb, rng);
    EXPECT_TRUE(SameInt32(RunInt8(GetParam(), s, a8, b8), Widen(RunInt8(Tier::kPortable, s, a8, b8)), s.n))
        << Describe(s, GetParam());
    const auto af = RandomFp32(s.m * s.lda, rng), bf = RandomFp32(s.k * s.ldb, rng);
    EXPECT_TRUE(SameBits(RunFp32(GetParam(), s, af, bf), RunFp32(Tier::kPortable, s, af, bf), s.n))
        << Describe(s, GetParam());
  }
}

// The verifier's shape: T rows of A (T, K) times T columns of B (K, T), ldb = T.
TEST_P(GemmTierTest, VerifierTileShape) {
  std::mt19937 rng(6);
  for (const Shape s : {Shape{32, 32, 4099, 4099, 32, 32}, Shape{64, 64, 2048, 2048, 64, 64}}) {
    const auto a = RandomInt8(s.m * s.k, rng), b = RandomInt8(s.k * s.n, rng);
    EXPECT_TRUE(SameInt32(RunInt8(GetParam(), s, a, b), RefInt8(s.m, s.n, s.k, a.data(), s.k, b.data(), s.n), s.n))
        << Describe(s, GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(AllTiers, GemmTierTest, ::testing::ValuesIn(kAllTiers),
                         [](const ::testing::TestParamInfo<Tier>& tier) { return std::string(TierName(tier.param)); });

// ---------------------------------------------------------------------------------------------------------------
// Dispatch.

Tier BestAvailable() {
  if (TierAvailable(Tier::kAvx512Vnni)) return Tier::kAvx512Vnni;
  if (TierAvailable(Tier::kAvxVnni)) return Tier::kAvxVnni;
  if (TierAvailable(Tier::kAvx2)) return Tier::kAvx2;
  return Tier::kPortable;
}

TEST(GemmDispatchTest, TierNames) {
  EXPECT_EQ(TierName(Tier::kPortable), "portable");
  EXPECT_EQ(TierName(Tier::kAvx2), "avx2");
  EXPECT_EQ(TierName(Tier::kAvxVnni), "avxvnni");
  EXPECT_EQ(TierName(Tier::kAvx512Vnni), "avx512vnni");
  EXPECT_TRUE(TierAvailable(Tier::kPortable));
  // A CPU with AVX-512 VNNI or AVX-VNNI has AVX2 too; LowBytes and RunsAvx2Code rely on it.
  for (Tier tier : {Tier::kAvxVnni, Tier::kAvx512Vnni}) {
    if (TierAvailable(tier)) {
      EXPECT_TRUE(TierAvailable(Tier::kAvx2)) << TierName(tier);
    }
  }
  EXPECT_FALSE(RunsAvx2Code(Tier::kPortable));
  EXPECT_FALSE(RunsAvx2Code(Tier::kAvx512Vnni));
  EXPECT_EQ(RunsAvx2Code(Tier::kAvx2), TierAvailable(Tier::kAvx2));
  EXPECT_EQ(RunsAvx2Code(Tier::kAvxVnni), TierAvailable(Tier::kAvxVnni));
}

TEST(GemmDispatchTest, NoOverrideChoosesTheBestAvailable) { EXPECT_EQ(ChooseTier(nullptr), BestAvailable()); }

TEST(GemmDispatchTest, OverrideForcesEachAvailableTier) {
  for (Tier tier : kAllTiers) {
    // A forced tier the CPU lacks falls back to the best available one.
    EXPECT_EQ(ChooseTier(std::string(TierName(tier)).c_str()), TierAvailable(tier) ? tier : BestAvailable())
        << TierName(tier);
  }
}

TEST(GemmDispatchTest, UnknownOverrideIsIgnored) {
  for (const char* value : {"", "AVX2", "sse", "avx512", "portable "}) {
    EXPECT_EQ(ChooseTier(value), BestAvailable()) << '"' << value << '"';
  }
}

// The selection is made once from the process's environment: ctest runs this binary's dispatch and tier tests
// again with VCP_CPU_TIER=portable, =avx2 and =avxvnni (tests/CMakeLists.txt), where this checks that the variable took.
TEST(GemmDispatchTest, SelectedTierIsTheEnvironmentsChoiceAndStaysFixed) {
  const Tier selected = SelectedTier();
  EXPECT_EQ(selected, ChooseTier(std::getenv("VCP_CPU_TIER")));
  EXPECT_EQ(BestInt8Tier(), selected);
  EXPECT_EQ(BestFp32Tier(), selected);
  EXPECT_EQ(BestLowBytesTier(), selected == Tier::kPortable ? Tier::kPortable : Tier::kAvx2);
  // Changing the variable later changes nothing: the choice was cached at first use.
  ::setenv("VCP_CPU_TIER", selected == Tier::kPortable ? "avx2" : "portable", 1);
  EXPECT_EQ(SelectedTier(), selected);
  ::unsetenv("VCP_CPU_TIER");
  EXPECT_EQ(SelectedTier(), selected);
}

// Asking GemmInt8 / GemmFp32Ordered for a tier the CPU lacks runs the portable code instead of faulting, with the
// defined result.
TEST(GemmDispatchTest, UnavailableTierStillGivesTheDefinedResult) {
  std::vector<Tier> missing;
  for (Tier tier : kAllTiers) {
    if (!TierAvailable(tier)) missing.push_back(tier);
  }
  if (missing.empty()) GTEST_SKIP() << "this CPU has every tier, so none can be requested while unavailable";
  std::mt19937 rng(7);
  const Shape s{7, 19, 33, 33, 19, 19};
  const auto a8 = RandomInt8(s.m * s.k, rng), b8 = RandomInt8(s.k * s.n, rng);
  const auto af = RandomFp32(s.m * s.k, rng), bf = RandomFp32(s.k * s.n, rng);
  for (Tier tier : missing) {
    EXPECT_TRUE(SameInt32(RunInt8(tier, s, a8, b8), RefInt8(s.m, s.n, s.k, a8.data(), s.k, b8.data(), s.n), s.n))
        << TierName(tier);
    EXPECT_TRUE(SameBits(RunFp32(tier, s, af, bf), RefFp32(s.m, s.n, s.k, af.data(), s.k, bf.data(), s.n), s.n))
        << TierName(tier);
  }
}

}  // namespace
}  // namespace vcp::cpu
