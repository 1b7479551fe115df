// The lease report, the lease plan and the audit schedule (docs/PROTOCOL.md sections 10 and 11).
#include "vcp/verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "vcp/bytes.h"

namespace vcp {

namespace {

// (1 - s)^n: the chance that n uniform samples all miss the skipped positions.
double EscapeProbability(double skipped, double samples) { return std::exp(samples * std::log1p(-skipped)); }

// log of P(X >= x) for X ~ Binomial(n, p), 0 < p < 1, summed in log space (n may be in the thousands).
double LogUpperTail(uint64_t x, uint64_t n, double p) {
  const double lp = std::log(p), lq = std::log1p(-p);
  double max_term = -INFINITY;
  std::vector<double> terms;
  terms.reserve(n - x + 1);
  for (uint64_t i = x; i <= n; ++i) {
    const double t = std::lgamma(double(n) + 1) - std::lgamma(double(i) + 1) - std::lgamma(double(n - i) + 1) +
                     double(i) * lp + double(n - i) * lq;
    terms.push_back(t);
    max_term = std::max(max_term, t);
  }
  double sum = 0;
  for (double t : terms) sum += std::exp(t - max_term);
  return max_term + std::log(sum);
}

// Failures found in the sampled openings: the epochs in which a lazy provider was put to the test. A failure
// before that (late, wrong parameters, no response) checked no sample.
bool SamplesChecked(Reason reason) {
  switch (reason) {
    case Reason::kWrongSamples:
    case Reason::kBadProof:
    case Reason::kTileMismatch:
    case Reason::kBadEpochProof:
      return true;
    default:
      return false;
  }
}

}  // namespace

double ProvenRatePerDevice(const Lease& lease, const Verdict& verdict) {
  if (OutcomeOf(verdict.reason) != VerdictOutcome::kPass) return 0;
  const uint64_t window = verdict.arrival_us > verdict.start_us ? verdict.arrival_us - verdict.start_us : 1;
  return double(verdict.operations) / double(std::max<uint32_t>(lease.devices, 1)) / (double(window) * 1e-6);
}

double BinomialLowerBound(uint64_t successes, uint64_t trials, double confidence) {
  if (trials == 0 || successes == 0) return 0;
  const double alpha = 1 - confidence;
  if (successes >= trials) return std::pow(alpha, 1.0 / double(trials));
  // P(X >= successes | p) rises with p: bisect for the p where it equals alpha.
  const double target = std::log(alpha);
  double lo = 0, hi = 1;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (LogUpperTail(successes, trials, mid) < target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

uint64_t MoreSuccessesFor(uint64_t successes, uint64_t trials, double confidence, double target) {
  const auto reaches = [&](uint64_t m) { return BinomialLowerBound(successes + m, trials + m, confidence) >= target; };
  if (reaches(0)) return 0;
  // The bound rises with m (one more success in one more trial): double until it is reached, then bisect.
  constexpr uint64_t kLimit = uint64_t{1} << 40;
  uint64_t hi = 1;
  while (!reaches(hi)) {
    if (hi >= kLimit) return UINT64_MAX;
    hi *= 2;
  }
  uint64_t lo = hi / 2;  // !reaches(lo) (lo = 0 is known not to)
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (reaches(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

namespace {

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * fraction);
  return buf;
}

std::string Sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", x);
  return buf;
}

// Three significant digits: a share or an expected count near the boundary of one audit must not print as 1.
std::string Sig3(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

std::string AvailabilityExplanation(const LeaseReport& r) {
  const ScheduleCounts& s = r.scheduled;
  const std::string conf = Percent(r.confidence);
  if (s.closed() == 0) {
    return "no scheduled epoch has closed yet: availability is proven only by epochs at the secret audit times "
           "(on-demand and void epochs do not count)";
  }
  std::string line = "at " + conf + " confidence the devices delivered at least " +
                     Percent(r.availability_lower_bound) + " of the lease time: " + std::to_string(s.passed) + " of " +
                     std::to_string(s.closed()) + " scheduled epochs at secret random times passed";
  if (s.missed > 0) line += " (" + std::to_string(s.missed) + " missed, counted as not delivered)";
  line += "; on-demand and void epochs are not counted";
  return line;
}

std::string EscapeExplanation(const Lease& lease, const LeaseReport& r) {
  if (r.audited == 0) return "no epoch's samples have been checked yet";
  std::string line = "a provider that skipped 1% of every epoch's work would have passed all " +
                     std::to_string(r.audited) + " checked epochs (" + std::to_string(lease.samples_per_epoch) +
                     " samples each) with probability " + Sci(r.escape_skip_1pct) + ", skipping 10% with " +
                     Sci(r.escape_skip_10pct);
  if (lease.mode == LeaseMode::kBeacon) {
    line += "; this assumes each beacon round was unknown until after its record's deadline (a provider that "
            "learned it early can re-roll records: see docs/PROTOCOL.md section 8)";
  }
  return line;
}

}  // namespace

LeaseReport SummarizeLease(const Lease& lease, std::span<const ReportEpoch> epochs, uint64_t now_us,
                           double confidence) {
  LeaseReport report;
  report.devices = lease.devices;
  report.guaranteed_rate_per_device = GuaranteedRatePerDevice(lease);
  std::vector<double> rates;
  const std::vector<DeviceEvidence>* previous_devices = nullptr;
  for (const ReportEpoch& e : epochs) {
    const Verdict& v = e.verdict;
    ++report.epochs;
    EpochLine line;
    line.epoch = v.epoch;
    line.schedule = v.schedule;
    line.reason = v.reason;
    line.outcome = OutcomeOf(v.reason);
    line.window_us = v.arrival_us > v.start_us ? v.arrival_us - v.start_us : 0;
    line.devices = e.devices;
    if (!e.devices.empty()) {
      if (previous_devices != nullptr && !SameDeviceSet(*previous_devices, e.devices)) {
        line.devices_changed = true;
        report.devices_changed_at.push_back(v.epoch);
      }
      previous_devices = &e.devices;
    }
    ScheduleCounts& counts = v.schedule == EpochSchedule::kScheduled ? report.scheduled : report.on_demand;
    switch (line.outcome) {
      case VerdictOutcome::kPass:
        ++counts.passed;
        ++report.audited;
        line.operations = v.operations;
        line.proven_rate_per_device = ProvenRatePerDevice(lease, v);
        report.proven_operations += v.operations;
        rates.push_back(line.proven_rate_per_device);
        break;
      case VerdictOutcome::kFail:
        if (v.reason == Reason::kMissed) {
          ++counts.missed;
        } else {
          ++counts.failed;
          if (SamplesChecked(v.reason)) ++report.audited;
        }
        break;
      case VerdictOutcome::kVoid:
        ++report.void_epochs;
        break;
    }
    report.epoch_lines.push_back(std::move(line));
  }
  if (!rates.empty()) {
    std::sort(rates.begin(), rates.end());
    const size_t n = rates.size();
    report.median_rate_per_device = n % 2 ? rates[n / 2] : 0.5 * (rates[n / 2 - 1] + rates[n / 2]);
    report.min_rate_per_device = rates.front();
  }

  const double samples = double(lease.samples_per_epoch) * double(report.audited);
  report.escape_skip_1pct = EscapeProbability(0.01, samples);
  report.escape_skip_10pct = EscapeProbability(0.10, samples);
  report.escape_explanation = EscapeExplanation(lease, report);

  const uint64_t until = std::clamp(now_us, lease.start_us, lease.end_us);
  report.lease_hours = double(until - lease.start_us) / 3.6e9;
  report.confidence = confidence;
  report.availability_lower_bound =
      BinomialLowerBound(report.scheduled.passed, report.scheduled.closed(), confidence);
  report.availability_explanation = AvailabilityExplanation(report);
  report.passes_needed_for_99 = MoreSuccessesFor(report.scheduled.passed, report.scheduled.closed(), confidence, 0.99);
  report.gpu_hours_proven = double(lease.devices) * report.lease_hours * report.availability_lower_bound;
  return report;
}

LeasePlan PlanLease(const Lease& lease, double audit_share, double confidence) {
  LeasePlan plan;
  plan.lease_hours = lease.end_us > lease.start_us ? double(lease.end_us - lease.start_us) / 3.6e9 : 0;
  plan.audit_share = audit_share;
  plan.confidence = confidence;
  const uint64_t deadline = EpochDeadlineUs(lease);
  if (deadline > 0 && audit_share > 0) {
    plan.expected_scheduled_epochs =
        double(lease.end_us - std::min(lease.end_us, lease.start_us)) * std::min(audit_share, 1.0) / double(deadline);
  }
  const double e = plan.expected_scheduled_epochs;
  plan.perfect_bound = e > 0 ? std::pow(1 - confidence, 1 / e) : 0;
  plan.perfect_gpu_hours = double(lease.devices) * plan.lease_hours * plan.perfect_bound;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", e);
  plan.explanation = "about " + std::string(buf) + " scheduled epochs expected over the lease on average (" +
                     Percent(audit_share) + " of its time in epochs of the deadline's length): even if every one passes, the availability "
                     "bound at " + Percent(confidence) + " confidence reaches only " + Percent(plan.perfect_bound) +
                     "; a larger share or shorter epochs raise it";
  return plan;
}

double MinAuditShare(const Lease& lease) {
  const uint64_t length = lease.end_us > lease.start_us ? lease.end_us - lease.start_us : 0;
  return length == 0 ? INFINITY : double(EpochDeadlineUs(lease)) / double(length);
}

Status ValidateAuditShare(const Lease& lease, double audit_share) {
  if (!(audit_share > 0 && audit_share <= 1)) {
    return Status::InvalidArgument("audit share " + Sig3(audit_share) +
                                   " is out of range; allowed: above 0, up to 1 (the fraction of lease time spent "
                                   "in scheduled epochs)");
  }
  const uint64_t length = lease.end_us > lease.start_us ? lease.end_us - lease.start_us : 0;
  const uint64_t deadline = EpochDeadlineUs(lease);
  // Both below 2^53 for a valid lease, so the doubles are exact and the one rounding is the product's.
  if (audit_share * double(length) >= double(deadline)) return Status::Ok();
  const double min_share = MinAuditShare(lease);
  const std::string gives = "audit share " + Sig3(audit_share) + " gives " + Sig3(audit_share * double(length) /
                            double(deadline)) + " expected scheduled epochs over the " + std::to_string(length) +
                            " us lease (epochs of the " + std::to_string(deadline) + " us deadline)";
  if (min_share > 1) {
    return Status::InvalidArgument(gives + "; the lease is shorter than one epoch deadline, so no share gives one: "
                                   "lengthen the lease or shorten the deadline (fewer rounds, a higher rate)");
  }
  // Printed rounded up, so that the share printed is itself valid.
  int digits = 3;
  double shown = 1;
  for (; digits <= 17; ++digits) {
    const double scale = std::pow(10.0, digits - 1 - std::floor(std::log10(min_share)));
    shown = std::min(1.0, std::ceil(min_share * scale) / scale);
    if (shown * double(length) >= double(deadline)) break;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, shown);
  return Status::InvalidArgument(gives + "; at least one is needed, or the lease has no audit at all: the smallest "
                                 "share that gives one is " + std::string(buf) + " (deadline / lease length)");
}

namespace {

// Walks the audit schedule in order, calling visit(t) for each time until it returns false or the lease ends.
template <typename Visit>
void WalkSchedule(const Hash32& schedule_seed, uint64_t start_us, uint64_t end_us, uint64_t mean_gap_us,
                  const Visit& visit) {
  // Bounded so a tiny mean gap cannot make the schedule unbounded.
  constexpr uint64_t kMaxAudits = uint64_t{1} << 20;
  if (mean_gap_us == 0 || start_us >= end_us) return;
  double t = double(start_us);
  for (uint64_t i = 0; i < kMaxAudits; ++i) {
    ByteWriter w;
    w.Bytes(schedule_seed);
    w.U64(i);
    const Hash32 h = TaggedHash("vcp.v2.audit-gap", w.bytes());
    const uint64_t bits = LoadLe64(std::span<const uint8_t, 8>(h.data(), 8));
    const double u = double(bits >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    t += -std::log1p(-u) * double(mean_gap_us);       // exponential gap: a Poisson process
    if (t >= double(end_us)) return;
    if (!visit(static_cast<uint64_t>(t))) return;
  }
}

}  // namespace

std::vector<uint64_t> AuditSchedule(const Hash32& schedule_seed, uint64_t start_us, uint64_t end_us,
                                    uint64_t mean_gap_us) {
  std::vector<uint64_t> times;
  WalkSchedule(schedule_seed, start_us, end_us, mean_gap_us, [&times](uint64_t t) {
    times.push_back(t);
    return true;
  });
  return times;
}

uint64_t FirstAuditAfter(const Hash32& schedule_seed, uint64_t start_us, uint64_t end_us, uint64_t mean_gap_us,
                         uint64_t after_us) {
  uint64_t found = 0;
  WalkSchedule(schedule_seed, start_us, end_us, mean_gap_us, [&](uint64_t t) {
    if (t <= after_us) return true;
    found = t;
    return false;
  });
  return found;
}

uint64_t MeanGapForShare(uint64_t epoch_us, double share) {
  if (!(share > 0)) return 0;
  const double gap = double(epoch_us) / std::min(share, 1.0);
  // A share so small that the gap does not fit in 64 bits saturates instead of converting out of range (undefined
  // behaviour): such a lease has no audit time at all.
  return gap >= 0x1p64 ? UINT64_MAX : static_cast<uint64_t>(gap);
}

}  // namespace vcp
