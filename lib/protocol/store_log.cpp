// The store log schema (vcp/store_log.h): entry names and the four payloads that are not a bare message.
#include "vcp/store_log.h"

#include "vcp/bytes.h"

namespace vcp {

namespace {

constexpr size_t kArrivalTimeBytes = 8;
constexpr size_t kScheduleBytes = 1;

}  // namespace

std::string_view LogEntryName(StoreRole role, uint8_t type) {
  if (role == StoreRole::kProvider) {
    switch (static_cast<ProviderEntry>(type)) {
      case ProviderEntry::kLease:
        return "lease";
      case ProviderEntry::kAcceptance:
        return "acceptance";
      case ProviderEntry::kStart:
        return "epoch-start";
      case ProviderEntry::kRecord:
        return "record";
      case ProviderEntry::kResponse:
        return "response";
    }
    return "";
  }
  switch (static_cast<VerifierEntry>(type)) {
    case VerifierEntry::kLease:
      return "lease";
    case VerifierEntry::kPlan:
      return "audit-plan";
    case VerifierEntry::kAcceptance:
      return "acceptance";
    case VerifierEntry::kStart:
      return "epoch-start";
    case VerifierEntry::kArrival:
      return "record-arrival";
    case VerifierEntry::kChallenge:
      return "challenge";
    case VerifierEntry::kVerdict:
      return "verdict";
    case VerifierEntry::kResponse:
      return "response";
  }
  return "";
}

std::vector<uint8_t> EncodeProviderRecordEntry(const EpochRecord& record, std::span<const Hash32> round_roots) {
  const std::vector<uint8_t> record_bytes = Serialize(record);
  ByteWriter w;
  w.U32(static_cast<uint32_t>(record_bytes.size()));
  w.Bytes(record_bytes);
  w.U32(static_cast<uint32_t>(round_roots.size()));
  for (const Hash32& root : round_roots) w.Bytes(root);
  return w.Take();
}

namespace {

// The record inside a provider kRecord payload, with the reader left just after it.
Result<std::span<const uint8_t>> ProviderRecordBytes(std::span<const uint8_t> payload, ByteReader& r) {
  uint32_t length = 0;
  VCP_RETURN_IF_ERROR(r.U32(length));
  if (length > r.remaining()) {
    return Status::Corrupt("provider record entry: the record length " + std::to_string(length) + " exceeds the " +
                           std::to_string(r.remaining()) + " bytes left in the entry");
  }
  const std::span<const uint8_t> bytes = payload.subspan(r.offset(), length);
  std::vector<uint8_t> skip(length);
  VCP_RETURN_IF_ERROR(r.Bytes(skip));
  return bytes;
}

}  // namespace

Result<ProviderRecordEntry> DecodeProviderRecordEntry(std::span<const uint8_t> payload) {
  ByteReader r(payload, "provider record entry");
  VCP_ASSIGN_OR_RETURN(std::span<const uint8_t> record_bytes, ProviderRecordBytes(payload, r));
  ProviderRecordEntry entry;
  VCP_ASSIGN_OR_RETURN(entry.record, ParseEpochRecord(record_bytes));
  uint32_t rounds = 0;
  VCP_RETURN_IF_ERROR(r.U32(rounds));
  if (uint64_t{rounds} * kHashBytes != r.remaining()) {
    return Status::Corrupt("provider record entry: " + std::to_string(rounds) + " round roots declared, " +
                           std::to_string(r.remaining()) + " bytes follow (32 per root)");
  }
  entry.round_roots.resize(rounds);
  for (Hash32& root : entry.round_roots) VCP_RETURN_IF_ERROR(r.Bytes(root));
  return entry;
}

std::vector<uint8_t> EncodeAuditPlanEntry(const AuditPlanEntry& plan) {
  ByteWriter w;
  w.Bytes(plan.schedule_seed);
  w.U64(plan.mean_gap_us);
  return w.Take();
}

Result<AuditPlanEntry> DecodeAuditPlanEntry(std::span<const uint8_t> payload) {
  ByteReader r(payload, "audit plan entry");
  AuditPlanEntry plan;
  VCP_RETURN_IF_ERROR(r.Bytes(plan.schedule_seed));
  VCP_RETURN_IF_ERROR(r.U64(plan.mean_gap_us));
  VCP_RETURN_IF_ERROR(r.ExpectEnd());
  return plan;
}

std::vector<uint8_t> EncodeStartEntry(EpochSchedule schedule, const EpochStart& start) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(schedule));
  w.Bytes(Serialize(start));
  return w.Take();
}

Result<StartEntry> DecodeStartEntry(std::span<const uint8_t> payload) {
  ByteReader r(payload, "epoch start entry");
  uint8_t schedule = 0;
  VCP_RETURN_IF_ERROR(r.U8(schedule));
  if (schedule != uint8_t(EpochSchedule::kScheduled) && schedule != uint8_t(EpochSchedule::kOnDemand)) {
    return Status::Corrupt("epoch start entry: schedule " + std::to_string(schedule) +
                           " is unknown; allowed: 1 (scheduled), 2 (on demand)");
  }
  StartEntry entry;
  entry.schedule = static_cast<EpochSchedule>(schedule);
  VCP_ASSIGN_OR_RETURN(entry.start, ParseEpochStart(payload.subspan(kScheduleBytes)));
  return entry;
}

std::vector<uint8_t> EncodeArrivalEntry(uint64_t arrival_us, std::span<const uint8_t> record_bytes) {
  ByteWriter w;
  w.U64(arrival_us);
  w.Bytes(record_bytes);
  return w.Take();
}

Result<ArrivalEntry> DecodeArrivalEntry(std::span<const uint8_t> payload) {
  ByteReader r(payload, "record arrival entry");
  ArrivalEntry entry;
  VCP_RETURN_IF_ERROR(r.U64(entry.arrival_us));
  VCP_ASSIGN_OR_RETURN(entry.record, ParseEpochRecord(payload.subspan(kArrivalTimeBytes)));
  return entry;
}

Result<std::span<const uint8_t>> LogEntryMessage(StoreRole role, const LogEntry& entry) {
  const std::span<const uint8_t> payload(entry.payload);
  if (LogEntryName(role, entry.type).empty()) return std::span<const uint8_t>();
  if (role == StoreRole::kProvider && entry.type == uint8_t(ProviderEntry::kRecord)) {
    ByteReader r(payload, "provider record entry");
    return ProviderRecordBytes(payload, r);
  }
  if (role == StoreRole::kVerifier && entry.type == uint8_t(VerifierEntry::kArrival)) {
    if (payload.size() < kArrivalTimeBytes) {
      return Status::Corrupt("record arrival entry: " + std::to_string(payload.size()) +
                             " bytes; it starts with the 8-byte arrival time");
    }
    return payload.subspan(kArrivalTimeBytes);
  }
  if (role == StoreRole::kVerifier && entry.type == uint8_t(VerifierEntry::kStart)) {
    if (payload.size() < kScheduleBytes) {
      return Status::Corrupt("epoch start entry: empty; it starts with the 1-byte schedule kind");
    }
    return payload.subspan(kScheduleBytes);
  }
  if (role == StoreRole::kVerifier && entry.type == uint8_t(VerifierEntry::kPlan)) return std::span<const uint8_t>();
  return payload;
}

}  // namespace vcp
