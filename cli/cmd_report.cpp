// vcp report: the verifier's lease verdict so far, read from its store (no key needed: it signs nothing).
#include <iostream>
#include <memory>
#include <optional>

#include "format.h"
#include "protocol_commands.h"
#include "vcp/lease_session.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

struct ReportFlags {
  std::string store;
  double confidence = 0.95;
  double response_wait_s = 0;  // AddResponseWaitOption sets the default
};

int DoReport(const CliState& state, const ReportFlags& f) {
  if (!(f.confidence > 0 && f.confidence < 1)) {
    return ReportError(state, Status::InvalidArgument("--confidence must be between 0 and 1, e.g. 0.95"));
  }
  VerifierOptions options;
  auto wait = ResponseWaitUs(f.response_wait_s);
  if (!wait.ok()) return ReportError(state, wait.status());
  options.response_wait_us = *wait;
  // A reader: no lock, nothing written (a writer may be appending right now), so no key and no signature either.
  auto session = VerifierSession::OpenForReading(f.store, options);
  if (!session.ok()) return ReportError(state, session.status());
  PrintRecovery(state, session->recovery(), "verifier", /*cut=*/false);
  const VerifierSession& v = *session;
  const uint64_t now = SystemClock().NowMicros();
  const LeaseReport report = v.Report(now, f.confidence);
  std::vector<Verdict> verdicts = v.verdicts();
  // Report() counts an overdue open epoch as what it will be closed as; show it, marked as not signed yet.
  const std::optional<Verdict> overdue = v.OverdueVerdict(now, options.response_wait_us);
  if (overdue) verdicts.push_back(*overdue);
  const uint64_t next = v.NextAuditUs(now);
  if (state.json) {
    json j = ReportJson(v.lease(), report, verdicts);
    j["next_audit_us"] = next;
    if (overdue) {
      j["overdue"] = {{"epoch", overdue->epoch},
                      {"reason", ReasonName(overdue->reason)},
                      {"signed", false},
                      {"detail", overdue->detail}};
    }
    PrintJson(j);
  } else {
    std::cout << "lease " << ToHex(v.lease_id()) << ": " << LeaseModeName(v.lease().mode) << ", "
              << DescribeWorkload(v.lease().workload) << ", " << DescribeEpochShape(v.lease()) << "\n"
              << LeaseTermsText(v.lease()) << "\n"
              << EpochTableHeader();
    for (const Verdict& verdict : verdicts) std::cout << EpochRow(v.lease(), verdict);
    if (overdue) {
      std::cout << "  epoch " << overdue->epoch << " is overdue, not yet signed: counted " << ReasonName(overdue->reason)
                << " (" << overdue->detail << "); the next vcp epoch start, challenge or verify signs it\n";
    }
    std::cout << "\n"
              << DevicesText(report) << ReportText(report) << "  next audit        "
              << (next ? TimeText(next) + " (the next time on the secret schedule)" : "none left in the lease") << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterReportCommand(CLI::App& app, CliState& state) {
  auto f = std::make_shared<ReportFlags>();
  CLI::App* report = app.add_subcommand("report", "verifier: the lease verdict so far (table, or JSON with --json)");
  report->add_option("--store", f->store, "verifier store")->required();
  report->add_option("--confidence", f->confidence, "confidence level of the availability and GPU-hours bound")
      ->capture_default_str();
  AddResponseWaitOption(report, f->response_wait_s);
  report->callback([&state, f] { state.exit_code = DoReport(state, *f); });
}

}  // namespace vcp::cli
