// Any file vcp writes, as JSON (vcp/inspect.h). Messages and proof files are H2a's MessageJson; store logs and
// leaves files are decoded here with the schema of vcp/store_log.h.
#include "vcp/inspect.h"

#include <nlohmann/json.hpp>
#include <string_view>

#include "vcp/bytes.h"
#include "vcp/message_json.h"
#include "vcp/store.h"
#include "vcp/store_log.h"

namespace vcp {

namespace {

using json = nlohmann::ordered_json;  // keeps MessageJson's field order (wire order)

std::string Dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

std::string_view Magic(std::span<const uint8_t> bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), std::min<size_t>(4, bytes.size()));
}

// One entry: its name and size, the fields of the payloads that are not a bare message, and the message. An entry
// that does not decode is shown with the reason instead of failing the whole log: inspect is how one looks at a
// damaged store.
json EntryJson(StoreRole role, const LogEntry& entry) {
  const std::string_view name = LogEntryName(role, entry.type);
  json j = {{"offset", entry.offset},
            {"type", name.empty() ? "unknown-" + std::to_string(entry.type) : std::string(name)},
            {"bytes", entry.payload.size()}};
  if (role == StoreRole::kProvider && entry.type == uint8_t(ProviderEntry::kRecord)) {
    Result<ProviderRecordEntry> record = DecodeProviderRecordEntry(entry.payload);
    if (record.ok()) {
      json roots = json::array();
      for (const Hash32& root : record->round_roots) roots.push_back(ToHex(root));
      j["round_roots"] = roots;
    } else {
      j["error"] = std::string(record.status().message());
    }
  }
  if (role == StoreRole::kVerifier && entry.type == uint8_t(VerifierEntry::kPlan)) {
    Result<AuditPlanEntry> plan = DecodeAuditPlanEntry(entry.payload);
    if (plan.ok()) {
      j["schedule_seed"] = ToHex(plan->schedule_seed);
      j["mean_gap_us"] = plan->mean_gap_us;
    } else {
      j["error"] = std::string(plan.status().message());
    }
  }
  if (role == StoreRole::kVerifier && entry.type == uint8_t(VerifierEntry::kStart)) {
    Result<StartEntry> start = DecodeStartEntry(entry.payload);
    if (start.ok()) {
      j["schedule"] = std::string(EpochScheduleName(start->schedule));
    } else {
      j["error"] = std::string(start.status().message());
    }
  }
  if (role == StoreRole::kVerifier && entry.type == uint8_t(VerifierEntry::kArrival)) {
    Result<ArrivalEntry> arrival = DecodeArrivalEntry(entry.payload);
    if (arrival.ok()) {
      j["arrival_us"] = arrival->arrival_us;
    } else {
      j["error"] = std::string(arrival.status().message());
    }
  }
  Result<std::span<const uint8_t>> message = LogEntryMessage(role, entry);
  if (!message.ok()) {
    j["error"] = std::string(message.status().message());
  } else if (!message->empty()) {
    Result<std::string> text = MessageJson(*message);
    if (text.ok()) {
      j["message"] = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    } else {
      j["error"] = std::string(text.status().message());
    }
  }
  return j;
}

Result<std::string> LogJson(std::span<const uint8_t> bytes) {
  VCP_ASSIGN_OR_RETURN(LogScan scan, ScanLog(bytes));
  json entries = json::array();
  for (const LogEntry& entry : scan.entries) entries.push_back(EntryJson(scan.role, entry));
  // Without its opening pair (lease, then acceptance or audit plan) a store holds no lease (vcp/lease_session.h).
  const bool holds_lease = scan.entries.size() >= 2;
  std::string note = scan.recovery.note;
  if (!holds_lease) {
    note += std::string(note.empty() ? "" : "; ") + "the store holds no lease (a crash while it was created): " +
            (scan.recovery.no_header ? "vcp lease new or vcp lease accept"
                                     : scan.role == StoreRole::kProvider ? "vcp lease accept" : "vcp lease new") +
            " with the same --store replaces it";
  }
  return Dump({{"type", "store-log"},
               {"role", scan.recovery.no_header ? "unknown" : scan.role == StoreRole::kProvider ? "provider" : "verifier"},
               {"entries", entries},
               {"holds_lease", holds_lease},
               {"no_header", scan.recovery.no_header},
               {"torn_tail", scan.recovery.torn_tail},
               {"recovery", note}});
}

Result<std::string> LeavesJson(std::span<const uint8_t> bytes) {
  VCP_ASSIGN_OR_RETURN(LeavesFileHeader header, ScanLeavesFile(bytes));
  return Dump({{"type", "leaves-file"},
               {"lease_id", ToHex(header.lease_id)},
               {"epoch", header.epoch},
               {"rounds", header.rounds},
               {"leaves_per_round", header.leaves_per_round},
               {"bytes", bytes.size()}});
}

}  // namespace

Result<std::string> InspectJson(std::span<const uint8_t> bytes) {
  const std::string_view magic = Magic(bytes);
  // A store log, or the start of one's header (what a crash while a store was created may leave).
  if (magic == "VCPG" || (!bytes.empty() && bytes.size() < 8 && std::string_view("VCPG").starts_with(magic))) {
    return LogJson(bytes);
  }
  if (bytes.empty()) {
    return Status::Corrupt("the file is empty (an empty provider.log or verifier.log is a store a crash left before "
                           "its header: it holds no lease; vcp lease new or vcp lease accept replaces it)");
  }
  if (magic == "VCPH") return LeavesJson(bytes);
  return MessageJson(bytes);
}

}  // namespace vcp
