// Both roles over their stores: whole leases in each mode, missed and unanswered epochs, the audit schedule,
// and each check the sessions make on the other side's messages.
#include <gtest/gtest.h>

#include "protocol_fixture.h"
#include "vcp/lease_session.h"

namespace vcp {
namespace {

using testing::kT0;
using testing::Parties;

// One honest interactive epoch, each call on freshly reopened stores (as the CLI runs them).
Verdict HonestEpoch(Parties& t) {
  auto start = t.V().StartEpoch(t.verifier);
  EXPECT_TRUE(start.ok()) << start.status().ToString();
  t.clock.Advance(2000);
  auto record = t.P().Prove(*start, t.provider, t.poptions);
  EXPECT_TRUE(record.ok()) << record.status().ToString();
  t.clock.Advance(3000);
  auto outcome = t.V().ReceiveRecord(Serialize(*record), t.verifier);
  EXPECT_TRUE(outcome.ok() && outcome->challenge);
  auto response = t.P().Respond(*outcome->challenge, t.provider, t.poptions);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  auto verdict = t.V().ReceiveResponse(Serialize(*response), t.verifier);
  EXPECT_TRUE(verdict.ok()) << verdict.status().ToString();
  t.clock.Advance(60'000'000);
  return *verdict;
}

TEST(ProtocolSession, InteractiveLeaseAllEpochsPassAndChain) {
  Parties t;
  for (int e = 0; e < 3; ++e) {
    const Verdict v = HonestEpoch(t);
    EXPECT_EQ(v.reason, Reason::kPass) << v.detail;
    EXPECT_EQ(v.epoch, uint64_t(e));
    EXPECT_EQ(v.arrival_us - v.start_us, 5000u);  // the verifier's clock, not the provider's
    EXPECT_EQ(v.operations, EpochOperations(t.lease));
  }
  VerifierSession v = t.V();
  // Each epoch chains to the previous record.
  ASSERT_EQ(v.epochs().size(), 3u);
  EXPECT_EQ(v.epochs()[0].start.prev_record, v.lease_id());
  EXPECT_EQ(v.epochs()[1].start.prev_record, RecordHash(*v.epochs()[0].record));
  EXPECT_EQ(v.epochs()[2].start.prev_record, RecordHash(*v.epochs()[1].record));
  const LeaseReport r = v.Report(t.clock.NowMicros());
  EXPECT_EQ(r.passed, 3u);
  EXPECT_EQ(r.proven_operations, 3 * EpochOperations(t.lease));
  EXPECT_DOUBLE_EQ(r.median_rate, double(EpochOperations(t.lease)) / 0.005);
  EXPECT_LT(r.escape_skip_10pct, 1e-5);
}

TEST(ProtocolSession, BeaconLeaseWaitsForTheBeaconRound) {
  Parties t(LeaseMode::kBeacon);
  const auto beacon_path = t.vdir.path() / "beacon.txt";
  ASSERT_TRUE(
      FileBeaconSource::Create(beacon_path, t.lease.beacon_name, t.lease.beacon_genesis_us, t.lease.beacon_period_us)
          .ok());
  auto beacon = FileBeaconSource::Open(beacon_path);
  ASSERT_TRUE(beacon.ok()) << beacon.status().ToString();
  t.voptions.beacon = &*beacon;

  auto start = t.V().StartEpoch(t.verifier);
  ASSERT_TRUE(start.ok());
  t.clock.Advance(2000);
  auto record = t.P().Prove(*start, t.provider, t.poptions);
  ASSERT_TRUE(record.ok());
  auto outcome = t.V().ReceiveRecord(Serialize(*record), t.verifier);
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->challenge.has_value());
  ASSERT_TRUE(outcome->beacon_round.has_value());
  EXPECT_EQ(*outcome->beacon_round, BeaconRoundFor(t.lease, start->start_us));

  // Not yet published: both sides wait.
  EXPECT_EQ(t.P().RespondBeacon(0, *beacon, t.provider, t.poptions).status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(FileBeaconSource::Publish(beacon_path, *outcome->beacon_round, testing::TestHash("public beacon")).ok());
  auto response = t.P().RespondBeacon(0, *beacon, t.provider, t.poptions);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->challenge.kind, ChallengeKind::kBeacon);
  auto verdict = t.V().ReceiveResponse(Serialize(*response), t.verifier);
  ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
  EXPECT_EQ(verdict->reason, Reason::kPass) << verdict->detail;
}

TEST(ProtocolSession, MissedAndUnansweredEpochsCloseWhenTheNextStarts) {
  Parties t;
  auto s0 = t.V().StartEpoch(t.verifier);
  ASSERT_TRUE(s0.ok());
  t.clock.Advance(t.lease.epoch_deadline_us + 1);
  auto s1 = t.V().StartEpoch(t.verifier);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->epoch, 1u);
  EXPECT_EQ(s1->prev_record, LeaseId(t.lease)) << "a missed epoch adds nothing to the chain";
  // Epoch 1 gets a record but never a response.
  auto record = t.P().Prove(*s1, t.provider, t.poptions);
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(t.V().ReceiveRecord(Serialize(*record), t.verifier).ok());
  auto s2 = t.V().StartEpoch(t.verifier);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->prev_record, RecordHash(*record));
  const auto verdicts = t.V().verdicts();
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].reason, Reason::kMissed);
  EXPECT_EQ(verdicts[1].reason, Reason::kNoResponse);
  const LeaseReport r = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(r.missed, 1u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.gpu_hours_proven, 0.0);
}

TEST(ProtocolSession, RecomputeModePasses) {
  Parties t;
  t.poptions.keep_leaves = false;
  EXPECT_EQ(HonestEpoch(t).reason, Reason::kPass);
}

TEST(ProtocolSession, AuditScheduleIsSecretAndCoversTheLease) {
  Parties t;
  VerifierSession v = t.V();
  const auto times = v.AuditTimes();
  // share 0.01 of a 24 h lease with 10 s epochs: mean gap 1000 s, about 86 audits.
  EXPECT_GT(times.size(), 50u);
  EXPECT_LT(times.size(), 130u);
  EXPECT_EQ(v.NextAuditUs(kT0), times.front());
  EXPECT_EQ(v.NextAuditUs(t.lease.end_us), 0u);
  Parties other(LeaseMode::kInteractive, 4, 0, 8);
  EXPECT_NE(other.V().AuditTimes(), times) << "each lease draws its own schedule";
}

TEST(ProtocolSession, ProviderRefusesStartsItCannotTrust) {
  Parties t;
  auto start = t.V().StartEpoch(t.verifier);
  ASSERT_TRUE(start.ok());
  ProviderSession p = t.P();
  // Signed by another key.
  EpochStart forged = *start;
  ASSERT_TRUE(Sign(forged, t.provider).ok());
  EXPECT_EQ(p.Prove(forged, t.provider, t.poptions).status().code(), StatusCode::kRejected);
  // Chained to a record this provider never made.
  EpochStart unknown =
      testing::SignedStart(t.lease, t.verifier, 0, start->beacon, testing::TestHash("x"), start->start_us);
  EXPECT_NE(p.Prove(unknown, t.provider, t.poptions).status().message().find("never made"), std::string_view::npos);
  ASSERT_TRUE(p.Prove(*start, t.provider, t.poptions).ok());
  // A second, different start for the same epoch.
  EpochStart twice =
      testing::SignedStart(t.lease, t.verifier, 0, testing::TestHash("b2"), start->prev_record, start->start_us);
  EXPECT_NE(p.Prove(twice, t.provider, t.poptions).status().message().find("two different starts"),
            std::string_view::npos);
  // A challenge for another record, and a second challenge after the epoch was answered.
  Challenge challenge{LeaseId(t.lease), 0, testing::TestHash("other record"), testing::TestHash("r"), {}};
  ASSERT_TRUE(Sign(challenge, t.verifier).ok());
  EXPECT_EQ(p.Respond(challenge, t.provider, t.poptions).status().code(), StatusCode::kRejected);
  auto record = p.Prove(*start, t.provider, t.poptions);
  challenge.record_hash = RecordHash(*record);
  ASSERT_TRUE(Sign(challenge, t.verifier).ok());
  ASSERT_TRUE(p.Respond(challenge, t.provider, t.poptions).ok());
  challenge.randomness = testing::TestHash("r2");
  ASSERT_TRUE(Sign(challenge, t.verifier).ok());
  EXPECT_NE(p.Respond(challenge, t.provider, t.poptions).status().message().find("already answered"),
            std::string_view::npos);
}

TEST(ProtocolSession, VerifierRefusesOutOfOrderCalls) {
  SecretKey verifier = testing::KeyFrom(0x41), provider = testing::KeyFrom(0x42);
  testing::ManualClock clock;
  testing::TempDir dir;
  VerifierOptions options;
  options.clock = &clock;
  options.random = testing::SeededRandom(1);
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = provider.public_key();
  EXPECT_EQ(VerifierSession::Create(dir.path() / "bad", terms, verifier, 0.0, options).status().code(),
            StatusCode::kInvalidArgument);
  auto v = VerifierSession::Create(dir.path() / "v", terms, verifier, 0.05, options);
  ASSERT_TRUE(v.ok());
  EXPECT_NE(v->StartEpoch(verifier).status().message().find("not accepted"), std::string_view::npos);
  LeaseAcceptance acceptance{v->lease_id(), clock.NowMicros(), {}};
  ASSERT_TRUE(Sign(acceptance, verifier).ok());  // wrong key
  EXPECT_EQ(v->AddAcceptance(acceptance).code(), StatusCode::kRejected);
  ASSERT_TRUE(Sign(acceptance, provider).ok());
  ASSERT_TRUE(v->AddAcceptance(acceptance).ok());
  EXPECT_EQ(v->ReceiveRecord(std::vector<uint8_t>{1, 2, 3}, verifier).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v->StartEpoch(provider).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(v->StartEpoch(verifier).ok());
  EXPECT_NE(v->ReceiveResponse(std::vector<uint8_t>{1}, verifier).status().message().find("no record"),
            std::string_view::npos);
  clock.Set(terms.end_us);
  EXPECT_NE(v->StartEpoch(verifier).status().message().find("ended"), std::string_view::npos);
}

}  // namespace
}  // namespace vcp
