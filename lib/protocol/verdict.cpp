// Lease verdicts and the audit schedule (docs/PROTOCOL.md sections 8 and 10).
#include "vcp/verdict.h"

#include <algorithm>
#include <cmath>
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

}  // namespace

double EpochRate(const Verdict& verdict) {
  if (verdict.reason != Reason::kPass) return 0;
  const uint64_t window = verdict.arrival_us > verdict.start_us ? verdict.arrival_us - verdict.start_us : 1;
  return double(verdict.operations) / (double(window) * 1e-6);
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

LeaseReport SummarizeLease(const Lease& lease, std::span<const Verdict> verdicts, uint64_t now_us, double confidence) {
  LeaseReport report;
  std::vector<double> rates;
  for (const Verdict& v : verdicts) {
    ++report.epochs;
    if (v.reason == Reason::kPass) {
      ++report.passed;
      report.proven_operations += v.operations;
      rates.push_back(EpochRate(v));
    } else if (v.reason == Reason::kMissed) {
      ++report.missed;
    } else {
      ++report.failed;
    }
  }
  if (!rates.empty()) {
    std::sort(rates.begin(), rates.end());
    const size_t n = rates.size();
    report.median_rate = n % 2 ? rates[n / 2] : 0.5 * (rates[n / 2 - 1] + rates[n / 2]);
    report.min_rate = rates.front();
    report.meets_claimed_rate = report.min_rate >= double(lease.claimed_ops_per_second);
  }

  const double audited = double(report.passed + report.failed);
  const double k = lease.samples_per_epoch;
  report.escape_skip_1pct = EscapeProbability(0.01, k * audited);
  report.escape_skip_10pct = EscapeProbability(0.10, k * audited);
  if (lease.mode == LeaseMode::kBeacon) {
    const double grinding = std::exp2(kGrindingBudgetBits);
    const auto escape = [&](double f) {
      return std::pow(EpochPassProbability(f, lease.samples_per_epoch, grinding), audited);
    };
    report.escape_skip_1pct_grinding = escape(0.99);
    report.escape_skip_10pct_grinding = escape(0.90);
  } else {
    report.escape_skip_1pct_grinding = report.escape_skip_1pct;
    report.escape_skip_10pct_grinding = report.escape_skip_10pct;
  }

  const uint64_t until = std::clamp(now_us, lease.start_us, lease.end_us);
  report.lease_hours = double(until - lease.start_us) / 3.6e9;
  report.confidence = confidence;
  report.availability_lower_bound = BinomialLowerBound(report.passed, report.epochs, confidence);
  report.gpu_hours_proven = report.lease_hours * report.availability_lower_bound;
  return report;
}

std::vector<uint64_t> AuditSchedule(const Hash32& schedule_seed, uint64_t start_us, uint64_t end_us,
                                    uint64_t mean_gap_us) {
  // Bounded so a tiny mean gap cannot make the schedule unbounded.
  constexpr size_t kMaxAudits = 1u << 20;
  std::vector<uint64_t> times;
  if (mean_gap_us == 0 || start_us >= end_us) return times;
  double t = double(start_us);
  for (uint64_t i = 0; times.size() < kMaxAudits; ++i) {
    ByteWriter w;
    w.Bytes(schedule_seed);
    w.U64(i);
    const Hash32 h = TaggedHash("vcp.v1.audit-gap", w.bytes());
    const uint64_t bits = LoadLe64(std::span<const uint8_t, 8>(h.data(), 8));
    const double u = double(bits >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    t += -std::log1p(-u) * double(mean_gap_us);       // exponential gap: a Poisson process
    if (t >= double(end_us)) break;
    times.push_back(static_cast<uint64_t>(t));
  }
  return times;
}

uint64_t MeanGapForShare(uint64_t epoch_us, double share) {
  if (share <= 0) return 0;
  return static_cast<uint64_t>(double(epoch_us) / std::min(share, 1.0));
}

}  // namespace vcp
