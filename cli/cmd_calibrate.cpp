// vcp calibrate: time this device on a workload and suggest the lease terms (R, deadline, claimed rate) for an
// epoch of the target length.
#include <iostream>
#include <memory>

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
  double target_seconds = 1.0;
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
  RunOptions options;
  auto backend = ParseBackendChoice(f.backend);
  if (!backend.ok()) return ReportError(state, backend.status());
  options.backend = *backend;
  options.threads = f.threads;
  auto timing = MeasureRound(p, options, f.repeats);
  if (!timing.ok()) return ReportError(state, timing.status());
  auto suggestion = SuggestLeaseTerms(p, timing->median_seconds, f.target_seconds);
  if (!suggestion.ok()) return ReportError(state, suggestion.status());
  const DeviceInfo& device = timing->device;
  const LeaseSuggestion& s = *suggestion;
  if (state.json) {
    PrintJson({{"ok", true},
               {"backend", device.backend},
               {"device", device.name},
               {"workload", WorkloadName(p.kind)},
               {"m", p.m},
               {"n", p.n},
               {"k", p.k},
               {"tile", p.tile},
               {"round_seconds", timing->median_seconds},
               {"round_seconds_all", timing->seconds},
               {"ops_per_second", s.measured_ops_per_second},
               {"target_epoch_seconds", f.target_seconds},
               {"suggested_rounds", s.rounds},
               {"suggested_epoch_seconds", s.epoch_seconds},
               {"suggested_deadline_ms", s.deadline_ms},
               {"suggested_claimed_rate", s.claimed_ops_per_second}});
  } else {
    std::cout << "device      " << device.backend << ": " << device.name << "\n"
              << "workload    " << DescribeWorkload(p) << "\n"
              << "round       " << Fixed(timing->median_seconds * 1000, 1) << " ms median of " << f.repeats
              << " (compute + commit), " << Sci(s.measured_ops_per_second) << " ops/s\n"
              << "suggest     R = " << s.rounds << " rounds for a " << f.target_seconds << " s epoch; deadline "
              << s.deadline_ms << " ms; claimed rate " << Sci(double(s.claimed_ops_per_second)) << " ops/s\n"
              << "lease new   --workload " << WorkloadName(p.kind) << " --m " << p.m << " --n " << p.n << " --k " << p.k
              << " --tile " << p.tile << " --rounds " << s.rounds << " --deadline-ms " << s.deadline_ms << " --rate "
              << s.claimed_ops_per_second << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterCalibrateCommand(CLI::App& app, CliState& state) {
  auto cal = std::make_shared<CalibrateFlags>();
  CLI::App* calibrate = app.add_subcommand("calibrate", "measure this device and suggest R, a deadline and a rate");
  calibrate->add_option("--workload", cal->workload, "int8 or fp32-ordered")->capture_default_str();
  calibrate->add_option("--m", cal->m, "rows M of A and C")->capture_default_str();
  calibrate->add_option("--n", cal->n, "columns N of B and C")->capture_default_str();
  calibrate->add_option("--k", cal->k, "inner dimension K (columns of A, rows of B)")->capture_default_str();
  calibrate->add_option("--tile", cal->tile, "tile size T")->capture_default_str();
  calibrate->add_option("--target-seconds", cal->target_seconds, "desired epoch length in seconds")
      ->capture_default_str();
  calibrate->add_option("--repeats", cal->repeats, "rounds to time (the median counts)")->capture_default_str();
  calibrate->add_option("--backend", cal->backend, "auto, cpu or cuda")->capture_default_str();
  calibrate->add_option("--threads", cal->threads, "CPU threads, 0 = all")->capture_default_str();
  calibrate->callback([&state, cal] { state.exit_code = DoCalibrate(state, *cal); });
}

}  // namespace vcp::cli
