// Lease terms from a measured round time (vcp/calibrate.h).
#include "vcp/calibrate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "vcp/protocol.h"

namespace vcp {

Result<RoundTiming> MeasureRound(const WorkloadParams& workload, const RunOptions& options, int repeats,
                                 const RandomFill& random) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(workload));
  if (repeats < 1) {
    return Status::InvalidArgument("repeats is " + std::to_string(repeats) + "; at least 1 round must be timed");
  }
  RoundTiming timing;
  WorkloadParams p = workload;
  for (int i = 0; i < repeats; ++i) {
    random(p.seed);
    const auto t0 = std::chrono::steady_clock::now();
    VCP_ASSIGN_OR_RETURN(std::unique_ptr<Commitment> run, RunWorkload(p, options));
    // A round as the provider runs it: compute, commit, and copy the leaf hashes out for the leaves file.
    VCP_RETURN_IF_ERROR(run->LeafHashes().status());
    timing.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    timing.device = run->device();
  }
  std::sort(timing.seconds.begin(), timing.seconds.end());
  timing.median_seconds = timing.seconds[timing.seconds.size() / 2];
  return timing;
}

Result<LeaseSuggestion> SuggestLeaseTerms(const WorkloadParams& workload, double round_seconds,
                                          double target_epoch_seconds) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(workload));
  if (!(round_seconds > 0) || !std::isfinite(round_seconds)) {
    return Status::InvalidArgument("round time " + std::to_string(round_seconds) + " s must be positive and finite");
  }
  if (!(target_epoch_seconds > 0) || !std::isfinite(target_epoch_seconds)) {
    return Status::InvalidArgument("target epoch length " + std::to_string(target_epoch_seconds) +
                                   " s must be positive and finite");
  }
  const double ops = double(OperationCount(workload));
  LeaseSuggestion s;
  s.rounds =
      static_cast<uint32_t>(std::clamp(std::floor(target_epoch_seconds / round_seconds), 1.0, double(kMaxRounds)));
  s.epoch_seconds = s.rounds * round_seconds;
  s.measured_ops_per_second = ops / round_seconds;
  // Half again the measured epoch plus a second for the record's trip; the claimed rate is what that proves.
  const double deadline_ms = std::ceil((1.5 * s.epoch_seconds + 1.0) * 1000);
  constexpr double kMaxU64 = double(std::numeric_limits<uint64_t>::max());
  s.deadline_ms = static_cast<uint64_t>(std::min(deadline_ms, kMaxU64 / 1000));  // stays convertible to us
  const double claimed = std::floor(ops * s.rounds / (double(s.deadline_ms) / 1000));
  s.claimed_ops_per_second = static_cast<uint64_t>(std::clamp(claimed, 1.0, kMaxU64 / 2));
  return s;
}

}  // namespace vcp
