// cli/protocol_commands.cpp: RegisterProtocolCommands and what the protocol command groups share (see
// protocol_commands.h).
#include "protocol_commands.h"

#include <cmath>
#include <iostream>

#include "fileio.h"
#include "format.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

// The command that writes each message, for telling a user which file a flag wanted.
std::string_view WrittenBy(MessageType type) {
  switch (type) {
    case MessageType::kLease:
      return "vcp lease new";
    case MessageType::kAcceptance:
      return "vcp lease accept";
    case MessageType::kEpochStart:
      return "vcp epoch start";
    case MessageType::kRecord:
      return "vcp prove";
    case MessageType::kChallenge:
      return "vcp challenge";
    case MessageType::kResponse:
      return "vcp respond";
    case MessageType::kVerdict:
      return "vcp verify --out";
  }
  return "vcp";
}

}  // namespace

void RegisterProtocolCommands(CLI::App& app, CliState& state) {
  RegisterLeaseCommands(app, state);
  RegisterEpochCommands(app, state);
  RegisterReportCommand(app, state);
  RegisterInspectCommand(app, state);
  RegisterCalibrateCommand(app, state);
  RegisterDemoCommand(app, state);
}

Result<std::vector<uint8_t>> ReadMessageFile(const std::string& path, MessageType expected, std::string_view flag) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, kMaxMessageBytes));
  auto type = IdentifyMessage(bytes);
  if (!type.ok()) return type.status().WithContext(std::string(flag) + " " + path);
  if (*type != expected) {
    const std::string found(MessageTypeName(*type));
    const char* article = found.find_first_of("aeiou") == 0 ? "an" : "a";
    return Status::InvalidArgument(std::string(flag) + " " + path + " holds " + article + " " + found +
                                   " message (written by " + std::string(WrittenBy(*type)) + "); " + std::string(flag) +
                                   " needs the " + std::string(MessageTypeName(expected)) + " that " +
                                   std::string(WrittenBy(expected)) + " wrote");
  }
  return bytes;
}

Status WriteMessageFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  return WriteFileAtomic(path, bytes);
}

Result<uint64_t> ScaledFlag(std::string_view flag, double value, double scale, double min, double max,
                            std::string_view unit) {
  // max is at most 2^64 / scale in practice; the comparison is on doubles so that NaN and infinities fail too.
  if (!(value >= min && value <= max)) {
    return Status::InvalidArgument(std::string(flag) + " " + Sci(value) + " is out of range; allowed: " + Sci(min) +
                                   " to " + Sci(max) + " " + std::string(unit));
  }
  return static_cast<uint64_t>(std::llround(value * scale));
}

void PrintRecovery(const CliState& state, const LogRecovery& recovery, std::string_view role) {
  if (recovery.torn_tail && !state.json) std::cerr << "vcp: " << role << " store recovered: " << recovery.note << "\n";
}

json VerdictJson(const Lease& lease, const Verdict& v) {
  json j = MessageObject(v);
  const uint64_t window = v.arrival_us > v.start_us ? v.arrival_us - v.start_us : 0;
  j["window_ms"] = v.arrival_us ? double(window) / 1000 : 0.0;
  j["deadline_ms"] = double(EpochDeadlineUs(lease)) / 1000;
  j["proven_ops_per_second_per_device"] = ProvenRatePerDevice(lease, v);
  return j;
}

json LeaseTermsJson(const Lease& lease) {
  return {{"devices", lease.devices},
          {"claimed_ops_per_second_per_device", lease.claimed_ops_per_second_per_device},
          {"operations_per_device", DeviceOperations(lease)},
          {"compute_time_ms", double(ComputeTimeUs(lease)) / 1000},
          {"slack", double(lease.slack_ppm) / 1e6},
          {"deadline_ms", double(EpochDeadlineUs(lease)) / 1000},
          {"guaranteed_ops_per_second_per_device", GuaranteedRatePerDevice(lease)},
          {"network_allowance_ms", double(lease.network_allowance_us) / 1000}};
}

namespace {

json CountsJson(const ScheduleCounts& c) {
  return {{"passed", c.passed}, {"failed", c.failed}, {"missed", c.missed}, {"closed", c.closed()}};
}

json DevicesJson(const std::vector<DeviceEvidence>& devices) {
  json list = json::array();
  for (const DeviceEvidence& d : devices) list.push_back(DescribeDevice(d));
  return list;
}

}  // namespace

json ReportJson(const Lease& lease, const LeaseReport& r, const std::vector<Verdict>& verdicts) {
  json epochs = json::array();
  for (size_t i = 0; i < verdicts.size(); ++i) {
    json e = VerdictJson(lease, verdicts[i]);
    // The report's line for this epoch: the devices its record named, and whether they changed.
    for (const EpochLine& line : r.epoch_lines) {
      if (line.epoch != verdicts[i].epoch) continue;
      e["devices"] = DevicesJson(line.devices);
      e["devices_changed"] = line.devices_changed;
    }
    epochs.push_back(std::move(e));
  }
  const uint64_t passed = r.scheduled.passed + r.on_demand.passed;
  const uint64_t failed = r.scheduled.failed + r.on_demand.failed;
  const uint64_t missed = r.scheduled.missed + r.on_demand.missed;
  json j = {{"lease_id", ToHex(LeaseId(lease))},
            {"mode", LeaseModeName(lease.mode)},
            {"devices", r.devices},
            {"terms", LeaseTermsJson(lease)},
            {"epochs", r.epochs},
            {"passed", passed},
            {"failed", failed},
            {"missed", missed},
            {"void", r.void_epochs},
            {"scheduled", CountsJson(r.scheduled)},
            {"on_demand", CountsJson(r.on_demand)},
            {"all_passed", r.epochs > 0 && passed == r.epochs},
            {"proven_operations", r.proven_operations},
            {"throughput",
             {{"guaranteed_ops_per_second_per_device", r.guaranteed_rate_per_device},
              {"min_proven_ops_per_second_per_device", r.min_rate_per_device},
              {"median_proven_ops_per_second_per_device", r.median_rate_per_device}}},
            {"sampling",
             {{"audited_epochs", r.audited},
              {"escape_probability_skip_1pct", r.escape_skip_1pct},
              {"escape_probability_skip_10pct", r.escape_skip_10pct},
              {"explanation", r.escape_explanation}}},
            {"availability",
             {{"lower_bound", r.availability_lower_bound},
              {"confidence", r.confidence},
              {"from_scheduled_epochs", r.scheduled.closed()},
              {"explanation", r.availability_explanation},
              {"more_scheduled_passes_for_0_99",
               r.passes_needed_for_99 == UINT64_MAX ? json(nullptr) : json(r.passes_needed_for_99)}}},
            {"gpu_hours", {{"lease_hours_elapsed", r.lease_hours}, {"proven", r.gpu_hours_proven}}},
            {"devices_changed_at", r.devices_changed_at},
            {"epoch_verdicts", epochs}};
  return j;
}

}  // namespace vcp::cli
