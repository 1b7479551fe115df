// vcp demo: a whole short lease with both roles in this process (the library's lease driver, vcp/lease_driver.h),
// on D devices at once, honest or with a lazy provider that skips a share of its tiles, printing the lease terms, a
// row per epoch, the devices the records name and the lease verdict.
// Exit 0 when every epoch passed, 1 when one failed (a lazy provider caught), as vcp verify does per epoch.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "format.h"
#include "protocol_commands.h"
#include "vcp/lease_driver.h"

namespace vcp::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct DemoFlags {
  double cheat = 0;
  std::string mode = "interactive", backend = "auto", keep;
  uint32_t n = 256, rounds = 8, samples = 0, epochs = 6, devices = 1;
  int threads = 0;
  double rate = 0, slack = double(kDefaultSlackPpm) / 1e6, audit_share = 0.5;
  bool on_demand = false;
};

// The stores live in --keep, or in a temporary directory removed on every way out.
struct DemoRoot {
  fs::path dir;
  bool remove = false;
  ~DemoRoot() {
    std::error_code ignored;
    if (remove) fs::remove_all(dir, ignored);
  }
};

Status MakeDemoRoot(const std::string& keep, DemoRoot& root) {
  if (!keep.empty()) {
    root.dir = keep;
    return Status::Ok();
  }
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  if (ec) return Status::IoError("no temporary directory for the demo: " + ec.message());
  root.dir = tmp / ("vcp-demo-" + std::to_string(::getpid()));
  fs::remove_all(root.dir, ec);
  root.remove = true;
  return Status::Ok();
}

Result<LeaseDriverOptions> DriverOptions(const DemoFlags& f) {
  if (!(f.cheat >= 0 && f.cheat <= 1)) {
    return Status::InvalidArgument("--cheat " + Sci(f.cheat) +
                                   " is out of range; allowed: 0 (honest) to 1, the "
                                   "fraction of tiles the provider skips");
  }
  if (f.epochs < 1 || f.epochs > 1000) {
    return Status::InvalidArgument("--epochs " + std::to_string(f.epochs) + " is out of range; allowed: 1 to 1000");
  }
  if (f.threads < 0) return Status::InvalidArgument("--threads must be 0 (all) or positive");
  if (f.devices < 1 || f.devices > kMaxDevices) {
    return Status::InvalidArgument("--devices " + std::to_string(f.devices) + " is out of range; allowed: 1 to " +
                                   std::to_string(kMaxDevices));
  }
  if (!(f.slack >= 0 && f.slack <= double(kMaxSlackPpm) / 1e6)) {
    return Status::InvalidArgument("--slack " + Sci(f.slack) + " is out of range; allowed: 0 to " +
                                   SlackText(kMaxSlackPpm));
  }
  if (!(f.audit_share > 0 && f.audit_share <= 1)) {
    return Status::InvalidArgument("--audit-share " + Sci(f.audit_share) +
                                   " is out of range; allowed: above 0, up to 1 (the share of the lease in epochs)");
  }
  LeaseDriverOptions o;
  VCP_ASSIGN_OR_RETURN(o.mode, ParseLeaseMode(f.mode));
  VCP_ASSIGN_OR_RETURN(o.run.backend, ParseBackendChoice(f.backend));
  o.run.threads = f.threads;
  o.verifier_threads = f.threads;
  o.epochs = f.epochs;
  o.workload.m = o.workload.n = o.workload.k = f.n;
  o.devices = static_cast<uint8_t>(f.devices);
  o.rounds = f.rounds;
  o.samples = f.samples;
  if (f.rate != 0) {
    VCP_ASSIGN_OR_RETURN(o.claimed_ops_per_second_per_device,
                         ScaledFlag("--rate", f.rate, 1, 1, kMaxRateFlag, "operations per second per device"));
  }
  o.slack_ppm = static_cast<uint32_t>(std::llround(f.slack * 1e6));
  o.audit_share = f.audit_share;
  o.on_demand = f.on_demand;
  o.skip_fraction = f.cheat;
  return o;
}

// What the lazy provider really skips: a whole number of positions, which --cheat only approximates on a small shape.
uint64_t EpochPositions(const LeaseRun& run) { return uint64_t{EpochRounds(run.lease)} * LeavesPerRound(run.lease); }
double SkippedShare(const LeaseRun& run) {
  const uint64_t positions = EpochPositions(run);
  return positions == 0 ? 0 : double(run.skipped_per_epoch) / double(positions);
}
// "3 of 64 tiles (4.7%) per epoch"
std::string SkippedText(const LeaseRun& run) {
  return std::to_string(run.skipped_per_epoch) + " of its " + std::to_string(EpochPositions(run)) + " tiles (" +
         Fixed(100 * SkippedShare(run), 1) + "%) per epoch";
}

int DoDemo(const CliState& state, const DemoFlags& f) {
  auto options = DriverOptions(f);
  if (!options.ok()) return ReportError(state, options.status());
  DemoRoot root;
  if (Status s = MakeDemoRoot(f.keep, root); !s.ok()) return ReportError(state, s);
  if (!state.json) {
    options->progress = [&f](const LeaseStep& step, const LeaseRun& so_far) {
      const Lease& lease = so_far.lease;
      if (step.kind == LeaseStepKind::kLeaseAccepted) {
        std::cout << "vcp demo: " << (lease.mode == LeaseMode::kBeacon ? "a beacon" : "an interactive") << " lease, "
                  << DescribeWorkload(lease.workload) << ", " << DescribeEpochShape(lease) << ", " << f.epochs
                  << (f.on_demand ? " epochs on demand, back to back\n"
                                  : " epochs at the verifier's secret audit times (compressed: " +
                                        Fixed(100 * f.audit_share, 0) + "% of the time in epochs)\n")
                  << LeaseTermsText(lease) << "provider    " << so_far.backend.backend << " (" << so_far.backend.name
                  << "), " << DeviceCount(lease.devices) << (lease.devices > 1 ? " at once" : "")
                  << (so_far.backend.backend == "cpu" && lease.devices > 1 ? " (simulated, sharing the CPU threads)"
                                                                           : "")
                  << ", skipping " << SkippedText(so_far)
                  << (f.cheat > 0 ? " (simulated: garbage leaf hashes in place of those tiles)" : "") << "\n"
                  << "verifier    recomputes the sampled tiles on the CPU and times every record on its clock\n\n"
                  << EpochTableHeader() << std::flush;
      } else if (step.kind == LeaseStepKind::kEpochClosed && step.verdict) {
        std::cout << EpochRow(lease, *step.verdict) << std::flush;
      }
    };
  }
  auto run = RunLease(root.dir / "verifier", root.dir / "provider", *options);
  if (!run.ok()) return ReportError(state, run.status());
  const LeaseReport& report = run->report;
  const bool all_passed = report.epochs > 0 && report.scheduled.passed + report.on_demand.passed == report.epochs;
  if (state.json) {
    json j = ReportJson(run->lease, report, run->verdicts);
    j["ok"] = all_passed;
    j["cheat_fraction"] = f.cheat;
    j["skipped_per_epoch"] = run->skipped_per_epoch;
    j["positions_per_epoch"] = EpochPositions(*run);
    j["skipped_fraction"] = SkippedShare(*run);
    j["expected_pass_probability"] = run->expected_pass_probability;
    j["backend"] = run->backend.backend;
    json devices = json::array();
    for (const DeviceEvidence& d : run->devices) devices.push_back(DescribeDevice(d));
    j["run_devices"] = devices;
    if (!f.keep.empty()) j["stores"] = root.dir.string();
    PrintJson(j);
  } else {
    std::cout << "\n" << DevicesText(report) << ReportText(report);
    if (f.cheat > 0) {
      std::cout << "  expected          each epoch passes a provider skipping " << SkippedText(*run)
                << " with probability " << Sci(run->expected_pass_probability) << " = (1 - "
                << Sci(SkippedShare(*run)) << ")^" << run->lease.samples_per_epoch << "\n";
    }
    if (!f.keep.empty()) std::cout << "stores kept in " << root.dir.string() << "\n";
  }
  return all_passed ? kExitOk : kExitRejected;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, CliState& state) {
  auto f = std::make_shared<DemoFlags>();
  CLI::App* demo = app.add_subcommand(
      "demo",
      "run a whole short lease, both roles in this process, and print the lease verdict; exit 0 when every "
      "epoch passed, 1 when one failed");
  demo->add_option("--cheat", f->cheat, "fraction of tiles the provider skips (0 = honest)")->capture_default_str();
  demo->add_option("--mode", f->mode, "interactive or beacon")->capture_default_str();
  demo->add_option("--epochs", f->epochs, "epochs to run (1 to 1000)")->capture_default_str();
  demo->add_option("--devices", f->devices,
                   "D: devices the lease names (1 to 16); cpu: simulated devices sharing the threads, cuda: GPUs "
                   "0 to D - 1")
      ->capture_default_str();
  demo->add_option("--n", f->n, "M = N = K of the int8 workload")->capture_default_str();
  demo->add_option("--rounds", f->rounds, "R, workload rounds per device per epoch")->capture_default_str();
  demo->add_option("--samples", f->samples, "sampled tiles per epoch (default: the mode's minimum, 40 or 80)");
  demo->add_option("--rate", f->rate,
                   "claimed operations per second per device (default: a third of one measured round's rate)");
  demo->add_option("--slack", f->slack, "deadline margin over the compute time, 0 to 1.0")->capture_default_str();
  demo->add_option("--audit-share", f->audit_share,
                   "scheduled epochs take this share of the time (a demo compresses the secret schedule)")
      ->capture_default_str();
  demo->add_flag("--on-demand", f->on_demand,
                 "start every epoch at once instead of at the audit times (no availability bound then)");
  demo->add_option("--backend", f->backend, "auto, cpu or cuda")->capture_default_str();
  demo->add_option("--threads", f->threads, "CPU threads, 0 = all")->capture_default_str();
  demo->add_option("--keep", f->keep, "keep both stores in this directory (default: a removed temp dir)");
  demo->callback([&state, f] { state.exit_code = DoDemo(state, *f); });
}

}  // namespace vcp::cli
