// cli/format.cpp: see format.h.
#include "format.h"

#include <cstdio>
#include <ctime>
#include <sstream>

namespace vcp::cli {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string Hours(double v) {
  if (v == 0 || v >= 0.01) return Fixed(v, 2);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string Pad(std::string s, size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string TimeText(uint64_t unix_us) {
  const auto t = static_cast<std::time_t>(unix_us / 1000000);
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Milliseconds(uint64_t us) { return Fixed(double(us) / 1000, us < 100000 && us % 1000 != 0 ? 1 : 0); }

std::string DescribeWorkload(const WorkloadParams& p) {
  return std::string(WorkloadName(p.kind)) + " " + std::to_string(p.m) + "x" + std::to_string(p.n) + "x" +
         std::to_string(p.k) + " T=" + std::to_string(p.tile);
}

std::string DescribeEpochShape(const Lease& lease) {
  return "D = " + DeviceCount(lease.devices) + ", R = " + std::to_string(lease.rounds_per_epoch) +
         " rounds per device, " + std::to_string(lease.samples_per_epoch) + " samples per epoch";
}

std::string DeviceCount(size_t devices) { return std::to_string(devices) + (devices == 1 ? " device" : " devices"); }

std::string SlackText(uint32_t slack_ppm) {
  std::string s = Fixed(double(slack_ppm) / 1e6, 6);
  while (s.size() > 3 && s.back() == '0') s.pop_back();  // "0.25", "1.0"
  return s;
}

std::string LeaseTermsText(const Lease& lease) {
  const double rate = double(lease.claimed_ops_per_second_per_device);
  const uint64_t compute = ComputeTimeUs(lease), deadline = EpochDeadlineUs(lease);
  const std::string devices = DeviceCount(lease.devices);
  std::ostringstream s;
  s << "claimed     " << Sci(rate) << " ops/s per device";
  if (lease.devices > 1) s << " (" << Sci(rate * lease.devices) << " ops/s over the " << devices << ")";
  s << "\n"
    << "deadline    " << Milliseconds(deadline) << " ms per epoch = compute time " << Milliseconds(compute)
    << " ms (R x 2MNK = " << Sci(double(DeviceOperations(lease)))
    << " operations per device at the claimed rate) x (1 + slack " << SlackText(lease.slack_ppm)
    << "), from the epoch start to the record's arrival on the verifier's clock\n"
    << "proves      a passing epoch proves >= " << Sci(GuaranteedRatePerDevice(lease))
    << " ops/s per device (claimed rate / (1 + slack)";
  if (lease.devices > 1) s << ", all " << devices << " at once";
  s << ")\n"
    << "allowance   " << Milliseconds(lease.network_allowance_us) << " ms of the " << Milliseconds(deadline - compute)
    << " ms slack margin is promised to the network round trip (at most half "
    << "of it)\n";
  return s.str();
}

std::string EpochTableHeader() { return "epoch  schedule   verdict  window ms  deadline ms  what the epoch shows\n"; }

std::string EpochRow(const Lease& lease, const Verdict& v) {
  const VerdictOutcome outcome = OutcomeOf(v.reason);
  const uint64_t window = v.arrival_us > v.start_us ? v.arrival_us - v.start_us : 0;
  std::string verdict, shows;
  switch (outcome) {
    case VerdictOutcome::kPass:
      verdict = "PASS";
      shows = "proven >= " + Sci(ProvenRatePerDevice(lease, v)) + " ops/s per device";
      break;
    case VerdictOutcome::kFail:
      verdict = "FAIL";
      shows = "the provider failed: " + std::string(ReasonName(v.reason));
      break;
    case VerdictOutcome::kVoid:
      verdict = "VOID";
      shows = std::string(ReasonName(v.reason)) + ": the verifier could not time it, neither pass nor fail";
      break;
  }
  return Pad(std::to_string(v.epoch), 5, true) + "  " + Pad(std::string(EpochScheduleName(v.schedule)), 9) + "  " +
         Pad(verdict, 7) + "  " + Pad(v.arrival_us ? Milliseconds(window) : "-", 9, true) + "  " +
         Pad(Milliseconds(EpochDeadlineUs(lease)), 11, true) + "  " + shows + "\n";
}

std::string DevicesText(const LeaseReport& report) {
  std::ostringstream s;
  const std::vector<DeviceEvidence>* shown = nullptr;
  for (const EpochLine& line : report.epoch_lines) {
    if (line.devices.empty()) continue;
    if (shown != nullptr && !line.devices_changed) continue;
    if (line.devices_changed) {
      s << "  devices changed at epoch " << line.epoch << " (not a failure: the provider now names other devices)\n";
    }
    s << "  from epoch " << line.epoch << ":\n";
    for (size_t d = 0; d < line.devices.size(); ++d) {
      s << "    device " << d << "  " << DescribeDevice(line.devices[d]) << "\n";
    }
    shown = &line.devices;
  }
  if (shown == nullptr) return "";
  return "devices, as each record states them (signed but informative; only the deadline proves throughput)\n" +
         s.str();
}

std::string ReportText(const LeaseReport& r) {
  auto counts = [](const ScheduleCounts& c) {
    return std::to_string(c.passed) + " passed, " + std::to_string(c.failed) + " failed, " + std::to_string(c.missed) +
           " missed";
  };
  const uint64_t failures = r.scheduled.failed + r.scheduled.missed + r.on_demand.failed + r.on_demand.missed;
  const uint64_t passes = r.scheduled.passed + r.on_demand.passed;
  std::ostringstream s;
  s << "lease verdict\n"
    << "  scheduled epochs  " << counts(r.scheduled)
    << " (started at the verifier's secret audit times: these measure availability)\n"
    << "  on-demand epochs  " << counts(r.on_demand)
    << " (started when the verifier chose: they prove throughput, not availability)\n"
    << "  void epochs       " << r.void_epochs
    << " (the verifier could not run or time them itself: neither a pass nor the provider's failure)\n"
    << "  proven            " << Sci(double(r.proven_operations)) << " operations in the passing epochs\n";
  if (passes > 0) {
    s << "  throughput        every passing epoch proved >= " << Sci(r.guaranteed_rate_per_device)
      << " ops/s per device (the claimed rate / (1 + slack)); measured over their windows: min "
      << Sci(r.min_rate_per_device) << ", median " << Sci(r.median_rate_per_device) << " ops/s per device\n";
  } else {
    s << "  throughput        nothing proven yet: a passing epoch would prove >= " << Sci(r.guaranteed_rate_per_device)
      << " ops/s per device\n";
  }
  s << "  sampling          " << r.escape_explanation << "\n"
    << "  availability      " << r.availability_explanation << "\n";
  if (r.scheduled.closed() > 0) {
    s << "  toward 0.99       ";
    if (r.availability_lower_bound >= 0.99) {
      s << "the bound is already at least 0.99\n";
    } else if (r.passes_needed_for_99 == UINT64_MAX) {
      s << "no number of further passing scheduled epochs raises the bound to 0.99 at this confidence\n";
    } else {
      s << r.passes_needed_for_99 << " more passing scheduled epochs (and no failures) would raise the bound to "
        << "0.99\n";
    }
  }
  s << "  GPU-hours proven  " << Hours(r.gpu_hours_proven) << " = " << DeviceCount(r.devices) << " x "
    << Hours(r.lease_hours) << " lease hours elapsed x the availability bound " << Fixed(r.availability_lower_bound, 3)
    << "\n"
    << "  result            "
    << (r.epochs == 0        ? "no epochs yet"
        : failures > 0       ? "SOME EPOCHS FAILED (the provider's failures above)"
        : r.void_epochs == 0 ? "every epoch passed"
        : passes > 0         ? "no epoch failed; some were void (the verifier's side)"
                             : "no epoch failed, none passed: every epoch was void (the verifier's side)")
    << "\n";
  return s.str();
}

}  // namespace vcp::cli
