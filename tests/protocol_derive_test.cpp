// Derived values of the lease protocol: sampling (against an independent reference, rejection included),
// multiproof sizes, beacon rounds, seeds, the deadline and what it proves, the soundness arithmetic, every lease
// validation rule, verdict outcomes, the binomial bound and the audit schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "protocol_fixture.h"
#include "vcp/merkle.h"
#include "vcp/protocol.h"
#include "vcp/verdict.h"

namespace vcp {
namespace {

using testing::kT0;
using testing::TestHash;

__extension__ typedef unsigned __int128 U128;

// Reference for DrawSample written the obvious way with 128-bit arithmetic: accept x unless it falls in the
// last, incomplete block of `total` values below 2^64.
std::vector<SampleDraw> ReferenceSample(const Hash32& record, const Hash32& challenge, uint32_t rounds,
                                        uint64_t leaves, uint32_t samples) {
  const U128 total = static_cast<U128>(rounds) * leaves;
  const U128 two64 = static_cast<U128>(1) << 64;
  const U128 limit = (two64 / total) * total;
  std::vector<SampleDraw> out;
  for (uint32_t j = 0; j < samples; ++j) {
    for (uint32_t a = 0;; ++a) {
      std::vector<uint8_t> fields(record.begin(), record.end());
      fields.insert(fields.end(), challenge.begin(), challenge.end());
      for (int i = 0; i < 4; ++i) fields.push_back(static_cast<uint8_t>(j >> (8 * i)));
      for (int i = 0; i < 4; ++i) fields.push_back(static_cast<uint8_t>(a >> (8 * i)));
      const Hash32 h = TaggedHash("vcp.v2.sample", fields);
      uint64_t x = 0;
      for (int i = 7; i >= 0; --i) x = (x << 8) | h[i];
      if (x >= limit) continue;
      const uint64_t p = static_cast<uint64_t>(x % total);
      out.push_back({{static_cast<uint32_t>(p / leaves), p % leaves}, a});
      break;
    }
  }
  return out;
}

// Epoch rounds D x R: one device (R), two (2R), sixteen at the most rounds; and shapes whose P = rounds x leaves is
// far from a power of two, so that rejection happens often: P = 3 x 2^61 + c rejects a quarter of all values and
// P = 2^63 + 1 almost half (a realistic P <= 2^54 rejects about P / 2^64; docs/PROTOCOL.md section 13 has such a
// vector, searched for a rejection).
TEST(ProtocolSampling, MatchesReferenceForManyShapesWithRejection) {
  const std::vector<std::pair<uint32_t, uint64_t>> shapes = {
      {1, 1},       {1, 64},    {4, 64},       {2 * 4, 64},  {3, 5},
      {7, 1000003}, {16 * 4096, 65536}, {3, (uint64_t{1} << 61) + 12345}, {1, (uint64_t{1} << 63) + 1}};
  uint64_t rejections = 0;
  for (const auto& [rounds, leaves] : shapes) {
    for (uint64_t c = 0; c < 3; ++c) {
      const auto got = SamplePositions(TestHash("record", c), TestHash("challenge", c), rounds, leaves, 200);
      const auto want = ReferenceSample(TestHash("record", c), TestHash("challenge", c), rounds, leaves, 200);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].round, want[i].position.round) << rounds << "x" << leaves << " draw " << i;
        EXPECT_EQ(got[i].tile, want[i].position.tile) << rounds << "x" << leaves << " draw " << i;
        EXPECT_LT(got[i].round, rounds);
        EXPECT_LT(got[i].tile, leaves);
        const SampleDraw draw = DrawSample(TestHash("record", c), TestHash("challenge", c), rounds, leaves,
                                           static_cast<uint32_t>(i));
        EXPECT_EQ(draw.attempt, want[i].attempt) << rounds << "x" << leaves << " draw " << i;
        EXPECT_EQ(draw.position.round, got[i].round);
        EXPECT_EQ(draw.position.tile, got[i].tile);
        rejections += want[i].attempt;
      }
    }
  }
  // Rejection ran: expected about 0.25 x 600 + 1.0 x 600 extra attempts from the last two shapes.
  EXPECT_GT(rejections, 300u);
  // A power of two never rejects.
  for (uint32_t j = 0; j < 200; ++j) EXPECT_EQ(DrawSample(TestHash("r"), TestHash("c"), 4, 64, j).attempt, 0u);
}

TEST(ProtocolSampling, ChallengeChangesPositions) {
  const auto a = SamplePositions(TestHash("record"), TestHash("challenge", 1), 4, 64, 40);
  const auto b = SamplePositions(TestHash("record"), TestHash("challenge", 2), 4, 64, 40);
  const auto c = SamplePositions(TestHash("record", 1), TestHash("challenge", 1), 4, 64, 40);
  int same_ab = 0, same_ac = 0;
  for (size_t i = 0; i < 40; ++i) {
    same_ab += a[i].round == b[i].round && a[i].tile == b[i].tile;
    same_ac += a[i].round == c[i].round && a[i].tile == c[i].tile;
  }
  EXPECT_LT(same_ab, 5);
  EXPECT_LT(same_ac, 5);
}

TEST(ProtocolSampling, UniformOverPositions) {
  // 15 positions (not a power of two, so rejection matters in principle); 30000 draws; chi-square, 14 degrees of
  // freedom: P(chi2 > 45) < 5e-5.
  std::vector<uint64_t> counts(15, 0);
  for (uint64_t c = 0; c < 30; ++c) {
    for (const auto& p : SamplePositions(TestHash("r"), TestHash("c", c), 3, 5, 1000)) ++counts[p.round * 5 + p.tile];
  }
  double chi2 = 0;
  for (uint64_t n : counts) chi2 += (double(n) - 2000.0) * (double(n) - 2000.0) / 2000.0;
  EXPECT_LT(chi2, 45.0);
}

TEST(ProtocolSampling, GroupSortsAndDeduplicates) {
  const std::vector<SamplePosition> positions = {{2, 5}, {0, 9}, {2, 1}, {0, 9}, {1, 3}, {2, 5}};
  const SampleSet set = GroupSamples(positions);
  EXPECT_EQ(set.rounds, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(set.tiles[0], (std::vector<uint64_t>{9}));
  EXPECT_EQ(set.tiles[1], (std::vector<uint64_t>{3}));
  EXPECT_EQ(set.tiles[2], (std::vector<uint64_t>{1, 5}));
}

TEST(ProtocolSampling, MultiProofHashCountMatchesProveMulti) {
  for (uint64_t size = 1; size <= 33; ++size) {
    std::vector<Hash32> leaves;
    for (uint64_t i = 0; i < size; ++i) leaves.push_back(TestHash("leaf", i));
    const MerkleTree tree = MerkleTree::Build(leaves, 1);
    // Every subset for small trees, a spread of subsets above.
    const uint64_t subsets = size <= 10 ? (uint64_t{1} << size) : 300;
    for (uint64_t s = 1; s < subsets; ++s) {
      std::vector<uint64_t> indices;
      for (uint64_t i = 0; i < size; ++i) {
        const bool in = size <= 10 ? ((s >> i) & 1) : ((TestHash("subset", s * 64 + i)[0] & 3) == 0);
        if (in) indices.push_back(i);
      }
      if (indices.empty()) continue;
      auto proof = ProveMulti(tree, indices);
      ASSERT_TRUE(proof.ok());
      EXPECT_EQ(MultiProofHashCount(size, indices), proof->hashes.size()) << "size " << size << " subset " << s;
    }
  }
}

TEST(ProtocolDerive, BeaconRoundIsTheFirstPublishedStrictlyAfterTheDeadline) {
  const Lease lease = testing::TinyLease(LeaseMode::kBeacon);  // genesis kT0, period 1 s, deadline 10 s
  // Deadline exactly on round 10's publication: round 10 could coincide with an on-time record, so round 11.
  EXPECT_EQ(BeaconRoundFor(lease, kT0), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 - 1), 10u);  // round 10 appears 1 us after the deadline
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 1), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 1000), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 999'999), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 - 20'000'000), 0u);  // deadline before genesis: the first round
}

// SHA-256(u8 tag length || tag || fields): TaggedHash written out by hand.
Hash32 HandTagged(const std::string& tag, const std::vector<uint8_t>& fields) {
  std::vector<uint8_t> tagged = {static_cast<uint8_t>(tag.size())};
  tagged.insert(tagged.end(), tag.begin(), tag.end());
  tagged.insert(tagged.end(), fields.begin(), fields.end());
  return Sha256(tagged);
}

void AppendLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

TEST(ProtocolDerive, SeedsChainFromTheEpochStart) {
  const Hash32 lease_id = TestHash("lease");
  const Seed e0 = EpochSeed(lease_id, 0, TestHash("beacon"), lease_id);
  EXPECT_NE(e0, EpochSeed(lease_id, 1, TestHash("beacon"), lease_id));
  EXPECT_NE(e0, EpochSeed(lease_id, 0, TestHash("beacon", 1), lease_id));
  EXPECT_NE(e0, EpochSeed(lease_id, 0, TestHash("beacon"), TestHash("other record")));
  // The tagged-hash layout, computed by hand.
  std::vector<uint8_t> fields(lease_id.begin(), lease_id.end());
  AppendLe(fields, 0, 8);
  const Hash32 beacon = TestHash("beacon");
  fields.insert(fields.end(), beacon.begin(), beacon.end());
  fields.insert(fields.end(), lease_id.begin(), lease_id.end());
  EXPECT_EQ(e0, HandTagged("vcp.v2.epoch-seed", fields));
}

// Round seed = TaggedHash("vcp.v2.round-seed", epoch seed || u32 device || u32 round); epoch round q = d x R + r.
TEST(ProtocolDerive, RoundSeedsNameTheDeviceAndItsRound) {
  const Seed e0 = EpochSeed(TestHash("lease"), 0, TestHash("beacon"), TestHash("lease"));
  for (uint32_t d : {0u, 1u, 15u}) {
    for (uint32_t r : {0u, 1u, 65535u}) {
      std::vector<uint8_t> fields(e0.begin(), e0.end());
      AppendLe(fields, d, 4);
      AppendLe(fields, r, 4);
      EXPECT_EQ(RoundSeed(e0, d, r), HandTagged("vcp.v2.round-seed", fields)) << d << " " << r;
    }
  }
  EXPECT_NE(RoundSeed(e0, 0, 1), RoundSeed(e0, 1, 0));
  // Device-major: with D = 2 and R = 3, epoch round 4 is device 1's round 1.
  Lease lease = testing::TinyLease(LeaseMode::kInteractive, 3, 0, 2);
  ASSERT_OK(ValidateLease([&] {
    Lease signed_lease = lease;
    signed_lease.verifier_key = testing::KeyFrom(1).public_key();
    signed_lease.provider_key = testing::KeyFrom(2).public_key();
    return signed_lease;
  }()));
  EXPECT_EQ(EpochRounds(lease), 6u);
  EXPECT_EQ(EpochRound(lease, 1, 1), 4u);
  EpochStart start;
  start.lease_id = TestHash("lease");
  start.beacon = TestHash("beacon");
  start.prev_record = TestHash("lease");
  for (uint32_t q = 0; q < 6; ++q) {
    const WorkloadParams w = RoundWorkload(lease, start, q);
    EXPECT_EQ(w.seed, RoundSeed(e0, q / 3, q % 3)) << q;
    EXPECT_EQ(w.m, lease.workload.m);
  }
}

// An independent reference for the deadline: the formula of docs/PROTOCOL.md section 5 in 128-bit arithmetic.
struct DeadlineRef {
  U128 w, t_c, deadline;
};
DeadlineRef ReferenceDeadline(uint64_t m, uint64_t n, uint64_t k, uint64_t rounds, uint64_t rate, uint64_t slack) {
  DeadlineRef ref;
  ref.w = U128{rounds} * 2 * m * n * k;
  ref.t_c = ref.w * 1000000 / rate;
  ref.deadline = ref.t_c + ref.t_c * slack / 1000000;
  return ref;
}

Lease TermsLease(uint32_t m, uint32_t n, uint32_t k, uint32_t rounds, uint8_t devices, uint64_t rate, uint32_t slack,
                 WorkloadKind kind = WorkloadKind::kInt8) {
  Lease lease = testing::TinyLease(LeaseMode::kInteractive, rounds, 0, devices);
  lease.workload.kind = kind;
  lease.workload.m = m;
  lease.workload.n = n;
  lease.workload.k = k;
  lease.claimed_ops_per_second_per_device = rate;
  lease.slack_ppm = slack;
  lease.verifier_key = testing::KeyFrom(1).public_key();
  lease.provider_key = testing::KeyFrom(2).public_key();
  return lease;
}

TEST(ProtocolDeadline, KnownAnswers) {
  // The fixture's lease: W = 4 x 2 x 64^3 = 2097152 operations, rate 262144 ops/s: t_c = 8 s, slack 0.25: 10 s.
  const Lease tiny = testing::TinyLease(LeaseMode::kInteractive);
  EXPECT_EQ(DeviceOperations(tiny), 2097152u);
  EXPECT_EQ(EpochOperations(tiny), 2097152u);
  EXPECT_EQ(ComputeTimeUs(tiny), 8'000'000u);
  EXPECT_EQ(EpochDeadlineUs(tiny), 10'000'000u);
  EXPECT_DOUBLE_EQ(GuaranteedRatePerDevice(tiny), 262144.0 / 1.25);
  // D = 3 multiplies the epoch's operations, not the time: the devices run at once.
  const Lease three = testing::TinyLease(LeaseMode::kInteractive, 4, 0, 3);
  EXPECT_EQ(EpochOperations(three), 3 * 2097152u);
  EXPECT_EQ(EpochDeadlineUs(three), 10'000'000u);
  // Floors: W = 2 x 1000^3 x 3 = 6e9 operations at 7 ops/s: t_c = floor(6e15 / 7) = 857142857142857 us, slack
  // 333333 ppm adds floor(t_c x 333333 / 10^6) = 285714000000000 us (= 285713999999999.714... rounded down).
  const Lease odd = TermsLease(1000, 1000, 1000, 3, 1, 7, 333333);
  EXPECT_EQ(ComputeTimeUs(odd), 857142857142857u);
  EXPECT_EQ(EpochDeadlineUs(odd), 857142857142857u + 285713999999999u);
  // 128-bit intermediates: W = 4 x 2^61 = 2^63, W x 10^6 overflows 64 bits; rate 2^50: t_c = 2^13 x 10^6 us.
  const Lease big = TermsLease(1u << 20, 1u << 20, 1u << 20, 4, 1, uint64_t{1} << 50, 0, WorkloadKind::kFp32Ordered);
  EXPECT_EQ(DeviceOperations(big), uint64_t{1} << 63);
  EXPECT_EQ(ComputeTimeUs(big), 8'192'000'000u);
  EXPECT_EQ(EpochDeadlineUs(big), 8'192'000'000u);
}

// For many terms: the formula equals the reference, and deadline <= (W / rate)(1 + slack) holds exactly (in
// integers: deadline x rate <= W x (10^6 + slack)) and is tight to within the floors (3 us).
TEST(ProtocolDeadline, MatchesTheReferenceAndNeverExceedsWorkOverRateTimesOnePlusSlack) {
  uint64_t checked = 0, saturated = 0;
  for (uint32_t m : {1u, 7u, 64u, 1000u, 1u << 20}) {
    for (uint32_t k : {1u, 33u, 4096u}) {
      for (uint32_t rounds : {1u, 48u, 65536u}) {
        for (uint64_t rate : {uint64_t{1}, uint64_t{3}, uint64_t{999'999'937}, uint64_t{2'000'000'000'000'000},
                              ~uint64_t{0}}) {
          for (uint32_t slack : {0u, 1u, 250000u, 333333u, kMaxSlackPpm}) {
            const Lease lease = TermsLease(m, 5, k, rounds, 1, rate, slack);
            const DeadlineRef ref = ReferenceDeadline(m, 5, k, rounds, rate, slack);
            EXPECT_EQ(DeviceOperations(lease), static_cast<uint64_t>(ref.w));
            if (ref.deadline >= U128{1} << 64) {  // e.g. 5 x 2^50 operations at 1 op/s: the value saturates
              EXPECT_EQ(EpochDeadlineUs(lease), ~uint64_t{0});
              ++saturated;
              continue;
            }
            EXPECT_EQ(ComputeTimeUs(lease), static_cast<uint64_t>(ref.t_c));
            const U128 deadline = EpochDeadlineUs(lease);
            EXPECT_EQ(deadline, ref.deadline);
            EXPECT_LE(deadline * rate, ref.w * (1000000 + slack)) << m << " " << k << " " << rounds << " " << rate;
            EXPECT_GE((deadline + 3) * rate, ref.w * (1000000 + slack));
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked + saturated, 5u * 3 * 3 * 5 * 5);
  EXPECT_GT(checked, 1000u);
}

TEST(ProtocolDeadline, SaturatesForTermsValidateLeaseRefuses) {
  Lease lease = TermsLease(64, 64, 64, 4, 1, 0, 0);
  EXPECT_EQ(ComputeTimeUs(lease), ~uint64_t{0});
  EXPECT_EQ(EpochDeadlineUs(lease), ~uint64_t{0});
  // D x R x 2MNK >= 2^64.
  lease = TermsLease(1u << 20, 1u << 20, 1u << 20, 8, 16, 1, 0, WorkloadKind::kFp32Ordered);
  EXPECT_EQ(EpochOperations(lease), ~uint64_t{0});
}

TEST(ProtocolDerive, EpochRootIsAnRfc6962TreeOverLeafHashedRoots) {
  std::vector<Hash32> roots;
  for (int i = 0; i < 5; ++i) roots.push_back(TestHash("root", i));
  std::vector<Hash32> leaves;
  for (const Hash32& r : roots) {
    std::vector<uint8_t> b = {0x00};
    b.insert(b.end(), r.begin(), r.end());
    leaves.push_back(Sha256(b));
  }
  EXPECT_EQ(EpochRoot(roots), MerkleTree::Build(leaves, 1).root());
}

TEST(ProtocolSoundness, PassProbabilityAndSamplesNeeded) {
  EXPECT_DOUBLE_EQ(EpochPassProbability(0.5, 40), std::ldexp(1.0, -40));
  EXPECT_NEAR(EpochPassProbability(0.9, 64), std::pow(0.9, 64), 1e-15);
  // G * f^k = 1: the exact 1 - (1 - 2^-40)^(2^40) is 1 - 1/e.
  EXPECT_NEAR(EpochPassProbability(0.5, 40, std::ldexp(1.0, 40)), 1 - std::exp(-1.0), 1e-6);
  EXPECT_LE(EpochPassProbability(0.9, 100, 1000), 1000 * std::pow(0.9, 100));
  EXPECT_EQ(EpochPassProbability(1.0, 1000), 1.0);
  EXPECT_EQ(EpochPassProbability(0.0, 1), 0.0);

  EXPECT_EQ(SamplesNeeded(0.5, 40, 0), 40u);
  EXPECT_EQ(SamplesNeeded(0.5, 40, 40), 80u);
  EXPECT_EQ(SamplesNeeded(0.9, 40, 0), 264u);
  EXPECT_EQ(SamplesNeeded(0.9, 40, 40), 527u);
  EXPECT_EQ(SamplesNeeded(0.99, 40, 0), 2759u);
  EXPECT_EQ(SamplesNeeded(0.99, 40, 40), 5518u);
  // The enforced minimums are exactly the f = 1/2 figures.
  EXPECT_EQ(kMinSamplesInteractive, SamplesNeeded(0.5, kSecurityBits, 0));
  EXPECT_EQ(kMinSamplesBeacon, SamplesNeeded(0.5, kSecurityBits, kGrindingBudgetBits));
}

bool Contains(const Status& s, std::string_view text) { return s.message().find(text) != std::string_view::npos; }

TEST(ProtocolLease, ValidationAcceptsTheTinyLeaseAndTheBoundaries) {
  const SecretKey v = testing::KeyFrom(1), p = testing::KeyFrom(2);
  const Lease good = testing::SignedTinyLease(v, p, LeaseMode::kInteractive);
  ASSERT_OK(ValidateLease(good));
  ASSERT_OK(ValidateLease(testing::SignedTinyLease(v, p, LeaseMode::kBeacon)));
  const std::vector<std::pair<std::string, std::function<void(Lease&)>>> boundaries = {
      {"D = 16", [](Lease& l) { l.devices = kMaxDevices; }},
      {"slack = 1.0", [](Lease& l) { l.slack_ppm = kMaxSlackPpm; }},
      {"slack 0, no allowance", [](Lease& l) { l.slack_ppm = 0; }},
      // t_c = 8 s, margin 2 s: an allowance of exactly half the margin fits.
      {"allowance = margin / 2", [](Lease& l) { l.network_allowance_us = 1'000'000; }},
      // W = 2097152 operations in exactly 1 ms.
      {"t_c = 1 ms", [](Lease& l) { l.claimed_ops_per_second_per_device = 2'097'152'000; }},
      {"R = 65536", [](Lease& l) {
         l.rounds_per_epoch = kMaxRounds;
         l.claimed_ops_per_second_per_device *= kMaxRounds / 4;
       }},
  };
  for (const auto& [name, mutate] : boundaries) {
    Lease lease = good;
    mutate(lease);
    const Status s = ValidateLease(lease);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  }
}

// Every refusal, with the words its message must carry: the term, its value and what is allowed.
TEST(ProtocolLease, ValidationRefusesEachBadTermSayingWhatIsAllowed) {
  const SecretKey v = testing::KeyFrom(1), p = testing::KeyFrom(2);
  const Lease good = testing::SignedTinyLease(v, p, LeaseMode::kInteractive);
  struct Refusal {
    std::string name;
    std::function<void(Lease&)> mutate;
    std::vector<std::string> says;
  };
  const std::vector<Refusal> refusals = {
      {"D = 0", [](Lease& l) { l.devices = 0; }, {"devices D = 0 is out of range; allowed: 1 to 16"}},
      {"D = 17", [](Lease& l) { l.devices = 17; }, {"devices D = 17 is out of range; allowed: 1 to 16"}},
      {"rounds 0", [](Lease& l) { l.rounds_per_epoch = 0; }, {"R = 0 is out of range; allowed: 1 to 65536"}},
      {"rounds too many", [](Lease& l) { l.rounds_per_epoch = kMaxRounds + 1; }, {"R = 65537"}},
      {"k below the interactive minimum", [](Lease& l) { l.samples_per_epoch = kMinSamplesInteractive - 1; },
       {"k = 39 is out of range for interactive mode; allowed: 40 to 4096"}},
      {"k above the maximum", [](Lease& l) { l.samples_per_epoch = kMaxSamples + 1; }, {"k = 4097"}},
      {"k below the beacon minimum",
       [](Lease& l) {
         l.mode = LeaseMode::kBeacon;
         l.beacon_name.assign(1, 'b');
         l.beacon_period_us = 1;
         l.samples_per_epoch = kMinSamplesBeacon - 1;
       },
       {"k = 79 is out of range for beacon mode; allowed: 80 to 4096"}},
      {"operations overflow",
       [](Lease& l) {
         l.workload.kind = WorkloadKind::kFp32Ordered;
         l.workload.m = l.workload.n = l.workload.k = 1u << 20;  // 2MNK = 2^61
         l.rounds_per_epoch = 4;
         l.devices = 2;  // D x R x 2MNK = 2^64
       },
       {"D x R x 2MNK operations per epoch does not fit in 64 bits"}},
      {"rate 0",
       [](Lease& l) { l.claimed_ops_per_second_per_device = 0; },
       {"claimed rate per device must be positive"}},
      {"slack above 1.0", [](Lease& l) { l.slack_ppm = kMaxSlackPpm + 1; },
       {"slack 1000001 ppm is above the maximum 1000000 ppm (1.0"}},
      {"t_c below 1 ms", [](Lease& l) { l.claimed_ops_per_second_per_device = 2'097'152'001; },
       {"compute time t_c", "= 999 us", "below the minimum 1000 us", "raise R"}},
      {"allowance not small beside t_c", [](Lease& l) { l.network_allowance_us = 1'000'001; },
       {"network allowance 1000001 us", "t_c = 8000000 us", "slack margin = deadline - t_c = 2000000 us",
        "at most 1000000 us", "raise R, raise the slack (max 1.0) or lower the allowance"}},
      {"allowance with zero slack", [](Lease& l) {
         l.slack_ppm = 0;
         l.network_allowance_us = 1;
       },
       {"network allowance 1 us", "slack margin = deadline - t_c = 0 us"}},
      {"start after end", [](Lease& l) { l.start_us = l.end_us; }, {"must be before end"}},
      {"same keys", [](Lease& l) { l.provider_key = l.verifier_key; }, {"keys must differ"}},
      {"beacon without name",
       [](Lease& l) {
         l.mode = LeaseMode::kBeacon;
         l.beacon_period_us = 1;
         l.samples_per_epoch = 80;
       },
       {"beacon mode needs a beacon name of 1 to 255 printable ASCII characters"}},
      {"beacon without period",
       [](Lease& l) {
         l.mode = LeaseMode::kBeacon;
         l.beacon_name.assign(1, 'b');
         l.samples_per_epoch = 80;
       },
       {"positive beacon period"}},
      {"interactive with beacon", [](Lease& l) { l.beacon_name.assign(1, 'b'); }, {"interactive mode takes no beacon"}},
      {"bad tile", [](Lease& l) { l.workload.tile = 12; }, {"lease workload"}},
      {"bad shape", [](Lease& l) { l.workload.m = 0; }, {"lease workload"}},
      {"int8 K too large", [](Lease& l) { l.workload.k = kMaxInt8K + 1; }, {"lease workload"}},
  };
  for (const Refusal& r : refusals) {
    Lease lease = good;
    r.mutate(lease);
    const Status s = ValidateLease(lease);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << r.name << ": " << s.ToString();
    for (const std::string& words : r.says) EXPECT_TRUE(Contains(s, words)) << r.name << ": " << s.ToString();
  }
}

TEST(ProtocolVerdict, OutcomesSeparateVoidFromFail) {
  EXPECT_EQ(OutcomeOf(Reason::kPass), VerdictOutcome::kPass);
  for (uint16_t code = 1; code <= 17; ++code) {
    EXPECT_EQ(OutcomeOf(static_cast<Reason>(code)), VerdictOutcome::kFail) << ReasonName(static_cast<Reason>(code));
  }
  EXPECT_EQ(OutcomeOf(Reason::kVoidVerifierDown), VerdictOutcome::kVoid);
  EXPECT_EQ(OutcomeOf(Reason::kVoidClock), VerdictOutcome::kVoid);
  EXPECT_EQ(OutcomeOf(Reason::kVoidBeaconUnavailable), VerdictOutcome::kVoid);
  EXPECT_EQ(ReasonName(Reason::kVoidVerifierDown), "void-verifier-down");
  EXPECT_EQ(ReasonName(Reason::kVoidClock), "void-clock");
  EXPECT_EQ(ReasonName(Reason::kVoidBeaconUnavailable), "void-beacon-unavailable");
  EXPECT_TRUE(IsKnownReason(20));
  EXPECT_FALSE(IsKnownReason(21));
  EXPECT_EQ(VerdictOutcomeName(VerdictOutcome::kVoid), "void");
  EXPECT_EQ(EpochScheduleName(EpochSchedule::kScheduled), "scheduled");
  EXPECT_EQ(EpochScheduleName(EpochSchedule::kOnDemand), "on-demand");
  ASSERT_OK_AND_ASSIGN(const EpochSchedule s, ParseEpochSchedule("on-demand"));
  EXPECT_EQ(s, EpochSchedule::kOnDemand);
  const Status bad = ParseEpochSchedule("random").status();
  EXPECT_TRUE(Contains(bad, "allowed: scheduled, on-demand")) << bad.ToString();
}

// Reference for the one-sided Clopper-Pearson bound: plain summation and a fine grid.
double ReferenceLowerBound(uint64_t x, uint64_t n, double confidence) {
  const auto tail = [&](double p) {
    double sum = 0;
    for (uint64_t i = x; i <= n; ++i) {
      double c = 1;
      for (uint64_t j = 0; j < i; ++j) c = c * double(n - j) / double(j + 1);
      sum += c * std::pow(p, double(i)) * std::pow(1 - p, double(n - i));
    }
    return sum;
  };
  double p = 0;
  while (p < 1 && tail(p + 1e-5) < 1 - confidence) p += 1e-5;
  return p;
}

TEST(ProtocolVerdict, BinomialLowerBoundMatchesReference) {
  for (const auto& [x, n] : std::vector<std::pair<uint64_t, uint64_t>>{{7, 10}, {1, 5}, {19, 20}, {30, 60}}) {
    EXPECT_NEAR(BinomialLowerBound(x, n, 0.95), ReferenceLowerBound(x, n, 0.95), 2e-5) << x << "/" << n;
  }
  EXPECT_NEAR(BinomialLowerBound(20, 20, 0.95), std::pow(0.05, 1.0 / 20), 1e-12);
  EXPECT_EQ(BinomialLowerBound(0, 20, 0.95), 0.0);
  EXPECT_EQ(BinomialLowerBound(0, 0, 0.95), 0.0);
  // Large counts stay finite and ordered.
  EXPECT_LT(BinomialLowerBound(4900, 5000, 0.95), 0.98);
  EXPECT_GT(BinomialLowerBound(4900, 5000, 0.95), 0.97);
}

TEST(ProtocolVerdict, AuditScheduleIsAPoissonProcess) {
  const Hash32 seed = TestHash("schedule");
  const uint64_t start = kT0, end = kT0 + 10'000 * 60'000'000ull, gap = 60'000'000;  // mean 1 minute
  const auto times = AuditSchedule(seed, start, end, gap);
  EXPECT_EQ(times, AuditSchedule(seed, start, end, gap));
  EXPECT_NE(times, AuditSchedule(TestHash("schedule", 2), start, end, gap));
  ASSERT_GT(times.size(), 9000u);
  ASSERT_LT(times.size(), 11000u);  // Poisson(10000): sd 100
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  EXPECT_GE(times.front(), start);
  EXPECT_LT(times.back(), end);
  // Exponential gaps: the fraction of gaps longer than the mean is e^-1.
  uint64_t longer = 0;
  for (size_t i = 1; i < times.size(); ++i) longer += (times[i] - times[i - 1]) > gap;
  EXPECT_NEAR(double(longer) / double(times.size() - 1), std::exp(-1.0), 0.02);
  EXPECT_EQ(MeanGapForShare(1'000'000, 0.01), 100'000'000u);
}

}  // namespace
}  // namespace vcp
