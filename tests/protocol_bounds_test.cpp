// The lease's arithmetic at its edges (issue 12 item 5, docs/PROTOCOL.md sections 5.2, 7.2, 9 and 10.3): every time
// field bounded so that no sum or product wraps, and refused outside the bounds by ValidateLease, by ParseLease and
// at acceptance; the beacon round of an epoch always published after the epoch starts, and strictly after the
// latest on-time arrival; the one timing rule (on time iff arrival - start <= deadline) to the microsecond; an
// audit share that gives fewer than one expected audit refused with the smallest share that gives one; a skip
// fraction that rounds to no skipped tile refused; derived values saturating instead of wrapping.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/epoch.h"
#include "vcp/lazy_provider.h"
#include "vcp/lease_session.h"
#include "vcp/protocol.h"
#include "vcp/verdict.h"

namespace vcp {
namespace {

using testing::kHourUs;
using testing::kT0;
using testing::kTinyDeadlineUs;
__extension__ typedef unsigned __int128 U128;

bool Contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// A tiny lease with keys, valid as it stands (deadline exactly 10 s).
Lease ValidTiny(LeaseMode mode = LeaseMode::kInteractive) {
  Lease lease = testing::TinyLease(mode);
  lease.verifier_key = testing::KeyFrom(0x11).public_key();
  lease.provider_key = testing::KeyFrom(0x22).public_key();
  return lease;
}

// Expects ValidateLease to refuse `lease` with kInvalidArgument naming every one of `parts`, and ParseLease of its
// bytes to refuse it too (kCorrupt, same words) when `parse_refuses`.
void ExpectRefused(const Lease& lease, const std::vector<std::string>& parts, bool parse_refuses) {
  const Status s = ValidateLease(lease);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  for (const std::string& part : parts) EXPECT_TRUE(Contains(s.message(), part)) << part << " in " << s.ToString();
  const Result<Lease> parsed = ParseLease(Serialize(lease));
  if (parse_refuses) {
    ASSERT_FALSE(parsed.ok()) << "ParseLease kept a lease outside the bounds";
    EXPECT_EQ(parsed.status().code(), StatusCode::kCorrupt) << parsed.status().ToString();
    for (const std::string& part : parts) {
      EXPECT_TRUE(Contains(parsed.status().message(), part)) << part << " in " << parsed.status().ToString();
    }
  } else {
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Bounds (section 5.2): at the bound accepted, one past refused, by ValidateLease and by ParseLease.

TEST(LeaseBounds, TimesSinceTheEpochAtMost2To53) {
  Lease at = ValidTiny();
  at.start_us = kMaxTimeUs - 24 * kHourUs;
  at.end_us = kMaxTimeUs;
  ASSERT_OK(ValidateLease(at));
  ASSERT_OK(ParseLease(Serialize(at)).status());

  Lease end = at;
  end.end_us = kMaxTimeUs + 1;
  ExpectRefused(end, {"end", "9007199254740993 us", "maximum 9007199254740992 us", "section 5.2"}, true);
  Lease start = end;
  start.start_us = kMaxTimeUs + 1;
  end.end_us = kMaxTimeUs + 2;
  ExpectRefused(start, {"start", "9007199254740993 us"}, true);
  // The lease times: 2^64 - 1.
  Lease far = ValidTiny();
  far.end_us = UINT64_MAX;
  ExpectRefused(far, {"end", "18446744073709551615 us"}, true);
}

TEST(LeaseBounds, BeaconGenesisAndPeriod) {
  Lease at = ValidTiny(LeaseMode::kBeacon);
  at.beacon_genesis_us = kMaxTimeUs;
  at.beacon_period_us = kMaxBeaconPeriodUs;
  ASSERT_OK(ValidateLease(at));
  ASSERT_OK(ParseLease(Serialize(at)).status());

  Lease period = at;
  period.beacon_period_us = kMaxBeaconPeriodUs + 1;
  ExpectRefused(period, {"beacon period", "1099511627777 us", "maximum 1099511627776 us"}, true);
  // The beacon period of 2^64 - 1, which made the challenge round one published before the epoch.
  period.beacon_period_us = UINT64_MAX;
  ExpectRefused(period, {"beacon period", "18446744073709551615 us"}, true);
  Lease genesis = at;
  genesis.beacon_genesis_us = kMaxTimeUs + 1;
  ExpectRefused(genesis, {"beacon genesis", "9007199254740993 us"}, true);
}

TEST(LeaseBounds, NetworkAllowanceBoundEvenBeforeTheMargin) {
  Lease lease = ValidTiny();
  lease.network_allowance_us = kMaxDeadlineUs + 1;
  ExpectRefused(lease, {"network allowance", "1099511627777 us"}, true);
  // At the bound the field parses; the terms then refuse it against the margin (half of 2 s here).
  lease.network_allowance_us = kMaxDeadlineUs;
  ExpectRefused(lease, {"network allowance", "half of the margin"}, false);
}

// The deadline is derived, so ValidateLease (creation and acceptance) refuses it; 2^40 us exactly is accepted.
// W = R x 2 x 64^3 = 2^15 x 2^19 = 2^34 operations; at 15625 ops/s, t_c = 2^34 x 10^6 / 15625 = 2^40 us.
TEST(LeaseBounds, DeadlineAtMost2To40) {
  Lease at = ValidTiny();
  at.rounds_per_epoch = 1u << 15;
  at.claimed_ops_per_second_per_device = 15625;
  at.slack_ppm = 0;
  ASSERT_EQ(ComputeTimeUs(at), kMaxDeadlineUs);
  ASSERT_EQ(EpochDeadlineUs(at), kMaxDeadlineUs);
  ASSERT_OK(ValidateLease(at));

  Lease over = at;
  over.slack_ppm = 1;  // floor(2^40 x 1 / 10^6) = 1099511 us more
  ASSERT_EQ(EpochDeadlineUs(over), kMaxDeadlineUs + 1099511);
  ExpectRefused(over, {"epoch deadline 1099512727287 us", "maximum 1099511627776 us", "section 5.2"}, false);
  // The deadline of 1.8e16 ms (1.8e19 us): one op/s over a large workload.
  Lease huge = ValidTiny();
  huge.workload.m = huge.workload.n = huge.workload.k = 1u << 14;
  huge.rounds_per_epoch = 2048;
  huge.claimed_ops_per_second_per_device = 1;
  ASSERT_GT(EpochDeadlineUs(huge), uint64_t{18'000'000'000'000'000'000u} / 2);
  ExpectRefused(huge, {"epoch deadline", "maximum 1099511627776 us"}, false);
}

TEST(LeaseBounds, AcceptanceRefusesALeaseOutsideTheBounds) {
  const SecretKey verifier = testing::KeyFrom(0x11), provider = testing::KeyFrom(0x22);
  Lease lease = ValidTiny(LeaseMode::kBeacon);
  lease.beacon_period_us = kMaxBeaconPeriodUs + 1;
  ASSERT_OK(Sign(lease, verifier));
  const std::filesystem::path dir = testing::MakeTempDir("vcp-bounds-");
  const Result<ProviderSession> accepted = ProviderSession::Accept(dir / "ps", lease, provider);
  EXPECT_EQ(accepted.status().code(), StatusCode::kInvalidArgument) << accepted.status().ToString();
  EXPECT_TRUE(Contains(accepted.status().message(), "beacon period")) << accepted.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir / "ps" / "provider.log"));
  // And the verifier cannot create one.
  Lease terms = ValidTiny(LeaseMode::kBeacon);
  terms.beacon_period_us = UINT64_MAX;
  const Result<VerifierSession> created = VerifierSession::Create(dir / "vs", terms, verifier, 0.5);
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << created.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir / "vs" / "verifier.log"));
  std::filesystem::remove_all(dir);
}

// Derived values of a lease outside the limits saturate instead of wrapping 128 bits (2 x (2^32 - 1)^3 x (2^32 - 1)
// is above 2^128).
TEST(LeaseBounds, DerivedValuesSaturate) {
  Lease lease = ValidTiny();
  lease.workload.m = lease.workload.n = lease.workload.k = UINT32_MAX;
  lease.rounds_per_epoch = UINT32_MAX;
  lease.devices = 255;
  EXPECT_EQ(DeviceOperations(lease), UINT64_MAX);
  EXPECT_EQ(EpochOperations(lease), UINT64_MAX);
  EXPECT_EQ(ComputeTimeUs(lease), UINT64_MAX);
  EXPECT_EQ(EpochDeadlineUs(lease), UINT64_MAX);
  lease.slack_ppm = UINT32_MAX;
  EXPECT_EQ(EpochDeadlineUs(lease), UINT64_MAX);
  EXPECT_FALSE(ValidateLease(lease).ok());
}

TEST(LeaseBounds, SamplesNeededSaturatesInsteadOfConvertingOutOfRange) {
  EXPECT_EQ(SamplesNeeded(0.5, 40, 0), 40u);
  EXPECT_EQ(SamplesNeeded(0.5, 40, 40), 80u);
  // f = 1 - 1e-15 needs about 5.5e16 draws: more than a u32 counts.
  EXPECT_EQ(SamplesNeeded(1 - 1e-15, 40, 40), UINT32_MAX);
  EXPECT_EQ(SamplesNeeded(std::nextafter(1.0, 0.0), 40, 40), UINT32_MAX);
  EXPECT_EQ(SamplesNeeded(std::nan(""), 40, 40), 1u);
}

// ---------------------------------------------------------------------------------------------------------------
// The beacon round (section 7.2): the first published strictly after start + deadline.

uint64_t Published(const Lease& lease, uint64_t round) {
  return lease.beacon_genesis_us + round * lease.beacon_period_us;
}

TEST(BeaconRound, StrictlyAfterTheLatestOnTimeArrivalToTheMicrosecond) {
  const Lease lease = ValidTiny(LeaseMode::kBeacon);  // genesis kT0, period 1 s, deadline 10 s
  // start + deadline exactly on round 10's publication: round 10 could coincide with an on-time record, so 11.
  EXPECT_EQ(BeaconRoundFor(lease, kT0), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 - 1), 10u);  // round 10 comes 1 us after the latest on-time arrival
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 1), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 999'999), 11u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 + 1'000'000), 12u);
  // Before the genesis: round 0 is published at the genesis, so it serves iff start + deadline < genesis.
  EXPECT_EQ(BeaconRoundFor(lease, kT0 - kTinyDeadlineUs), 1u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 - kTinyDeadlineUs - 1), 0u);
  EXPECT_EQ(BeaconRoundFor(lease, kT0 - 20'000'000), 0u);
  for (const uint64_t start : {kT0 - kTinyDeadlineUs - 1, kT0 - kTinyDeadlineUs, kT0 - 1, kT0, kT0 + 1}) {
    const uint64_t round = BeaconRoundFor(lease, start);
    EXPECT_GT(Published(lease, round), start + kTinyDeadlineUs) << start;
    if (round > 0) {
      EXPECT_LE(Published(lease, round - 1), start + kTinyDeadlineUs) << start;
    }
  }
}

// The proof of section 5.2 checked at the corners of the bounds: the round's publication time is computed without
// wrapping, is strictly after start + deadline (so after the start: the deadline is at least 1 ms), and the round
// before it is not.
TEST(BeaconRound, PublishedAfterTheEpochStartsAtEveryCornerOfTheBounds) {
  Lease base = ValidTiny(LeaseMode::kBeacon);
  std::vector<Lease> leases;
  for (const uint64_t period : {uint64_t{1}, uint64_t{999'983}, kMaxBeaconPeriodUs - 1, kMaxBeaconPeriodUs}) {
    for (const uint64_t genesis : {uint64_t{0}, kT0, kMaxTimeUs - 1, kMaxTimeUs}) {
      for (const bool longest : {false, true}) {
        Lease l = base;
        l.beacon_period_us = period;
        l.beacon_genesis_us = genesis;
        l.start_us = 0;
        l.end_us = kMaxTimeUs;
        if (longest) {  // deadline 2^40 us, the largest
          l.rounds_per_epoch = 1u << 15;
          l.claimed_ops_per_second_per_device = 15625;
          l.slack_ppm = 0;
        }
        ASSERT_OK(ValidateLease(l));
        leases.push_back(l);
      }
    }
  }
  int checked = 0;
  for (const Lease& l : leases) {
    const U128 deadline = EpochDeadlineUs(l);
    // Epoch starts lie before the lease end (the verifier refuses later ones).
    for (const uint64_t start : {uint64_t{0}, uint64_t{1}, kT0, l.beacon_genesis_us, kMaxTimeUs - 1}) {
      const uint64_t round = BeaconRoundFor(l, start);
      const U128 published = U128{l.beacon_genesis_us} + U128{round} * l.beacon_period_us;
      EXPECT_LT(published, U128{1} << 55) << "the largest product and sum stay below 2^55";
      EXPECT_EQ(uint64_t(published), Published(l, round)) << "the u64 sum does not wrap";
      EXPECT_GT(published, U128{start} + deadline);
      EXPECT_GT(published, U128{start});
      if (round > 0) {
        EXPECT_LE(U128{l.beacon_genesis_us} + U128{round - 1} * l.beacon_period_us, U128{start} + deadline);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * 4 * 2 * 5);
}

// ---------------------------------------------------------------------------------------------------------------
// The timing rule (section 9): on time iff arrival - start <= deadline; arrival < start is void-clock.

TEST(TimingRule, OnTimeIffArrivalMinusStartAtMostTheDeadlineToTheMicrosecond) {
  const Lease lease = ValidTiny();
  const uint64_t start = kT0 + 1000;
  EXPECT_TRUE(RecordOnTime(lease, start, start));
  EXPECT_TRUE(RecordOnTime(lease, start, start + kTinyDeadlineUs - 1));
  EXPECT_TRUE(RecordOnTime(lease, start, start + kTinyDeadlineUs));
  EXPECT_FALSE(RecordOnTime(lease, start, start + kTinyDeadlineUs + 1));
  EXPECT_FALSE(RecordOnTime(lease, start, start - 1));
  EXPECT_FALSE(RecordOnTime(lease, UINT64_MAX, 0));
  EXPECT_TRUE(RecordOnTime(lease, UINT64_MAX, UINT64_MAX));
}

TEST(TimingRule, CheckRecordAtTheDeadlineBoundary) {
  const SecretKey verifier = testing::KeyFrom(0x11), provider = testing::KeyFrom(0x22);
  const Lease lease = testing::SignedTinyLease(verifier, provider, LeaseMode::kInteractive);
  const uint64_t start_us = kT0 + 1000;
  const EpochStart start =
      testing::SignedStart(lease, verifier, 0, testing::TestHash("beacon"), LeaseId(lease), start_us);
  EpochLeaves leaves(EpochRounds(lease), std::vector<Hash32>(LeavesPerRound(lease)));
  for (size_t q = 0; q < leaves.size(); ++q) {
    for (size_t t = 0; t < leaves[q].size(); ++t) leaves[q][t] = testing::TestHash("leaf", q * 1000 + t);
  }
  ASSERT_OK_AND_ASSIGN(const EpochCommit commit,
                       CommitEpoch(lease, start, leaves, testing::TestDevices(), 0, 0, provider));
  const std::vector<uint8_t> bytes = Serialize(commit.record);
  const struct {
    uint64_t arrival;
    Reason reason;
  } cases[] = {
      {start_us - 1, Reason::kVoidClock},
      {start_us, Reason::kPass},
      {start_us + kTinyDeadlineUs - 1, Reason::kPass},
      {start_us + kTinyDeadlineUs, Reason::kPass},  // exactly at the deadline: on time
      {start_us + kTinyDeadlineUs + 1, Reason::kLate},
  };
  for (const auto& c : cases) {
    const RecordCheck check = CheckRecord(lease, start, c.arrival, bytes);
    EXPECT_EQ(check.finding.reason, c.reason) << c.arrival - start_us << " us: " << check.finding.detail;
    EXPECT_TRUE(check.record.has_value()) << "an authentic record is kept whatever its timing";
  }
  // The late finding names both figures in microseconds, so 1 us over does not read as equal.
  const RecordCheck late = CheckRecord(lease, start, start_us + kTinyDeadlineUs + 1, bytes);
  EXPECT_TRUE(Contains(late.finding.detail, "10000001 us after the epoch start; the deadline is 10000000 us"))
      << late.finding.detail;
}

// ---------------------------------------------------------------------------------------------------------------
// Audit share (section 10.3): at least one expected scheduled epoch over the lease.

TEST(AuditShare, FewerThanOneExpectedAuditIsRefusedWithTheSmallestShare) {
  const Lease lease = ValidTiny();  // 10 s deadline over 24 h: the smallest share is 10 / 86400 = 1.157e-4
  EXPECT_DOUBLE_EQ(MinAuditShare(lease), 10.0 / 86400.0);
  ASSERT_OK(ValidateAuditShare(lease, 1));
  ASSERT_OK(ValidateAuditShare(lease, 0.02));
  const Status below = ValidateAuditShare(lease, 1.15e-4);
  EXPECT_EQ(below.code(), StatusCode::kInvalidArgument) << below.ToString();
  for (const char* part : {"audit share 0.000115", "0.994 expected scheduled epochs", "86400000000 us lease",
                           "10000000 us deadline", "smallest share that gives one is 0.000116"}) {
    EXPECT_TRUE(Contains(below.message(), part)) << part << " in " << below.ToString();
  }
  // The share printed is itself valid, and the exact boundary share x length = deadline is accepted.
  ASSERT_OK(ValidateAuditShare(lease, 0.000116));
  Lease exact = lease;
  exact.end_us = exact.start_us + 4 * kTinyDeadlineUs;  // share 0.25 gives exactly one
  ASSERT_OK(ValidateAuditShare(exact, 0.25));
  EXPECT_FALSE(ValidateAuditShare(exact, std::nextafter(0.25, 0.0)).ok());
  // The share of 1e-300, and what is not a share at all.
  for (const double share : {1e-300, 0.0, -0.5, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(ValidateAuditShare(lease, share).code(), StatusCode::kInvalidArgument) << share;
  }
  EXPECT_TRUE(Contains(ValidateAuditShare(lease, 1.5).message(), "allowed: above 0, up to 1"));
  // A lease shorter than one deadline has no share that gives an audit.
  Lease shorter = lease;
  shorter.end_us = shorter.start_us + kTinyDeadlineUs - 1;
  const Status none = ValidateAuditShare(shorter, 1);
  EXPECT_EQ(none.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(none.message(), "shorter than one epoch deadline")) << none.ToString();
}

TEST(AuditShare, VerifierSessionCreateRefusesAShareWithNoAudit) {
  const SecretKey verifier = testing::KeyFrom(0x11);
  const std::filesystem::path dir = testing::MakeTempDir("vcp-bounds-");
  const Result<VerifierSession> none = VerifierSession::Create(dir / "vs", ValidTiny(), verifier, 1e-300);
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument) << none.status().ToString();
  EXPECT_TRUE(Contains(none.status().message(), "smallest share that gives one")) << none.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir / "vs" / "verifier.log"));
  // One expected audit: the secret schedule is a Poisson process, so a lease at this share gets none with
  // probability e^-1. A fixed schedule seed (one that draws at least one) keeps the check deterministic.
  VerifierOptions seeded;
  seeded.random = testing::SeededRandom(1);
  ASSERT_OK_AND_ASSIGN(VerifierSession ok,
                       VerifierSession::Create(dir / "vs2", ValidTiny(), verifier, 0.000116, seeded));
  EXPECT_FALSE(ok.AuditTimes().empty());
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------------------------
// Skip fraction (`vcp demo --cheat`): a fraction that rounds to no skipped tile is refused.

TEST(SkipFraction, RoundingToNoTileIsRefusedWithTheSmallestThatSkipsOne) {
  ASSERT_OK(CheckSkipFraction(64, 0));
  ASSERT_OK(CheckSkipFraction(64, 1));
  const Status none = CheckSkipFraction(64, 0.003);  // 0.192 of a tile
  EXPECT_EQ(none.code(), StatusCode::kInvalidArgument);
  for (const char* part : {"skip fraction 0.003 skips no tile", "64 positions", "at least 0.00781"}) {
    EXPECT_TRUE(Contains(none.message(), part)) << part << " in " << none.ToString();
  }
  EXPECT_FALSE(CheckSkipFraction(64, 0.0078).ok());  // 0.4992 of a tile rounds to 0
  ASSERT_OK(CheckSkipFraction(64, 0.0079));          // 0.5056 rounds to 1
  EXPECT_EQ(64 - ComputedPositions(64, 0.0079), 1u);
  for (const double f : {-0.1, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(CheckSkipFraction(64, f).code(), StatusCode::kInvalidArgument) << f;
  }
}

}  // namespace
}  // namespace vcp

namespace vcp {
namespace {

// Issue 12 item 5: the "would have been caught" figure rests only on epochs whose sampled openings were checked.
// A tiny reference: audited = passes + failures found in the samples; escape = (1 - s)^(k x audited).
TEST(CaughtFigure, CountsOnlyEpochsWhoseSamplesWereChecked) {
  const Lease lease = testing::TinyLease(LeaseMode::kInteractive);
  const std::vector<std::pair<Reason, bool>> cases = {
      {Reason::kPass, true},          {Reason::kTileMismatch, true}, {Reason::kBadProof, true},
      {Reason::kMissed, false},       {Reason::kLate, false},        {Reason::kNoResponse, false},
      {Reason::kVoidClock, false},    {Reason::kWrongSamples, true}, {Reason::kVoidVerifierDown, false},
  };
  std::vector<ReportEpoch> epochs;
  uint64_t checked = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    ReportEpoch e;
    e.verdict.epoch = i;
    e.verdict.reason = cases[i].first;
    e.verdict.start_us = lease.start_us + i;
    epochs.push_back(e);
    checked += cases[i].second;
    const LeaseReport report = SummarizeLease(lease, epochs, lease.start_us + 1000);
    EXPECT_EQ(report.audited, checked) << "after " << ReasonName(cases[i].first);
    const double escape = std::pow(0.9, double(lease.samples_per_epoch) * double(checked));
    EXPECT_NEAR(report.escape_skip_10pct, escape, 1e-12 * escape) << "after " << ReasonName(cases[i].first);
  }
}

}  // namespace
}  // namespace vcp
