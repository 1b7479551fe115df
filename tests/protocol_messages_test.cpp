// Lease protocol messages: round trips, every parser's rejections (magic, version, length, trailing bytes, enums,
// text), signatures, and the docs/PROTOCOL.md test vectors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/epoch.h"
#include "vcp/merkle.h"
#include "vcp/protocol.h"

namespace vcp {
namespace {

using testing::KeyFrom;
using testing::kT0;

// One valid instance of every message, built through the real protocol (keys from fixed seeds).
struct Messages {
  SecretKey verifier = KeyFrom(0x11), provider = KeyFrom(0x22);
  Lease lease, beacon_lease;
  LeaseAcceptance acceptance;
  EpochStart start;
  EpochRecord record;
  Challenge challenge;
  EpochResponse response;
  Verdict verdict;

  Messages() {
    lease = testing::SignedTinyLease(verifier, provider, LeaseMode::kInteractive);
    beacon_lease = testing::SignedTinyLease(verifier, provider, LeaseMode::kBeacon);
    acceptance.lease_id = LeaseId(lease);
    acceptance.accepted_us = kT0 + 500;
    EXPECT_TRUE(Sign(acceptance, provider).ok());
    start = testing::SignedStart(lease, verifier, 0, testing::TestHash("beacon"), LeaseId(lease), kT0 + 1000);
    auto run = RunEpochRounds(lease, start, testing::CpuOneThread());
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    auto commit = CommitEpoch(lease, start, run->leaves, "cpu: test", kT0 + 2000, kT0 + 3000, provider);
    EXPECT_TRUE(commit.ok()) << commit.status().ToString();
    record = commit->record;
    challenge.lease_id = LeaseId(lease);
    challenge.epoch = 0;
    challenge.record_hash = RecordHash(record);
    challenge.randomness = testing::TestHash("challenge");
    EXPECT_TRUE(Sign(challenge, verifier).ok());
    const EpochLeaves leaves = run->leaves;
    auto built = BuildResponse(
        lease, record, commit->round_roots, {ChallengeKind::kVerifierRandomness, 0, challenge.randomness},
        [&](uint32_t r) -> Result<std::vector<Hash32>> { return leaves[r]; }, provider);
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    response = *built;
    verdict.lease_id = LeaseId(lease);
    verdict.epoch = 0;
    verdict.record_hash = RecordHash(record);
    verdict.reason = Reason::kPass;
    verdict.start_us = kT0 + 1000;
    verdict.arrival_us = kT0 + 3500;
    verdict.operations = record.operations;
    verdict.detail = "40 sampled tiles recomputed and proven";
    EXPECT_TRUE(Sign(verdict, verifier).ok());
  }
};

const Messages& M() {
  static const Messages* m = new Messages();
  return *m;
}

struct Case {
  std::string name;
  std::vector<uint8_t> bytes;
  std::function<Status(std::span<const uint8_t>)> parse;
  // Re-serializes what was parsed (round trip).
  std::function<Result<std::vector<uint8_t>>(std::span<const uint8_t>)> reserialize;
};

template <typename T>
Case MakeCase(std::string name, const T& message, Result<T> (*parse)(std::span<const uint8_t>)) {
  Case c;
  c.name = std::move(name);
  c.bytes = Serialize(message);
  c.parse = [parse](std::span<const uint8_t> b) { return parse(b).status(); };
  c.reserialize = [parse](std::span<const uint8_t> b) -> Result<std::vector<uint8_t>> {
    VCP_ASSIGN_OR_RETURN(T parsed, parse(b));
    return Serialize(parsed);
  };
  return c;
}

std::vector<Case> AllCases() {
  const Messages& m = M();
  return {MakeCase("lease", m.lease, &ParseLease),
          MakeCase("beacon-lease", m.beacon_lease, &ParseLease),
          MakeCase("acceptance", m.acceptance, &ParseLeaseAcceptance),
          MakeCase("start", m.start, &ParseEpochStart),
          MakeCase("record", m.record, &ParseEpochRecord),
          MakeCase("challenge", m.challenge, &ParseChallenge),
          MakeCase("response", m.response, &ParseEpochResponse),
          MakeCase("verdict", m.verdict, &ParseVerdict)};
}

TEST(ProtocolMessages, RoundTripEveryMessage) {
  for (const Case& c : AllCases()) {
    auto again = c.reserialize(c.bytes);
    ASSERT_TRUE(again.ok()) << c.name << ": " << again.status().ToString();
    EXPECT_EQ(*again, c.bytes) << c.name;
  }
  // Field-level spot checks on the variable-length messages.
  auto record = ParseEpochRecord(Serialize(M().record));
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->device, "cpu: test");
  EXPECT_EQ(record->epoch_root, M().record.epoch_root);
  auto lease = ParseLease(Serialize(M().beacon_lease));
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->beacon_name, "test-beacon");
  EXPECT_EQ(lease->mode, LeaseMode::kBeacon);
  EXPECT_EQ(lease->workload.tile, 8u);
}

TEST(ProtocolMessages, IdentifyByMagic) {
  const std::vector<MessageType> expected = {MessageType::kLease,      MessageType::kLease,  MessageType::kAcceptance,
                                             MessageType::kEpochStart, MessageType::kRecord, MessageType::kChallenge,
                                             MessageType::kResponse,   MessageType::kVerdict};
  const auto cases = AllCases();
  for (size_t i = 0; i < cases.size(); ++i) {
    auto type = IdentifyMessage(cases[i].bytes);
    ASSERT_TRUE(type.ok());
    EXPECT_EQ(*type, expected[i]) << cases[i].name;
  }
  const std::vector<uint8_t> junk = {'V', 'C', 'P', 'Z', 1};
  EXPECT_FALSE(IdentifyMessage(junk).ok());
}

TEST(ProtocolMessages, RejectWrongMagic) {
  const auto cases = AllCases();
  for (const Case& c : cases) {
    for (const Case& other : cases) {
      if (std::equal(other.bytes.begin(), other.bytes.begin() + 4, c.bytes.begin())) continue;
      std::vector<uint8_t> bytes = c.bytes;
      std::copy_n(other.bytes.begin(), 4, bytes.begin());
      const Status s = c.parse(bytes);
      EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name;
      EXPECT_NE(s.message().find("wrong magic"), std::string_view::npos) << s.ToString();
    }
  }
  // The message names what the bytes are instead.
  const Status s = ParseEpochRecord(Serialize(M().challenge)).status();
  EXPECT_NE(s.message().find("challenge message"), std::string_view::npos) << s.ToString();
}

TEST(ProtocolMessages, RejectOtherVersions) {
  for (const Case& c : AllCases()) {
    for (uint8_t version : {0, 2, 255}) {
      std::vector<uint8_t> bytes = c.bytes;
      bytes[4] = version;
      const Status s = c.parse(bytes);
      EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name;
      EXPECT_NE(s.message().find("version"), std::string_view::npos) << s.ToString();
    }
  }
}

TEST(ProtocolMessages, RejectEveryTruncation) {
  for (const Case& c : AllCases()) {
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      const Status s = c.parse(std::span<const uint8_t>(c.bytes.data(), n));
      ASSERT_FALSE(s.ok()) << c.name << " truncated to " << n << " bytes parsed";
      EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " at " << n << ": " << s.ToString();
    }
  }
}

TEST(ProtocolMessages, RejectTrailingBytes) {
  for (const Case& c : AllCases()) {
    for (size_t extra : {1, 7, 64}) {
      std::vector<uint8_t> bytes = c.bytes;
      bytes.insert(bytes.end(), extra, 0);
      const Status s = c.parse(bytes);
      EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name;
      EXPECT_NE(s.message().find("trailing"), std::string_view::npos) << c.name << ": " << s.ToString();
    }
  }
}

TEST(ProtocolMessages, RejectOutOfRangeFields) {
  const Messages& m = M();
  {
    std::vector<uint8_t> b = Serialize(m.lease);
    b[5] = 3;  // mode
    EXPECT_NE(ParseLease(b).status().message().find("mode 3"), std::string_view::npos);
    b = Serialize(m.lease);
    b[102] = 9;  // workload kind
    EXPECT_NE(ParseLease(b).status().message().find("workload kind 9"), std::string_view::npos);
  }
  {
    Lease lease = m.beacon_lease;
    lease.beacon_name = "has space";
    EXPECT_EQ(ParseLease(Serialize(lease)).status().code(), StatusCode::kCorrupt);
  }
  {
    std::vector<uint8_t> b = Serialize(m.record);
    // The device text starts after the fixed fields: 5 + 32 + 8 + 32 + 32 + 4 + 32 + 8 + 8 + 8 + 2 = 171.
    b[171] = 0x07;
    EXPECT_NE(ParseEpochRecord(b).status().message().find("printable"), std::string_view::npos);
  }
  {
    std::vector<uint8_t> b = Serialize(m.response);
    b[5 + 32 + 8 + 32] = 0;  // challenge kind
    EXPECT_NE(ParseEpochResponse(b).status().message().find("challenge kind 0"), std::string_view::npos);
  }
  {
    EpochResponse r = m.response;
    ASSERT_GE(r.rounds.size(), 2u);
    std::swap(r.rounds[0], r.rounds[1]);
    EXPECT_NE(ParseEpochResponse(Serialize(r)).status().message().find("strictly increasing"), std::string_view::npos);
  }
  {
    std::vector<uint8_t> b = Serialize(m.response);
    // First round's hash count: after the header fields (5+32+8+32+1+8+32 = 118), the round count (4), the round
    // index (4) and its root (32).
    const size_t at = 118 + 4 + 4 + 32;
    b[at] = 0xff;
    b[at + 1] = 0xff;
    b[at + 2] = 0xff;
    b[at + 3] = 0x7f;
    EXPECT_NE(ParseEpochResponse(b).status().message().find("declares"), std::string_view::npos);
  }
  {
    std::vector<uint8_t> b = Serialize(m.verdict);
    b[5 + 32 + 8 + 32] = 0xe7;  // reason code 999
    b[5 + 32 + 8 + 32 + 1] = 0x03;
    EXPECT_NE(ParseVerdict(b).status().message().find("reason code 999"), std::string_view::npos);
  }
}

TEST(ProtocolMessages, SignaturesVerifyAndEveryFlippedByteIsRejected) {
  const Messages& m = M();
  const PublicKey& v = m.verifier.public_key();
  const PublicKey& p = m.provider.public_key();
  EXPECT_TRUE(CheckSignature(m.lease).ok());
  EXPECT_TRUE(CheckSignature(m.acceptance, p).ok());
  EXPECT_TRUE(CheckSignature(m.start, v).ok());
  EXPECT_TRUE(CheckSignature(m.record, p).ok());
  EXPECT_TRUE(CheckSignature(m.challenge, v).ok());
  EXPECT_TRUE(CheckSignature(m.response, p).ok());
  EXPECT_TRUE(CheckSignature(m.verdict, v).ok());
  // Wrong key.
  EXPECT_EQ(CheckSignature(m.record, v).code(), StatusCode::kRejected);
  EXPECT_EQ(CheckSignature(m.start, p).code(), StatusCode::kRejected);

  // Every byte of a record: flipping it either breaks parsing or the signature.
  const std::vector<uint8_t> bytes = Serialize(m.record);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> b = bytes;
    b[i] ^= 0x01;
    auto parsed = ParseEpochRecord(b);
    if (parsed.ok()) {
      EXPECT_FALSE(CheckSignature(*parsed, p).ok()) << "byte " << i;
    }
  }
  // Signing a lease with a key other than its verifier key is refused.
  Lease lease = m.lease;
  EXPECT_EQ(Sign(lease, m.provider).code(), StatusCode::kInvalidArgument);
}

TEST(ProtocolMessages, ProtocolTextSanitizes) {
  EXPECT_EQ(ToProtocolText("NVIDIA H100\n\x01", 100), "NVIDIA H100??");
  EXPECT_EQ(ToProtocolText("abcdef", 3), "abc");
}

// ---------------------------------------------------------------------------------------------------------------
// Test vectors (docs/PROTOCOL.md section 11): inputs anyone can reproduce from the document alone.

std::string ComputeVectors() {
  std::array<uint8_t, 32> vseed{}, pseed{};
  vseed.fill(0x11);
  pseed.fill(0x22);
  const SecretKey verifier = std::move(SecretKey::FromSeed(vseed)).value();
  const SecretKey provider = std::move(SecretKey::FromSeed(pseed)).value();
  std::ostringstream out;
  const auto line = [&out](const std::string& name, const std::string& value) {
    out << name << " = " << value << "\n";
  };

  Lease lease = testing::TinyLease(LeaseMode::kInteractive, 4, 40);
  for (int i = 0; i < 32; ++i) lease.nonce[i] = static_cast<uint8_t>(i);
  lease.verifier_key = verifier.public_key();
  lease.provider_key = provider.public_key();
  (void)Sign(lease, verifier);
  const Hash32 lease_id = LeaseId(lease);
  line("verifier_public_key", ToHex(verifier.public_key()));
  line("provider_public_key", ToHex(provider.public_key()));
  line("lease", ToHex(Serialize(lease)));
  line("lease_id", ToHex(lease_id));

  LeaseAcceptance acceptance{lease_id, kT0 + 500, {}};
  (void)Sign(acceptance, provider);
  line("acceptance", ToHex(Serialize(acceptance)));

  Hash32 beacon{};
  beacon.fill(0xbb);
  const EpochStart start = testing::SignedStart(lease, verifier, 0, beacon, lease_id, kT0 + 1000);
  line("epoch_start", ToHex(Serialize(start)));
  const Seed epoch_seed = EpochSeed(lease_id, 0, beacon, lease_id);
  line("epoch_seed", ToHex(epoch_seed));
  for (uint32_t r = 0; r < 4; ++r) line("round_seed_" + std::to_string(r), ToHex(RoundSeed(epoch_seed, r)));

  auto run = RunEpochRounds(lease, start, testing::CpuOneThread());
  if (!run.ok()) return "engine failed: " + run.status().ToString();
  auto commit = CommitEpoch(lease, start, run->leaves, "cpu: test vector", kT0 + 2000, kT0 + 3000, provider);
  if (!commit.ok()) return "commit failed: " + commit.status().ToString();
  for (uint32_t r = 0; r < 4; ++r) line("round_root_" + std::to_string(r), ToHex(commit->round_roots[r]));
  line("epoch_root", ToHex(commit->record.epoch_root));
  line("epoch_record", ToHex(Serialize(commit->record)));
  const Hash32 record_hash = RecordHash(commit->record);
  line("record_hash", ToHex(record_hash));

  Challenge challenge{lease_id, 0, record_hash, {}, {}};
  challenge.randomness.fill(0xcc);
  (void)Sign(challenge, verifier);
  line("challenge", ToHex(Serialize(challenge)));
  const auto positions = SamplePositions(record_hash, challenge.randomness, 4, 64, 40);
  std::string first;
  for (size_t i = 0; i < 8; ++i) {
    if (i > 0) first += ' ';
    first += std::to_string(positions[i].round) + ":" + std::to_string(positions[i].tile);
  }
  line("sample_positions_first_8", first);

  const EpochLeaves leaves = run->leaves;
  auto response = BuildResponse(
      lease, commit->record, commit->round_roots, {ChallengeKind::kVerifierRandomness, 0, challenge.randomness},
      [&](uint32_t r) -> Result<std::vector<Hash32>> { return leaves[r]; }, provider);
  if (!response.ok()) return "response failed: " + response.status().ToString();
  const std::vector<uint8_t> response_bytes = Serialize(*response);
  line("epoch_response_bytes", std::to_string(response_bytes.size()));
  line("epoch_response_sha256", ToHex(Sha256(response_bytes)));

  Verdict verdict{lease_id,      0, record_hash, Reason::kPass, kT0 + 1000, kT0 + 3500, commit->record.operations,
                  "test vector", {}};
  (void)Sign(verdict, verifier);
  line("verdict", ToHex(Serialize(verdict)));

  Lease beacon_lease = testing::TinyLease(LeaseMode::kBeacon, 4, 80);
  line("beacon_round_for_start_t0_plus_1000", std::to_string(BeaconRoundFor(beacon_lease, kT0 + 1000)));
  return out.str();
}

TEST(ProtocolVectors, MatchTheCheckedInVectors) {
  const std::string computed = ComputeVectors();
  if (const char* update = std::getenv("VCP_UPDATE_PROTOCOL_VECTORS")) {
    std::ofstream(update) << computed;
  }
  const std::string expected = testing::ReadText(testing::VectorsDir() / "protocol_v1.txt");
  ASSERT_FALSE(expected.empty()) << "tests/vectors/protocol_v1.txt is missing";
  EXPECT_EQ(computed, expected) << "computed vectors:\n" << computed;
}

TEST(ProtocolVectors, DeterministicAcrossRuns) { EXPECT_EQ(ComputeVectors(), ComputeVectors()); }

}  // namespace
}  // namespace vcp
