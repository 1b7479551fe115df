// Derived values of the lease protocol: sampling (against an independent reference), multiproof sizes, beacon
// rounds, the soundness arithmetic and policy, lease validation, verdict summaries and the audit schedule.
#include <gtest/gtest.h>

#include <cmath>
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

// Reference for SamplePositions written the obvious way with 128-bit arithmetic: accept x unless it falls in the
// last, incomplete block of `total` values below 2^64.
std::vector<SamplePosition> ReferenceSample(const Hash32& record, const Hash32& challenge, uint32_t rounds,
                                            uint64_t leaves, uint32_t samples) {
  const U128 total = static_cast<U128>(rounds) * leaves;
  const U128 two64 = static_cast<U128>(1) << 64;
  const U128 limit = (two64 / total) * total;
  std::vector<SamplePosition> out;
  for (uint32_t j = 0; j < samples; ++j) {
    for (uint32_t a = 0;; ++a) {
      std::vector<uint8_t> fields(record.begin(), record.end());
      fields.insert(fields.end(), challenge.begin(), challenge.end());
      for (int i = 0; i < 4; ++i) fields.push_back(static_cast<uint8_t>(j >> (8 * i)));
      for (int i = 0; i < 4; ++i) fields.push_back(static_cast<uint8_t>(a >> (8 * i)));
      const Hash32 h = TaggedHash("vcp.v1.sample", fields);
      uint64_t x = 0;
      for (int i = 7; i >= 0; --i) x = (x << 8) | h[i];
      if (x >= limit) continue;
      const uint64_t p = static_cast<uint64_t>(x % total);
      out.push_back({static_cast<uint32_t>(p / leaves), p % leaves});
      break;
    }
  }
  return out;
}

TEST(ProtocolSampling, MatchesReferenceForManyShapes) {
  const std::vector<std::pair<uint32_t, uint64_t>> shapes = {
      {1, 1}, {1, 64}, {4, 64}, {3, 5}, {7, 1000003}, {65536, 65536}, {3, (uint64_t{1} << 61) + 12345}};
  for (const auto& [rounds, leaves] : shapes) {
    for (uint64_t c = 0; c < 3; ++c) {
      const auto got = SamplePositions(TestHash("record", c), TestHash("challenge", c), rounds, leaves, 200);
      const auto want = ReferenceSample(TestHash("record", c), TestHash("challenge", c), rounds, leaves, 200);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].round, want[i].round) << rounds << "x" << leaves << " draw " << i;
        EXPECT_EQ(got[i].tile, want[i].tile) << rounds << "x" << leaves << " draw " << i;
        EXPECT_LT(got[i].round, rounds);
        EXPECT_LT(got[i].tile, leaves);
      }
    }
  }
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

TEST(ProtocolDerive, BeaconRoundIsTheFirstPublishedAtOrAfterTheDeadline) {
  const Lease lease = testing::TinyLease(LeaseMode::kBeacon);  // genesis kT0, period 1 s, deadline 10 s
  EXPECT_EQ(BeaconRoundFor(lease, kT0), 10u);                  // deadline exactly on round 10's publication
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 1), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 1000), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 999'999), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 - 20'000'000), 0u);  // deadline before genesis: the first round
}

TEST(ProtocolDerive, SeedsChainFromTheEpochStart) {
  const Hash32 lease_id = TestHash("lease");
  const Seed e0 = EpochSeed(lease_id, 0, TestHash("beacon"), lease_id);
  EXPECT_NE(e0, EpochSeed(lease_id, 1, TestHash("beacon"), lease_id));
  EXPECT_NE(e0, EpochSeed(lease_id, 0, TestHash("beacon", 1), lease_id));
  EXPECT_NE(e0, EpochSeed(lease_id, 0, TestHash("beacon"), TestHash("other record")));
  EXPECT_NE(RoundSeed(e0, 0), RoundSeed(e0, 1));
  // The tagged-hash layout, computed by hand.
  std::vector<uint8_t> fields(lease_id.begin(), lease_id.end());
  for (int i = 0; i < 8; ++i) fields.push_back(0);
  const Hash32 beacon = TestHash("beacon");
  fields.insert(fields.end(), beacon.begin(), beacon.end());
  fields.insert(fields.end(), lease_id.begin(), lease_id.end());
  std::vector<uint8_t> tagged = {17};
  const std::string tag = "vcp.v1.epoch-seed";
  tagged.insert(tagged.end(), tag.begin(), tag.end());
  tagged.insert(tagged.end(), fields.begin(), fields.end());
  EXPECT_EQ(e0, Sha256(tagged));
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

TEST(ProtocolLease, ValidationAcceptsTheTinyLeaseAndRejectsEachBadField) {
  const SecretKey v = testing::KeyFrom(1), p = testing::KeyFrom(2);
  const Lease good = testing::SignedTinyLease(v, p, LeaseMode::kInteractive);
  ASSERT_TRUE(ValidateLease(good).ok()) << ValidateLease(good).ToString();
  ASSERT_TRUE(ValidateLease(testing::SignedTinyLease(v, p, LeaseMode::kBeacon)).ok());

  const std::vector<std::pair<std::string, std::function<void(Lease&)>>> mutations = {
      {"rounds 0", [](Lease& l) { l.rounds_per_epoch = 0; }},
      {"rounds too many", [](Lease& l) { l.rounds_per_epoch = kMaxRounds + 1; }},
      {"k below the interactive minimum", [](Lease& l) { l.samples_per_epoch = kMinSamplesInteractive - 1; }},
      {"k above the maximum", [](Lease& l) { l.samples_per_epoch = kMaxSamples + 1; }},
      {"k below the beacon minimum",
       [](Lease& l) {
         l.mode = LeaseMode::kBeacon;
         l.beacon_name.assign(1, 'b');
         l.beacon_period_us = 1;
         l.samples_per_epoch = kMinSamplesBeacon - 1;
       }},
      {"deadline 0", [](Lease& l) { l.epoch_deadline_us = 0; }},
      {"rate 0", [](Lease& l) { l.claimed_ops_per_second = 0; }},
      {"start after end", [](Lease& l) { l.start_us = l.end_us; }},
      {"same keys", [](Lease& l) { l.provider_key = l.verifier_key; }},
      {"beacon without name",
       [](Lease& l) {
         l.mode = LeaseMode::kBeacon;
         l.beacon_period_us = 1;
         l.samples_per_epoch = 80;
       }},
      {"beacon without period",
       [](Lease& l) {
         l.mode = LeaseMode::kBeacon;
         l.beacon_name.assign(1, 'b');
         l.samples_per_epoch = 80;
       }},
      {"interactive with beacon", [](Lease& l) { l.beacon_name.assign(1, 'b'); }},
      {"bad tile", [](Lease& l) { l.workload.tile = 12; }},
      {"bad shape", [](Lease& l) { l.workload.m = 0; }},
      {"int8 K too large", [](Lease& l) { l.workload.k = kMaxInt8K + 1; }},
  };
  for (const auto& [name, mutate] : mutations) {
    Lease lease = good;
    mutate(lease);
    const Status s = ValidateLease(lease);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name << ": " << s.ToString();
  }
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

TEST(ProtocolVerdict, SummaryCountsRatesAndCoverage) {
  const Lease lease = testing::TinyLease(LeaseMode::kInteractive);  // k = 40, claimed 1e6 ops/s, 24 h
  std::vector<Verdict> verdicts;
  const auto add = [&](Reason reason, uint64_t window_us, uint64_t ops) {
    Verdict v;
    v.reason = reason;
    v.epoch = verdicts.size();
    v.start_us = kT0 + 1'000'000 * verdicts.size();
    v.arrival_us = v.start_us + window_us;
    v.operations = ops;
    verdicts.push_back(v);
  };
  add(Reason::kPass, 1'000'000, 4'000'000);  // 4e6 ops/s
  add(Reason::kPass, 2'000'000, 4'000'000);  // 2e6
  add(Reason::kPass, 500'000, 4'000'000);    // 8e6
  add(Reason::kTileMismatch, 0, 0);
  add(Reason::kMissed, 0, 0);
  const LeaseReport r = SummarizeLease(lease, verdicts, kT0 + 12 * testing::kHourUs);
  EXPECT_EQ(r.epochs, 5u);
  EXPECT_EQ(r.passed, 3u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.missed, 1u);
  EXPECT_EQ(r.proven_operations, 12'000'000u);
  EXPECT_DOUBLE_EQ(r.median_rate, 4e6);
  EXPECT_DOUBLE_EQ(r.min_rate, 2e6);
  EXPECT_TRUE(r.meets_claimed_rate);
  EXPECT_NEAR(r.escape_skip_1pct, std::pow(0.99, 40 * 4), 1e-12);
  EXPECT_NEAR(r.escape_skip_10pct / std::pow(0.90, 40 * 4), 1.0, 1e-9);  // 4.7e-8: relative precision kept
  EXPECT_DOUBLE_EQ(r.escape_skip_1pct_grinding, r.escape_skip_1pct);
  EXPECT_DOUBLE_EQ(r.lease_hours, 12.0);
  EXPECT_NEAR(r.availability_lower_bound, BinomialLowerBound(3, 5, 0.95), 1e-12);
  EXPECT_NEAR(r.gpu_hours_proven, 12.0 * r.availability_lower_bound, 1e-9);

  // Beacon mode: k = 80 does not stop a grinder with 2^40 tries from skipping 1% (f^k = 0.45).
  const Lease beacon = testing::TinyLease(LeaseMode::kBeacon);
  const LeaseReport b = SummarizeLease(beacon, verdicts, kT0 + 12 * testing::kHourUs);
  EXPECT_NEAR(b.escape_skip_1pct, std::pow(0.99, 80 * 4), 1e-12);
  EXPECT_NEAR(b.escape_skip_1pct_grinding, 1.0, 1e-12);
  EXPECT_NEAR(b.escape_skip_10pct_grinding, 1.0, 1e-6);  // 2^40 * 0.9^80 = 2.4e8 re-rolls' worth of luck
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
