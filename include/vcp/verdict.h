// vcp/verdict.h: from epoch verdicts to a lease verdict, and the audit schedule that decides when epochs run
// (docs/PROTOCOL.md sections 8 and 10).
//
// Ownership: values. Thread safety: reentrant. Errors: none; the functions are total over their inputs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vcp/hash.h"
#include "vcp/protocol.h"

namespace vcp {

// Rate an epoch proved: its operations over the verifier-measured window (start to record arrival).
double EpochRate(const Verdict& verdict);

struct LeaseReport {
  uint64_t epochs = 0, passed = 0, failed = 0, missed = 0;
  uint64_t proven_operations = 0;
  double median_rate = 0, min_rate = 0;  // ops/s over passed epochs (0 when none)
  bool meets_claimed_rate = false;       // min_rate >= the lease's claimed rate (and at least one epoch passed)
  // Probability that a provider which skipped 1% / 10% of every epoch's work would have passed every audited
  // epoch so far, (1 - s)^(k * audited) with audited = passed + failed; it is caught with 1 minus that. Stored
  // this way round because the catch probability rounds to 1 in a double long before this underflows. In beacon
  // mode `*_grinding` is the same against a provider that learned each beacon early and tried
  // 2^kGrindingBudgetBits records per epoch: min(1, 1 - (1 - f^k)^G)^audited.
  double escape_skip_1pct = 1, escape_skip_10pct = 1;
  double escape_skip_1pct_grinding = 1, escape_skip_10pct_grinding = 1;
  // Audit coverage: the lease hours elapsed by `now_us`, and the GPU-hours proven: elapsed hours times the
  // one-sided lower confidence bound on the fraction of time the provider delivered (passed epochs out of all
  // epochs, which ran at random times).
  double lease_hours = 0;
  double confidence = 0;
  double availability_lower_bound = 0;
  double gpu_hours_proven = 0;
};

LeaseReport SummarizeLease(const Lease& lease, std::span<const Verdict> verdicts, uint64_t now_us,
                           double confidence = 0.95);

// One-sided Clopper-Pearson lower bound on a success probability after `successes` out of `trials`: the p with
// P(X >= successes | trials, p) = 1 - confidence. 0 when trials == 0 or successes == 0.
double BinomialLowerBound(uint64_t successes, uint64_t trials, double confidence);

// Audit times over [start_us, end_us): a Poisson process with mean gap mean_gap_us, drawn from the verifier's
// secret schedule seed (exponential gaps from TaggedHash("vcp.v1.audit-gap", seed || u64 i)). The provider
// cannot predict them, so it must keep the GPU ready for the whole lease.
std::vector<uint64_t> AuditSchedule(const Hash32& schedule_seed, uint64_t start_us, uint64_t end_us,
                                    uint64_t mean_gap_us);
// Mean gap so that epochs of `epoch_us` take `share` (0 < share <= 1) of the lease's time on average.
uint64_t MeanGapForShare(uint64_t epoch_us, double share);

}  // namespace vcp
