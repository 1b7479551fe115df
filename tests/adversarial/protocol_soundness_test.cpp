// The soundness claims of docs/PROTOCOL.md section 8, measured on a two-device lease (P = D x R x L positions): over
// many seeded trials a lazy provider that computed a fraction f of the positions is caught at rate 1 - f^k, and a
// provider in beacon mode that learned the beacon early and tried G records passes at rate 1 - (1 - f^k)^G <= G f^k.
//
// Statistical bound: each measured rate must lie within 4 binomial standard deviations of the predicted rate (a false
// alarm has probability about 6e-5 per check; the seeds are fixed, so the outcome is reproducible). Beyond the rate,
// every single trial's verdict must equal the reference prediction (all k sampled positions inside the computed set),
// which ties the real verifier to the model exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "protocol_fixture.h"
#include "vcp/epoch.h"

namespace vcp {
namespace {

using testing::kT0;
using testing::TestHash;

constexpr uint64_t kStartUs = kT0 + 1000;

struct Trial {
  bool passed_verifier = false;  // what CheckRecord + CheckResponse said
  bool predicted_pass = false;   // every sampled position computed
};

void ExpectRateWithin(double observed, double predicted, uint64_t trials, const std::string& what) {
  const double sd = std::sqrt(std::max(predicted * (1 - predicted), 1e-12) / double(trials));
  EXPECT_LE(std::abs(observed - predicted), 4 * sd + 1e-12)
      << what << ": observed " << observed << ", predicted " << predicted << " (4 sd = " << 4 * sd << ")";
}

class Lab {
 public:
  Lab(LeaseMode mode, uint32_t samples) : verifier_(testing::KeyFrom(0x61)), provider_(testing::KeyFrom(0x62)) {
    // D = 2 devices x R = 2 rounds x L = 64 tiles: P = 256 positions spread over both devices' trees.
    lease_ = testing::SignedTinyLease(verifier_, provider_, mode, 2, samples, /*nonce=*/1, /*devices=*/2);
    total_ = uint64_t{EpochRounds(lease_)} * LeavesPerRound(lease_);
  }
  const Lease& lease() const { return lease_; }
  uint64_t positions() const { return total_; }

  // One interactive epoch of a lazy provider that computed `computed` of the positions.
  Trial LazyInteractive(uint64_t trial, uint64_t computed) const {
    const EpochStart start =
        testing::SignedStart(lease_, verifier_, 0, TestHash("beacon", trial), LeaseId(lease_), kStartUs);
    const EpochLeaves lazy = SimulateLazyLeaves(Honest(start), computed, trial);
    const EpochCommit commit =
        testing::Must(CommitEpoch(lease_, start, lazy, testing::TestDevices(lease_.devices, "lazy"), kStartUs,
                                  kStartUs + 1, provider_),
                      "CommitEpoch");
    const ChallengeValue challenge{ChallengeKind::kVerifierRandomness, 0, TestHash("challenge", trial)};
    Trial t;
    t.predicted_pass = AllComputed(RecordHash(commit.record), challenge.value, computed, trial);
    t.passed_verifier = Verify(start, commit, lazy, challenge);
    return t;
  }

  // Beacon mode with the beacon value leaked before the record was due: the provider re-rolls its record (the
  // informative start time) up to `tries` times and submits the first whose samples all fall on computed tiles.
  Trial GrindingBeacon(uint64_t trial, uint64_t computed, uint32_t tries) const {
    const EpochStart start =
        testing::SignedStart(lease_, verifier_, 0, TestHash("beacon", trial), LeaseId(lease_), kStartUs);
    const EpochLeaves lazy = SimulateLazyLeaves(Honest(start), computed, trial);
    const ChallengeValue leaked{ChallengeKind::kBeacon, BeaconRoundFor(lease_, kStartUs), TestHash("leaked", trial)};
    Trial t;
    for (uint32_t g = 0; g < tries; ++g) {
      const EpochCommit commit =
          testing::Must(CommitEpoch(lease_, start, lazy, testing::TestDevices(lease_.devices, "grinder"), kStartUs + g,
                                    kStartUs + 1, provider_),
                        "CommitEpoch");
      const bool lands = AllComputed(RecordHash(commit.record), leaked.value, computed, trial);
      if (lands || g + 1 == tries) {
        t.predicted_pass = lands;
        t.passed_verifier = Verify(start, commit, lazy, leaked);
        break;
      }
    }
    return t;
  }

 private:
  EpochLeaves Honest(const EpochStart& start) const {
    return testing::Must(RunEpochRounds(lease_, start, testing::CpuOneThread()), "RunEpochRounds").leaves;
  }

  bool AllComputed(const Hash32& record_hash, const Hash32& challenge, uint64_t computed, uint64_t trial) const {
    const std::vector<bool> mask = LazyComputedMask(total_, computed, trial);
    const uint64_t per_round = LeavesPerRound(lease_);
    for (const SamplePosition& p :
         SamplePositions(record_hash, challenge, EpochRounds(lease_), per_round, lease_.samples_per_epoch)) {
      if (!mask[p.round * per_round + p.tile]) return false;
    }
    return true;
  }

  bool Verify(const EpochStart& start, const EpochCommit& commit, const EpochLeaves& leaves,
              const ChallengeValue& challenge) const {
    if (!CheckRecord(lease_, start, kStartUs + 10, Serialize(commit.record)).finding.ok()) return false;
    const EpochResponse response =
        testing::Must(BuildResponse(
                          lease_, commit.record, commit.round_roots, challenge,
                          [&leaves](uint32_t r) -> Result<std::vector<Hash32>> { return leaves[r]; }, provider_),
                      "BuildResponse");
    const Finding f = CheckResponse(lease_, start, commit.record, challenge, Serialize(response), 1);
    EXPECT_TRUE(f.ok() || f.reason == Reason::kTileMismatch) << ReasonName(f.reason) << ": " << f.detail;
    return f.ok();
  }

  SecretKey verifier_, provider_;
  Lease lease_;
  uint64_t total_ = 0;
};

TEST(ProtocolSoundness, LazyProviderDetectionRateIsOneMinusFToTheK) {
  const Lab lab(LeaseMode::kInteractive, 40);
  ASSERT_EQ(lab.positions(), 256u);
  constexpr uint64_t kTrials = 400;
  for (uint64_t computed : {251u, 243u}) {  // f = 0.980 (f^40 = 0.456) and f = 0.949 (f^40 = 0.124)
    const double f = double(computed) / double(lab.positions());
    uint64_t caught = 0;
    for (uint64_t trial = 0; trial < kTrials; ++trial) {
      const Trial t = lab.LazyInteractive(computed * 100000 + trial, computed);
      ASSERT_EQ(t.passed_verifier, t.predicted_pass) << "trial " << trial << ": verifier disagrees with the model";
      caught += !t.passed_verifier;
    }
    ExpectRateWithin(double(caught) / kTrials, 1 - std::pow(f, 40), kTrials, "detection at f = " + std::to_string(f));
  }
}

TEST(ProtocolSoundness, GrindingInBeaconModeStaysWithinGTimesFToTheK) {
  const Lab lab(LeaseMode::kBeacon, kMinSamplesBeacon);  // k = 80, the smallest beacon k the library accepts
  constexpr uint64_t kTrials = 400;
  constexpr uint64_t kComputed = 248;  // f = 0.96875, f^80 = 0.0789
  const double f = double(kComputed) / double(lab.positions());
  const double single = std::pow(f, 80);
  for (uint32_t tries : {1u, 8u}) {
    uint64_t passed = 0;
    for (uint64_t trial = 0; trial < kTrials; ++trial) {
      const Trial t = lab.GrindingBeacon(tries * 1000000 + trial, kComputed, tries);
      ASSERT_EQ(t.passed_verifier, t.predicted_pass) << "trial " << trial;
      passed += t.passed_verifier;
    }
    const double rate = double(passed) / kTrials;
    const double exact = EpochPassProbability(f, 80, tries);
    ExpectRateWithin(rate, exact, kTrials, "grinding success with G = " + std::to_string(tries));
    // The documented bound G * f^k holds with the same statistical margin.
    const double sd = std::sqrt(exact * (1 - exact) / kTrials);
    EXPECT_LE(rate, tries * single + 4 * sd) << "G = " << tries;
    if (tries > 1) {
      EXPECT_GT(rate, single + 4 * std::sqrt(single * (1 - single) / kTrials)) << "grinding must help";
    }
  }
}

}  // namespace
}  // namespace vcp
