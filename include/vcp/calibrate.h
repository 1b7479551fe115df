// vcp/calibrate.h: from a device's measured speed to lease terms (`vcp calibrate`): time a round as the provider
// runs it, then suggest R (rounds per epoch), the epoch deadline and the claimed rate for a target epoch length.
//
// Policy: R = floor(target / round time), clamped to 1..kMaxRounds; the deadline leaves half again the expected
// epoch plus one second for the record's trip, ceil((1.5 x R x round + 1 s) in ms); the claimed rate is what that
// deadline proves, floor(R x operations per round / deadline), at least 1.
//
// Ownership: values. Thread safety: reentrant (MeasureRound runs the engine). Errors: kInvalidArgument for
// parameters out of range, the engine's errors from MeasureRound.
#pragma once

#include <cstdint>
#include <vector>

#include "vcp/beacon.h"
#include "vcp/engine.h"
#include "vcp/status.h"
#include "vcp/workload.h"

namespace vcp {

struct RoundTiming {
  std::vector<double> seconds;  // each repeat, sorted ascending
  double median_seconds = 0;
  DeviceInfo device;
};

// Runs `repeats` (>= 1) rounds of `workload` with fresh seeds drawn from `random`: generate, GEMM, commit and
// copy the leaf hashes out (what the provider does per round for its leaves file), timed on steady_clock.
// workload.seed is ignored.
Result<RoundTiming> MeasureRound(const WorkloadParams& workload, const RunOptions& options, int repeats,
                                 const RandomFill& random = SystemRandom());

struct LeaseSuggestion {
  uint32_t rounds = 1;                  // R
  double epoch_seconds = 0;             // R x round time
  uint64_t deadline_ms = 0;             // the epoch deadline
  uint64_t claimed_ops_per_second = 0;  // the claimed rate the deadline proves
  double measured_ops_per_second = 0;   // operations per round / round time
};

// The policy above. kInvalidArgument unless round_seconds > 0, target_epoch_seconds > 0 and the workload is
// valid.
Result<LeaseSuggestion> SuggestLeaseTerms(const WorkloadParams& workload, double round_seconds,
                                          double target_epoch_seconds);

}  // namespace vcp
