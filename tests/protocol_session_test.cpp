// Both roles over their stores: whole leases in each mode, missed and unanswered epochs, the audit schedule,
// and each check the sessions make on the other side's messages.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

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
  const EpochStart start = Must(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand), "StartEpoch");
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
  EXPECT_EQ(r.on_demand.passed, 3u);
  EXPECT_EQ(r.proven_operations, 3 * EpochOperations(t.lease));
  EXPECT_DOUBLE_EQ(r.median_rate_per_device, double(EpochOperations(t.lease)) / 0.005);
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

  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
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
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  t.clock.Advance(EpochDeadlineUs(t.lease) + 1);
  ASSERT_OK_AND_ASSIGN(const EpochStart s1, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(s1.epoch, 1u);
  EXPECT_EQ(s1.prev_record, LeaseId(t.lease)) << "a missed epoch adds nothing to the chain";
  // Epoch 1 gets a record but never a response.
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(s1, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_OK_AND_ASSIGN(const EpochStart s2, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(s2.prev_record, RecordHash(proved.record));
  const auto verdicts = t.V().verdicts();
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].reason, Reason::kMissed);
  EXPECT_EQ(verdicts[1].reason, Reason::kNoResponse);
  const LeaseReport r = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(r.on_demand.missed, 1u);
  EXPECT_EQ(r.on_demand.failed, 1u);
  EXPECT_EQ(r.gpu_hours_proven, 0.0);
}

// The last epoch of a lease has no next start to close it: CloseOverdueEpoch closes it once nothing can make it
// pass any more, and not a microsecond earlier.
TEST(ProtocolSession, OverdueEpochsCloseWithoutANextStart) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const std::optional<Verdict> none, t.V().CloseOverdueEpoch(t.verifier, 0));
  EXPECT_FALSE(none.has_value()) << "no epoch is open";
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  t.clock.Advance(EpochDeadlineUs(t.lease));
  ASSERT_OK_AND_ASSIGN(const std::optional<Verdict> in_time, t.V().CloseOverdueEpoch(t.verifier, 0));
  EXPECT_FALSE(in_time.has_value()) << "a record may still arrive at the deadline itself";
  t.clock.Advance(1);
  ASSERT_OK_AND_ASSIGN(const std::optional<Verdict> missed, t.V().CloseOverdueEpoch(t.verifier, 0));
  ASSERT_TRUE(missed.has_value());
  EXPECT_EQ(missed->reason, Reason::kMissed);
  EXPECT_TRUE(CheckSignature(*missed, t.verifier.public_key()).ok());

  // Epoch 1: the record arrives, the response does not.
  constexpr uint64_t kWaitUs = 5'000'000;
  ASSERT_OK_AND_ASSIGN(const EpochStart s1, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(s1, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  t.clock.Advance(kWaitUs);
  ASSERT_OK_AND_ASSIGN(const std::optional<Verdict> waiting, t.V().CloseOverdueEpoch(t.verifier, kWaitUs));
  EXPECT_FALSE(waiting.has_value()) << "the response may still come within the wait";
  t.clock.Advance(1);
  ASSERT_OK_AND_ASSIGN(const std::optional<Verdict> unanswered, t.V().CloseOverdueEpoch(t.verifier, kWaitUs));
  ASSERT_TRUE(unanswered.has_value());
  EXPECT_EQ(unanswered->reason, Reason::kNoResponse);
  EXPECT_EQ(unanswered->record_hash, RecordHash(proved.record));
  EXPECT_EQ(t.V().verdicts().size(), 2u) << "both closings are logged and replayed";
  EXPECT_FALSE(t.V().CloseOverdueEpoch(t.stranger, 0).ok()) << "only the lease's verifier key closes epochs";
}

// A share so small that the mean gap does not fit in 64 bits saturates: at 1e-300 it was a float-to-integer
// conversion out of range (undefined behaviour).
TEST(ProtocolSchedule, AMeanGapTooLargeForSixtyFourBitsSaturates) {
  EXPECT_EQ(MeanGapForShare(10'000'000, 1e-300), UINT64_MAX);
  EXPECT_EQ(MeanGapForShare(10'000'000, 0.5), 20'000'000u);
  EXPECT_EQ(MeanGapForShare(10'000'000, 0), 0u);
}

TEST(ProtocolSession, TheProviderNamesTheRecordLoggedForAStart) {
  Parties t;
  EXPECT_EQ(t.P().epochs_started(), 0u);
  EXPECT_FALSE(t.P().last_epoch().has_value());
  ASSERT_OK_AND_ASSIGN(const EpochStart s0, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_FALSE(t.P().LoggedRecord(s0).has_value()) << "not proven yet";
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(s0, t.provider, t.poptions));
  const ProviderSession p = t.P();
  ASSERT_TRUE(p.LoggedRecord(s0).has_value());
  EXPECT_EQ(Serialize(*p.LoggedRecord(s0)), Serialize(proved.record)) << "replayed from the log";
  EpochStart other = s0;
  other.start_us += 1;
  EXPECT_FALSE(p.LoggedRecord(other).has_value()) << "a start with other bytes is not the one proven";
  EXPECT_EQ(p.epochs_started(), 1u);
  EXPECT_EQ(p.last_epoch(), std::optional<uint64_t>(0));
}

// A session over an entry log kept elsewhere (the verifier service keeps them in its database) behaves as over the
// file store: the same randomness gives the same entries, byte for byte, and reopening replays them.
class MemoryEntryLog final : public EntryLog {
 public:
  explicit MemoryEntryLog(std::vector<LogEntry>* entries) : entries_(entries) {}
  Status Append(uint8_t type, std::span<const uint8_t> payload) override {
    entries_->push_back(LogEntry{type, std::vector<uint8_t>(payload.begin(), payload.end()), entries_->size()});
    return Status::Ok();
  }
  const std::vector<LogEntry>& entries() const override { return *entries_; }
  const LogRecovery& recovery() const override { return recovery_; }
  std::string Describe() const override { return "memory"; }

 private:
  std::vector<LogEntry>* entries_;
  LogRecovery recovery_;
};

TEST(ProtocolSession, ASessionOverAnyEntryLogMatchesTheFileStore) {
  Parties t;  // file store, randomness seed 7
  std::vector<LogEntry> memory;
  VerifierOptions options = t.voptions;
  options.random = testing::SeededRandom(7);
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = t.provider.public_key();
  ASSERT_OK_AND_ASSIGN(VerifierSession m, VerifierSession::Create(std::make_unique<MemoryEntryLog>(&memory), terms,
                                                                   t.verifier, 0.01, options));
  EXPECT_EQ(m.lease_id(), LeaseId(t.lease));
  ASSERT_OK(m.AddAcceptance(t.acceptance));
  ASSERT_OK_AND_ASSIGN(const EpochStart start, m.StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const EpochStart file_start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(Serialize(start), Serialize(file_start));
  ASSERT_OK_AND_ASSIGN(AppendLog file, AppendLog::Open(t.vdir.path() / "verifier.log", StoreRole::kVerifier));
  ASSERT_EQ(file.entries().size(), memory.size());
  for (size_t i = 0; i < memory.size(); ++i) {
    EXPECT_EQ(file.entries()[i].type, memory[i].type) << i;
    EXPECT_EQ(file.entries()[i].payload, memory[i].payload) << i;
  }
  ASSERT_OK_AND_ASSIGN(VerifierSession reopened,
                       VerifierSession::Open(std::make_unique<MemoryEntryLog>(&memory), options));
  ASSERT_EQ(reopened.epochs().size(), 1u);
  EXPECT_TRUE(reopened.accepted());
  std::vector<LogEntry> used{memory.front()};
  EXPECT_FALSE(VerifierSession::Create(std::make_unique<MemoryEntryLog>(&used), terms, t.verifier, 0.01, options).ok())
      << "Create needs an empty log";
}

// Recompute mode keeps no leaf hashes: no leaves file is written, the response is built from recomputed rounds
// (the outcome says so and why), and it passes.
TEST(ProtocolSession, RecomputeModePasses) {
  Parties t;
  t.poptions.keep_leaves = false;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
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
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
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
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
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
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
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
  const Status start_refused = t.V().StartEpoch(t.provider, EpochSchedule::kOnDemand).status();
  EXPECT_EQ(start_refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(start_refused.message().find("key " + pkey + " is the lease's provider key"), std::string_view::npos)
      << start_refused.ToString();
  EXPECT_NE(start_refused.message().find("needs the verifier's secret key (public key " + vkey + ")"),
            std::string_view::npos)
      << start_refused.ToString();
  EXPECT_EQ(FileSize(vlog), vsize);
  EXPECT_TRUE(t.V().epochs().empty());

  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
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
  const Status stranger = t.P().ProveFromLeaves(start, {}, {}, 0, 0, t.stranger, true).status();
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
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
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
  EXPECT_NE(v->StartEpoch(verifier, EpochSchedule::kOnDemand).status().message().find("not accepted"),
            std::string_view::npos);
  LeaseAcceptance acceptance{v->lease_id(), clock.NowMicros(), {}};
  ASSERT_TRUE(Sign(acceptance, verifier).ok());  // wrong key
  EXPECT_EQ(v->AddAcceptance(acceptance).code(), StatusCode::kRejected);
  ASSERT_TRUE(Sign(acceptance, provider).ok());
  ASSERT_TRUE(v->AddAcceptance(acceptance).ok());
  EXPECT_EQ(v->ReceiveRecord(std::vector<uint8_t>{1, 2, 3}, verifier).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v->StartEpoch(provider, EpochSchedule::kOnDemand).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(v->StartEpoch(verifier, EpochSchedule::kOnDemand).ok());
  EXPECT_NE(v->ReceiveResponse(std::vector<uint8_t>{1}, verifier).status().message().find("no record"),
            std::string_view::npos);
  clock.Set(terms.end_us);
  EXPECT_NE(v->StartEpoch(verifier, EpochSchedule::kOnDemand).status().message().find("ended"), std::string_view::npos);
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
  o.claimed_ops_per_second_per_device = 4 * testing::kTinyRoundOps / 8;  // deadline 10 s: the manual clock decides
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
        trace.lease_seen_at_acceptance = so_far.lease.rounds_per_epoch == 4 && so_far.backend.backend == "cpu";
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
    EXPECT_EQ(run.report.scheduled.passed, 3u);
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
    EXPECT_EQ(run.report.scheduled.failed, 3u);
    EXPECT_EQ(run.report.scheduled.passed, 0u);
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

// Terms ValidateLease accepts, with what had to be raised to get there said in the note.
Lease SuggestedLease(const WorkloadParams& w, const LeaseSuggestion& s) {
  Lease lease = testing::TinyLease(LeaseMode::kInteractive);
  lease.verifier_key = testing::KeyFrom(1).public_key();
  lease.provider_key = testing::KeyFrom(2).public_key();
  lease.workload = w;
  lease.devices = s.devices;
  lease.rounds_per_epoch = s.rounds;
  lease.claimed_ops_per_second_per_device = s.claimed_ops_per_second_per_device;
  lease.slack_ppm = s.slack_ppm;
  lease.network_allowance_us = s.network_allowance_us;
  return lease;
}

TEST(Calibrate, SuggestsRoundsRateSlackAndAllowanceThatValidate) {
  WorkloadParams w = testing::TinyLease(LeaseMode::kInteractive).workload;
  w.m = w.n = w.k = 1024;
  w.tile = 32;
  const double ops = 2.0 * 1024 * 1024 * 1024;
  // No allowance: R from the target, 90% of the measured rate, the default slack; nothing raised.
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion s, SuggestLeaseTerms(w, 2, 0.1, 1.0, 0));
  EXPECT_EQ(s.devices, 2);
  EXPECT_EQ(s.rounds, 10u);
  EXPECT_DOUBLE_EQ(s.epoch_seconds, 1.0);
  EXPECT_DOUBLE_EQ(s.measured_ops_per_second, ops / 0.1);
  EXPECT_EQ(s.claimed_ops_per_second_per_device, uint64_t(0.9 * ops / 0.1));
  EXPECT_EQ(s.slack_ppm, kDefaultSlackPpm);
  EXPECT_TRUE(s.note.empty()) << s.note;
  const Lease plain = SuggestedLease(w, s);
  ASSERT_OK(ValidateLease(plain));
  EXPECT_EQ(s.compute_us, ComputeTimeUs(plain));
  EXPECT_EQ(s.deadline_us, EpochDeadlineUs(plain));
  EXPECT_NEAR(s.compute_us, 1e6 / 0.9, 1);  // the measured epoch is 90% of the compute time the rate allows
  EXPECT_DOUBLE_EQ(s.guaranteed_ops_per_second_per_device, GuaranteedRatePerDevice(plain));

  // A 1 s network allowance does not fit in half of a 0.28 s margin: the slack goes to its maximum and R up.
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion net, SuggestLeaseTerms(w, 1, 0.1, 1.0));
  EXPECT_EQ(net.network_allowance_us, 1'000'000u);
  EXPECT_EQ(net.slack_ppm, kMaxSlackPpm);
  EXPECT_GE(net.rounds, 18u);
  EXPECT_NE(net.note.find("slack raised to the maximum"), std::string::npos) << net.note;
  ASSERT_OK(ValidateLease(SuggestedLease(w, net)));
  EXPECT_LE(2 * net.network_allowance_us, net.deadline_us - net.compute_us);
  // A small allowance is met by the slack alone.
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion small, SuggestLeaseTerms(w, 1, 0.1, 1.0, 300'000));
  EXPECT_GT(small.slack_ppm, kDefaultSlackPpm);
  EXPECT_LT(small.slack_ppm, kMaxSlackPpm);
  EXPECT_EQ(small.rounds, 10u);
  ASSERT_OK(ValidateLease(SuggestedLease(w, small)));

  // A round longer than the target still gets one round; a round far under 1 ms gets enough to time.
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion slow, SuggestLeaseTerms(w, 1, 5.0, 1.0, 0));
  EXPECT_EQ(slow.rounds, 1u);
  ASSERT_OK_AND_ASSIGN(const LeaseSuggestion fast, SuggestLeaseTerms(w, 1, 1e-6, 1e-6, 0));
  EXPECT_GE(fast.compute_us, kMinComputeUs);
  EXPECT_NE(fast.note.find("at least 1 ms"), std::string::npos) << fast.note;
  EXPECT_EQ(SuggestLeaseTerms(w, 1, 0, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SuggestLeaseTerms(w, 1, 0.1, -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SuggestLeaseTerms(w, 0, 0.1, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SuggestLeaseTerms(w, 17, 0.1, 1).status().code(), StatusCode::kInvalidArgument);
  w.tile = 3;
  EXPECT_EQ(SuggestLeaseTerms(w, 1, 0.1, 1).status().code(), StatusCode::kInvalidArgument);
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

// ---------------------------------------------------------------------------------------------------------------
// Protocol v2: scheduled and on-demand epochs, void epochs, several devices, device evidence, and the report.

// One honest epoch of the given kind through reopened stores; the clock first moves to the audit time a
// scheduled epoch answers to.
Verdict EpochOfKind(Parties& t, EpochSchedule schedule, uint64_t record_after_us = 5000) {
  using testing::Must;
  if (schedule == EpochSchedule::kScheduled) t.AdvanceToScheduled();
  const EpochStart start = Must(t.V().StartEpoch(t.verifier, schedule), "StartEpoch");
  const ProveOutcome proved = Must(t.P().Prove(start, t.provider, t.poptions), "Prove");
  t.clock.Advance(record_after_us);
  const RecordOutcome outcome = Must(t.V().ReceiveRecord(Serialize(proved.record), t.verifier), "ReceiveRecord");
  if (outcome.verdict) return *outcome.verdict;
  if (!outcome.challenge) Must(Status::Internal("no challenge: " + outcome.finding.detail), "ReceiveRecord");
  const RespondOutcome responded = Must(t.P().Respond(*outcome.challenge, t.provider, t.poptions), "Respond");
  const ResponseOutcome closed =
      Must(t.V().ReceiveResponse(Serialize(responded.response), t.verifier), "ReceiveResponse");
  if (!closed.verdict) Must(Status::Internal("no verdict: " + closed.finding.detail), "ReceiveResponse");
  return *closed.verdict;
}

TEST(ProtocolSchedule, ScheduledEpochsStartOnlyAtAnAuditTimeAndEachTimeServesOnce) {
  Parties t;
  const uint64_t due = t.V().ScheduledStartUs();
  ASSERT_GT(due, t.clock.NowMicros()) << "the first audit time lies ahead of the lease start";
  EXPECT_EQ(due, t.V().AuditTimes().front());
  const uint64_t log_size = std::filesystem::file_size(t.vdir.path() / "verifier.log");
  const Status early = t.V().StartEpoch(t.verifier, EpochSchedule::kScheduled).status();
  EXPECT_EQ(early.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(early.message().find("the next is at " + std::to_string(due) + " us"), std::string_view::npos)
      << early.ToString();
  EXPECT_NE(early.message().find("wait for it"), std::string_view::npos);
  EXPECT_NE(early.message().find("or start on demand"), std::string_view::npos);
  EXPECT_EQ(std::filesystem::file_size(t.vdir.path() / "verifier.log"), log_size) << "a refused start logged";

  const Verdict first = EpochOfKind(t, EpochSchedule::kScheduled);
  EXPECT_EQ(first.schedule, EpochSchedule::kScheduled);
  EXPECT_EQ(first.reason, Reason::kPass) << first.detail;
  // The audit time that started it is used up: the next scheduled epoch waits for the next one.
  EXPECT_GT(t.V().ScheduledStartUs(), first.start_us);
  EXPECT_EQ(t.V().StartEpoch(t.verifier, EpochSchedule::kScheduled).status().code(), StatusCode::kInvalidArgument);
  // On demand is allowed at any time, and the log and its verdict say which kind each epoch was.
  const Verdict second = EpochOfKind(t, EpochSchedule::kOnDemand);
  EXPECT_EQ(second.schedule, EpochSchedule::kOnDemand);
  VerifierSession v = t.V();
  ASSERT_EQ(v.epochs().size(), 2u);
  EXPECT_EQ(v.epochs()[0].schedule, EpochSchedule::kScheduled);
  EXPECT_EQ(v.epochs()[1].schedule, EpochSchedule::kOnDemand);
  ASSERT_OK_AND_ASSIGN(const Verdict parsed, ParseVerdict(Serialize(*v.epochs()[0].verdict)));
  EXPECT_EQ(parsed.schedule, EpochSchedule::kScheduled);
}

TEST(ProtocolReport, OnDemandEpochsDoNotMoveTheAvailabilityBound) {
  Parties t;
  for (int i = 0; i < 2; ++i) ASSERT_EQ(EpochOfKind(t, EpochSchedule::kScheduled).reason, Reason::kPass);
  const LeaseReport before = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(before.scheduled.passed, 2u);
  EXPECT_DOUBLE_EQ(before.availability_lower_bound, std::pow(0.05, 1.0 / 2));
  // Three passing and one missed epoch on demand: the bound rests on the scheduled epochs alone.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(EpochOfKind(t, EpochSchedule::kOnDemand).reason, Reason::kPass);
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  t.clock.Advance(testing::kTinyDeadlineUs + 1);
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));  // closes the last one missed
  const LeaseReport after = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(after.on_demand.passed, 3u);
  EXPECT_EQ(after.on_demand.missed, 1u);
  EXPECT_EQ(after.scheduled.closed(), 2u);
  EXPECT_DOUBLE_EQ(after.availability_lower_bound, before.availability_lower_bound);
  EXPECT_EQ(after.passes_needed_for_99, before.passes_needed_for_99);
  EXPECT_EQ(after.proven_operations, 5 * EpochOperations(t.lease)) << "on-demand epochs still prove throughput";
  EXPECT_EQ(after.audited, 5u);
  // A missed scheduled epoch counts as zero delivered and lowers it.
  t.AdvanceToScheduled();
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kScheduled));
  t.clock.Advance(testing::kTinyDeadlineUs + 1);
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  const LeaseReport missed = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(missed.scheduled.missed, 1u);
  EXPECT_LT(missed.availability_lower_bound, after.availability_lower_bound);
  EXPECT_NE(missed.availability_explanation.find("1 missed, counted as not delivered"), std::string::npos)
      << missed.availability_explanation;
}

TEST(ProtocolVoid, AVoidEpochIsNeitherPassNorFail) {
  Parties t;
  ASSERT_EQ(EpochOfKind(t, EpochSchedule::kScheduled).reason, Reason::kPass);
  t.AdvanceToScheduled();
  // The bound from the passing epoch alone: the one voided below must leave it as it was.
  const LeaseReport before = t.V().Report(t.clock.NowMicros());
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kScheduled));
  // Not before the deadline, not with another reason, not with the provider's key.
  const Status early = t.V().VoidEpoch(Reason::kVoidVerifierDown, "", t.verifier).status();
  EXPECT_EQ(early.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(early.message().find("deadline has not passed"), std::string_view::npos) << early.ToString();
  t.clock.Advance(testing::kTinyDeadlineUs + 1);
  EXPECT_NE(t.V().VoidEpoch(Reason::kMissed, "", t.verifier).status().message().find("not a void reason"),
            std::string_view::npos);
  EXPECT_EQ(t.V().VoidEpoch(Reason::kVoidVerifierDown, "", t.provider).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.V().VoidEpoch(Reason::kVoidBeaconUnavailable, "", t.verifier).status().code(),
            StatusCode::kInvalidArgument)
      << "an interactive lease has no beacon to be unavailable";
  // Overdue and not yet closed, the epoch counts as what CloseOverdueEpoch would sign: missed.
  EXPECT_EQ(t.V().Report(t.clock.NowMicros()).scheduled.missed, 1u);
  ASSERT_OK_AND_ASSIGN(const Verdict v, t.V().VoidEpoch(Reason::kVoidVerifierDown, "host rebooted", t.verifier));
  EXPECT_EQ(v.reason, Reason::kVoidVerifierDown);
  EXPECT_EQ(OutcomeOf(v.reason), VerdictOutcome::kVoid);
  EXPECT_EQ(v.epoch, start.epoch);
  EXPECT_EQ(v.operations, 0u);
  EXPECT_NE(v.detail.find("host rebooted"), std::string::npos) << v.detail;
  EXPECT_TRUE(CheckSignature(v, t.verifier.public_key()).ok());
  EXPECT_EQ(t.V().VoidEpoch(Reason::kVoidVerifierDown, "", t.verifier).status().code(), StatusCode::kInvalidArgument)
      << "closed: nothing left to void";

  const LeaseReport r = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(r.void_epochs, 1u);
  EXPECT_EQ(r.scheduled.closed(), 1u) << "a void epoch is no scheduled trial";
  EXPECT_EQ(r.scheduled.failed + r.scheduled.missed + r.on_demand.closed(), 0u);
  EXPECT_EQ(r.availability_lower_bound, before.availability_lower_bound);
  ASSERT_EQ(r.epoch_lines.size(), 2u);
  EXPECT_EQ(r.epoch_lines[1].outcome, VerdictOutcome::kVoid);
  // The next epoch starts normally, chained to the last record.
  ASSERT_OK_AND_ASSIGN(const EpochStart next, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(next.epoch, start.epoch + 1);
  EXPECT_EQ(next.prev_record, start.prev_record);
}

TEST(ProtocolVoid, ARecordArrivingBeforeItsStartOnTheVerifiersClockIsVoidClock) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  t.clock.Set(start.start_us - 1000);  // the verifier's clock stepped back
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_TRUE(outcome.verdict.has_value());
  EXPECT_EQ(outcome.verdict->reason, Reason::kVoidClock) << outcome.verdict->detail;
  EXPECT_NE(outcome.verdict->detail.find("clock went backwards"), std::string::npos);
  const LeaseReport r = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(r.void_epochs, 1u);
  EXPECT_EQ(r.on_demand.closed(), 0u);
  // After its record arrived an interactive epoch cannot be voided by hand.
  t.clock.Set(start.start_us);
  ASSERT_OK_AND_ASSIGN(const EpochStart s1, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome p1, t.P().Prove(s1, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveRecord(Serialize(p1.record), t.verifier));
  t.clock.Advance(testing::kTinyDeadlineUs + 1);
  const Status refused = t.V().VoidEpoch(Reason::kVoidVerifierDown, "", t.verifier).status();
  EXPECT_NE(refused.message().find("record arrived and was timed"), std::string_view::npos) << refused.ToString();
}

TEST(ProtocolVoid, BeaconUnavailableVoidsAnEpochWhoseRoundNeverCame) {
  Parties t(LeaseMode::kBeacon);
  const auto beacon_path = t.vdir.path() / "beacon.txt";
  ASSERT_OK(
      FileBeaconSource::Create(beacon_path, t.lease.beacon_name, t.lease.beacon_genesis_us, t.lease.beacon_period_us));
  ASSERT_OK_AND_ASSIGN(const FileBeaconSource beacon, FileBeaconSource::Open(beacon_path));
  t.voptions.beacon = &beacon;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  t.clock.Advance(testing::kTinyDeadlineUs + 60'000'000);
  EXPECT_EQ(t.V().VoidEpoch(Reason::kVoidVerifierDown, "", t.verifier).status().code(), StatusCode::kInvalidArgument);
  // Published: verify instead.
  const uint64_t round = BeaconRoundFor(t.lease, start.start_us);
  {
    testing::TempDir other;
    ASSERT_OK(FileBeaconSource::Create(other.path() / "b.txt", t.lease.beacon_name, t.lease.beacon_genesis_us,
                                       t.lease.beacon_period_us));
    ASSERT_OK(FileBeaconSource::Publish(other.path() / "b.txt", round, testing::TestHash("r")));
    ASSERT_OK_AND_ASSIGN(const FileBeaconSource published, FileBeaconSource::Open(other.path() / "b.txt"));
    VerifierOptions o = t.voptions;
    o.beacon = &published;
    ASSERT_OK_AND_ASSIGN(VerifierSession v, VerifierSession::Open(t.vdir.path(), o));
    EXPECT_NE(v.VoidEpoch(Reason::kVoidBeaconUnavailable, "", t.verifier).status().message().find("is published"),
              std::string_view::npos);
  }
  ASSERT_OK_AND_ASSIGN(const Verdict v, t.V().VoidEpoch(Reason::kVoidBeaconUnavailable, "", t.verifier));
  EXPECT_EQ(v.reason, Reason::kVoidBeaconUnavailable);
  EXPECT_NE(v.detail.find("beacon round " + std::to_string(round) + " never came"), std::string::npos) << v.detail;
}

TEST(ProtocolLeaseTerms, ALeaseWhoseTermsCannotProveItsRateIsRefused) {
  const SecretKey verifier = testing::KeyFrom(0x81), provider = testing::KeyFrom(0x82);
  testing::TempDir dir;
  VerifierOptions options;
  testing::ManualClock clock;
  options.clock = &clock;
  options.random = testing::SeededRandom(5);
  struct Case {
    const char* what;
    std::function<void(Lease&)> change;
  };
  const std::vector<Case> cases = {
      // 8 s compute, 2 s margin: an allowance of 1.5 s leaves the honest provider 0.5 s and needs 3 s.
      {"allowance over half the margin", [](Lease& l) { l.network_allowance_us = 1'500'000; }},
      {"slack over the maximum", [](Lease& l) { l.slack_ppm = kMaxSlackPpm + 1; }},
      {"compute under 1 ms", [](Lease& l) { l.claimed_ops_per_second_per_device *= 10'000; }},
      {"no rate", [](Lease& l) { l.claimed_ops_per_second_per_device = 0; }},
      {"no devices", [](Lease& l) { l.devices = 0; }},
      {"17 devices", [](Lease& l) { l.devices = 17; }},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Lease terms = testing::TinyLease(LeaseMode::kInteractive);
    terms.provider_key = provider.public_key();
    c.change(terms);
    const auto vdir = dir.path() / ("v" + std::to_string(n++));
    EXPECT_EQ(VerifierSession::Create(vdir, terms, verifier, 0.01, options).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_FALSE(std::filesystem::exists(vdir / "verifier.log"));
    // A provider offered such a lease, signed, refuses it too.
    terms.verifier_key = verifier.public_key();
    ASSERT_OK(Sign(terms, verifier));
    const auto pdir = dir.path() / ("p" + std::to_string(n));
    EXPECT_EQ(ProviderSession::Accept(pdir, terms, provider, clock).status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(std::filesystem::exists(pdir / "provider.log"));
  }
  // The allowance that just fits is accepted: 2 x 1 s <= 2 s.
  Lease fits = testing::TinyLease(LeaseMode::kInteractive);
  fits.provider_key = provider.public_key();
  fits.network_allowance_us = 1'000'000;
  ASSERT_OK(VerifierSession::Create(dir.path() / "fits", fits, verifier, 0.01, options));
}

// D = 2, simulated clock: the lease's rate is per device and one deadline covers both. Two devices at exactly the
// claimed rate finish in the compute time, 8 s, and pass; one device running all D x R rounds needs 16 s and is
// late, whatever its record claims about its devices.
TEST(ProtocolDevices, AnEpochOnFewerDevicesThanTheLeaseNamesFailsTheDeadline) {
  Parties t(LeaseMode::kInteractive, /*rounds=*/2, 0, 7, /*devices=*/2);
  ASSERT_EQ(EpochDeadlineUs(t.lease), testing::kTinyDeadlineUs);
  const uint64_t round_us = testing::kTinyRoundOps * 1'000'000 / t.lease.claimed_ops_per_second_per_device;
  for (const uint32_t devices_used : {2u, 1u}) {
    SCOPED_TRACE(devices_used);
    ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
    ASSERT_OK_AND_ASSIGN(const EpochRun run, RunEpochRounds(t.lease, start, testing::CpuOneThread()));
    // Busiest device: D x R / devices_used rounds, each taking round_us at the claimed rate.
    const uint64_t took = EpochRounds(t.lease) / devices_used * round_us;
    t.clock.Advance(took);
    ASSERT_OK_AND_ASSIGN(const ProveOutcome proved,
                         t.P().ProveFromLeaves(start, run.leaves, testing::TestDevices(2), start.start_us,
                                               start.start_us + took, t.provider, true));
    ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
    if (devices_used == 2) {
      EXPECT_EQ(took, ComputeTimeUs(t.lease));
      ASSERT_TRUE(outcome.challenge.has_value()) << outcome.finding.detail;
      ASSERT_OK_AND_ASSIGN(const RespondOutcome r, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
      ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, t.V().ReceiveResponse(Serialize(r.response), t.verifier));
      ASSERT_TRUE(closed.verdict.has_value());
      EXPECT_EQ(closed.verdict->reason, Reason::kPass) << closed.verdict->detail;
      EXPECT_GE(ProvenRatePerDevice(t.lease, *closed.verdict), GuaranteedRatePerDevice(t.lease));
    } else {
      EXPECT_EQ(took, 2 * ComputeTimeUs(t.lease));
      ASSERT_TRUE(outcome.verdict.has_value());
      EXPECT_EQ(outcome.verdict->reason, Reason::kLate) << outcome.verdict->detail;
    }
    t.clock.Advance(60'000'000);
  }
}

TEST(ProtocolDevices, TwoSimulatedDevicesRunTheirOwnRoundsAtOnce) {
  const SecretKey verifier = testing::KeyFrom(0x91), provider = testing::KeyFrom(0x92);
  const Lease lease = testing::SignedTinyLease(verifier, provider, LeaseMode::kInteractive, 2, 0, 1, 2);
  const EpochStart start =
      testing::SignedStart(lease, verifier, 0, testing::TestHash("b"), LeaseId(lease), testing::kT0);
  RunOptions two = testing::CpuOneThread();
  two.threads = 4;
  ASSERT_OK_AND_ASSIGN(const EpochRun run, RunEpochRounds(lease, start, two));
  ASSERT_EQ(run.leaves.size(), 4u);
  ASSERT_EQ(run.devices.size(), 2u);
  for (const DeviceEvidence& d : run.devices) {
    EXPECT_EQ(d.backend, DeviceBackend::kCpu);
    EXPECT_EQ(d.compute_units, 2u) << "the threads split between the simulated devices";
    EXPECT_FALSE(d.name.empty());
  }
  // Each epoch round q is device q / R's round q % R, with its own seed.
  for (uint32_t q = 0; q < 4; ++q) {
    ASSERT_OK_AND_ASSIGN(const std::vector<Hash32> alone,
                         RecomputeRoundLeaves(lease, start, q, testing::CpuOneThread()));
    EXPECT_EQ(run.leaves[q], alone) << "round " << q;
  }
  EXPECT_NE(run.leaves[0], run.leaves[2]) << "device 1's round 0 is not device 0's";
  // The record carries both devices; fewer evidence entries than D are refused.
  ASSERT_OK_AND_ASSIGN(const EpochCommit commit, CommitEpoch(lease, start, run.leaves, run.devices, 0, 1, provider));
  EXPECT_EQ(commit.record.devices.size(), 2u);
  EXPECT_EQ(commit.round_roots.size(), 4u);
  EXPECT_EQ(CommitEpoch(lease, start, run.leaves, testing::TestDevices(1), 0, 1, provider).status().code(),
            StatusCode::kInvalidArgument);
  const EpochLeaves three(run.leaves.begin(), run.leaves.begin() + 3);
  EXPECT_EQ(CommitEpoch(lease, start, three, run.devices, 0, 1, provider).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ProtocolDevices, ARecordWhoseDeviceSetChangedIsReportedNotFailed) {
  Parties t;
  const std::vector<std::string> names = {"gpu-a", "gpu-a", "gpu-b", "gpu-b"};
  for (const std::string& name : names) {
    ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
    ASSERT_OK_AND_ASSIGN(const EpochRun run, RunEpochRounds(t.lease, start, t.poptions.run));
    std::vector<DeviceEvidence> devices = testing::TestDevices(1, name);
    devices[0].max_clock_khz = 1000 + static_cast<uint32_t>(start.epoch);  // clocks may change: same device
    ASSERT_OK_AND_ASSIGN(const ProveOutcome proved,
                         t.P().ProveFromLeaves(start, run.leaves, devices, 0, 1, t.provider, true));
    t.clock.Advance(1000);
    ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
    ASSERT_OK_AND_ASSIGN(const RespondOutcome r, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
    ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, t.V().ReceiveResponse(Serialize(r.response), t.verifier));
    ASSERT_EQ(closed.verdict->reason, Reason::kPass) << closed.verdict->detail;
    t.clock.Advance(60'000'000);
  }
  const LeaseReport report = t.V().Report(t.clock.NowMicros());
  EXPECT_EQ(report.on_demand.passed, 4u);
  EXPECT_EQ(report.devices_changed_at, std::vector<uint64_t>{2});
  ASSERT_EQ(report.epoch_lines.size(), 4u);
  EXPECT_FALSE(report.epoch_lines[1].devices_changed);
  EXPECT_TRUE(report.epoch_lines[2].devices_changed);
  EXPECT_EQ(report.epoch_lines[2].devices[0].name, "gpu-b");
  EXPECT_NE(DescribeDevice(report.epoch_lines[2].devices[0]).find("gpu-b"), std::string::npos);
}

TEST(ProtocolReport, BoundExplanationPassesNeededGpuHoursAndThePlan) {
  Lease lease = testing::TinyLease(LeaseMode::kInteractive, 4, 0, 2);
  std::vector<ReportEpoch> epochs;
  for (uint64_t e = 0; e < 20; ++e) {
    Verdict v;
    v.epoch = e;
    v.schedule = EpochSchedule::kScheduled;
    v.start_us = testing::kT0 + e * testing::kHourUs;
    v.arrival_us = v.start_us + 4'000'000;  // half the compute time: twice the claimed rate
    v.operations = EpochOperations(lease);
    epochs.push_back({v, testing::TestDevices(2)});
  }
  const LeaseReport r = SummarizeLease(lease, epochs, testing::kT0 + 12 * testing::kHourUs);
  EXPECT_EQ(r.devices, 2u);
  EXPECT_EQ(r.scheduled.passed, 20u);
  EXPECT_DOUBLE_EQ(r.availability_lower_bound, std::pow(0.05, 1.0 / 20));  // 0.861
  EXPECT_EQ(r.passes_needed_for_99, 299u - 20) << "0.05^(1/n) >= 0.99 from n = 299";
  EXPECT_DOUBLE_EQ(r.lease_hours, 12.0);
  EXPECT_DOUBLE_EQ(r.gpu_hours_proven, 2 * 12.0 * r.availability_lower_bound);
  EXPECT_DOUBLE_EQ(r.median_rate_per_device, 2.0 * double(lease.claimed_ops_per_second_per_device));
  EXPECT_DOUBLE_EQ(r.guaranteed_rate_per_device, double(lease.claimed_ops_per_second_per_device) / 1.25);
  EXPECT_NE(r.availability_explanation.find("at 95.0% confidence the devices delivered at least 86.1%"),
            std::string::npos)
      << r.availability_explanation;
  EXPECT_NE(r.availability_explanation.find("20 of 20 scheduled epochs"), std::string::npos);
  EXPECT_NEAR(r.escape_skip_1pct, std::pow(0.99, 40 * 20), 1e-12);
  EXPECT_NE(r.escape_explanation.find("skipped 1% of every epoch's work"), std::string::npos) << r.escape_explanation;
  EXPECT_EQ(r.escape_explanation.find("re-roll"), std::string::npos);
  EXPECT_TRUE(r.devices_changed_at.empty());
  // Beacon mode says what the figure assumes.
  Lease beacon = testing::TinyLease(LeaseMode::kBeacon, 4, 0, 2);
  EXPECT_NE(SummarizeLease(beacon, epochs, testing::kT0).escape_explanation.find("re-roll"), std::string::npos);
  // Nothing scheduled yet: the bound is 0 and says why; 299 passes would reach 0.99.
  const LeaseReport empty = SummarizeLease(lease, {}, testing::kT0);
  EXPECT_EQ(empty.availability_lower_bound, 0.0);
  EXPECT_EQ(empty.passes_needed_for_99, 299u);
  EXPECT_NE(empty.availability_explanation.find("no scheduled epoch"), std::string::npos);
  EXPECT_EQ(MoreSuccessesFor(1000, 1000, 0.95, 0.99), 0u);
  EXPECT_GT(MoreSuccessesFor(18, 20, 0.95, 0.99), 299u) << "failures need more passes to make up for";

  // `vcp lease new`: 24 h, share 1%, 10 s epochs: E = 86.4 scheduled epochs, bound 0.05^(1/86.4).
  const LeasePlan plan = PlanLease(lease, 0.01);
  EXPECT_DOUBLE_EQ(plan.lease_hours, 24.0);
  EXPECT_NEAR(plan.expected_scheduled_epochs, 86.4, 1e-9);
  EXPECT_NEAR(plan.perfect_bound, std::pow(0.05, 1 / 86.4), 1e-12);
  EXPECT_NEAR(plan.perfect_gpu_hours, 2 * 24 * plan.perfect_bound, 1e-9);
  EXPECT_NE(plan.explanation.find("about 86 scheduled epochs"), std::string::npos) << plan.explanation;
  EXPECT_NE(plan.explanation.find("reaches only 96.6%"), std::string::npos) << plan.explanation;
}

TEST(LeaseDriver, TwoDevicesEndToEnd) {
  testing::ManualClock clock;
  testing::TempDir dir;
  LeaseDriverOptions o = TinyDriverOptions(LeaseMode::kInteractive, clock);
  o.devices = 2;
  o.rounds = 2;
  o.claimed_ops_per_second_per_device = 2 * testing::kTinyRoundOps / 8;
  ASSERT_OK_AND_ASSIGN(const LeaseRun run, RunLease(dir.path() / "v", dir.path() / "p", o));
  EXPECT_EQ(run.lease.devices, 2);
  ASSERT_EQ(run.verdicts.size(), 3u);
  for (const Verdict& v : run.verdicts) {
    EXPECT_EQ(v.reason, Reason::kPass) << v.detail;
    EXPECT_EQ(v.schedule, EpochSchedule::kScheduled);
  }
  EXPECT_EQ(run.devices.size(), 2u);
  EXPECT_EQ(run.report.devices, 2u);
  EXPECT_EQ(run.report.scheduled.passed, 3u);
  EXPECT_DOUBLE_EQ(run.report.gpu_hours_proven, 2 * run.report.lease_hours * run.report.availability_lower_bound);
  ASSERT_OK_AND_ASSIGN(const VerifierSession v, VerifierSession::Open(dir.path() / "v"));
  for (const VerifierEpoch& e : v.epochs()) EXPECT_EQ(e.record->devices.size(), 2u);
}

TEST(LeaseDriver, ResumingAfterTheDeadlineVoidsTheOpenEpochAsVerifierDown) {
  testing::ManualClock clock;
  testing::TempDir dir;
  const SecretKey vkey = testing::KeyFrom(0xa1), pkey = testing::KeyFrom(0xa2);
  LeaseDriverOptions o = TinyDriverOptions(LeaseMode::kInteractive, clock);
  o.verifier_key = &vkey;
  o.provider_key = &pkey;
  o.epochs = 1;
  ASSERT_OK(RunLease(dir.path() / "v", dir.path() / "p", o).status());
  // The verifier started epoch 1 and then went down past its deadline.
  {
    VerifierOptions vo;
    vo.clock = &clock;
    ASSERT_OK_AND_ASSIGN(VerifierSession v, VerifierSession::Open(dir.path() / "v", vo));
    ASSERT_OK(v.StartEpoch(vkey, EpochSchedule::kOnDemand));
  }
  clock.Advance(testing::kTinyDeadlineUs + 1);
  o.epochs = 3;
  ASSERT_OK_AND_ASSIGN(const LeaseRun run, RunLease(dir.path() / "v", dir.path() / "p", o));
  EXPECT_TRUE(run.resumed);
  ASSERT_EQ(run.verdicts.size(), 3u);
  EXPECT_EQ(run.verdicts[0].reason, Reason::kPass);
  EXPECT_EQ(run.verdicts[1].reason, Reason::kVoidVerifierDown) << run.verdicts[1].detail;
  EXPECT_EQ(run.verdicts[2].reason, Reason::kPass) << run.verdicts[2].detail;
  EXPECT_EQ(run.report.void_epochs, 1u);
  EXPECT_EQ(run.report.scheduled.passed, 2u);
  // Without both keys a resume is refused.
  o.provider_key = nullptr;
  EXPECT_EQ(RunLease(dir.path() / "v", dir.path() / "p", o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vcp
