// vcp/verdict.h: from epoch verdicts to a lease report, the audit schedule that decides when scheduled epochs run,
// and what a perfect provider can reach over a lease (docs/PROTOCOL.md sections 10 and 11). Everything a front end
// prints is a field here; nothing in the library prints.
//
// Ownership: values. Thread safety: reentrant. Errors: none; the functions are total over their inputs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vcp/hash.h"
#include "vcp/protocol.h"
#include "vcp/export.h"

namespace vcp {

// The rate a passing epoch proved per device: its operations / D / the verifier-measured window (start to record
// arrival), operations per second. 0 for an epoch that did not pass. A passing epoch's window is at most the
// deadline, so this is at least GuaranteedRatePerDevice(lease).
VCP_EXPORT double ProvenRatePerDevice(const Lease& lease, const Verdict& verdict);

// One closed epoch as the report reads it: its verdict and the device evidence of its record (empty when no
// record arrived).
struct VCP_EXPORT ReportEpoch {
  Verdict verdict;
  std::vector<DeviceEvidence> devices;
};

// Counts of one schedule kind. `failed` is every failing reason except `missed`; void epochs are not counted here.
struct VCP_EXPORT ScheduleCounts {
  uint64_t passed = 0, failed = 0, missed = 0;
  uint64_t closed() const { return passed + failed + missed; }
};

// One line per closed epoch, in epoch order.
struct VCP_EXPORT EpochLine {
  uint64_t epoch = 0;
  EpochSchedule schedule = EpochSchedule::kOnDemand;
  Reason reason = Reason::kPass;
  VerdictOutcome outcome = VerdictOutcome::kPass;
  uint64_t window_us = 0;             // arrival - start on the verifier's clock (0 when no record arrived)
  uint64_t operations = 0;            // proven operations (passing epochs only)
  double proven_rate_per_device = 0;  // passing epochs: "proven >= X ops/s per device"
  std::vector<DeviceEvidence> devices;  // the record's evidence (DescribeDevice prints each), empty without one
  bool devices_changed = false;         // !SameDeviceSet with the previous epoch that had a record (not a failure)
};

struct VCP_EXPORT LeaseReport {
  uint32_t devices = 1;  // D, the lease's device count
  uint64_t epochs = 0;   // closed epochs of every kind
  ScheduleCounts scheduled, on_demand;
  uint64_t void_epochs = 0;  // neither pass nor fail: the verifier could not time them (reason says why)
  uint64_t proven_operations = 0;

  // Every passing epoch proves at least the guarantee; the measured rates say by how much more.
  double guaranteed_rate_per_device = 0;  // GuaranteedRatePerDevice(lease) = rate / (1 + slack)
  double min_rate_per_device = 0, median_rate_per_device = 0;  // over passing epochs (0 when none passed)

  std::vector<EpochLine> epoch_lines;
  std::vector<uint64_t> devices_changed_at;  // epoch indices N: "devices changed at epoch N"

  // Sampling: the chance that a provider skipping 1% / 10% of every epoch's positions would have passed every audited
  // epoch so far, (1 - s)^(k x audited), audited = passing epochs plus failing epochs whose sampled openings failed
  // (both kinds; missed, late, unanswered and void epochs checked no sample). escape_explanation says it in words, with
  // the beacon-mode caveat; never print these numbers without it.
  uint64_t audited = 0;
  double escape_skip_1pct = 1, escape_skip_10pct = 1;
  std::string escape_explanation;

  // Availability, from scheduled epochs only (they ran at secret random times; on-demand epochs were chosen by
  // the verifier and prove throughput but not availability): the one-sided Clopper-Pearson lower bound, at
  // `confidence`, on the fraction of the lease time the provider delivered, from scheduled.passed successes out of
  // scheduled.closed() trials (a missed epoch counts as zero delivered; void epochs are excluded).
  double lease_hours = 0;  // elapsed by `now_us`
  double confidence = 0;
  double availability_lower_bound = 0;
  std::string availability_explanation;  // one line: what the bound means and what it rests on
  uint64_t passes_needed_for_99 = 0;     // more passing scheduled epochs (and no failures) to a bound >= 0.99
  double gpu_hours_proven = 0;           // D x lease_hours x availability_lower_bound
};

VCP_EXPORT LeaseReport SummarizeLease(const Lease& lease, std::span<const ReportEpoch> epochs, uint64_t now_us,
                                      double confidence = 0.95);

// What a perfect provider (every scheduled epoch passes) reaches over the whole lease, for `vcp lease new`:
// E = lease duration x audit_share / deadline scheduled epochs expected, the bound (1 - c)^(1/E), and the GPU-hours
// D x lease hours x bound.
struct VCP_EXPORT LeasePlan {
  double lease_hours = 0;
  double audit_share = 0;
  double confidence = 0;
  double expected_scheduled_epochs = 0;  // E
  double perfect_bound = 0;              // (1 - c)^(1/E); 0 when E is 0
  double perfect_gpu_hours = 0;
  std::string explanation;  // one line
};
VCP_EXPORT LeasePlan PlanLease(const Lease& lease, double audit_share, double confidence = 0.95);

// The smallest audit share that gives one expected scheduled epoch over the lease: deadline / (end - start). Above
// 1 when the lease is shorter than one deadline (no share gives an audit then).
VCP_EXPORT double MinAuditShare(const Lease& lease);
// kInvalidArgument unless 0 < audit_share <= 1 and it gives at least one expected scheduled epoch, audit_share x
// (end - start) >= deadline (PlanLease's E >= 1): a share below that makes a lease with no audit at all, on
// average. The message names the share, the audits it gives and the smallest share that gives one. For a lease
// ValidateLease accepts (times below 2^53 us, exact in a double).
[[nodiscard]] VCP_EXPORT Status ValidateAuditShare(const Lease& lease, double audit_share);

// One-sided Clopper-Pearson lower bound on a success probability after `successes` out of `trials`: the p with
// P(X >= successes | trials, p) = 1 - confidence. 0 when trials == 0 or successes == 0.
VCP_EXPORT double BinomialLowerBound(uint64_t successes, uint64_t trials, double confidence);

// The smallest m such that BinomialLowerBound(successes + m, trials + m, confidence) >= target (0 when it already
// is); UINT64_MAX when no m up to 2^40 reaches it.
VCP_EXPORT uint64_t MoreSuccessesFor(uint64_t successes, uint64_t trials, double confidence, double target);

// Audit times over [start_us, end_us): a Poisson process with mean gap mean_gap_us, drawn from the verifier's
// secret schedule seed (exponential gaps from TaggedHash("vcp.v2.audit-gap", seed || u64 i)). The provider
// cannot predict them, so it must keep the devices ready for the whole lease.
VCP_EXPORT std::vector<uint64_t> AuditSchedule(const Hash32& schedule_seed, uint64_t start_us, uint64_t end_us,
                                               uint64_t mean_gap_us);
// The first audit time of that schedule strictly after after_us (walking the schedule only as far as needed), or 0
// when none is left before end_us.
VCP_EXPORT uint64_t FirstAuditAfter(const Hash32& schedule_seed, uint64_t start_us, uint64_t end_us,
                                    uint64_t mean_gap_us, uint64_t after_us);
// Mean gap so that epochs of `epoch_us` take `share` (0 < share <= 1) of the lease's time on average.
VCP_EXPORT uint64_t MeanGapForShare(uint64_t epoch_us, double share);

}  // namespace vcp
