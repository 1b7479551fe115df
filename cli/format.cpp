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

std::string FromComplement(double complement) {
  if (complement <= 0) return "1";
  if (complement < 1e-4) return "1 - " + Sci(complement);
  return Fixed(1 - complement, 4);
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

std::string Milliseconds(uint64_t us) { return Fixed(double(us) / 1000, 0); }

std::string DescribeWorkload(const WorkloadParams& p) {
  return std::string(WorkloadName(p.kind)) + " " + std::to_string(p.m) + "x" + std::to_string(p.n) + "x" +
         std::to_string(p.k) + " T=" + std::to_string(p.tile);
}

std::string DescribeEpochShape(const Lease& lease) {
  return "R = " + std::to_string(lease.rounds_per_epoch) + " rounds, " + std::to_string(lease.samples_per_epoch) +
         " samples per epoch";
}

std::string EpochTableHeader() {
  return "epoch  verdict  reason             window ms  deadline ms   operations  rate ops/s\n";
}

std::string EpochRow(const Lease& lease, const Verdict& v) {
  const bool pass = v.reason == Reason::kPass;
  const uint64_t window = v.arrival_us > v.start_us ? v.arrival_us - v.start_us : 0;
  return Pad(std::to_string(v.epoch), 5, true) + "  " + Pad(pass ? "PASS" : "FAIL", 7) + "  " +
         Pad(pass ? "-" : std::string(ReasonName(v.reason)), 17) + "  " +
         Pad(v.arrival_us ? Fixed(double(window) / 1000, 1) : "-", 9, true) + "  " +
         Pad(Milliseconds(lease.epoch_deadline_us), 11, true) + "  " +
         Pad(pass ? Sci(double(v.operations)) : "-", 11, true) + "  " + Pad(pass ? Sci(EpochRate(v)) : "-", 10, true) +
         "\n";
}

std::string ReportText(const Lease& lease, const LeaseReport& r) {
  std::ostringstream s;
  s << "lease verdict\n"
    << "  epochs            " << r.passed << " passed, " << r.failed << " failed, " << r.missed << " missed\n"
    << "  proven            " << Sci(double(r.proven_operations)) << " operations";
  if (r.passed > 0) {
    s << "; throughput median " << Sci(r.median_rate) << " ops/s, min " << Sci(r.min_rate) << " ops/s (claimed "
      << Sci(double(lease.claimed_ops_per_second)) << ": " << (r.meets_claimed_rate ? "met" : "NOT met") << ")";
  }
  s << "\n  would catch       a provider skipping 1% of its tiles with probability "
    << FromComplement(r.escape_skip_1pct) << "; skipping 10%: " << FromComplement(r.escape_skip_10pct) << "\n";
  if (lease.mode == LeaseMode::kBeacon) {
    s << "  if beacons leak   against 2^" << kGrindingBudgetBits
      << " re-rolls per epoch: 1%: " << FromComplement(r.escape_skip_1pct_grinding)
      << ", 10%: " << FromComplement(r.escape_skip_10pct_grinding) << "\n";
  }
  s << "  GPU-hours proven  " << Sci(r.gpu_hours_proven) << " of " << Sci(r.lease_hours)
    << " lease hours elapsed (availability >= " << Fixed(r.availability_lower_bound, 3) << " at "
    << Fixed(100 * r.confidence, 0) << "% confidence, from " << r.passed << " of " << r.epochs
    << " epochs at random times)\n"
    << "  result            "
    << (r.epochs == 0          ? "no epochs yet"
        : r.passed == r.epochs ? "every epoch passed"
                               : "SOME EPOCHS FAILED")
    << "\n";
  return s.str();
}

}  // namespace vcp::cli
