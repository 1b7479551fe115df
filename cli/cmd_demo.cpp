// vcp demo: a whole short lease with both roles in this process (the library's lease driver, vcp/lease_driver.h),
// honest or with a lazy provider that skips a share of its tiles, printing a row per epoch and the lease verdict.
// Exit 0 when every epoch passed, 1 when one failed (a lazy provider caught), as vcp verify does per epoch.
#include <unistd.h>

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
  uint32_t n = 256, rounds = 8, samples = 0, epochs = 6;
  int threads = 0;
  double deadline_ms = 0, gap_ms = 300;
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
  LeaseDriverOptions o;
  VCP_ASSIGN_OR_RETURN(o.mode, ParseLeaseMode(f.mode));
  VCP_ASSIGN_OR_RETURN(o.run.backend, ParseBackendChoice(f.backend));
  o.run.threads = f.threads;
  o.verifier_threads = f.threads;
  o.epochs = f.epochs;
  o.workload.m = o.workload.n = o.workload.k = f.n;
  o.rounds = f.rounds;
  o.samples = f.samples;
  if (f.deadline_ms != 0) {
    VCP_ASSIGN_OR_RETURN(o.deadline_us, ScaledFlag("--deadline-ms", f.deadline_ms, 1000, 1, 1e9, "milliseconds"));
  }
  if (f.gap_ms != 0) {
    VCP_ASSIGN_OR_RETURN(o.mean_gap_us, ScaledFlag("--gap-ms", f.gap_ms, 1000, 0.001, 1e9, "milliseconds"));
  } else {
    o.mean_gap_us = 0;
  }
  o.skip_fraction = f.cheat;
  return o;
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
                  << " epochs\n"
                  << "provider: " << so_far.device.backend << " (" << so_far.device.name << "), skipping "
                  << Fixed(100 * f.cheat, 1) << "% of its tiles"
                  << (f.cheat > 0 ? " (simulated: garbage leaf hashes in place of those tiles)" : "") << "\n"
                  << "verifier: recomputes the sampled tiles on the CPU; deadline "
                  << Milliseconds(lease.epoch_deadline_us) << " ms on its clock\n\n"
                  << EpochTableHeader() << std::flush;
      } else if (step.kind == LeaseStepKind::kEpochClosed && step.verdict) {
        std::cout << EpochRow(lease, *step.verdict) << std::flush;
      }
    };
  }
  auto run = RunLease(root.dir / "verifier", root.dir / "provider", *options);
  if (!run.ok()) return ReportError(state, run.status());
  const LeaseReport& report = run->report;
  const bool all_passed = report.epochs > 0 && report.passed == report.epochs;
  if (state.json) {
    json j = ReportJson(run->lease, report, run->verdicts);
    j["ok"] = all_passed;
    j["cheat_fraction"] = f.cheat;
    j["skipped_per_epoch"] = run->skipped_per_epoch;
    j["expected_pass_probability"] = run->expected_pass_probability;
    j["backend"] = run->device.backend;
    j["device"] = run->device.name;
    if (!f.keep.empty()) j["stores"] = root.dir.string();
    PrintJson(j);
  } else {
    std::cout << "\n" << ReportText(run->lease, report);
    if (f.cheat > 0) {
      std::cout << "  expected          each epoch passes a provider skipping " << run->skipped_per_epoch
                << " positions (" << Fixed(100 * f.cheat, 1) << "%) with probability "
                << Sci(run->expected_pass_probability) << " = (1 - " << f.cheat << ")^" << run->lease.samples_per_epoch
                << "\n";
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
  demo->add_option("--epochs", f->epochs, "epochs to run (1..1000)")->capture_default_str();
  demo->add_option("--n", f->n, "M = N = K of the int8 workload")->capture_default_str();
  demo->add_option("--rounds", f->rounds, "R, workload rounds per epoch")->capture_default_str();
  demo->add_option("--samples", f->samples, "sampled tiles per epoch (default: the mode's minimum, 40 or 80)");
  demo->add_option("--deadline-ms", f->deadline_ms, "epoch deadline (default 10000, beacon 2000)");
  demo->add_option("--gap-ms", f->gap_ms, "mean gap between epochs, at random (Poisson) times; 0 = back to back")
      ->capture_default_str();
  demo->add_option("--backend", f->backend, "auto, cpu or cuda")->capture_default_str();
  demo->add_option("--threads", f->threads, "CPU threads, 0 = all")->capture_default_str();
  demo->add_option("--keep", f->keep, "keep both stores in this directory (default: a removed temp dir)");
  demo->callback([&state, f] { state.exit_code = DoDemo(state, *f); });
}

}  // namespace vcp::cli
