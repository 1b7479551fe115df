// Lease protocol messages: round trips, every parser's rejections (magic, version, length, trailing bytes, enums,
// text, counts), signatures, JSON, and the docs/PROTOCOL.md test vectors. The field-by-field tests walk the
// message schema (lib/protocol/message_schema.h) to find every field's offset, so a field added there is tested
// here without a new test.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "protocol/message_schema.h"
#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/epoch.h"
#include "vcp/merkle.h"
#include "vcp/message_json.h"
#include "vcp/protocol.h"
#include "vcp/store.h"
#include "vcp/store_log.h"
#include "vcp/verdict.h"

namespace vcp {
namespace {

using testing::KeyFrom;
using testing::kT0;

// Two GPUs' evidence as a CUDA backend reads it: every field nonzero, so every byte of an entry is tested.
std::vector<DeviceEvidence> TwoGpus() {
  DeviceEvidence gpu;
  gpu.backend = DeviceBackend::kCuda;
  gpu.name = "NVIDIA H200";
  for (size_t i = 0; i < gpu.uuid.size(); ++i) gpu.uuid[i] = static_cast<uint8_t>(0xa0 + i);
  gpu.pci_bus_id = "0000:1b:00.0";
  gpu.memory_bytes = 150'754'820'096;
  gpu.compute_units = 132;
  gpu.max_clock_khz = 1'980'000;
  gpu.max_memory_clock_khz = 3'201'000;
  gpu.compute_capability_major = 9;
  gpu.compute_capability_minor = 0;
  gpu.driver_version = 12040;
  gpu.runtime_version = 12030;
  DeviceEvidence second = gpu;
  second.uuid[15] = 0x01;
  second.pci_bus_id = "0000:2c:00.0";
  return {gpu, second};
}

// One valid instance of every message, built through the real protocol (keys from fixed seeds). The record is of
// a D = 2 lease, so every device field appears twice.
struct Messages {
  SecretKey verifier = KeyFrom(0x11), provider = KeyFrom(0x22);
  Lease lease, beacon_lease, two_device_lease;
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
    two_device_lease = testing::SignedTinyLease(verifier, provider, LeaseMode::kInteractive, 4, 0, 1, 2);
    start = testing::SignedStart(two_device_lease, verifier, 0, testing::TestHash("beacon"),
                                 LeaseId(two_device_lease), kT0 + 1000);
    auto run = RunEpochRounds(two_device_lease, start, testing::CpuOneThread());
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    auto commit = CommitEpoch(two_device_lease, start, run->leaves, TwoGpus(), kT0 + 2000, kT0 + 3000, provider);
    EXPECT_TRUE(commit.ok()) << commit.status().ToString();
    record = commit->record;
    challenge.lease_id = LeaseId(two_device_lease);
    challenge.epoch = 0;
    challenge.record_hash = RecordHash(record);
    challenge.randomness = testing::TestHash("challenge");
    EXPECT_TRUE(Sign(challenge, verifier).ok());
    const EpochLeaves leaves = run->leaves;
    auto built = BuildResponse(
        two_device_lease, record, commit->round_roots, {ChallengeKind::kVerifierRandomness, 0, challenge.randomness},
        [&](uint32_t r) -> Result<std::vector<Hash32>> { return leaves[r]; }, provider);
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    response = *built;
    verdict.lease_id = LeaseId(two_device_lease);
    verdict.epoch = 0;
    verdict.record_hash = RecordHash(record);
    verdict.schedule = EpochSchedule::kScheduled;
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
  enum Kind { kUint, kEnum, kBytes, kTextLength, kText, kListCount, kItemCount, kHashCount, kHashes };
  std::string path;
  Kind kind;
  size_t offset = 0, size = 0;
  std::function<bool(uint32_t)> known;  // kEnum: which codes exist
  schema::TextRule text{};              // kTextLength, kText
  uint32_t min_items = 0, max_items = 0;  // kListCount, kItemCount
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
    FieldSpan& count = Add(std::string(name) + " count", FieldSpan::kListCount, 4, false);
    count.min_items = rule.min_items;
    count.max_items = rule.max_items;
    Items(name, items, std::forward<F>(item));
  }
  template <class Item>
  void Count(std::string_view name, const std::vector<Item>&, const schema::ListRule& rule) {
    FieldSpan& count = Add(name, FieldSpan::kItemCount, 1, true);
    count.min_items = rule.min_items;
    count.max_items = rule.max_items;
  }
  template <class Item, class F>
  void Items(std::string_view name, const std::vector<Item>& items, F&& item) {
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
    fields.push_back({path, kind, end, size, {}, {}, 0, 0});
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
  const std::set<std::string> lease_derived = {"lease_id",        "operations_per_device",
                                               "operations_per_epoch", "compute_time_us",
                                               "deadline_us",     "guaranteed_ops_per_second_per_device"};
  return {MakeCase("lease", m.lease, &ParseLease, own_key, lease_derived),
          MakeCase("beacon-lease", m.beacon_lease, &ParseLease, own_key, lease_derived),
          MakeCase("two-device-lease", m.two_device_lease, &ParseLease, own_key, lease_derived),
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
  ASSERT_EQ(record.devices.size(), 2u);
  const std::vector<DeviceEvidence> gpus = TwoGpus();
  for (size_t d = 0; d < 2; ++d) {
    const DeviceEvidence& got = record.devices[d];
    const DeviceEvidence& want = gpus[d];
    EXPECT_EQ(got.backend, want.backend);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.uuid, want.uuid);
    EXPECT_EQ(got.pci_bus_id, want.pci_bus_id);
    EXPECT_EQ(got.memory_bytes, want.memory_bytes);
    EXPECT_EQ(got.compute_units, want.compute_units);
    EXPECT_EQ(got.max_clock_khz, want.max_clock_khz);
    EXPECT_EQ(got.max_memory_clock_khz, want.max_memory_clock_khz);
    EXPECT_EQ(got.compute_capability_major, want.compute_capability_major);
    EXPECT_EQ(got.compute_capability_minor, want.compute_capability_minor);
    EXPECT_EQ(got.driver_version, want.driver_version);
    EXPECT_EQ(got.runtime_version, want.runtime_version);
  }
  EXPECT_EQ(record.rounds, 4u);
  EXPECT_EQ(record.operations, EpochOperations(M().two_device_lease));
  EXPECT_EQ(record.epoch_root, M().record.epoch_root);
  ASSERT_OK_AND_ASSIGN(const Lease lease, ParseLease(Serialize(M().beacon_lease)));
  EXPECT_EQ(lease.beacon_name, "test-beacon");
  EXPECT_EQ(lease.mode, LeaseMode::kBeacon);
  EXPECT_EQ(lease.workload.tile, 8u);
  ASSERT_OK_AND_ASSIGN(const Lease two, ParseLease(Serialize(M().two_device_lease)));
  EXPECT_EQ(two.devices, 2);
  EXPECT_EQ(two.slack_ppm, M().two_device_lease.slack_ppm);
  EXPECT_EQ(two.claimed_ops_per_second_per_device, M().two_device_lease.claimed_ops_per_second_per_device);
  EXPECT_EQ(two.network_allowance_us, M().two_device_lease.network_allowance_us);
  ASSERT_OK_AND_ASSIGN(const Verdict verdict, ParseVerdict(Serialize(M().verdict)));
  EXPECT_EQ(verdict.schedule, EpochSchedule::kScheduled);
}

// docs/PROTOCOL.md 4.1 and 4.4: the new fields at their documented offsets.
TEST(ProtocolMessages, FieldsAtTheirDocumentedOffsets) {
  Lease lease = M().two_device_lease;
  lease.slack_ppm = 0x01020304;
  lease.network_allowance_us = 0x0a0b0c0d0e0f1011;
  const std::vector<uint8_t> b = Serialize(lease);
  EXPECT_EQ(b[119], 2);                                                // D
  EXPECT_EQ(LoadLe32(std::span<const uint8_t, 4>(b.data() + 120, 4)), 4u);  // R
  EXPECT_EQ(LoadLe32(std::span<const uint8_t, 4>(b.data() + 124, 4)), lease.samples_per_epoch);
  EXPECT_EQ(LoadLe64(std::span<const uint8_t, 8>(b.data() + 128, 8)), lease.claimed_ops_per_second_per_device);
  EXPECT_EQ(LoadLe32(std::span<const uint8_t, 4>(b.data() + 136, 4)), 0x01020304u);
  EXPECT_EQ(LoadLe64(std::span<const uint8_t, 8>(b.data() + 140, 8)), 0x0a0b0c0d0e0f1011u);
  EXPECT_EQ(LoadLe64(std::span<const uint8_t, 8>(b.data() + 148, 8)), lease.start_us);
  EXPECT_EQ(b.size(), 181u + 64u);  // no beacon name
  const std::vector<uint8_t> r = Serialize(M().record);
  EXPECT_EQ(r[109], 2);  // D
  EXPECT_EQ(LoadLe32(std::span<const uint8_t, 4>(r.data() + 110, 4)), 4u);
  EXPECT_EQ(r[170], static_cast<uint8_t>(DeviceBackend::kCuda));  // first entry's backend
  EXPECT_EQ(r[171], 11);                                           // "NVIDIA H200"
  // Entry: 1 + 1 + 11 + 16 + 1 + 12 + 8 + 4 + 4 + 4 + 1 + 1 + 4 + 4 = 72 bytes, two of them, then the signature.
  EXPECT_EQ(r.size(), 170u + 2 * 72 + 64);
  const std::vector<uint8_t> v = Serialize(M().verdict);
  EXPECT_EQ(v[77], static_cast<uint8_t>(EpochSchedule::kScheduled));
  EXPECT_EQ(LoadLe16(std::span<const uint8_t, 2>(v.data() + 78, 2)), 0u);  // reason pass
}

TEST(ProtocolMessages, DescribeDeviceAndSameDeviceSet) {
  const std::vector<DeviceEvidence> gpus = TwoGpus();
  EXPECT_EQ(DescribeDevice(gpus[0]),
            "cuda: NVIDIA H200 (132 SMs, 140 GiB, cc 9.0) uuid GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf "
            "pci 0000:1b:00.0");
  DeviceEvidence cpu;
  cpu.name = "AMD EPYC 7B13";
  cpu.compute_units = 2;
  EXPECT_EQ(DescribeDevice(cpu), "cpu: AMD EPYC 7B13 (2 threads)");
  EXPECT_TRUE(SameDeviceSet(gpus, gpus));
  // Clocks, memory and versions may differ (a driver update); identity may not.
  std::vector<DeviceEvidence> updated = gpus;
  updated[0].driver_version = 12050;
  updated[1].max_clock_khz = 1;
  EXPECT_TRUE(SameDeviceSet(gpus, updated));
  const std::vector<std::function<void(std::vector<DeviceEvidence>&)>> changes = {
      [](auto& d) { d[0].uuid[3] ^= 1; },
      [](auto& d) { d[1].pci_bus_id = "0000:3d:00.0"; },
      [](auto& d) { d[0].name = "NVIDIA H100"; },
      [](auto& d) { d[0].backend = DeviceBackend::kCpu; },
      [](auto& d) { std::swap(d[0], d[1]); },  // order matters: device d ran epoch rounds d x R ..
      [](auto& d) { d.pop_back(); },
      [](auto& d) { d.push_back(d[0]); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    std::vector<DeviceEvidence> changed = gpus;
    changes[i](changed);
    EXPECT_FALSE(SameDeviceSet(gpus, changed)) << "change " << i;
  }
}

TEST(ProtocolMessages, IdentifyByMagic) {
  const std::vector<MessageType> expected = {MessageType::kLease,      MessageType::kLease,  MessageType::kLease,
                                             MessageType::kAcceptance,
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
    for (uint8_t version : {0, 1, 3, 255}) {
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
  // Mode and workload kind in the three leases, the two devices' backends, challenge kind, schedule, reason.
  EXPECT_EQ(enums, 3 * 2 + 2 + 1 + 2);
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
  // The beacon lease's name, each of the record's two device names and PCI bus ids, the verdict's detail.
  EXPECT_EQ(texts, 6);
}

// Counts: a hash count beyond the bytes left, more opened rounds than a lease may sample, and a record's device
// count D of 0 or above 16.
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
          EXPECT_TRUE(Contains(s, "allowed: 0 to " + std::to_string(f.max_items))) << s.ToString();
        }
      }
      if (f.kind == FieldSpan::kItemCount) {
        ++counts;
        for (uint64_t count : {uint64_t{0}, uint64_t{f.max_items} + 1, uint64_t{255}}) {
          const Status s = c.parse(WithLe(c.bytes, f.offset, 1, count));
          EXPECT_EQ(s.code(), StatusCode::kCorrupt) << c.name << " " << f.path;
          EXPECT_TRUE(Contains(s, f.path + " " + std::to_string(count) + " is out of range; allowed: 1 to 16"))
              << s.ToString();
        }
      }
    }
  }
  EXPECT_GE(counts, 1 + 1 + 2 + 1);  // the response's round list, epoch proof, two round proofs, the record's D
  // A lease's D outside 1..16 does not parse either.
  for (uint8_t d : {0, 17, 255}) {
    const Status s = ParseLease(WithLe(Serialize(M().lease), 119, 1, d)).status();
    EXPECT_TRUE(Contains(s, "lease: devices " + std::to_string(d) + " is out of range; allowed: 1 to 16"))
        << s.ToString();
  }
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
// Test vectors (docs/PROTOCOL.md section 13): inputs anyone can reproduce from the document alone. Every message
// is given in full hex; every time carries its unit.

std::string PositionList(std::span<const SamplePosition> positions) {
  std::string out;
  for (const SamplePosition& p : positions) {
    if (!out.empty()) out += ' ';
    out += std::to_string(p.round) + ":" + std::to_string(p.tile);
  }
  return out;
}

std::string HashList(std::span<const Hash32> hashes) {
  std::string out;
  for (const Hash32& h : hashes) {
    if (!out.empty()) out += ' ';
    out += ToHex(h);
  }
  return out;
}

std::string Us(uint64_t us) { return std::to_string(us) + " us"; }
std::string UnixUs(uint64_t us) { return std::to_string(us) + " us since the Unix epoch"; }

Hash32 Filled(uint8_t byte) {
  Hash32 h{};
  h.fill(byte);
  return h;
}

std::vector<uint8_t> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A lease with every term spelled out (the fixture's defaults may change; the vectors may not).
Lease VectorLease(LeaseMode mode, uint32_t mnk, uint8_t devices, uint32_t rounds, uint32_t samples, uint64_t rate,
                  uint64_t allowance_us, const SecretKey& verifier, const SecretKey& provider, uint8_t nonce_base) {
  Lease lease;
  lease.mode = mode;
  for (int i = 0; i < 32; ++i) lease.nonce[i] = static_cast<uint8_t>(nonce_base + i);
  lease.verifier_key = verifier.public_key();
  lease.provider_key = provider.public_key();
  lease.workload.kind = WorkloadKind::kInt8;
  lease.workload.m = lease.workload.n = lease.workload.k = mnk;
  lease.workload.tile = 8;
  lease.devices = devices;
  lease.rounds_per_epoch = rounds;
  lease.samples_per_epoch = samples;
  lease.claimed_ops_per_second_per_device = rate;
  lease.slack_ppm = kDefaultSlackPpm;
  lease.network_allowance_us = allowance_us;
  lease.start_us = kT0;
  lease.end_us = kT0 + 24 * testing::kHourUs;
  return lease;
}

struct VectorEpoch {
  EpochStart start;
  EpochLeaves leaves;
  EpochCommit commit;
  Hash32 record_hash{};
};

Result<VectorEpoch> RunVectorEpoch(const Lease& lease, const SecretKey& verifier, const SecretKey& provider,
                                   uint64_t epoch, const Hash32& beacon, const Hash32& prev, uint64_t start_us,
                                   std::span<const DeviceEvidence> devices, const RunOptions& options) {
  VectorEpoch e;
  e.start = testing::SignedStart(lease, verifier, epoch, beacon, prev, start_us);
  VCP_ASSIGN_OR_RETURN(EpochRun run, RunEpochRounds(lease, e.start, options));
  e.leaves = std::move(run.leaves);
  // The engine's own evidence names this machine's CPU: the vectors carry fixed evidence instead.
  VCP_ASSIGN_OR_RETURN(e.commit, CommitEpoch(lease, e.start, e.leaves, devices, start_us + 1000, start_us + 8000,
                                             provider));
  e.record_hash = RecordHash(e.commit.record);
  return e;
}

Result<EpochResponse> VectorResponse(const Lease& lease, const VectorEpoch& e, const ChallengeValue& challenge,
                                     const SecretKey& provider) {
  return BuildResponse(
      lease, e.commit.record, e.commit.round_roots, challenge,
      [&e](uint32_t q) -> Result<std::vector<Hash32>> { return e.leaves[q]; }, provider);
}

// options: the engine settings the rounds run with; the vectors must not depend on them.
Result<std::string> ComputeVectorsOrError(const RunOptions& options) {
  const SecretKey verifier = KeyFrom(0x11), provider = KeyFrom(0x22);
  std::ostringstream out;
  const auto line = [&out](const std::string& name, const std::string& value) {
    out << name << " = " << value << "\n";
  };
  const auto comment = [&out](const std::string& text) { out << "# " << text << "\n"; };
  DeviceEvidence cpu;
  cpu.name = "Test CPU";
  cpu.compute_units = 1;
  const std::vector<DeviceEvidence> one_cpu = {cpu};

  comment("Keys: Ed25519 seeds 32 x 0x11 (verifier) and 32 x 0x22 (provider).");
  line("verifier_public_key", ToHex(verifier.public_key()));
  line("provider_public_key", ToHex(provider.public_key()));

  // 1. Interactive lease, R > k: the epoch proof has hashes.
  comment("Lease: interactive, int8 64 x 64 x 64, T = 8 (L = 64 tiles per round), D = 1, R = 48, k = 40,");
  comment("rate 2516582400 operations per second per device, slack 250000 ppm, network allowance 1000 us.");
  Lease lease = VectorLease(LeaseMode::kInteractive, 64, 1, 48, 40, 2'516'582'400, 1000, verifier, provider, 0);
  VCP_RETURN_IF_ERROR(Sign(lease, verifier));
  VCP_RETURN_IF_ERROR(ValidateLease(lease));
  const Hash32 lease_id = LeaseId(lease);
  line("lease", ToHex(Serialize(lease)));
  line("lease_id", ToHex(lease_id));
  line("lease_start", UnixUs(lease.start_us));
  line("lease_end", UnixUs(lease.end_us));
  line("device_operations", std::to_string(DeviceOperations(lease)) + " operations (W = R x 2MNK)");
  line("epoch_operations", std::to_string(EpochOperations(lease)) + " operations (D x W)");
  line("compute_time", Us(ComputeTimeUs(lease)) + " (t_c = floor(W x 10^6 / rate))");
  line("deadline", Us(EpochDeadlineUs(lease)) + " (t_c + floor(t_c x slack / 10^6))");

  LeaseAcceptance acceptance{lease_id, kT0 + 500, {}};
  VCP_RETURN_IF_ERROR(Sign(acceptance, provider));
  line("acceptance", ToHex(Serialize(acceptance)));
  line("acceptance_accepted", UnixUs(acceptance.accepted_us));

  comment("Epoch 0: beacon 32 x 0xbb, previous record = the lease id, start 1000 us after the lease start.");
  VCP_ASSIGN_OR_RETURN(const VectorEpoch e0, RunVectorEpoch(lease, verifier, provider, 0, Filled(0xbb), lease_id,
                                                            kT0 + 1000, one_cpu, options));
  line("epoch_start", ToHex(Serialize(e0.start)));
  line("epoch_start_time", UnixUs(e0.start.start_us));
  const Seed epoch_seed = EpochSeed(lease_id, 0, e0.start.beacon, lease_id);
  line("epoch_seed", ToHex(epoch_seed));
  for (uint32_t q = 0; q < EpochRounds(lease); ++q) {
    line("round_seed_" + std::to_string(q), ToHex(RoundSeed(epoch_seed, 0, q)));  // D = 1: device 0, round q
  }
  for (uint32_t q = 0; q < EpochRounds(lease); ++q) {
    line("round_root_" + std::to_string(q), ToHex(e0.commit.round_roots[q]));
  }
  line("epoch_root", ToHex(e0.commit.record.epoch_root));
  comment("Record: one device entry, backend cpu, name \"Test CPU\", 1 thread, every other field zero.");
  line("epoch_record", ToHex(Serialize(e0.commit.record)));
  line("epoch_record_provider_start", UnixUs(e0.commit.record.provider_start_us));
  line("epoch_record_provider_end", UnixUs(e0.commit.record.provider_end_us));
  line("record_hash", ToHex(e0.record_hash));

  Challenge challenge{lease_id, 0, e0.record_hash, Filled(0xcc), {}};
  VCP_RETURN_IF_ERROR(Sign(challenge, verifier));
  line("challenge", ToHex(Serialize(challenge)));
  comment("Sample positions epoch-round:tile, draws [0, 40) in draw order; P = 48 x 64 = 3072.");
  const auto positions = SamplePositions(e0.record_hash, challenge.randomness, EpochRounds(lease),
                                         LeavesPerRound(lease), lease.samples_per_epoch);
  line("sample_positions", PositionList(positions));
  const SampleSet sample = GroupSamples(positions);
  std::string opened;
  for (uint32_t q : sample.rounds) {
    if (!opened.empty()) opened += ' ';
    opened += std::to_string(q);
  }
  line("opened_rounds", opened);
  VCP_ASSIGN_OR_RETURN(const EpochResponse response,
                       VectorResponse(lease, e0, {ChallengeKind::kVerifierRandomness, 0, challenge.randomness},
                                      provider));
  line("epoch_proof_hashes", HashList(response.epoch_hashes));
  line("epoch_response", ToHex(Serialize(response)));
  Verdict verdict{lease_id,  0, e0.record_hash, EpochSchedule::kScheduled, Reason::kPass, e0.start.start_us,
                  kT0 + 10'000, e0.commit.record.operations, "test vector", {}};
  VCP_RETURN_IF_ERROR(Sign(verdict, verifier));
  line("verdict", ToHex(Serialize(verdict)));
  line("verdict_start", UnixUs(verdict.start_us));
  line("verdict_arrival", UnixUs(verdict.arrival_us) + " (9000 us after the start, within the deadline)");

  // 2. A second epoch, chained to the first; its record arrives late: a failing verdict.
  comment("Epoch 1: beacon 32 x 0xbc, previous record = epoch 0's record hash; the record arrives 13000 us after");
  comment("the start, over the 12500 us deadline: verdict late (reason 9), on demand, no proven operations.");
  VCP_ASSIGN_OR_RETURN(const VectorEpoch e1, RunVectorEpoch(lease, verifier, provider, 1, Filled(0xbc),
                                                            e0.record_hash, kT0 + 20'000, one_cpu, options));
  line("epoch_1_start", ToHex(Serialize(e1.start)));
  line("epoch_1_start_time", UnixUs(e1.start.start_us));
  line("epoch_1_seed", ToHex(EpochSeed(lease_id, 1, e1.start.beacon, e0.record_hash)));
  line("epoch_1_root", ToHex(e1.commit.record.epoch_root));
  line("epoch_1_record", ToHex(Serialize(e1.commit.record)));
  line("epoch_1_record_hash", ToHex(e1.record_hash));
  Verdict late{lease_id, 1, e1.record_hash, EpochSchedule::kOnDemand, Reason::kLate, e1.start.start_us,
               kT0 + 33'000, 0, "record arrived 13000 us after the start; the deadline is 12500 us", {}};
  VCP_RETURN_IF_ERROR(Sign(late, verifier));
  line("epoch_1_verdict", ToHex(Serialize(late)));
  line("epoch_1_verdict_arrival", UnixUs(late.arrival_us));

  // 3. Beacon mode.
  comment("Beacon lease: beacon mode, beacon name \"vcp-test-beacon\", genesis = the lease start, period 3000000 us;");
  comment("int8 64 x 64 x 64, T = 8, D = 1, R = 4, k = 80, rate 209715200 operations per second: deadline 12500 us.");
  Lease beacon_lease = VectorLease(LeaseMode::kBeacon, 64, 1, 4, 80, 209'715'200, 1000, verifier, provider, 0x40);
  beacon_lease.beacon_name = "vcp-test-beacon";
  beacon_lease.beacon_genesis_us = kT0;
  beacon_lease.beacon_period_us = 3'000'000;
  VCP_RETURN_IF_ERROR(Sign(beacon_lease, verifier));
  VCP_RETURN_IF_ERROR(ValidateLease(beacon_lease));
  const Hash32 beacon_lease_id = LeaseId(beacon_lease);
  line("beacon_lease", ToHex(Serialize(beacon_lease)));
  line("beacon_lease_id", ToHex(beacon_lease_id));
  line("beacon_genesis", UnixUs(beacon_lease.beacon_genesis_us));
  line("beacon_period", Us(beacon_lease.beacon_period_us));
  line("beacon_deadline", Us(EpochDeadlineUs(beacon_lease)));
  VCP_ASSIGN_OR_RETURN(const VectorEpoch be, RunVectorEpoch(beacon_lease, verifier, provider, 0, Filled(0xbd),
                                                            beacon_lease_id, kT0 + 1000, one_cpu, options));
  line("beacon_epoch_start", ToHex(Serialize(be.start)));
  line("beacon_epoch_start_time", UnixUs(be.start.start_us));
  const uint64_t beacon_round = BeaconRoundFor(beacon_lease, be.start.start_us);
  line("beacon_round", std::to_string(beacon_round) + " (the first published strictly after start + deadline = " +
                           UnixUs(be.start.start_us + EpochDeadlineUs(beacon_lease)) + ")");
  comment("The beacon's value for that round, as the beacon source published it: 32 x 0xdd.");
  line("beacon_value", ToHex(Filled(0xdd)));
  line("beacon_record", ToHex(Serialize(be.commit.record)));
  line("beacon_record_hash", ToHex(be.record_hash));
  line("beacon_sample_positions", PositionList(SamplePositions(be.record_hash, Filled(0xdd), EpochRounds(beacon_lease),
                                                               LeavesPerRound(beacon_lease), 80)));
  VCP_ASSIGN_OR_RETURN(const EpochResponse beacon_response,
                       VectorResponse(beacon_lease, be, {ChallengeKind::kBeacon, beacon_round, Filled(0xdd)},
                                      provider));
  line("beacon_epoch_response", ToHex(Serialize(beacon_response)));

  // 4. D = 2.
  comment("D = 2 lease: interactive, int8 16 x 16 x 16, T = 8 (L = 4), D = 2, R = 2, k = 40, rate 1638400");
  comment("operations per second per device: t_c = 10000 us, deadline 12500 us. Epoch rounds q = d x R + r.");
  Lease two = VectorLease(LeaseMode::kInteractive, 16, 2, 2, 40, 1'638'400, 1000, verifier, provider, 0x80);
  VCP_RETURN_IF_ERROR(Sign(two, verifier));
  VCP_RETURN_IF_ERROR(ValidateLease(two));
  const Hash32 two_id = LeaseId(two);
  line("d2_lease", ToHex(Serialize(two)));
  line("d2_lease_id", ToHex(two_id));
  line("d2_epoch_operations", std::to_string(EpochOperations(two)) + " operations (D x W)");
  line("d2_deadline", Us(EpochDeadlineUs(two)));
  comment("Device evidence: two cuda entries \"NVIDIA H200\", UUIDs a0..af and a0..ae 01, PCI 0000:1b:00.0 and");
  comment("0000:2c:00.0, 150754820096 bytes, 132 SMs, 1980000 kHz, 3201000 kHz, compute capability 9.0,");
  comment("driver 12040, runtime 12030.");
  VCP_ASSIGN_OR_RETURN(const VectorEpoch de, RunVectorEpoch(two, verifier, provider, 0, Filled(0xbe), two_id,
                                                            kT0 + 1000, TwoGpus(), options));
  line("d2_epoch_start", ToHex(Serialize(de.start)));
  const Seed two_seed = EpochSeed(two_id, 0, de.start.beacon, two_id);
  line("d2_epoch_seed", ToHex(two_seed));
  for (uint32_t d = 0; d < 2; ++d) {
    for (uint32_t r = 0; r < 2; ++r) {
      line("d2_round_seed_" + std::to_string(EpochRound(two, d, r)) + "_device_" + std::to_string(d) + "_round_" +
               std::to_string(r),
           ToHex(RoundSeed(two_seed, d, r)));
    }
  }
  for (uint32_t q = 0; q < EpochRounds(two); ++q) {
    line("d2_round_root_" + std::to_string(q), ToHex(de.commit.round_roots[q]));
  }
  line("d2_epoch_root", ToHex(de.commit.record.epoch_root));
  line("d2_record", ToHex(Serialize(de.commit.record)));
  line("d2_record_hash", ToHex(de.record_hash));

  // 5. Storage: the D = 2 epoch's leaves file, and log frames.
  const std::filesystem::path dir = testing::MakeTempDir("vcp-protocol-vectors-");
  const auto cleanup = [&dir] { std::filesystem::remove_all(dir); };
  Status stored = WriteLeavesFile(dir / "leaves", two_id, 0, de.leaves);
  std::vector<uint8_t> leaves_file = ReadBytes(dir / "leaves");
  Result<AppendLog> plog = AppendLog::Create(dir / "provider.log", StoreRole::kProvider);
  Result<AppendLog> vlog = AppendLog::Create(dir / "verifier.log", StoreRole::kVerifier);
  const std::vector<uint8_t> provider_header = ReadBytes(dir / "provider.log");
  const std::vector<uint8_t> verifier_header = ReadBytes(dir / "verifier.log");
  cleanup();
  VCP_RETURN_IF_ERROR(stored);
  VCP_RETURN_IF_ERROR(plog.status());
  VCP_RETURN_IF_ERROR(vlog.status());
  comment("Leaves file of the D = 2 epoch: (D x R) x L = 4 x 4 leaf hashes.");
  line("d2_leaves_file", ToHex(leaves_file));
  comment("Log headers, then one frame of each: provider type 4 (the D = 2 record with its round roots),");
  comment("verifier type 4 (schedule 1 = scheduled, then the D = 2 epoch start).");
  line("provider_log_header", ToHex(provider_header));
  line("provider_record_frame",
       ToHex(EncodeLogFrame(static_cast<uint8_t>(ProviderEntry::kRecord),
                            EncodeProviderRecordEntry(de.commit.record, de.commit.round_roots))));
  line("verifier_log_header", ToHex(verifier_header));
  line("verifier_start_frame", ToHex(EncodeLogFrame(static_cast<uint8_t>(VerifierEntry::kStart),
                                                    EncodeStartEntry(EpochSchedule::kScheduled, de.start))));

  // 6. The audit schedule.
  comment("Audit schedule: seed 32 x 0xee, lease start to end, mean gap 60000000 us: the first 8 audit times.");
  const std::vector<uint64_t> audits = AuditSchedule(Filled(0xee), kT0, kT0 + 24 * testing::kHourUs, 60'000'000);
  if (audits.size() < 8) return Status::Internal("the audit schedule has fewer than 8 times");
  std::string times;
  for (size_t i = 0; i < 8; ++i) {
    if (i > 0) times += ' ';
    times += std::to_string(audits[i]);
  }
  line("audit_times", times + " (us since the Unix epoch)");

  // 7. Rejection sampling: a derivation-only vector with P far from a power of two.
  comment("Rejection sampling: D = 16, R = 49152, M = N = 2^20, T = 8: L = 2^34, P = D x R x L = 3 x 2^52;");
  comment("a draw is rejected when x >= 2^64 - (2^64 mod P) = 2^64 - 2^52 (probability 2^-12). The record hash is");
  comment("32 x 0x77; the challenge is the first of 0x5a... with bytes [0, 8) = u64 c, c = 0, 1, ...,");
  comment("whose draws [0, 8) include a rejection. Draws as epoch-round:tile/accepted attempt.");
  constexpr uint32_t kRejRounds = 16 * 49152;
  constexpr uint64_t kRejLeaves = uint64_t{1} << 34;
  const Hash32 rej_record = Filled(0x77);
  Hash32 rej_challenge{};
  std::optional<uint32_t> rejected_draw;
  for (uint64_t c = 0; !rejected_draw; ++c) {
    rej_challenge = Filled(0x5a);
    for (int i = 0; i < 8; ++i) rej_challenge[i] = static_cast<uint8_t>(c >> (8 * i));
    for (uint32_t j = 0; j < 8 && !rejected_draw; ++j) {
      if (DrawSample(rej_record, rej_challenge, kRejRounds, kRejLeaves, j).attempt > 0) rejected_draw = j;
    }
  }
  line("rejection_positions", std::to_string(uint64_t{kRejRounds} * kRejLeaves) + " (P)");
  line("rejection_limit", std::to_string(~uint64_t{0} - (uint64_t{1} << 52) + 1));
  line("rejection_record_hash", ToHex(rej_record));
  line("rejection_challenge", ToHex(rej_challenge));
  {
    ByteWriter fields;
    fields.Bytes(rej_record);
    fields.Bytes(rej_challenge);
    fields.U32(*rejected_draw);
    fields.U32(0);
    const Hash32 h = TaggedHash("vcp.v2.sample", fields.bytes());
    line("rejection_rejected_x", "draw " + std::to_string(*rejected_draw) + " attempt 0: x = " +
                                     std::to_string(LoadLe64(std::span<const uint8_t, 8>(h.data(), 8))));
  }
  std::string draws;
  for (uint32_t j = 0; j < 40; ++j) {
    const SampleDraw d = DrawSample(rej_record, rej_challenge, kRejRounds, kRejLeaves, j);
    if (j > 0) draws += ' ';
    draws += std::to_string(d.position.round) + ":" + std::to_string(d.position.tile) + "/" + std::to_string(d.attempt);
  }
  line("rejection_draws", draws);
  return out.str();
}

std::string ComputeVectors(const RunOptions& options) {
  Result<std::string> vectors = ComputeVectorsOrError(options);
  return vectors.ok() ? *vectors : "vectors failed: " + vectors.status().ToString();
}

std::string CheckedInVectors() { return testing::ReadText(testing::VectorsDir() / "protocol_v2.txt"); }

// name -> value of tests/vectors/protocol_v2.txt.
std::map<std::string, std::string> VectorValues() {
  std::map<std::string, std::string> values;
  std::istringstream in(CheckedInVectors());
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find(" = ");
    if (eq != std::string::npos && line[0] != '#') values[line.substr(0, eq)] = line.substr(eq + 3);
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
  ASSERT_FALSE(expected.empty()) << "tests/vectors/protocol_v2.txt is missing";
  EXPECT_EQ(computed, expected) << "computed vectors:\n" << computed;
}

// The rounds split their tiles across threads; the vectors must come out the same with four threads as with one.
TEST(ProtocolVectors, IndependentOfThreadCount) {
  RunOptions options = testing::CpuOneThread();
  options.threads = 4;
  EXPECT_EQ(ComputeVectors(options), CheckedInVectors());
}

// The vectors exercise what issue 8 found untested: an epoch proof with hashes (R > k leaves rounds unopened),
// a rejected draw, every sample position.
TEST(ProtocolVectors, CoverTheEpochProofAndRejection) {
  const auto values = VectorValues();
  std::istringstream opened(values.at("opened_rounds"));
  size_t rounds = 0;
  for (std::string q; opened >> q;) ++rounds;
  EXPECT_GT(rounds, 1u);
  EXPECT_LT(rounds, 48u);
  EXPECT_FALSE(values.at("epoch_proof_hashes").empty());
  std::istringstream positions(values.at("sample_positions"));
  size_t count = 0;
  for (std::string p; positions >> p;) ++count;
  EXPECT_EQ(count, 40u);
  EXPECT_NE(values.at("rejection_draws").find("/1"), std::string::npos) << values.at("rejection_draws");
}

// Parsing every checked-in message and serializing it again gives the same bytes, and its signature verifies.
TEST(ProtocolVectors, ParseThenSerializeIsTheIdentityAndSignaturesVerify) {
  const PublicKey v = KeyFrom(0x11).public_key(), p = KeyFrom(0x22).public_key();
  std::map<MessageType, int> seen;
  for (const auto& [name, value] : VectorValues()) {
    auto bytes = FromHex(value, name);
    if (!bytes.ok() || bytes->size() < 5) continue;
    auto type = IdentifyMessage(*bytes);
    if (!type.ok()) continue;
    ++seen[*type];
    const auto again = [&]() -> Result<std::pair<std::vector<uint8_t>, Status>> {
      switch (*type) {
        case MessageType::kLease: {
          VCP_ASSIGN_OR_RETURN(Lease m, ParseLease(*bytes));
          return std::make_pair(Serialize(m), CheckSignature(m));
        }
        case MessageType::kAcceptance: {
          VCP_ASSIGN_OR_RETURN(LeaseAcceptance m, ParseLeaseAcceptance(*bytes));
          return std::make_pair(Serialize(m), CheckSignature(m, p));
        }
        case MessageType::kEpochStart: {
          VCP_ASSIGN_OR_RETURN(EpochStart m, ParseEpochStart(*bytes));
          return std::make_pair(Serialize(m), CheckSignature(m, v));
        }
        case MessageType::kRecord: {
          VCP_ASSIGN_OR_RETURN(EpochRecord m, ParseEpochRecord(*bytes));
          return std::make_pair(Serialize(m), CheckSignature(m, p));
        }
        case MessageType::kChallenge: {
          VCP_ASSIGN_OR_RETURN(Challenge m, ParseChallenge(*bytes));
          return std::make_pair(Serialize(m), CheckSignature(m, v));
        }
        case MessageType::kResponse: {
          VCP_ASSIGN_OR_RETURN(EpochResponse m, ParseEpochResponse(*bytes));
          return std::make_pair(Serialize(m), CheckSignature(m, p));
        }
        case MessageType::kVerdict: {
          VCP_ASSIGN_OR_RETURN(Verdict m, ParseVerdict(*bytes));
          return std::make_pair(Serialize(m), CheckSignature(m, v));
        }
      }
      return Status::Internal("unknown type");
    }();
    ASSERT_TRUE(again.ok()) << name << ": " << again.status().ToString();
    EXPECT_EQ(ToHex(again->first), value) << name;
    EXPECT_TRUE(again->second.ok()) << name << ": " << again->second.ToString();
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen[MessageType::kLease], 3);
  EXPECT_EQ(seen[MessageType::kRecord], 4);  // epochs 0 and 1, the beacon epoch, the D = 2 epoch
  EXPECT_EQ(seen[MessageType::kVerdict], 2);
  EXPECT_EQ(seen[MessageType::kResponse], 2);
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
  failed.schedule = EpochSchedule::kOnDemand;
  const nlohmann::json verdict = ParseJson(ToJson(failed));
  EXPECT_EQ(verdict["reason"], "tile-mismatch");
  EXPECT_EQ(verdict["schedule"], "on-demand");
  EXPECT_EQ(verdict["verdict"], "fail");
  failed.reason = Reason::kVoidClock;
  EXPECT_EQ(ParseJson(ToJson(failed))["verdict"], "void");
  EXPECT_EQ(ParseJson(ToJson(m.verdict))["schedule"], "scheduled");
  // The lease's derived terms: the deadline follows from the rate (docs/PROTOCOL.md section 5).
  const nlohmann::json two = ParseJson(ToJson(m.two_device_lease));
  EXPECT_EQ(two["devices"], 2);
  EXPECT_EQ(two["slack_ppm"], m.two_device_lease.slack_ppm);
  EXPECT_EQ(two["operations_per_device"], DeviceOperations(m.two_device_lease));
  EXPECT_EQ(two["operations_per_epoch"], 2 * DeviceOperations(m.two_device_lease));
  EXPECT_EQ(two["compute_time_us"], ComputeTimeUs(m.two_device_lease));
  EXPECT_EQ(two["deadline_us"], EpochDeadlineUs(m.two_device_lease));
  EXPECT_DOUBLE_EQ(two["guaranteed_ops_per_second_per_device"].get<double>(),
                   GuaranteedRatePerDevice(m.two_device_lease));
  // Devices: an array of objects in device order, the UUID as 32 hex digits.
  const nlohmann::json rec = ParseJson(ToJson(m.record));
  EXPECT_EQ(rec["device_count"], 2);
  ASSERT_EQ(rec["devices"].size(), 2u);
  EXPECT_EQ(rec["devices"][0]["backend"], "cuda");
  EXPECT_EQ(rec["devices"][0]["name"], "NVIDIA H200");
  EXPECT_EQ(rec["devices"][0]["uuid"], "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  EXPECT_EQ(rec["devices"][1]["pci_bus_id"], "0000:2c:00.0");
  EXPECT_EQ(rec["devices"][1]["memory_bytes"], 150'754'820'096u);
  EXPECT_EQ(rec["devices"][1]["compute_capability_major"], 9);
  // Text that is not UTF-8 (possible only in a struct that was never parsed) is replaced, not thrown.
  EpochRecord record = m.record;
  record.devices[0].name = "gpu \xff";
  const nlohmann::json j = ParseJson(ToJson(record));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["devices"][0]["name"], "gpu \xef\xbf\xbd");
}

// Known answers: the JSON of checked-in vector messages (docs/PROTOCOL.md section 13), checked by hand against
// the tables of section 4: the lease's derived deadline, the verdict's schedule, the record's device entries.
TEST(MessageJson, KnownAnswerForTheVectorMessages) {
  ASSERT_OK_AND_ASSIGN(const std::string verdict, MessageJson(VectorBytes("verdict")));
  EXPECT_EQ(verdict, R"({
  "type": "verdict",
  "lease_id": "3163314a6f1d68c6ca00a3515448cfb8b55920ed51a4d45a6c7ee7a2445575bc",
  "epoch": 0,
  "record_hash": "a5e28f88a290ff0738fb9beab577317b2d764164a4e4abb290854ae84cd81067",
  "schedule": "scheduled",
  "reason": "pass",
  "start_us": 1700000000001000,
  "arrival_us": 1700000000010000,
  "operations": 25165824,
  "detail": "test vector",
  "verifier_signature": "42e709c5fde3ba6c8960403e6b4e0c3ba52959e70aee891f3d76f6373b0b5aa6bd287b0f28ebc93be1e24f2f7f415f4b70e00dad0b92724b9f1cb7dae99a5c0f",
  "verdict": "pass",
  "bytes": 181
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
  "devices": 1,
  "rounds_per_epoch": 48,
  "samples_per_epoch": 40,
  "claimed_ops_per_second_per_device": 2516582400,
  "slack_ppm": 250000,
  "network_allowance_us": 1000,
  "start_us": 1700000000000000,
  "end_us": 1700086400000000,
  "beacon": {
    "genesis_us": 0,
    "period_us": 0,
    "name": ""
  },
  "verifier_signature": "593bb5b414074295651a004448309bdf8085e88d9f90954db2a26d730ffe965acb5c6c4254796a03b2b9de36f0752986f104aeaa652a79156748d8665522030e",
  "lease_id": "3163314a6f1d68c6ca00a3515448cfb8b55920ed51a4d45a6c7ee7a2445575bc",
  "operations_per_device": 25165824,
  "operations_per_epoch": 25165824,
  "compute_time_us": 10000,
  "deadline_us": 12500,
  "guaranteed_ops_per_second_per_device": 2013265920.0,
  "signature_valid": true,
  "parameters_valid": true,
  "bytes": 245
})");
  ASSERT_OK_AND_ASSIGN(const std::string record, MessageJson(VectorBytes("d2_record")));
  EXPECT_EQ(record, R"({
  "type": "epoch-record",
  "lease_id": "20c9ba9277cf05c1cf6a6c0418eca4598d67cc7651e94b1feb5f18c492e33257",
  "epoch": 0,
  "beacon": "bebebebebebebebebebebebebebebebebebebebebebebebebebebebebebebebe",
  "prev_record": "20c9ba9277cf05c1cf6a6c0418eca4598d67cc7651e94b1feb5f18c492e33257",
  "device_count": 2,
  "rounds": 2,
  "epoch_root": "4f8b3aa858e666e7dae7cb55e4549a490ab4c72c5141fad7d9fbf9020ff28405",
  "operations": 32768,
  "provider_start_us": 1700000000002000,
  "provider_end_us": 1700000000009000,
  "devices": [
    {
      "backend": "cuda",
      "name": "NVIDIA H200",
      "uuid": "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
      "pci_bus_id": "0000:1b:00.0",
      "memory_bytes": 150754820096,
      "compute_units": 132,
      "max_clock_khz": 1980000,
      "max_memory_clock_khz": 3201000,
      "compute_capability_major": 9,
      "compute_capability_minor": 0,
      "driver_version": 12040,
      "runtime_version": 12030
    },
    {
      "backend": "cuda",
      "name": "NVIDIA H200",
      "uuid": "a0a1a2a3a4a5a6a7a8a9aaabacadae01",
      "pci_bus_id": "0000:2c:00.0",
      "memory_bytes": 150754820096,
      "compute_units": 132,
      "max_clock_khz": 1980000,
      "max_memory_clock_khz": 3201000,
      "compute_capability_major": 9,
      "compute_capability_minor": 0,
      "driver_version": 12040,
      "runtime_version": 12030
    }
  ],
  "provider_signature": "3f9a708e822d5a7f5a49ec9e3e36dd0d9cd6aece2ef3de5fcc2f65897d5ec45ce06ead3e09ac44586c455b30ebc0dceaf5ca0e64c3da7175a5a85e661217cc08",
  "record_hash": "2fbdd3eb878624b9d68c6d611a605d311305c43167802f23a785e9baf5e1e832",
  "bytes": 378
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
  EXPECT_TRUE(Contains(bad_mode, "lease: mode 7 is unknown; allowed: 1 (interactive), 2 (beacon)"))
      << bad_mode.ToString();
  EXPECT_EQ(MessageJson(std::span<const uint8_t>(bytes.data(), bytes.size() - 1)).status().code(),
            StatusCode::kCorrupt);
}

}  // namespace
}  // namespace vcp
