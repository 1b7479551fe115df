// vcp/store_log.h: what the entries of the two store logs mean (docs/PROTOCOL.md section 11): the entry types of
// provider.log and verifier.log and the layout of each payload. The sessions write and replay their logs with
// these, and `vcp inspect` decodes them with the same functions, so the schema exists once.
//
// Entry types are on disk: never renumbered. Every payload is a protocol message's bytes (docs/PROTOCOL.md
// section 4) except four, whose layouts are below (little-endian, ByteWriter fields).
//
// Ownership: values in, values out. Thread safety: reentrant. Errors: decoding returns kCorrupt naming the entry
// and what was wrong.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vcp/hash.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/store.h"
#include "vcp/export.h"

namespace vcp {

enum class ProviderEntry : uint8_t {
  kLease = 1,       // lease bytes
  kAcceptance = 2,  // acceptance bytes
  kStart = 3,       // epoch start bytes (before the epoch runs)
  kRecord = 4,      // ProviderRecordEntry (before the record is handed out)
  kResponse = 5,    // response bytes (before the response is handed out)
};

enum class VerifierEntry : uint8_t {
  kLease = 1,       // lease bytes
  kPlan = 2,        // AuditPlanEntry
  kAcceptance = 3,  // acceptance bytes
  kStart = 4,       // StartEntry: the schedule kind and the epoch start (before it is handed out)
  kArrival = 5,     // ArrivalEntry: an authentic record and when it arrived
  kChallenge = 6,   // challenge bytes (before it is handed out)
  kVerdict = 7,     // verdict bytes
  kResponse = 8,    // response bytes that closed an epoch (kept as evidence)
};

// "lease", "acceptance", "epoch-start", "record", "response" (provider); "lease", "audit-plan", "acceptance",
// "epoch-start", "record-arrival", "challenge", "verdict", "response" (verifier); "" for an unknown type.
VCP_EXPORT std::string_view LogEntryName(StoreRole role, uint8_t type);

// provider kRecord: u32 record length | record bytes | u32 D x R | D x R 32-byte round roots (q order).
struct VCP_EXPORT ProviderRecordEntry {
  EpochRecord record;
  std::vector<Hash32> round_roots;
};
VCP_EXPORT std::vector<uint8_t> EncodeProviderRecordEntry(const EpochRecord& record,
                                                          std::span<const Hash32> round_roots);
VCP_EXPORT Result<ProviderRecordEntry> DecodeProviderRecordEntry(std::span<const uint8_t> payload);

// verifier kPlan: 32-byte audit schedule seed | u64 mean gap in microseconds.
struct VCP_EXPORT AuditPlanEntry {
  Hash32 schedule_seed{};
  uint64_t mean_gap_us = 0;
};
VCP_EXPORT std::vector<uint8_t> EncodeAuditPlanEntry(const AuditPlanEntry& plan);
VCP_EXPORT Result<AuditPlanEntry> DecodeAuditPlanEntry(std::span<const uint8_t> payload);

// verifier kStart: u8 schedule (1 scheduled, 2 on demand) | epoch start bytes (the rest of the payload). Whether
// an epoch ran on the secret audit schedule is the verifier's own knowledge, so it lives in its log, not in the
// signed start the provider sees.
struct VCP_EXPORT StartEntry {
  EpochSchedule schedule = EpochSchedule::kOnDemand;
  EpochStart start;
};
VCP_EXPORT std::vector<uint8_t> EncodeStartEntry(EpochSchedule schedule, const EpochStart& start);
VCP_EXPORT Result<StartEntry> DecodeStartEntry(std::span<const uint8_t> payload);

// verifier kArrival: u64 arrival time on the verifier's clock | record bytes (the rest of the payload).
struct VCP_EXPORT ArrivalEntry {
  uint64_t arrival_us = 0;
  EpochRecord record;
};
VCP_EXPORT std::vector<uint8_t> EncodeArrivalEntry(uint64_t arrival_us, std::span<const uint8_t> record_bytes);
VCP_EXPORT Result<ArrivalEntry> DecodeArrivalEntry(std::span<const uint8_t> payload);

// The protocol message an entry's payload carries, as a view into entry.payload: the whole payload for the message-only
// types, the record for provider kRecord and verifier kArrival, the start for verifier kStart, empty for verifier kPlan
// and for unknown types. kCorrupt when a kRecord / kArrival / kStart payload is too short to hold its record.
VCP_EXPORT Result<std::span<const uint8_t>> LogEntryMessage(StoreRole role, const LogEntry& entry);

}  // namespace vcp
