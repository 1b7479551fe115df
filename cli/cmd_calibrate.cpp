// vcp calibrate: time one device on a workload and suggest the lease terms for an epoch of the target length: R,
// the claimed rate per device, the slack and the network allowance (vcp/calibrate.h); the deadline follows.
#include <algorithm>
#include <iostream>
#include <memory>
#include <thread>

#include "format.h"
#include "protocol_commands.h"
#include "vcp/calibrate.h"
#include "vcp/engine.h"

namespace vcp::cli {

namespace {

struct CalibrateFlags {
  std::string workload = "int8", backend = "auto";
  uint32_t m = 1024, n = 1024, k = 1024, tile = kDefaultTile;
  int threads = 0, repeats = 3;
  uint32_t devices = 1;
  double target_seconds = 1.0, allowance_ms = 1000;
};

int DoCalibrate(const CliState& state, const CalibrateFlags& f) {
  WorkloadParams p;
  auto kind = ParseWorkloadKind(f.workload);
  if (!kind.ok()) return ReportError(state, kind.status());
  p.kind = *kind;
  p.m = f.m;
  p.n = f.n;
  p.k = f.k;
  p.tile = f.tile;
  if (Status s = ValidateWorkload(p); !s.ok()) return ReportError(state, s);
  if (f.repeats < 1) return ReportError(state, Status::InvalidArgument("--repeats must be 1 or more"));
  if (!(f.target_seconds > 0)) {
    return ReportError(state, Status::InvalidArgument("--target-seconds must be positive, e.g. 60"));
  }
  if (f.threads < 0) return ReportError(state, Status::InvalidArgument("--threads must be 0 (all) or positive"));
  if (f.devices < 1 || f.devices > kMaxDevices) {
    return ReportError(
        state, Status::InvalidArgument("--devices " + std::to_string(f.devices) + " is out of range; allowed: 1 to " +
                                       std::to_string(kMaxDevices)));
  }
  auto allowance = ScaledFlag("--allowance-ms", f.allowance_ms, 1000, 0, 1e9, "milliseconds");
  if (!allowance.ok()) return ReportError(state, allowance.status());
  RunOptions options;
  auto backend = ParseBackendChoice(f.backend);
  if (!backend.ok()) return ReportError(state, backend.status());
  options.backend = *backend;
  options.threads = f.threads;
  // A lease of D devices on the CPU runs D simulated devices that split the threads (vcp prove), so one device is
  // timed with its share; a GPU is timed as it is.
  auto selected = SelectBackend(options);
  if (!selected.ok()) return ReportError(state, selected.status());
  if (selected->backend == "cpu" && f.devices > 1) {
    const int all = f.threads > 0 ? f.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    options.threads = std::max(1, all / static_cast<int>(f.devices));
  }
  auto timing = MeasureRound(p, options, f.repeats);
  if (!timing.ok()) return ReportError(state, timing.status());
  auto suggestion =
      SuggestLeaseTerms(p, static_cast<uint8_t>(f.devices), timing->median_seconds, f.target_seconds, *allowance);
  if (!suggestion.ok()) return ReportError(state, suggestion.status());
  const DeviceInfo& device = timing->device;
  const LeaseSuggestion& s = *suggestion;
  const std::string slack = SlackText(s.slack_ppm);
  if (state.json) {
    PrintJson({{"ok", true},
               {"backend", device.backend},
               {"device", device.name},
               {"workload", WorkloadName(p.kind)},
               {"m", p.m},
               {"n", p.n},
               {"k", p.k},
               {"tile", p.tile},
               {"devices", s.devices},
               {"round_seconds", timing->median_seconds},
               {"round_seconds_all", timing->seconds},
               {"measured_ops_per_second_per_device", s.measured_ops_per_second},
               {"target_epoch_seconds", f.target_seconds},
               {"suggested_rounds", s.rounds},
               {"suggested_epoch_seconds", s.epoch_seconds},
               {"suggested_claimed_rate_per_device", s.claimed_ops_per_second_per_device},
               {"suggested_slack", double(s.slack_ppm) / 1e6},
               {"suggested_allowance_ms", double(s.network_allowance_us) / 1000},
               {"compute_time_ms", double(s.compute_us) / 1000},
               {"deadline_ms", double(s.deadline_us) / 1000},
               {"guaranteed_ops_per_second_per_device", s.guaranteed_ops_per_second_per_device},
               {"note", s.note}});
  } else {
    std::cout << "device      " << device.backend << ": " << device.name << " (one device timed"
              << (device.backend == "cpu" && f.devices > 1
                      ? " on " + std::to_string(options.threads) + (options.threads == 1 ? " thread" : " threads") +
                            ", its share of the CPU as one of " + std::to_string(f.devices) + " simulated devices"
                      : "")
              << ")\n"
              << "workload    " << DescribeWorkload(p) << "\n"
              << "round       " << Fixed(timing->median_seconds * 1000, 1) << " ms median of " << f.repeats
              << " (compute + commit), " << Sci(s.measured_ops_per_second) << " ops/s on this device\n"
              << "rate        claim " << Sci(double(s.claimed_ops_per_second_per_device)) << " ops/s per device ("
              << Fixed(100 * double(s.claimed_ops_per_second_per_device) / s.measured_ops_per_second, 0)
              << "% of the measured rate, so a somewhat slower epoch still passes)\n"
              << "rounds      R = " << s.rounds << " per device for a " << f.target_seconds << " s epoch\n"
              << "slack       " << slack << ": deadline " << Milliseconds(s.deadline_us) << " ms = compute time "
              << Milliseconds(s.compute_us) << " ms x (1 + " << slack
              << "); a passing epoch proves >= " << Sci(s.guaranteed_ops_per_second_per_device) << " ops/s per device\n"
              << "allowance   " << Milliseconds(s.network_allowance_us)
              << " ms for the network round trip, within half the slack margin\n";
    if (!s.note.empty()) std::cout << "adjusted    " << s.note << "\n";
    std::cout << "lease new   --workload " << WorkloadName(p.kind) << " --m " << p.m << " --n " << p.n << " --k " << p.k
              << " --tile " << p.tile << " --devices " << unsigned(s.devices) << " --rounds " << s.rounds << " --rate "
              << s.claimed_ops_per_second_per_device << " --slack " << slack << " --allowance-ms "
              << Milliseconds(s.network_allowance_us) << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterCalibrateCommand(CLI::App& app, CliState& state) {
  auto cal = std::make_shared<CalibrateFlags>();
  CLI::App* calibrate = app.add_subcommand(
      "calibrate", "measure one device and suggest R, the claimed rate per device, the slack and the allowance");
  calibrate->add_option("--workload", cal->workload, "int8 or fp32-ordered")->capture_default_str();
  calibrate->add_option("--m", cal->m, "rows M of A and C")->capture_default_str();
  calibrate->add_option("--n", cal->n, "columns N of B and C")->capture_default_str();
  calibrate->add_option("--k", cal->k, "inner dimension K (columns of A, rows of B)")->capture_default_str();
  calibrate->add_option("--tile", cal->tile, "tile size T")->capture_default_str();
  calibrate->add_option("--target-seconds", cal->target_seconds, "desired epoch length in seconds")
      ->capture_default_str();
  calibrate->add_option("--devices", cal->devices, "D: devices the lease will name (1 to 16), each as fast as this one")
      ->capture_default_str();
  calibrate
      ->add_option("--allowance-ms", cal->allowance_ms,
                   "network allowance to fit in the slack margin: the record's trip to the verifier")
      ->capture_default_str();
  calibrate->add_option("--repeats", cal->repeats, "rounds to time (the median counts)")->capture_default_str();
  calibrate->add_option("--backend", cal->backend, "auto, cpu or cuda")->capture_default_str();
  calibrate->add_option("--threads", cal->threads, "CPU threads, 0 = all")->capture_default_str();
  calibrate->callback([&state, cal] { state.exit_code = DoCalibrate(state, *cal); });
}

}  // namespace vcp::cli
