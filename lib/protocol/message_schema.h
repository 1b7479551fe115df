// lib/protocol/message_schema.h: every protocol message's fields, written once, in wire order (docs/PROTOCOL.md
// section 4). Serialize and Parse (messages.cpp) and the JSON of vcp inspect (message_json.cpp) all walk these
// functions with a visitor, so a field exists in exactly one place and the three cannot drift apart.
//
// Internal to the library (and its tests). A schema function calls its visitor once per field, in the order the
// bytes carry them, after the 5-byte header (magic, version) that every message shares. The message is `const`
// for visitors that only read it (the writer, the JSON emitter) and mutable for the parser. A visitor provides:
//
//   Uint(name, T& v)                         an unsigned integer of sizeof(T) bytes, little-endian
//   Enum(name, E& v, const EnumRule<E>&)     the enum's underlying width; the parser refuses unknown codes
//   Bytes(name, std::array<uint8_t, N>& v)   N raw bytes: hashes, keys, signatures (hex in JSON)
//   Text(name, std::string& v, const TextRule&)   length prefix, then printable ASCII
//   HashList(name, std::vector<Hash32>& v)   u32 count, then count hashes
//   List(name, std::vector<Item>& v, const ListRule&, item)   u32 count, then item(element, index) per element
//   Count(name, std::vector<Item>& v, const ListRule&)   a u8 count of a list whose elements come later (the
//                                            record's D): the parser checks it against the rule and resizes v
//   Items(name, std::vector<Item>& v, item)  the elements of a list counted earlier, no count of their own
//   BeginGroup(name) ... EndGroup()          nests the fields between them in JSON; no bytes of its own
//   Check(name, ok, explain)                 a rule on field `name` the parser enforces; explain() says why
//
// `name` is the field's JSON key and, joined with its groups ("workload.kind", "rounds[2].hashes"), the name a
// parse error gives. Every message ends with its signature, the one field the signing digest leaves out.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "vcp/hash.h"
#include "vcp/keys.h"
#include "vcp/protocol.h"
#include "vcp/workload.h"

namespace vcp::schema {

// An enum field: its name for JSON and error messages, and which codes exist.
template <class E>
struct EnumRule {
  std::string_view (*name)(E value);
  bool (*known)(std::underlying_type_t<E> code);
};

inline constexpr EnumRule<LeaseMode> kLeaseModeRule{
    &LeaseModeName, [](uint8_t c) {
      return c == static_cast<uint8_t>(LeaseMode::kInteractive) || c == static_cast<uint8_t>(LeaseMode::kBeacon);
    }};
// The workload ids are the workload table's (vcp/workload.h): a kind is known when its name parses back to it.
// The workload table (include/vcp/workload.h) is the one list of workloads.
inline constexpr EnumRule<WorkloadKind> kWorkloadKindRule{
    &WorkloadName, [](uint8_t c) { return FindWorkload(static_cast<WorkloadKind>(c)) != nullptr; }};
inline constexpr EnumRule<ChallengeKind> kChallengeKindRule{
    &ChallengeKindName, [](uint8_t c) {
      return c == static_cast<uint8_t>(ChallengeKind::kVerifierRandomness) ||
             c == static_cast<uint8_t>(ChallengeKind::kBeacon);
    }};
inline constexpr EnumRule<Reason> kReasonRule{&ReasonName, &IsKnownReason};
inline constexpr EnumRule<DeviceBackend> kDeviceBackendRule{
    &DeviceBackendName, [](uint8_t c) {
      return c == static_cast<uint8_t>(DeviceBackend::kCpu) || c == static_cast<uint8_t>(DeviceBackend::kCuda);
    }};
inline constexpr EnumRule<EpochSchedule> kEpochScheduleRule{
    &EpochScheduleName, [](uint8_t c) {
      return c == static_cast<uint8_t>(EpochSchedule::kScheduled) ||
             c == static_cast<uint8_t>(EpochSchedule::kOnDemand);
    }};

// A text field: the width of its length prefix, its longest allowed length, and whether the space is allowed
// (printable ASCII is 0x20..0x7e; without the space 0x21..0x7e). Writers cut longer text to max_bytes.
struct TextRule {
  int length_bytes;  // 1 (u8) or 2 (u16)
  size_t max_bytes;
  bool allow_space;
};
inline constexpr TextRule kBeaconNameRule{1, kMaxBeaconNameBytes, false};
inline constexpr TextRule kDeviceNameRule{1, kMaxDeviceNameBytes, true};
inline constexpr TextRule kPciBusIdRule{1, kMaxPciBusIdBytes, false};
inline constexpr TextRule kDetailRule{2, kMaxDetailBytes, true};

// A list of structured elements: how many elements the parser accepts, and why (for the error message).
struct ListRule {
  uint32_t min_items;
  uint32_t max_items;
  std::string_view why;
};
inline constexpr ListRule kOpenedRoundsRule{0, kMaxSamples, "the most samples a lease may draw"};
inline constexpr ListRule kDevicesRule{1, kMaxDevices, "a lease names 1 to 16 devices"};

// TaggedHash(tag, every byte of a serialized message before its signature): what signatures, the lease id and
// the record hash cover (docs/PROTOCOL.md sections 2 and 5).
inline Hash32 HashBeforeSignature(std::string_view tag, std::span<const uint8_t> serialized) {
  return TaggedHash(tag, serialized.first(serialized.size() - kSignatureBytes));
}

// M is T or const T.
template <class M, class T>
concept Of = std::same_as<std::remove_const_t<M>, T>;

// The message type each struct is.
constexpr MessageType TypeOf(const Lease&) { return MessageType::kLease; }
constexpr MessageType TypeOf(const LeaseAcceptance&) { return MessageType::kAcceptance; }
constexpr MessageType TypeOf(const EpochStart&) { return MessageType::kEpochStart; }
constexpr MessageType TypeOf(const EpochRecord&) { return MessageType::kRecord; }
constexpr MessageType TypeOf(const Challenge&) { return MessageType::kChallenge; }
constexpr MessageType TypeOf(const EpochResponse&) { return MessageType::kResponse; }
constexpr MessageType TypeOf(const Verdict&) { return MessageType::kVerdict; }

// The lease's workload without its seed: each round derives its own (docs/PROTOCOL.md section 5), so a parsed
// lease's workload seed stays zero.
template <class V, Of<WorkloadParams> W>
void WorkloadFields(V& v, W& p) {
  v.Enum("kind", p.kind, kWorkloadKindRule);
  v.Uint("m", p.m);
  v.Uint("n", p.n);
  v.Uint("k", p.k);
  v.Uint("tile", p.tile);
}

// 4.1 Lease, "VCPL".
template <class V, Of<Lease> M>
void Fields(V& v, M& m) {
  v.Enum("mode", m.mode, kLeaseModeRule);
  v.Bytes("nonce", m.nonce);
  v.Bytes("verifier_key", m.verifier_key);
  v.Bytes("provider_key", m.provider_key);
  v.BeginGroup("workload");
  WorkloadFields(v, m.workload);
  v.EndGroup();
  v.Uint("devices", m.devices);
  v.Check("devices", m.devices >= 1 && m.devices <= kMaxDevices, [&] {
    return std::to_string(m.devices) + " is out of range; allowed: 1 to " + std::to_string(kMaxDevices);
  });
  v.Uint("rounds_per_epoch", m.rounds_per_epoch);
  v.Uint("samples_per_epoch", m.samples_per_epoch);
  v.Uint("claimed_ops_per_second_per_device", m.claimed_ops_per_second_per_device);
  v.Uint("slack_ppm", m.slack_ppm);
  v.Uint("network_allowance_us", m.network_allowance_us);
  v.Uint("start_us", m.start_us);
  v.Uint("end_us", m.end_us);
  v.BeginGroup("beacon");  // zero and empty in interactive mode
  v.Uint("genesis_us", m.beacon_genesis_us);
  v.Uint("period_us", m.beacon_period_us);
  v.Text("name", m.beacon_name, kBeaconNameRule);
  v.EndGroup();
  v.Bytes("verifier_signature", m.verifier_signature);
}

// 4.2 Lease acceptance, "VCPA".
template <class V, Of<LeaseAcceptance> M>
void Fields(V& v, M& m) {
  v.Bytes("lease_id", m.lease_id);
  v.Uint("accepted_us", m.accepted_us);
  v.Bytes("provider_signature", m.provider_signature);
}

// 4.3 Epoch start, "VCPS".
template <class V, Of<EpochStart> M>
void Fields(V& v, M& m) {
  v.Bytes("lease_id", m.lease_id);
  v.Uint("epoch", m.epoch);
  v.Bytes("beacon", m.beacon);
  v.Bytes("prev_record", m.prev_record);
  v.Uint("start_us", m.start_us);
  v.Bytes("verifier_signature", m.verifier_signature);
}

// One device evidence entry of a record (4.4).
template <class V, Of<DeviceEvidence> E>
void DeviceFields(V& v, E& e) {
  v.Enum("backend", e.backend, kDeviceBackendRule);
  v.Text("name", e.name, kDeviceNameRule);
  v.Bytes("uuid", e.uuid);
  v.Text("pci_bus_id", e.pci_bus_id, kPciBusIdRule);
  v.Uint("memory_bytes", e.memory_bytes);
  v.Uint("compute_units", e.compute_units);
  v.Uint("max_clock_khz", e.max_clock_khz);
  v.Uint("max_memory_clock_khz", e.max_memory_clock_khz);
  v.Uint("compute_capability_major", e.compute_capability_major);
  v.Uint("compute_capability_minor", e.compute_capability_minor);
  v.Uint("driver_version", e.driver_version);
  v.Uint("runtime_version", e.runtime_version);
}

// 4.4 Epoch record, "VCPR". D (the device count) comes before R; its D evidence entries after the times.
template <class V, Of<EpochRecord> M>
void Fields(V& v, M& m) {
  v.Bytes("lease_id", m.lease_id);
  v.Uint("epoch", m.epoch);
  v.Bytes("beacon", m.beacon);
  v.Bytes("prev_record", m.prev_record);
  v.Count("device_count", m.devices, kDevicesRule);
  v.Uint("rounds", m.rounds);
  v.Bytes("epoch_root", m.epoch_root);
  v.Uint("operations", m.operations);
  v.Uint("provider_start_us", m.provider_start_us);
  v.Uint("provider_end_us", m.provider_end_us);
  v.Items("devices", m.devices, [&v](auto& device, size_t) { DeviceFields(v, device); });
  v.Bytes("provider_signature", m.provider_signature);
}

// 4.5 Challenge, "VCPC".
template <class V, Of<Challenge> M>
void Fields(V& v, M& m) {
  v.Bytes("lease_id", m.lease_id);
  v.Uint("epoch", m.epoch);
  v.Bytes("record_hash", m.record_hash);
  v.Bytes("randomness", m.randomness);
  v.Bytes("verifier_signature", m.verifier_signature);
}

// 4.6 Epoch response, "VCPP".
template <class V, Of<EpochResponse> M>
void Fields(V& v, M& m) {
  v.Bytes("lease_id", m.lease_id);
  v.Uint("epoch", m.epoch);
  v.Bytes("record_hash", m.record_hash);
  v.BeginGroup("challenge");
  v.Enum("kind", m.challenge.kind, kChallengeKindRule);
  v.Uint("beacon_round", m.challenge.beacon_round);
  v.Bytes("value", m.challenge.value);
  v.EndGroup();
  v.List("rounds", m.rounds, kOpenedRoundsRule, [&v, &m](auto& round, size_t i) {
    v.Uint("round", round.round);
    v.Check("round", i == 0 || round.round > m.rounds[i - 1].round, [&] {
      return std::to_string(round.round) + " follows round " + std::to_string(m.rounds[i - 1].round) +
             "; opened rounds must be strictly increasing";
    });
    v.Bytes("root", round.root);
    v.HashList("hashes", round.hashes);
  });
  v.HashList("epoch_hashes", m.epoch_hashes);
  v.Bytes("provider_signature", m.provider_signature);
}

// 4.7 Verdict, "VCPV".
template <class V, Of<Verdict> M>
void Fields(V& v, M& m) {
  v.Bytes("lease_id", m.lease_id);
  v.Uint("epoch", m.epoch);
  v.Bytes("record_hash", m.record_hash);
  v.Enum("schedule", m.schedule, kEpochScheduleRule);
  v.Enum("reason", m.reason, kReasonRule);
  v.Uint("start_us", m.start_us);
  v.Uint("arrival_us", m.arrival_us);
  v.Uint("operations", m.operations);
  v.Text("detail", m.detail, kDetailRule);
  v.Bytes("verifier_signature", m.verifier_signature);
}

}  // namespace vcp::schema
