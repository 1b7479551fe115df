// Lease protocol messages: round trips, every parser's rejections (magic, version, length, trailing bytes, enums,
// text, counts), signatures, JSON, and the docs/PROTOCOL.md test vectors. The field-by-field tests walk the
// message schema (lib/protocol/message_schema.h) to find every field's offset, so a field added there is tested
// here without a new test.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "protocol/message_schema.h"
#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/epoch.h"
#include "vcp/merkle.h"
#include "vcp/message_json.h"
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

// One field of a serialized message, found by walking its schema: where its bytes are and what the parser must
// refuse there. `path` is the name a parse error gives ("workload.kind", "rounds[1].hashes count").
struct FieldSpan {
  enum Kind { kUint, kEnum, kBytes, kTextLength, kText, kListCount, kHashCount, kHashes };
  std::string path;
  Kind kind;
  size_t offset = 0, size = 0;
  std::function<bool(uint32_t)> known;  // kEnum: which codes exist
  schema::TextRule text{};              // kTextLength, kText
  uint32_t max_items = 0;               // kListCount
};

// Walks a message's schema like the writer does, recording each field's span (after the 5-byte header) and the
// JSON paths the message must have.
class Layout {
 public:
  std::vector<FieldSpan> fields;
  std::set<std::string> json_paths;
  size_t end = 5;

  template <class T>
  void Uint(std::string_view name, const T&) {
    Add(name, FieldSpan::kUint, sizeof(T), true);
  }
  template <class E>
  void Enum(std::string_view name, const E&, const schema::EnumRule<E>& rule) {
    using U = std::underlying_type_t<E>;
    Add(name, FieldSpan::kEnum, sizeof(E), true).known = [rule](uint32_t c) {
      return c <= std::numeric_limits<U>::max() && rule.known(static_cast<U>(c));
    };
  }
  template <size_t N>
  void Bytes(std::string_view name, const std::array<uint8_t, N>&) {
    Add(name, FieldSpan::kBytes, N, true);
  }
  void Text(std::string_view name, const std::string& s, const schema::TextRule& rule) {
    Add(std::string(name) + " length", FieldSpan::kTextLength, size_t(rule.length_bytes), false).text = rule;
    Add(name, FieldSpan::kText, std::min(s.size(), rule.max_bytes), true).text = rule;
  }
  void HashList(std::string_view name, const std::vector<Hash32>& hashes) {
    Add(std::string(name) + " count", FieldSpan::kHashCount, 4, false);
    Add(name, FieldSpan::kHashes, kHashBytes * hashes.size(), true);
  }
  template <class Item, class F>
  void List(std::string_view name, const std::vector<Item>& items, const schema::ListRule& rule, F&& item) {
    Add(std::string(name) + " count", FieldSpan::kListCount, 4, false).max_items = rule.max_items;
    json_paths.insert(Prefix() + std::string(name));
    for (size_t i = 0; i < items.size(); ++i) {
      path_.push_back(std::string(name) + "[" + std::to_string(i) + "]");
      json_paths.insert(Prefix().substr(0, Prefix().size() - 1));
      item(items[i], i);
      path_.pop_back();
    }
  }
  void BeginGroup(std::string_view name) {
    json_paths.insert(Prefix() + std::string(name));
    path_.emplace_back(name);
  }
  void EndGroup() { path_.pop_back(); }
  template <class F>
  void Check(std::string_view, bool, F&&) {}

 private:
  std::string Prefix() const {
    std::string prefix;
    for (const std::string& part : path_) prefix += part + ".";
    return prefix;
  }
  FieldSpan& Add(std::string_view name, FieldSpan::Kind kind, size_t size, bool in_json) {
    const std::string path = Prefix() + std::string(name);
    if (in_json) json_paths.insert(path);
    fields.push_back({path, kind, end, size, {}, {}, 0});
    end += size;
    return fields.back();
  }
  std::vector<std::string> path_;  // enclosing groups and list elements
};

// Every path in a JSON document: object members as "a.b", array elements that are objects as "a[i]"; an array of
// hex strings is one leaf.
void JsonPaths(const nlohmann::json& j, const std::string& prefix, std::set<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      out.insert(path);
      JsonPaths(value, path, out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_object()) continue;
      out.insert(prefix + "[" + std::to_string(i) + "]");
      JsonPaths(j[i], prefix + "[" + std::to_string(i) + "]", out);
    }
  }
}

struct Case {
  std::string name;
  std::string type_name;  // MessageTypeName: the parser's error messages start with it
  std::vector<uint8_t> bytes;
  std::function<Status(std::span<const uint8_t>)> parse;
  // Re-serializes what was parsed (round trip).
  std::function<Result<std::vector<uint8_t>>(std::span<const uint8_t>)> reserialize;
  // Parses and checks the signature under the key the message must be signed with.
  std::function<Status(std::span<const uint8_t>)> verify;
  std::string json;                  // ToJson of the message
  std::set<std::string> derived;     // what ToJson adds to the schema's fields
  Layout layout;
};

template <typename T>
Case MakeCase(std::string name, const T& message, Result<T> (*parse)(std::span<const uint8_t>),
              std::function<Status(const T&)> check, std::set<std::string> derived) {
  Case c;
  c.name = std::move(name);
  c.type_name = std::string(MessageTypeName(schema::TypeOf(message)));
  c.bytes = Serialize(message);
  c.parse = [parse](std::span<const uint8_t> b) { return parse(b).status(); };
  c.reserialize = [parse](std::span<const uint8_t> b) -> Result<std::vector<uint8_t>> {
    VCP_ASSIGN_OR_RETURN(T parsed, parse(b));
    return Serialize(parsed);
  };
  c.verify = [parse, check](std::span<const uint8_t> b) -> Status {
    VCP_ASSIGN_OR_RETURN(T parsed, parse(b));
    return check(parsed);
  };
  c.json = ToJson(message);
  c.derived = std::move(derived);
  schema::Fields(c.layout, message);
  return c;
}

std::vector<Case> AllCases() {
  const Messages& m = M();
  const PublicKey v = m.verifier.public_key(), p = m.provider.public_key();
  const auto by = [](const PublicKey& key) {
    return [key](const auto& message) { return CheckSignature(message, key); };
  };
  const std::function<Status(const Lease&)> own_key = [](const Lease& l) { return CheckSignature(l); };
  const std::set<std::string> lease_derived = {"lease_id", "operations_per_epoch"};
  return {MakeCase("lease", m.lease, &ParseLease, own_key, lease_derived),
          MakeCase("beacon-lease", m.beacon_lease, &ParseLease, own_key, lease_derived),
          MakeCase<LeaseAcceptance>("acceptance", m.acceptance, &ParseLeaseAcceptance, by(p), {}),
          MakeCase<EpochStart>("start", m.start, &ParseEpochStart, by(v), {"epoch_seed"}),
          MakeCase<EpochRecord>("record", m.record, &ParseEpochRecord, by(p), {"record_hash"}),
          MakeCase<Challenge>("challenge", m.challenge, &ParseChallenge, by(v), {}),
          MakeCase<EpochResponse>("response", m.response, &ParseEpochResponse, by(p), {}),
          MakeCase<Verdict>("verdict", m.verdict, &ParseVerdict, by(v), {"verdict"})};
}

std::vector<uint8_t> WithLe(std::vector<uint8_t> bytes, size_t offset, size_t width, uint64_t value) {
  for (size_t i = 0; i < width; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
  return bytes;
}

bool Contains(const Status& s, std::string_view text) { return s.message().find(text) != std::string_view::npos; }

TEST(ProtocolMessages, RoundTripEveryMessage) {
  for (const Case& c : AllCases()) {
    ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> again, c.reserialize(c.bytes));
    EXPECT_EQ(again, c.bytes) << c.name;
    // The schema walk covers every byte: nothing is serialized that the schema does not list.
    EXPECT_EQ(c.layout.end, c.bytes.size()) << c.name;
  }
  // Field-level spot checks on the variable-length messages.
  ASSERT_OK_AND_ASSIGN(const EpochRecord record, ParseEpochRecord(Serialize(M().record)));
  EXPECT_EQ(record.device, "cpu: test");
  EXPECT_EQ(record.epoch_root, M().record.epoch_root);
  ASSERT_OK_AND_ASSIGN(const Lease lease, ParseLease(Serialize(M().beacon_lease)));
  EXPECT_EQ(lease.beacon_name, "test-beacon");
  EXPECT_EQ(lease.mode, LeaseMode::kBeacon);
  EXPECT_EQ(lease.workload.tile, 8u);
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

// Cut anywhere, a message is refused, and the error names the first field whose bytes are missing.
TEST(ProtocolMessages, RejectEveryTruncationNamingTheField) {
  for (const Case& c : AllCases()) {
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      const Status s = c.parse(std::span<const uint8_t>(c.bytes.data(), n));
      ASSERT_FALSE(s.ok()) << c.name << " truncated to " << n << " bytes parsed";
      EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " at " << n << ": " << s.ToString();
      EXPECT_EQ(s.message().rfind(c.type_name, 0), 0u) << s.ToString();
      if (n < 5) continue;  // the header: "too short for the 5-byte header"
      const auto cut = std::find_if(c.layout.fields.begin(), c.layout.fields.end(), [n](const FieldSpan& f) {
        return f.offset <= n && n < f.offset + f.size;
      });
      ASSERT_NE(cut, c.layout.fields.end()) << c.name << " byte " << n;
      EXPECT_TRUE(Contains(s, cut->path)) << c.name << " at " << n << " (" << cut->path << "): " << s.ToString();
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
      EXPECT_TRUE(Contains(s, "trailing")) << c.name << ": " << s.ToString();
    }
  }
}

// Every enum field of every message, set to every code its width holds that names nothing (a sample of the u16
// codes): refused, naming the field, the code and what is allowed.
TEST(ProtocolMessages, RejectEveryUnknownEnumCode) {
  int enums = 0;
  for (const Case& c : AllCases()) {
    for (const FieldSpan& f : c.layout.fields) {
      if (f.kind != FieldSpan::kEnum) continue;
      ++enums;
      std::vector<uint32_t> codes;
      for (uint32_t code = 0; code < 300; ++code) codes.push_back(code);
      codes.push_back(999);
      codes.push_back(65535);
      for (uint32_t code : codes) {
        if (code >> (8 * f.size) != 0 || f.known(code)) continue;
        const Status s = c.parse(WithLe(c.bytes, f.offset, f.size, code));
        EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " " << f.path << " = " << code;
        EXPECT_TRUE(Contains(s, f.path + " " + std::to_string(code) + " is unknown; allowed: "))
            << s.ToString();
      }
    }
  }
  EXPECT_EQ(enums, 2 * 2 + 1 + 1);  // mode and workload kind in both leases, challenge kind, reason
  // What is allowed is spelled out with names.
  std::vector<uint8_t> b = Serialize(M().lease);
  b[102] = 9;  // docs/PROTOCOL.md 4.1: the workload id
  const Status s = ParseLease(b).status();
  EXPECT_TRUE(Contains(s, "lease: workload.kind 9 is unknown; allowed: 1 (int8), 2 (fp32-ordered)")) << s.ToString();
}

// Text fields: too long, outside the alphabet, or a length that runs into the signature.
TEST(ProtocolMessages, RejectEveryBadText) {
  int texts = 0;
  for (const Case& c : AllCases()) {
    for (size_t i = 0; i < c.layout.fields.size(); ++i) {
      const FieldSpan& f = c.layout.fields[i];
      if (f.kind == FieldSpan::kTextLength) {
        const size_t width = f.size, actual = c.layout.fields[i + 1].size;
        if (f.text.max_bytes + 1 < (size_t{1} << (8 * width))) {
          const Status s = c.parse(WithLe(c.bytes, f.offset, width, f.text.max_bytes + 1));
          EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " " << f.path;
          EXPECT_TRUE(Contains(s, "at most " + std::to_string(f.text.max_bytes))) << s.ToString();
        }
        EXPECT_EQ(c.parse(WithLe(c.bytes, f.offset, width, actual + 1)).code(), StatusCode::kCorrupt)
            << c.name << " " << f.path;
      }
      if (f.kind != FieldSpan::kText || f.size == 0) continue;
      ++texts;
      for (size_t at = f.offset; at < f.offset + f.size; ++at) {
        for (uint8_t bad : {uint8_t{0x07}, uint8_t{0x7f}, uint8_t{0xc3}, uint8_t{' '}}) {
          if (bad == ' ' && f.text.allow_space) continue;
          std::vector<uint8_t> b = c.bytes;
          b[at] = bad;
          const Status s = c.parse(b);
          EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " " << f.path << " byte " << at;
          EXPECT_TRUE(Contains(s, f.path + " must be printable ASCII")) << s.ToString();
        }
      }
    }
  }
  EXPECT_EQ(texts, 3);  // the beacon lease's name, the record's device, the verdict's detail
}

// Counts: a hash count beyond the bytes left, and more opened rounds than a lease may sample.
TEST(ProtocolMessages, RejectEveryOversizedCount) {
  int counts = 0;
  for (const Case& c : AllCases()) {
    for (const FieldSpan& f : c.layout.fields) {
      if (f.kind == FieldSpan::kHashCount) {
        ++counts;
        const uint64_t fits = (c.bytes.size() - f.offset - 4) / kHashBytes;
        for (uint64_t count : {fits + 1, uint64_t{0x7fffffff}, uint64_t{0xffffffff}}) {
          const Status s = c.parse(WithLe(c.bytes, f.offset, 4, count));
          EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " " << f.path;
          EXPECT_TRUE(Contains(s, f.path.substr(0, f.path.size() - 6) + " declares " + std::to_string(count)))
              << s.ToString();
        }
      }
      if (f.kind == FieldSpan::kListCount) {
        ++counts;
        for (uint64_t count : {uint64_t{f.max_items} + 1, uint64_t{0xffffffff}}) {
          const Status s = c.parse(WithLe(c.bytes, f.offset, 4, count));
          EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " " << f.path;
          EXPECT_TRUE(Contains(s, "at most " + std::to_string(f.max_items))) << s.ToString();
        }
      }
    }
  }
  EXPECT_GE(counts, 1 + 1 + 2);  // the response's round list, epoch proof and at least two round proofs
}

TEST(ProtocolMessages, RejectOpenedRoundsOutOfOrder) {
  EpochResponse r = M().response;
  ASSERT_GE(r.rounds.size(), 2u);
  std::swap(r.rounds[0], r.rounds[1]);
  const Status s = ParseEpochResponse(Serialize(r)).status();
  EXPECT_TRUE(Contains(s, "epoch-response: rounds[1].round " + std::to_string(r.rounds[1].round) + " follows round " +
                              std::to_string(r.rounds[0].round) + "; opened rounds must be strictly increasing"))
      << s.ToString();
  r.rounds[0].round = r.rounds[1].round;
  EXPECT_TRUE(Contains(ParseEpochResponse(Serialize(r)).status(), "strictly increasing"));
}

// libsodium's habit, for every message: flip any bit and the message either does not parse or no longer
// verifies. A mutation that parses must also serialize back to exactly the mutated bytes: the parser ignores no
// byte, so two byte strings never carry one message.
TEST(ProtocolMessages, EveryFlippedBitIsRefusedOrBreaksTheSignature) {
  const Messages& m = M();
  for (const Case& c : AllCases()) {
    ASSERT_OK(c.verify(c.bytes));
    for (size_t i = 0; i < c.bytes.size(); ++i) {
      for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
        std::vector<uint8_t> b = c.bytes;
        b[i] ^= bit;
        auto again = c.reserialize(b);
        if (!again.ok()) {
          EXPECT_EQ(again.status().code(), StatusCode::kCorrupt) << c.name << " byte " << i;
          continue;
        }
        EXPECT_EQ(*again, b) << c.name << " byte " << i << " bit " << int(bit) << " parsed to other bytes";
        EXPECT_EQ(c.verify(b).code(), StatusCode::kRejected) << c.name << " byte " << i << " bit " << int(bit);
      }
    }
  }
  // Wrong key.
  EXPECT_EQ(CheckSignature(m.record, m.verifier.public_key()).code(), StatusCode::kRejected);
  EXPECT_EQ(CheckSignature(m.start, m.provider.public_key()).code(), StatusCode::kRejected);
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

// options: the engine settings the rounds run with; the vectors must not depend on them. response_bytes, when
// given, receives the epoch response (the file carries only its length and digest).
std::string ComputeVectors(const RunOptions& options, std::vector<uint8_t>* response_bytes = nullptr) {
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

  auto run = RunEpochRounds(lease, start, options);
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
  const std::vector<uint8_t> response_serialized = Serialize(*response);
  line("epoch_response_bytes", std::to_string(response_serialized.size()));
  line("epoch_response_sha256", ToHex(Sha256(response_serialized)));
  if (response_bytes != nullptr) *response_bytes = response_serialized;

  Verdict verdict{lease_id,      0, record_hash, Reason::kPass, kT0 + 1000, kT0 + 3500, commit->record.operations,
                  "test vector", {}};
  (void)Sign(verdict, verifier);
  line("verdict", ToHex(Serialize(verdict)));

  Lease beacon_lease = testing::TinyLease(LeaseMode::kBeacon, 4, 80);
  line("beacon_round_for_start_t0_plus_1000", std::to_string(BeaconRoundFor(beacon_lease, kT0 + 1000)));
  return out.str();
}

std::string CheckedInVectors() { return testing::ReadText(testing::VectorsDir() / "protocol_v1.txt"); }

// name -> value of tests/vectors/protocol_v1.txt.
std::map<std::string, std::string> VectorValues() {
  std::map<std::string, std::string> values;
  std::istringstream in(CheckedInVectors());
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find(" = ");
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return values;
}

std::vector<uint8_t> VectorBytes(const std::string& name) {
  const auto values = VectorValues();
  const auto it = values.find(name);
  if (it == values.end()) return {};
  auto bytes = FromHex(it->second, name);
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

TEST(ProtocolVectors, MatchTheCheckedInVectors) {
  const std::string computed = ComputeVectors(testing::CpuOneThread());
  if (const char* update = std::getenv("VCP_UPDATE_PROTOCOL_VECTORS")) {
    std::ofstream(update) << computed;
  }
  const std::string expected = CheckedInVectors();
  ASSERT_FALSE(expected.empty()) << "tests/vectors/protocol_v1.txt is missing";
  EXPECT_EQ(computed, expected) << "computed vectors:\n" << computed;
}

// The rounds split their tiles across threads; the vectors must come out the same with four threads as with one.
TEST(ProtocolVectors, IndependentOfThreadCount) {
  RunOptions options = testing::CpuOneThread();
  options.threads = 4;
  EXPECT_EQ(ComputeVectors(options), CheckedInVectors());
}

// Parsing the checked-in bytes and serializing them again gives the same bytes, for every message the file
// holds and the response it names by digest.
TEST(ProtocolVectors, ParseThenSerializeIsTheIdentity) {
  const std::vector<std::pair<std::string, std::function<Result<std::vector<uint8_t>>(std::span<const uint8_t>)>>>
      vectors = {
          {"lease", [](auto b) -> Result<std::vector<uint8_t>> {
             VCP_ASSIGN_OR_RETURN(Lease m, ParseLease(b));
             return Serialize(m);
           }},
          {"acceptance", [](auto b) -> Result<std::vector<uint8_t>> {
             VCP_ASSIGN_OR_RETURN(LeaseAcceptance m, ParseLeaseAcceptance(b));
             return Serialize(m);
           }},
          {"epoch_start", [](auto b) -> Result<std::vector<uint8_t>> {
             VCP_ASSIGN_OR_RETURN(EpochStart m, ParseEpochStart(b));
             return Serialize(m);
           }},
          {"epoch_record", [](auto b) -> Result<std::vector<uint8_t>> {
             VCP_ASSIGN_OR_RETURN(EpochRecord m, ParseEpochRecord(b));
             return Serialize(m);
           }},
          {"challenge", [](auto b) -> Result<std::vector<uint8_t>> {
             VCP_ASSIGN_OR_RETURN(Challenge m, ParseChallenge(b));
             return Serialize(m);
           }},
          {"verdict", [](auto b) -> Result<std::vector<uint8_t>> {
             VCP_ASSIGN_OR_RETURN(Verdict m, ParseVerdict(b));
             return Serialize(m);
           }},
      };
  for (const auto& [name, roundtrip] : vectors) {
    const std::vector<uint8_t> bytes = VectorBytes(name);
    ASSERT_FALSE(bytes.empty()) << name << " is missing from protocol_v1.txt";
    ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> again, roundtrip(bytes));
    EXPECT_EQ(ToHex(again), ToHex(bytes)) << name;
  }
  std::vector<uint8_t> response;
  (void)ComputeVectors(testing::CpuOneThread(), &response);
  EXPECT_EQ(ToHex(Sha256(response)), VectorValues()["epoch_response_sha256"]);
  ASSERT_OK_AND_ASSIGN(const EpochResponse parsed, ParseEpochResponse(response));
  EXPECT_EQ(Serialize(parsed), response);
}

// ---------------------------------------------------------------------------------------------------------------
// JSON (vcp/message_json.h).

nlohmann::json ParseJson(const std::string& text) { return nlohmann::json::parse(text, nullptr, false); }

// The JSON of every message holds exactly the schema's fields (nested as the schema groups them), "type", and the
// derived values; MessageJson of the bytes is the same object plus what only the bytes tell.
TEST(MessageJson, EveryMessageHasTheSchemaFields) {
  for (const Case& c : AllCases()) {
    const nlohmann::json j = ParseJson(c.json);
    ASSERT_TRUE(j.is_object()) << c.name << ": " << c.json;
    EXPECT_EQ(j["type"], c.type_name);
    std::set<std::string> expected = c.layout.json_paths;
    expected.insert("type");
    expected.insert(c.derived.begin(), c.derived.end());
    std::set<std::string> got;
    JsonPaths(j, "", got);
    EXPECT_EQ(got, expected) << c.name << ": " << c.json;

    ASSERT_OK_AND_ASSIGN(const std::string from_bytes, MessageJson(c.bytes));
    nlohmann::json k = ParseJson(from_bytes);
    ASSERT_TRUE(k.is_object()) << from_bytes;
    EXPECT_EQ(k["bytes"], c.bytes.size());
    k.erase("bytes");
    if (c.type_name == "lease") {
      EXPECT_EQ(k["signature_valid"], true) << c.name;
      EXPECT_EQ(k["parameters_valid"], true) << c.name;
      k.erase("signature_valid");
      k.erase("parameters_valid");
    }
    EXPECT_EQ(k, j) << c.name;
  }
}

TEST(MessageJson, ValuesAreHexNamesAndNumbers) {
  const Messages& m = M();
  const nlohmann::json lease = ParseJson(ToJson(m.beacon_lease));
  EXPECT_EQ(lease["mode"], "beacon");
  EXPECT_EQ(lease["workload"]["kind"], "int8");
  EXPECT_EQ(lease["workload"]["tile"], 8);
  EXPECT_EQ(lease["beacon"]["name"], "test-beacon");
  EXPECT_EQ(lease["verifier_key"], ToHex(m.verifier.public_key()));
  EXPECT_EQ(lease["lease_id"], ToHex(LeaseId(m.beacon_lease)));
  const nlohmann::json response = ParseJson(ToJson(m.response));
  EXPECT_EQ(response["challenge"]["kind"], "verifier-randomness");
  ASSERT_EQ(response["rounds"].size(), m.response.rounds.size());
  EXPECT_EQ(response["rounds"][1]["round"], m.response.rounds[1].round);
  EXPECT_EQ(response["rounds"][1]["hashes"].size(), m.response.rounds[1].hashes.size());
  EXPECT_EQ(response["epoch_hashes"].size(), m.response.epoch_hashes.size());
  Verdict failed = m.verdict;
  failed.reason = Reason::kTileMismatch;
  const nlohmann::json verdict = ParseJson(ToJson(failed));
  EXPECT_EQ(verdict["reason"], "tile-mismatch");
  EXPECT_EQ(verdict["verdict"], "fail");
  // Text that is not UTF-8 (possible only in a struct that was never parsed) is replaced, not thrown.
  EpochRecord record = m.record;
  record.device = "gpu \xff";
  const nlohmann::json j = ParseJson(ToJson(record));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["device"], "gpu \xef\xbf\xbd");
}

// Known answers: the JSON of checked-in vector messages, written out by hand from docs/PROTOCOL.md section 13.
TEST(MessageJson, KnownAnswerForTheVectorMessages) {
  ASSERT_OK_AND_ASSIGN(const std::string verdict, MessageJson(VectorBytes("verdict")));
  EXPECT_EQ(verdict, R"({
  "type": "verdict",
  "lease_id": "567b6f11e016ad205d0859fa07172434cc47faf883e59073d2af123c4d1404af",
  "epoch": 0,
  "record_hash": "a5bc45a7e4d6ccd20c539ed2ebe2379d2c77dbef1693a8e43e7ca98e241e08e0",
  "reason": "pass",
  "start_us": 1700000000001000,
  "arrival_us": 1700000000003500,
  "operations": 2097152,
  "detail": "test vector",
  "verifier_signature": "d6da03e8f3849a686bc59eb9471bf3df488061ddd6e33f803641a5d0bb51243dbe7f5dc77dc870ba4cca9f5243b7dc4d13993a7cdd473efc4472245203aa4f00",
  "verdict": "pass",
  "bytes": 180
})");
  ASSERT_OK_AND_ASSIGN(const std::string lease, MessageJson(VectorBytes("lease")));
  EXPECT_EQ(lease, R"({
  "type": "lease",
  "mode": "interactive",
  "nonce": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
  "verifier_key": "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737",
  "provider_key": "a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0",
  "workload": {
    "kind": "int8",
    "m": 64,
    "n": 64,
    "k": 64,
    "tile": 8
  },
  "rounds_per_epoch": 4,
  "samples_per_epoch": 40,
  "epoch_deadline_us": 10000000,
  "claimed_ops_per_second": 1000000,
  "start_us": 1700000000000000,
  "end_us": 1700086400000000,
  "beacon": {
    "genesis_us": 0,
    "period_us": 0,
    "name": ""
  },
  "verifier_signature": "3ee080c3f3dd87e46cedb70ab0cbce38339b1af57f508d4ea56b8fe0487c3d98048bb0ecf34d51ad82f8f0e8c6fc9de3d98da03d68e0c780ad2cffbfbbfe0102",
  "lease_id": "567b6f11e016ad205d0859fa07172434cc47faf883e59073d2af123c4d1404af",
  "operations_per_epoch": 2097152,
  "signature_valid": true,
  "parameters_valid": true,
  "bytes": 240
})");
}

TEST(MessageJson, MultiProofFileAndRefusals) {
  std::vector<Hash32> leaves;
  for (uint64_t i = 0; i < 5; ++i) leaves.push_back(MerkleLeafHash(testing::TestHash("leaf", i)));
  const MerkleTree tree = MerkleTree::Build(leaves, 1);
  const std::vector<uint64_t> indices = {1, 4};
  ASSERT_OK_AND_ASSIGN(const MultiProof proof, ProveMulti(tree, indices));
  const std::vector<uint8_t> bytes = SerializeMultiProof(proof);
  ASSERT_OK_AND_ASSIGN(const std::string text, MessageJson(bytes));
  const nlohmann::json j = ParseJson(text);
  EXPECT_EQ(j["type"], "multiproof");
  EXPECT_EQ(j["tree_size"], 5);
  EXPECT_EQ(j["indices"], nlohmann::json({1, 4}));
  ASSERT_EQ(j["hashes"].size(), proof.hashes.size());
  EXPECT_EQ(j["hashes"][0], ToHex(proof.hashes[0]));
  EXPECT_EQ(j["bytes"], bytes.size());
  EXPECT_EQ(ParseJson(ToJson(proof)), [&] {
    nlohmann::json k = j;
    k.erase("bytes");
    return k;
  }());

  // Not a message: the error lists what is read. A message that does not parse: the parser's error.
  const std::vector<uint8_t> junk = {'V', 'C', 'P', 'Z', 1, 2, 3};
  const Status s = MessageJson(junk).status();
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_TRUE(Contains(s, "VCPL") && Contains(s, "VCPM")) << s.ToString();
  std::vector<uint8_t> lease = Serialize(M().lease);
  lease[5] = 7;
  const Status bad_mode = MessageJson(lease).status();
  EXPECT_TRUE(Contains(bad_mode, "lease: mode 7 is unknown; allowed: 1 (interactive), 2 (beacon)")) << bad_mode.ToString();
  EXPECT_EQ(MessageJson(std::span<const uint8_t>(bytes.data(), bytes.size() - 1)).status().code(),
            StatusCode::kCorrupt);
}

}  // namespace
}  // namespace vcp
