// Every attack on the lease protocol that issues 4 and 8 list, each rejected with its own reason; and the honest
// provider, which always passes. Shapes are tiny (64 x 64 x 64 int8, T = 8, D = 1, R = 4: 256 positions per
// epoch; D = 2 where the device count matters). Deadlines and device evidence: tests/protocol_session_test.cpp.
#include <gtest/gtest.h>

#include "protocol_fixture.h"
#include "vcp/epoch.h"
#include "vcp/lease_session.h"

namespace vcp {
namespace {

using testing::kT0;
using testing::TestHash;

constexpr uint64_t kStartUs = kT0 + 1000;

struct World {
  SecretKey verifier = testing::KeyFrom(0x51), provider = testing::KeyFrom(0x52), stranger = testing::KeyFrom(0x53);
  Lease lease;
  Hash32 lease_id{};

  explicit World(LeaseMode mode = LeaseMode::kInteractive, uint64_t nonce = 1) {
    lease = testing::SignedTinyLease(verifier, provider, mode, 4, 0, nonce);
    lease_id = LeaseId(lease);
  }

  EpochStart Start(uint64_t epoch, const Hash32& prev, uint64_t beacon_seed) const {
    return testing::SignedStart(lease, verifier, epoch, TestHash("beacon", beacon_seed), prev, kStartUs);
  }

  struct Epoch {
    EpochStart start;
    EpochLeaves leaves;
    EpochCommit commit;
    std::vector<uint8_t> record_bytes() const { return Serialize(commit.record); }
  };

  // Runs `computed_under` (the start whose seeds the provider actually used) and commits under `start`.
  Epoch Run(const EpochStart& start, const EpochStart* computed_under = nullptr) const {
    EpochRun run = testing::Must(
        RunEpochRounds(lease, computed_under ? *computed_under : start, testing::CpuOneThread()), "RunEpochRounds");
    return Commit(start, std::move(run.leaves));
  }

  Epoch Commit(const EpochStart& start, EpochLeaves leaves, uint64_t provider_start_us = kStartUs) const {
    EpochCommit commit = testing::Must(CommitEpoch(lease, start, leaves, testing::TestDevices(lease.devices),
                                                   provider_start_us, kStartUs + 500, provider),
                                       "CommitEpoch");
    return Epoch{start, std::move(leaves), std::move(commit)};
  }

  static ChallengeValue Interactive(uint64_t seed) {
    return ChallengeValue{ChallengeKind::kVerifierRandomness, 0, TestHash("challenge", seed)};
  }

  EpochResponse Respond(const Epoch& e, const ChallengeValue& challenge) const {
    return testing::Must(BuildResponse(
                             lease, e.commit.record, e.commit.round_roots, challenge,
                             [&e](uint32_t r) -> Result<std::vector<Hash32>> { return e.leaves[r]; }, provider),
                         "BuildResponse");
  }

  Finding CheckRecordOf(const Epoch& e, const EpochStart& against, uint64_t arrival_us = kStartUs + 5000) const {
    return CheckRecord(lease, against, arrival_us, e.record_bytes()).finding;
  }

  Finding Check(const Epoch& e, const ChallengeValue& expected, const std::vector<uint8_t>& response) const {
    return CheckResponse(lease, e.start, e.commit.record, expected, response, 1);
  }
};

#define EXPECT_REASON(finding, expected)                                               \
  do {                                                                                 \
    const Finding f_ = (finding);                                                      \
    EXPECT_EQ(ReasonName(f_.reason), ReasonName(expected)) << "detail: " << f_.detail; \
  } while (0)

TEST(ProtocolAttacks, HonestProviderAlwaysPasses) {
  for (LeaseMode mode : {LeaseMode::kInteractive, LeaseMode::kBeacon}) {
    World w(mode);
    Hash32 prev = w.lease_id;
    for (uint64_t e = 0; e < 12; ++e) {
      const World::Epoch epoch = w.Run(w.Start(e, prev, e));
      EXPECT_REASON(w.CheckRecordOf(epoch, epoch.start), Reason::kPass);
      const ChallengeValue challenge = mode == LeaseMode::kBeacon
                                           ? ChallengeValue{ChallengeKind::kBeacon, 11, TestHash("public", e)}
                                           : World::Interactive(e);
      EXPECT_REASON(w.Check(epoch, challenge, Serialize(w.Respond(epoch, challenge))), Reason::kPass);
      prev = RecordHash(epoch.commit.record);
    }
  }
}

TEST(ProtocolAttacks, LazyProviderIsCaught) {
  World w;
  for (uint64_t trial = 0; trial < 10; ++trial) {
    const EpochStart start = w.Start(0, w.lease_id, 100 + trial);
    const World::Epoch honest = w.Run(start);
    const World::Epoch lazy = w.Commit(start, SimulateLazyLeaves(honest.leaves, 128, trial));  // f = 1/2
    EXPECT_REASON(w.CheckRecordOf(lazy, start), Reason::kPass);  // the record alone cannot tell
    const ChallengeValue c = World::Interactive(trial);
    EXPECT_REASON(w.Check(lazy, c, Serialize(w.Respond(lazy, c))), Reason::kTileMismatch);
  }
}

TEST(ProtocolAttacks, WrongSeedIsCaught) {
  World w;
  const EpochStart start = w.Start(3, w.lease_id, 1);
  // The provider derived its round seeds from another epoch index (same beacon), then from a stale beacon.
  const EpochStart wrong_index = w.Start(4, w.lease_id, 1);
  const EpochStart stale_beacon = w.Start(3, w.lease_id, 99);
  for (const EpochStart* used : {&wrong_index, &stale_beacon}) {
    const World::Epoch e = w.Run(start, used);
    EXPECT_REASON(w.CheckRecordOf(e, start), Reason::kPass);
    EXPECT_REASON(w.Check(e, World::Interactive(1), Serialize(w.Respond(e, World::Interactive(1)))),
                  Reason::kTileMismatch);
  }
}

TEST(ProtocolAttacks, PrecomputingBeforeTheBeaconIsCaught) {
  World w;
  const EpochStart real = w.Start(0, w.lease_id, 1);
  // The provider guessed a beacon and computed the epoch before the start arrived.
  const EpochStart guessed = w.Start(0, w.lease_id, 12345);
  const World::Epoch precomputed = w.Run(guessed);
  // Submitting its record as is: it names the guessed beacon.
  EXPECT_REASON(w.CheckRecordOf(precomputed, real), Reason::kWrongBeacon);
  // Re-labelling the precomputed work with the real beacon: the tiles do not match the real seeds.
  const World::Epoch relabelled = w.Commit(real, precomputed.leaves);
  EXPECT_REASON(w.CheckRecordOf(relabelled, real), Reason::kPass);
  EXPECT_REASON(w.Check(relabelled, World::Interactive(2), Serialize(w.Respond(relabelled, World::Interactive(2)))),
                Reason::kTileMismatch);
}

TEST(ProtocolAttacks, RecordReplayedFromAnotherEpochOrLease) {
  World w;
  const World::Epoch e0 = w.Run(w.Start(0, w.lease_id, 1));
  const EpochStart start1 = w.Start(1, RecordHash(e0.commit.record), 2);
  EXPECT_REASON(w.CheckRecordOf(e0, start1), Reason::kWrongEpoch);

  World other(LeaseMode::kInteractive, /*nonce=*/2);  // same keys, another lease
  ASSERT_NE(other.lease_id, w.lease_id);
  const World::Epoch foreign = other.Run(other.Start(1, RecordHash(e0.commit.record), 2));
  EXPECT_REASON(w.CheckRecordOf(foreign, start1), Reason::kWrongLease);

  // The response side: a valid response from the other lease, or to another record.
  const World::Epoch e1 = w.Run(start1);
  const ChallengeValue c = World::Interactive(5);
  EXPECT_REASON(w.Check(e1, c, Serialize(other.Respond(foreign, c))), Reason::kWrongLease);
  EXPECT_REASON(w.Check(e1, c, Serialize(w.Respond(e0, c))), Reason::kResponseMismatch);
}

TEST(ProtocolAttacks, ReorderedOrMissingEpochBreaksTheChain) {
  World w;
  const World::Epoch e0 = w.Run(w.Start(0, w.lease_id, 1));
  const EpochStart start1 = w.Start(1, RecordHash(e0.commit.record), 2);
  const World::Epoch e1 = w.Run(start1);
  const EpochStart start2 = w.Start(2, RecordHash(e1.commit.record), 3);
  // Missing: the provider drops record 1 from its history and builds epoch 2 on record 0.
  EpochStart skipped = start2;
  skipped.prev_record = RecordHash(e0.commit.record);
  const World::Epoch missing = w.Run(skipped);
  EXPECT_REASON(w.CheckRecordOf(missing, start2), Reason::kBrokenChain);
  // Or on nothing at all (a fresh chain).
  EpochStart fresh = start2;
  fresh.prev_record = w.lease_id;
  EXPECT_REASON(w.CheckRecordOf(w.Run(fresh), start2), Reason::kBrokenChain);
  // Reordered: epoch 2's record offered while epoch 1 is open.
  const World::Epoch e2 = w.Run(start2);
  EXPECT_REASON(w.CheckRecordOf(e2, start1), Reason::kWrongEpoch);
}

TEST(ProtocolAttacks, SignatureByAnotherKey) {
  World w;
  const EpochStart start = w.Start(0, w.lease_id, 1);
  World::Epoch e = w.Run(start);
  const ChallengeValue c = World::Interactive(1);
  EpochResponse response = w.Respond(e, c);
  ASSERT_TRUE(Sign(response, w.stranger).ok());
  EXPECT_REASON(w.Check(e, c, Serialize(response)), Reason::kBadSignature);
  EpochRecord record = e.commit.record;
  ASSERT_TRUE(Sign(record, w.stranger).ok());
  EXPECT_REASON(CheckRecord(w.lease, start, kStartUs + 1, Serialize(record)).finding, Reason::kBadSignature);
  // Signed by the verifier's key (a confused deputy) is just as wrong.
  ASSERT_TRUE(Sign(record, w.verifier).ok());
  EXPECT_REASON(CheckRecord(w.lease, start, kStartUs + 1, Serialize(record)).finding, Reason::kBadSignature);
}

TEST(ProtocolAttacks, LateRecordOnTheVerifiersClock) {
  World w;
  const EpochStart start = w.Start(0, w.lease_id, 1);
  const World::Epoch e = w.Run(start);
  EXPECT_REASON(w.CheckRecordOf(e, start, kStartUs + EpochDeadlineUs(w.lease)), Reason::kPass);
  EXPECT_REASON(w.CheckRecordOf(e, start, kStartUs + EpochDeadlineUs(w.lease) + 1), Reason::kLate);
  // The provider's own timestamps claim it was early; only the verifier's clock counts.
  const World::Epoch boasting = w.Commit(start, e.leaves, kStartUs - 1'000'000);
  EXPECT_REASON(w.CheckRecordOf(boasting, start, kStartUs + 60'000'000), Reason::kLate);
}

TEST(ProtocolAttacks, WrongRoundsOrOperationsClaimed) {
  World w;
  const EpochStart start = w.Start(0, w.lease_id, 1);
  World::Epoch e = w.Run(start);
  EpochRecord inflated = e.commit.record;
  inflated.operations *= 2;
  ASSERT_TRUE(Sign(inflated, w.provider).ok());
  EXPECT_REASON(CheckRecord(w.lease, start, kStartUs + 1, Serialize(inflated)).finding, Reason::kWrongParameters);
  EpochRecord fewer = e.commit.record;
  fewer.rounds -= 1;
  ASSERT_TRUE(Sign(fewer, w.provider).ok());
  EXPECT_REASON(CheckRecord(w.lease, start, kStartUs + 1, Serialize(fewer)).finding, Reason::kWrongParameters);
  // A device count other than the lease's, in either direction, even with the right operations.
  EpochRecord more_devices = e.commit.record;
  more_devices.devices.push_back(more_devices.devices[0]);
  ASSERT_TRUE(Sign(more_devices, w.provider).ok());
  const Finding f = CheckRecord(w.lease, start, kStartUs + 1, Serialize(more_devices)).finding;
  EXPECT_REASON(f, Reason::kWrongParameters);
  EXPECT_NE(f.detail.find("D = 2 devices"), std::string::npos) << f.detail;
  World two(LeaseMode::kInteractive, 1);
  two.lease = testing::SignedTinyLease(two.verifier, two.provider, LeaseMode::kInteractive, 2, 0, 1, 2);
  two.lease_id = LeaseId(two.lease);
  const EpochStart start2 = two.Start(0, two.lease_id, 1);
  World::Epoch e2 = two.Run(start2);
  EXPECT_REASON(two.CheckRecordOf(e2, start2), Reason::kPass);
  EpochRecord one_device = e2.commit.record;
  one_device.devices.pop_back();
  ASSERT_TRUE(Sign(one_device, two.provider).ok());
  EXPECT_REASON(CheckRecord(two.lease, start2, kStartUs + 1, Serialize(one_device)).finding, Reason::kWrongParameters);
}

TEST(ProtocolAttacks, ResponseToAnotherChallenge) {
  World w;
  const World::Epoch e = w.Run(w.Start(0, w.lease_id, 1));
  EXPECT_REASON(w.Check(e, World::Interactive(1), Serialize(w.Respond(e, World::Interactive(2)))),
                Reason::kWrongChallenge);
  World b(LeaseMode::kBeacon);
  const World::Epoch be = b.Run(b.Start(0, b.lease_id, 1));
  const ChallengeValue right{ChallengeKind::kBeacon, 11, TestHash("public", 11)};
  const ChallengeValue early{ChallengeKind::kBeacon, 10, TestHash("public", 10)};  // a round before the deadline
  EXPECT_REASON(b.Check(be, right, Serialize(b.Respond(be, early))), Reason::kWrongChallenge);
  EXPECT_REASON(b.Check(be, right, Serialize(b.Respond(be, World::Interactive(1)))), Reason::kWrongChallenge);
}

// Every mutation of a valid proof, re-signed by the provider (so the proof checks, not the signature, must catch
// it), with the reason each one must produce.
TEST(ProtocolAttacks, EveryMutationOfAValidProofIsRejected) {
  World w;
  const World::Epoch e = w.Run(w.Start(0, w.lease_id, 1));
  const ChallengeValue c = World::Interactive(1);
  const EpochResponse valid = w.Respond(e, c);
  EXPECT_REASON(w.Check(e, c, Serialize(valid)), Reason::kPass);
  ASSERT_GE(valid.rounds.size(), 2u);
  ASSERT_FALSE(valid.epoch_hashes.size() > 0) << "all 4 rounds are sampled with k = 40, so the epoch proof is empty";

  int mutations = 0;
  const auto expect = [&](const char* what, Reason reason, const std::function<void(EpochResponse&)>& mutate) {
    EpochResponse r = valid;
    mutate(r);
    ASSERT_TRUE(Sign(r, w.provider).ok());
    const Finding f = w.Check(e, c, Serialize(r));
    EXPECT_EQ(ReasonName(f.reason), ReasonName(reason)) << what << ": " << f.detail;
    ++mutations;
  };
  for (size_t i = 0; i < valid.rounds.size(); ++i) {
    const RoundOpening& round = valid.rounds[i];
    for (size_t h = 0; h < round.hashes.size(); ++h) {
      for (int bit : {0, 7, 255}) {
        expect("flip a bit of a round proof hash", Reason::kTileMismatch,
               [&](EpochResponse& r) { r.rounds[i].hashes[h][bit / 8] ^= uint8_t(1u << (bit % 8)); });
      }
      expect("remove a hash", Reason::kBadProof,
             [&](EpochResponse& r) { r.rounds[i].hashes.erase(r.rounds[i].hashes.begin() + long(h)); });
      expect("duplicate a hash", Reason::kBadProof, [&](EpochResponse& r) {
        r.rounds[i].hashes.insert(r.rounds[i].hashes.begin() + long(h), r.rounds[i].hashes[h]);
      });
      if (h + 1 < round.hashes.size() && round.hashes[h] != round.hashes[h + 1]) {
        expect("swap two hashes", Reason::kTileMismatch,
               [&](EpochResponse& r) { std::swap(r.rounds[i].hashes[h], r.rounds[i].hashes[h + 1]); });
      }
    }
    expect("append a hash", Reason::kBadProof,
           [&](EpochResponse& r) { r.rounds[i].hashes.push_back(TestHash("extra")); });
    expect("change a round root", Reason::kBadEpochProof, [&](EpochResponse& r) { r.rounds[i].root[0] ^= 1; });
    expect("drop a round", Reason::kWrongSamples,
           [&](EpochResponse& r) { r.rounds.erase(r.rounds.begin() + long(i)); });
    // Renumbering breaks the strictly increasing order unless it is the last round.
    expect("renumber a round", i + 1 < valid.rounds.size() ? Reason::kMalformedResponse : Reason::kWrongSamples,
           [&](EpochResponse& r) { r.rounds[i].round += 100; });
  }
  expect("swap two rounds' roots", Reason::kBadEpochProof,
         [&](EpochResponse& r) { std::swap(r.rounds[0].root, r.rounds[1].root); });
  const Reason swapped =
      valid.rounds[0].hashes.size() == valid.rounds[1].hashes.size() ? Reason::kTileMismatch : Reason::kBadProof;
  expect("swap two rounds' proofs", swapped,
         [&](EpochResponse& r) { std::swap(r.rounds[0].hashes, r.rounds[1].hashes); });
  expect("add an epoch proof hash", Reason::kBadProof, [&](EpochResponse& r) { r.epoch_hashes.push_back({}); });
  expect("another challenge value", Reason::kWrongChallenge, [&](EpochResponse& r) { r.challenge.value[5] ^= 1; });
  expect("another challenge kind", Reason::kWrongChallenge,
         [&](EpochResponse& r) { r.challenge.kind = ChallengeKind::kBeacon; });
  expect("another record", Reason::kResponseMismatch, [&](EpochResponse& r) { r.record_hash[0] ^= 1; });
  expect("another epoch", Reason::kResponseMismatch, [&](EpochResponse& r) { r.epoch += 1; });
  expect("another lease", Reason::kWrongLease, [&](EpochResponse& r) { r.lease_id[31] ^= 1; });
  EXPECT_GT(mutations, 100);

  // And byte-level: every single-byte change of the signed response, not re-signed, is rejected.
  const std::vector<uint8_t> bytes = Serialize(valid);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> b = bytes;
    b[i] ^= 0x20;
    EXPECT_FALSE(w.Check(e, c, b).ok()) << "byte " << i;
  }
  // Truncated or extended.
  EXPECT_REASON(w.Check(e, c, std::vector<uint8_t>(bytes.begin(), bytes.end() - 1)), Reason::kMalformedResponse);
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_REASON(w.Check(e, c, longer), Reason::kMalformedResponse);
}

TEST(ProtocolAttacks, EpochProofMutationsWhenRoundsAreUnsampled) {
  // With R = 64 rounds and k = 40 some rounds go unsampled, so the epoch proof carries hashes.
  World w;
  w.lease = testing::SignedTinyLease(w.verifier, w.provider, LeaseMode::kInteractive, 64, 40);
  w.lease_id = LeaseId(w.lease);
  const World::Epoch e = w.Run(w.Start(0, w.lease_id, 1));
  const ChallengeValue c = World::Interactive(1);
  const EpochResponse valid = w.Respond(e, c);
  ASSERT_FALSE(valid.epoch_hashes.empty());
  EXPECT_REASON(w.Check(e, c, Serialize(valid)), Reason::kPass);
  for (size_t h = 0; h < valid.epoch_hashes.size(); ++h) {
    EpochResponse r = valid;
    r.epoch_hashes[h][h % 32] ^= 0x80;
    ASSERT_TRUE(Sign(r, w.provider).ok());
    EXPECT_REASON(w.Check(e, c, Serialize(r)), Reason::kBadEpochProof);
    r = valid;
    r.epoch_hashes.erase(r.epoch_hashes.begin() + long(h));
    ASSERT_TRUE(Sign(r, w.provider).ok());
    EXPECT_REASON(w.Check(e, c, Serialize(r)), Reason::kBadProof);
  }
}

// Through the sessions: which failures close the epoch and which only reject the message, each with its Reason.
TEST(ProtocolAttacks, SessionKeepsTheEpochOpenForUnattributableMessages) {
  testing::Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  const EpochRecord& record = proved.record;
  // A record signed by someone else: rejected with its reason, epoch still open.
  EpochRecord forged = record;
  ASSERT_OK(Sign(forged, t.stranger));
  ASSERT_OK_AND_ASSIGN(RecordOutcome outcome, t.V().ReceiveRecord(Serialize(forged), t.verifier));
  EXPECT_EQ(outcome.finding.reason, Reason::kBadSignature);
  EXPECT_FALSE(outcome.verdict.has_value());
  // Garbage: rejected, still open.
  ASSERT_OK_AND_ASSIGN(outcome, t.V().ReceiveRecord(std::vector<uint8_t>{'V', 'C', 'P', 'R', 1, 2}, t.verifier));
  EXPECT_EQ(outcome.finding.reason, Reason::kMalformedRecord);
  EXPECT_FALSE(outcome.verdict.has_value());
  // The real record still gets its challenge; a different second record is refused.
  ASSERT_OK_AND_ASSIGN(outcome, t.V().ReceiveRecord(Serialize(record), t.verifier));
  ASSERT_TRUE(outcome.challenge.has_value());
  EXPECT_FALSE(outcome.already_received);
  EpochRecord second = record;
  second.provider_end_us += 1;
  ASSERT_OK(Sign(second, t.provider));
  EXPECT_NE(t.V().ReceiveRecord(Serialize(second), t.verifier).status().message().find("second record"),
            std::string_view::npos);
  // A response that does not bind to this epoch is refused with kResponseMismatch and the epoch stays open; a
  // signed lazy-looking response closes it with its reason.
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  const EpochResponse& response = responded.response;
  EpochResponse unbound = response;
  unbound.epoch += 7;
  ASSERT_OK(Sign(unbound, t.provider));
  ASSERT_OK_AND_ASSIGN(ResponseOutcome refused, t.V().ReceiveResponse(Serialize(unbound), t.verifier));
  EXPECT_EQ(refused.finding.reason, Reason::kResponseMismatch) << refused.finding.detail;
  EXPECT_FALSE(refused.verdict.has_value());
  // Signed by another key, and garbage after the magic: each its own reason, the epoch still open.
  EpochResponse stranger = response;
  ASSERT_OK(Sign(stranger, t.stranger));
  ASSERT_OK_AND_ASSIGN(refused, t.V().ReceiveResponse(Serialize(stranger), t.verifier));
  EXPECT_EQ(refused.finding.reason, Reason::kBadSignature) << refused.finding.detail;
  EXPECT_FALSE(refused.verdict.has_value());
  ASSERT_OK_AND_ASSIGN(refused, t.V().ReceiveResponse(std::vector<uint8_t>{'V', 'C', 'P', 'P', 9}, t.verifier));
  EXPECT_EQ(refused.finding.reason, Reason::kMalformedResponse) << refused.finding.detail;
  EXPECT_FALSE(refused.verdict.has_value());
  EXPECT_TRUE(t.V().verdicts().empty()) << "no refusal closed the epoch";

  EpochResponse tampered = response;
  tampered.rounds[0].hashes[0][0] ^= 1;
  ASSERT_OK(Sign(tampered, t.provider));
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, t.V().ReceiveResponse(Serialize(tampered), t.verifier));
  ASSERT_TRUE(closed.verdict.has_value());
  EXPECT_EQ(closed.verdict->reason, Reason::kTileMismatch);
  EXPECT_EQ(closed.finding.reason, Reason::kTileMismatch);
  EXPECT_FALSE(closed.already_given);
  // Closed: the honest response can no longer turn it into a pass.
  EXPECT_FALSE(t.V().ReceiveResponse(Serialize(response), t.verifier).ok());
}

TEST(ProtocolAttacks, LateRecordClosesTheEpochInTheSession) {
  testing::Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  t.clock.Advance(EpochDeadlineUs(t.lease) + 1);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_TRUE(outcome.verdict.has_value());
  EXPECT_EQ(outcome.verdict->reason, Reason::kLate);
  EXPECT_EQ(outcome.finding.reason, Reason::kLate);
  EXPECT_FALSE(outcome.challenge.has_value());
  // The late record is authentic: the next epoch chains to it.
  ASSERT_OK_AND_ASSIGN(const EpochStart next, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(next.prev_record, RecordHash(proved.record));
}

}  // namespace
}  // namespace vcp
