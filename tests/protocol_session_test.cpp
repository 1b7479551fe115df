// Both roles over their stores: whole leases in each mode, missed and unanswered epochs, the audit schedule,
// and each check the sessions make on the other side's messages.
#include <gtest/gtest.h>

#include <filesystem>

#include "protocol_fixture.h"
#include "vcp/calibrate.h"
#include "vcp/lazy_provider.h"
#include "vcp/lease_driver.h"
#include "vcp/lease_session.h"

namespace vcp {
namespace {

using testing::kT0;
using testing::Parties;

// One honest interactive epoch, each call on freshly reopened stores (as the CLI runs them).
Verdict HonestEpoch(Parties& t) {
  using testing::Must;
  const EpochStart start = Must(t.V().StartEpoch(t.verifier), "StartEpoch");
  t.clock.Advance(2000);
  const ProveOutcome proved = Must(t.P().Prove(start, t.provider, t.poptions), "Prove");
  t.clock.Advance(3000);
  const RecordOutcome outcome = Must(t.V().ReceiveRecord(Serialize(proved.record), t.verifier), "ReceiveRecord");
  if (!outcome.challenge) Must(Status::Internal("no challenge: " + outcome.finding.detail), "ReceiveRecord");
  const RespondOutcome responded = Must(t.P().Respond(*outcome.challenge, t.provider, t.poptions), "Respond");
  const ResponseOutcome closed =
      Must(t.V().ReceiveResponse(Serialize(responded.response), t.verifier), "ReceiveResponse");
  if (!closed.verdict) Must(Status::Internal("no verdict: " + closed.finding.detail), "ReceiveResponse");
  t.clock.Advance(60'000'000);
  return *closed.verdict;
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
  ASSERT_OK_AND_ASSIGN(const FileBeaconSource beacon, FileBeaconSource::Open(beacon_path));
  t.voptions.beacon = &beacon;

  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier));
  t.clock.Advance(2000);
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  EXPECT_FALSE(outcome.challenge.has_value());
  ASSERT_TRUE(outcome.beacon_round.has_value());
  EXPECT_EQ(*outcome.beacon_round, BeaconRoundFor(t.lease, start.start_us));

  // Not yet published: both sides wait.
  EXPECT_EQ(t.P().RespondBeacon(0, beacon, t.provider, t.poptions).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(t.V().ReceiveResponse(std::vector<uint8_t>{'V', 'C', 'P', 'P'}, t.verifier).status().code(),
            StatusCode::kUnavailable);
  ASSERT_OK(FileBeaconSource::Publish(beacon_path, *outcome.beacon_round, testing::TestHash("public beacon")));
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, t.P().RespondBeacon(0, beacon, t.provider, t.poptions));
  EXPECT_EQ(responded.response.challenge.kind, ChallengeKind::kBeacon);
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, t.V().ReceiveResponse(Serialize(responded.response), t.verifier));
  ASSERT_TRUE(closed.verdict.has_value()) << closed.finding.detail;
  EXPECT_EQ(closed.verdict->reason, Reason::kPass) << closed.verdict->detail;
}

TEST(ProtocolSession, MissedAndUnansweredEpochsCloseWhenTheNextStarts) {
  Parties t;
  ASSERT_OK(t.V().StartEpoch(t.verifier));
  t.clock.Advance(t.lease.epoch_deadline_us + 1);
  ASSERT_OK_AND_ASSIGN(const EpochStart s1, t.V().StartEpoch(t.verifier));
  EXPECT_EQ(s1.epoch, 1u);
  EXPECT_EQ(s1.prev_record, LeaseId(t.lease)) << "a missed epoch adds nothing to the chain";
  // Epoch 1 gets a record but never a response.
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(s1, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_OK_AND_ASSIGN(const EpochStart s2, t.V().StartEpoch(t.verifier));
  EXPECT_EQ(s2.prev_record, RecordHash(proved.record));
  const auto verdicts = t.V().verdicts();
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].reason, Reason::kMissed);
  EXPECT_EQ(verdicts[1].reason, Reason::kNoResponse);
  const LeaseReport r = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(r.missed, 1u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.gpu_hours_proven, 0.0);
}

// Recompute mode keeps no leaf hashes: no leaves file is written, the response is built from recomputed rounds
// (the outcome says so and why), and it passes.
TEST(ProtocolSession, RecomputeModePasses) {
  Parties t;
  t.poptions.keep_leaves = false;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  EXPECT_FALSE(std::filesystem::exists(t.pdir.path() / "epoch-0.leaves")) << "recompute mode wrote a leaves file";
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_TRUE(outcome.challenge.has_value()) << outcome.finding.detail;
  // The same session that proved: recompute mode keeps nothing in memory either.
  ASSERT_OK_AND_ASSIGN(ProviderSession p, ProviderSession::Open(t.pdir.path()));
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, p.Respond(*outcome.challenge, t.provider, t.poptions));
  EXPECT_EQ(responded.leaf_source, LeafSource::kRecomputed) << LeafSourceName(responded.leaf_source);
  EXPECT_EQ(responded.leaf_note, "no leaves file");
  EXPECT_FALSE(responded.already_logged);
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, t.V().ReceiveResponse(Serialize(responded.response), t.verifier));
  ASSERT_TRUE(closed.verdict.has_value()) << closed.finding.detail;
  EXPECT_EQ(closed.verdict->reason, Reason::kPass) << closed.verdict->detail;
}

// In the same process as Prove with keep_leaves, the leaves come from memory; a restarted provider reads the file.
TEST(ProtocolSession, LeafSourceSaysWhereTheLeavesCameFrom) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier));
  ASSERT_OK_AND_ASSIGN(ProviderSession p, ProviderSession::Open(t.pdir.path()));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, p.Prove(start, t.provider, t.poptions));
  EXPECT_TRUE(std::filesystem::exists(t.pdir.path() / "epoch-0.leaves"));
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, p.Respond(*outcome.challenge, t.provider, t.poptions));
  EXPECT_EQ(responded.leaf_source, LeafSource::kMemory);
  EXPECT_TRUE(responded.leaf_note.empty());
}

// A second Prove, Respond or verify after a restart hands back what was logged and says so.
TEST(ProtocolSession, RepeatedStepsSayTheyHandBackWhatWasLogged) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome first, t.P().Prove(start, t.provider, t.poptions));
  EXPECT_FALSE(first.already_logged);
  EXPECT_GT(first.seconds, 0.0);
  ASSERT_OK_AND_ASSIGN(const ProveOutcome second, t.P().Prove(start, t.provider, t.poptions));
  EXPECT_TRUE(second.already_logged);
  EXPECT_EQ(second.seconds, 0.0);
  EXPECT_EQ(Serialize(second.record), Serialize(first.record));

  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(first.record), t.verifier));
  EXPECT_FALSE(outcome.already_received);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome again, t.V().ReceiveRecord(Serialize(first.record), t.verifier));
  EXPECT_TRUE(again.already_received);
  ASSERT_TRUE(again.challenge && outcome.challenge);
  EXPECT_EQ(Serialize(*again.challenge), Serialize(*outcome.challenge));

  ASSERT_OK_AND_ASSIGN(const RespondOutcome r1, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  EXPECT_EQ(r1.leaf_source, LeafSource::kLeavesFile);
  EXPECT_FALSE(r1.already_logged);
  ASSERT_OK_AND_ASSIGN(const RespondOutcome r2, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  EXPECT_TRUE(r2.already_logged);
  EXPECT_EQ(r2.leaf_source, LeafSource::kLogged);
  EXPECT_EQ(LeafSourceName(r2.leaf_source), "logged response");
  EXPECT_EQ(Serialize(r2.response), Serialize(r1.response));

  ASSERT_OK_AND_ASSIGN(const ResponseOutcome v1, t.V().ReceiveResponse(Serialize(r1.response), t.verifier));
  ASSERT_TRUE(v1.verdict.has_value());
  EXPECT_FALSE(v1.already_given);
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome v2, t.V().ReceiveResponse(Serialize(r1.response), t.verifier));
  ASSERT_TRUE(v2.verdict.has_value());
  EXPECT_TRUE(v2.already_given);
  EXPECT_EQ(Serialize(*v2.verdict), Serialize(*v1.verdict));
  EXPECT_EQ(t.V().verdicts().size(), 1u) << "a second verify signs no second verdict";
}

// A record given where a response is expected (and the reverse) is named, not "no epoch is open".
TEST(ProtocolSession, AMessageOfTheWrongKindIsNamed) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  const Status as_response = t.V().ReceiveResponse(Serialize(proved.record), t.verifier).status();
  EXPECT_EQ(as_response.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(as_response.message().find("this is an epoch record, not an epoch response"), std::string_view::npos)
      << as_response.ToString();
  const Status as_record = t.V().ReceiveRecord(Serialize(start), t.verifier).status();
  EXPECT_EQ(as_record.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(as_record.message().find("this is an epoch start, not an epoch record"), std::string_view::npos)
      << as_record.ToString();
  // Neither was logged: the real record is still accepted.
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  EXPECT_TRUE(outcome.finding.ok()) << outcome.finding.detail;
}

uint64_t FileSize(const std::filesystem::path& path) { return std::filesystem::file_size(path); }

// Each role refuses to sign with the other role's key (or a stranger's), naming both keys, before logging.
TEST(ProtocolSession, EachRoleRefusesAKeyThatIsNotItsOwnBeforeLogging) {
  Parties t;
  const auto plog = t.pdir.path() / "provider.log", vlog = t.vdir.path() / "verifier.log";
  const std::string vkey = ToHex(t.verifier.public_key()).substr(0, 16);
  const std::string pkey = ToHex(t.provider.public_key()).substr(0, 16);

  // The verifier refuses the provider's key: no start is logged.
  const uint64_t vsize = FileSize(vlog);
  const Status start_refused = t.V().StartEpoch(t.provider).status();
  EXPECT_EQ(start_refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(start_refused.message().find("key " + pkey + " is the lease's provider key"), std::string_view::npos)
      << start_refused.ToString();
  EXPECT_NE(start_refused.message().find("needs the verifier's secret key (public key " + vkey + ")"),
            std::string_view::npos)
      << start_refused.ToString();
  EXPECT_EQ(FileSize(vlog), vsize);
  EXPECT_TRUE(t.V().epochs().empty());

  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier));
  // The provider refuses the verifier's key: nothing logged, so the right key then proves the epoch.
  const uint64_t psize = FileSize(plog);
  const Status prove_refused = t.P().Prove(start, t.verifier, t.poptions).status();
  EXPECT_EQ(prove_refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(prove_refused.message().find("key " + vkey + " is the lease's verifier key"), std::string_view::npos)
      << prove_refused.ToString();
  EXPECT_NE(prove_refused.message().find("needs the provider's secret key (public key " + pkey + ")"),
            std::string_view::npos)
      << prove_refused.ToString();
  EXPECT_EQ(FileSize(plog), psize) << "a refused key logged something";
  EXPECT_FALSE(std::filesystem::exists(t.pdir.path() / "epoch-0.leaves"));
  const Status stranger = t.P().ProveFromLeaves(start, {}, "none", 0, 0, t.stranger, true).status();
  EXPECT_NE(stranger.message().find("is neither the lease's provider key " + pkey + " nor its verifier key " + vkey),
            std::string_view::npos)
      << stranger.ToString();
  EXPECT_EQ(FileSize(plog), psize);

  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  EXPECT_FALSE(proved.already_logged) << "the refused call must not have left a record behind";
  EXPECT_TRUE(CheckSignature(proved.record, t.provider.public_key()).ok());

  // The verifier refuses the provider's key for the record and the response, logging nothing.
  const uint64_t vsize2 = FileSize(vlog);
  EXPECT_EQ(t.V().ReceiveRecord(Serialize(proved.record), t.provider).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FileSize(vlog), vsize2);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_TRUE(outcome.challenge.has_value());
  const uint64_t psize2 = FileSize(plog);
  EXPECT_EQ(t.P().Respond(*outcome.challenge, t.verifier, t.poptions).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FileSize(plog), psize2);
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  const uint64_t vsize3 = FileSize(vlog);
  EXPECT_EQ(t.V().ReceiveResponse(Serialize(responded.response), t.provider).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FileSize(vlog), vsize3);
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, t.V().ReceiveResponse(Serialize(responded.response), t.verifier));
  ASSERT_TRUE(closed.verdict.has_value());
  EXPECT_EQ(closed.verdict->reason, Reason::kPass) << closed.verdict->detail;
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
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier));
  ProviderSession p = t.P();
  // Signed by another key.
  EpochStart forged = start;
  ASSERT_OK(Sign(forged, t.provider));
  EXPECT_EQ(p.Prove(forged, t.provider, t.poptions).status().code(), StatusCode::kRejected);
  // Chained to a record this provider never made.
  EpochStart unknown =
      testing::SignedStart(t.lease, t.verifier, 0, start.beacon, testing::TestHash("x"), start.start_us);
  EXPECT_NE(p.Prove(unknown, t.provider, t.poptions).status().message().find("never made"), std::string_view::npos);
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, p.Prove(start, t.provider, t.poptions));
  // A second, different start for the same epoch.
  EpochStart twice =
      testing::SignedStart(t.lease, t.verifier, 0, testing::TestHash("b2"), start.prev_record, start.start_us);
  EXPECT_NE(p.Prove(twice, t.provider, t.poptions).status().message().find("two different starts"),
            std::string_view::npos);
  // A challenge for another record, and a second challenge after the epoch was answered.
  Challenge challenge{LeaseId(t.lease), 0, testing::TestHash("other record"), testing::TestHash("r"), {}};
  ASSERT_OK(Sign(challenge, t.verifier));
  EXPECT_EQ(p.Respond(challenge, t.provider, t.poptions).status().code(), StatusCode::kRejected);
  challenge.record_hash = RecordHash(proved.record);
  ASSERT_OK(Sign(challenge, t.verifier));
  ASSERT_OK(p.Respond(challenge, t.provider, t.poptions));
  challenge.randomness = testing::TestHash("r2");
  ASSERT_OK(Sign(challenge, t.verifier));
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
  ASSERT_OK_AND_ASSIGN(VerifierSession session,
                       VerifierSession::Create(dir.path() / "v", terms, verifier, 0.05, options));
  VerifierSession* v = &session;
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

// ---------------------------------------------------------------------------------------------------------------
// The library pieces a front end drives a lease with: the lazy provider, the driver, the calibrate policy and
// the demo beacon.

TEST(LazyProvider, SkipsExactlyTheUncomputedPositionsWithGarbage) {
  const uint64_t rounds = 3, per_round = 16, total = rounds * per_round;
  EpochLeaves honest(rounds, std::vector<Hash32>(per_round));
  for (uint64_t p = 0; p < total; ++p) honest[p / per_round][p % per_round] = testing::TestHash("leaf", p);
  EXPECT_EQ(ComputedPositions(total, 0.25), 36u);
  EXPECT_EQ(ComputedPositions(total, 0), total);
  EXPECT_EQ(ComputedPositions(total, 2), 0u) << "clamped to 1";
  const std::vector<bool> mask = LazyComputedMask(total, 36, 5);
  EXPECT_EQ(std::count(mask.begin(), mask.end(), true), 36);
  const EpochLeaves lazy = SimulateLazyLeaves(honest, 36, 5);
  for (uint64_t p = 0; p < total; ++p) {
    EXPECT_EQ(lazy[p / per_round][p % per_round] == honest[p / per_round][p % per_round], bool(mask[p])) << p;
  }
  EXPECT_EQ(SimulateLazyLeaves(honest, 36, 5), lazy) << "the seed decides everything";
  EXPECT_NE(LazyComputedMask(total, 36, 6), mask) << "another seed skips other positions";
  EXPECT_EQ(SimulateLazyLeaves(honest, total, 5), honest);
}

LeaseDriverOptions TinyDriverOptions(LeaseMode mode, testing::ManualClock& clock) {
  LeaseDriverOptions o;
  o.mode = mode;
  o.epochs = 3;
  o.workload = testing::TinyLease(mode).workload;
  o.rounds = 4;
  o.run = testing::CpuOneThread();
  o.verifier_threads = 1;
  o.clock = &clock;
  o.wait = [&clock](uint64_t us) { clock.Advance(us); };
  o.random = testing::SeededRandom(11);
  return o;
}

struct DriverTrace {
  std::vector<LeaseStepKind> kinds;
  bool lease_seen_at_acceptance = false;
};

TEST(LeaseDriver, HonestLeasePassesInBothModes) {
  for (LeaseMode mode : {LeaseMode::kInteractive, LeaseMode::kBeacon}) {
    SCOPED_TRACE(LeaseModeName(mode));
    testing::ManualClock clock;
    testing::TempDir dir;
    LeaseDriverOptions o = TinyDriverOptions(mode, clock);
    DriverTrace trace;
    o.progress = [&trace](const LeaseStep& step, const LeaseRun& so_far) {
      trace.kinds.push_back(step.kind);
      if (step.kind == LeaseStepKind::kLeaseAccepted) {
        trace.lease_seen_at_acceptance = so_far.lease.rounds_per_epoch == 4 && so_far.device.backend == "cpu";
      }
      if (step.kind == LeaseStepKind::kEpochClosed) {
        EXPECT_EQ(so_far.verdicts.size(), step.epoch + 1);
      }
    };
    ASSERT_OK_AND_ASSIGN(const LeaseRun run, RunLease(dir.path() / "v", dir.path() / "p", o));
    EXPECT_EQ(run.lease.mode, mode);
    EXPECT_EQ(run.lease.workload.tile, 8u);
    EXPECT_EQ(run.lease.samples_per_epoch, MinSamples(mode));
    ASSERT_EQ(run.verdicts.size(), 3u);
    for (const Verdict& v : run.verdicts) EXPECT_EQ(v.reason, Reason::kPass) << v.detail;
    EXPECT_EQ(run.report.passed, 3u);
    EXPECT_EQ(run.skipped_per_epoch, 0u);
    EXPECT_EQ(run.expected_pass_probability, 1.0);
    EXPECT_TRUE(trace.lease_seen_at_acceptance);
    // One acceptance, then the five steps of every epoch in order.
    ASSERT_EQ(trace.kinds.size(), 1u + 3 * 5);
    EXPECT_EQ(trace.kinds[0], LeaseStepKind::kLeaseAccepted);
    for (size_t e = 0; e < 3; ++e) {
      EXPECT_EQ(trace.kinds[1 + 5 * e], LeaseStepKind::kEpochStarted);
      EXPECT_EQ(trace.kinds[5 + 5 * e], LeaseStepKind::kEpochClosed);
    }
    // The stores it left are ordinary stores: they reopen, and hold what the run returned.
    ASSERT_OK_AND_ASSIGN(const VerifierSession v, VerifierSession::Open(dir.path() / "v"));
    EXPECT_EQ(v.verdicts().size(), 3u);
    // A second run over the same directories is refused: they already hold stores.
    EXPECT_FALSE(RunLease(dir.path() / "v2", dir.path() / "p", o).ok());
  }
}

TEST(LeaseDriver, LazyProviderIsCaughtInBothModes) {
  for (LeaseMode mode : {LeaseMode::kInteractive, LeaseMode::kBeacon}) {
    SCOPED_TRACE(LeaseModeName(mode));
    testing::ManualClock clock;
    testing::TempDir dir;
    LeaseDriverOptions o = TinyDriverOptions(mode, clock);
    o.skip_fraction = 0.5;  // each epoch passes with probability 2^-k: never, in practice
    ASSERT_OK_AND_ASSIGN(const LeaseRun run, RunLease(dir.path() / "v", dir.path() / "p", o));
    EXPECT_EQ(run.skipped_per_epoch, 4u * 64 / 2);
    EXPECT_LT(run.expected_pass_probability, 1e-12);
    ASSERT_EQ(run.verdicts.size(), 3u);
    for (const Verdict& v : run.verdicts) EXPECT_EQ(v.reason, Reason::kTileMismatch) << v.detail;
    EXPECT_EQ(run.report.failed, 3u);
    EXPECT_EQ(run.report.passed, 0u);
  }
}

TEST(LeaseDriver, RefusesOptionsOutOfRange) {
  testing::ManualClock clock;
  testing::TempDir dir;
  LeaseDriverOptions o = TinyDriverOptions(LeaseMode::kInteractive, clock);
  o.epochs = 0;
  EXPECT_EQ(RunLease(dir.path() / "v", dir.path() / "p", o).status().code(), StatusCode::kInvalidArgument);
  o.epochs = 1;
  o.skip_fraction = 1.5;
  EXPECT_EQ(RunLease(dir.path() / "v", dir.path() / "p", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "v")) << "refused before creating a store";
}

TEST(Calibrate, SuggestsRoundsDeadlineAndRate) {
  WorkloadParams w = testing::TinyLease(LeaseMode::kInteractive).workload;
  w.m = w.n = w.k = 1024;
  w.tile = 32;
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion s, SuggestLeaseTerms(w, 0.1, 1.0));
  EXPECT_EQ(s.rounds, 10u);
  EXPECT_DOUBLE_EQ(s.epoch_seconds, 1.0);
  EXPECT_EQ(s.deadline_ms, 2500u);  // 1.5 x 1 s + 1 s
  EXPECT_EQ(s.claimed_ops_per_second, uint64_t(2.0 * 1024 * 1024 * 1024 * 10 / 2.5));
  EXPECT_DOUBLE_EQ(s.measured_ops_per_second, 2.0 * 1024 * 1024 * 1024 / 0.1);
  // A round longer than the target still gets one round; R never exceeds kMaxRounds.
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion slow, SuggestLeaseTerms(w, 5.0, 1.0));
  EXPECT_EQ(slow.rounds, 1u);
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion fast, SuggestLeaseTerms(w, 1e-9, 1e6));
  EXPECT_EQ(fast.rounds, kMaxRounds);
  EXPECT_EQ(SuggestLeaseTerms(w, 0, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SuggestLeaseTerms(w, 0.1, -1).status().code(), StatusCode::kInvalidArgument);
  w.tile = 3;
  EXPECT_EQ(SuggestLeaseTerms(w, 0.1, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(Calibrate, MeasuresRoundsOnTheEngine) {
  const WorkloadParams w = testing::TinyLease(LeaseMode::kInteractive).workload;
  ASSERT_OK_AND_ASSIGN(const RoundTiming t, MeasureRound(w, testing::CpuOneThread(), 3, testing::SeededRandom(1)));
  ASSERT_EQ(t.seconds.size(), 3u);
  EXPECT_TRUE(std::is_sorted(t.seconds.begin(), t.seconds.end()));
  EXPECT_EQ(t.median_seconds, t.seconds[1]);
  EXPECT_GT(t.median_seconds, 0.0);
  EXPECT_EQ(t.device.backend, "cpu");
  EXPECT_EQ(MeasureRound(w, testing::CpuOneThread(), 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(DemoBeacon, PublishesEachRoundOnItsClock) {
  testing::ManualClock clock(1000);
  const DemoBeacon beacon(clock, 1000, 250, testing::SeededRandom(3));
  EXPECT_EQ(beacon.name(), "vcp-demo-beacon");
  ASSERT_OK_AND_ASSIGN(const Hash32 r0, beacon.Value(0));
  EXPECT_EQ(beacon.Value(1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(beacon.Value(UINT64_MAX).status().code(), StatusCode::kUnavailable) << "no overflow into the past";
  clock.Advance(250);
  ASSERT_OK_AND_ASSIGN(const Hash32 r1, beacon.Value(1));
  EXPECT_NE(r0, r1);
  ASSERT_OK_AND_ASSIGN(const Hash32 r1_again, beacon.Value(1));
  EXPECT_EQ(r1, r1_again);
  const DemoBeacon other(clock, 1000, 250, testing::SeededRandom(4));
  ASSERT_OK_AND_ASSIGN(const Hash32 other_r1, other.Value(1));
  EXPECT_NE(other_r1, r1) << "each beacon draws its own secret";
}

}  // namespace
}  // namespace vcp
