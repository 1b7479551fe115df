// lib/protocol/report_json.cpp: see report_json.h.
#include "protocol/report_json.h"

#include "vcp/bytes.h"

namespace vcp {

using json = nlohmann::json;

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
    // VerifierSession::OverdueVerdict: counted as what it will be closed as, and not signed yet.
    if (verdicts[i].verifier_signature == Signature{}) {
      e["overdue"] = true;
      e["signed"] = false;
    }
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

}  // namespace vcp
