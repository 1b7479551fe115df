// vcp/calibrate.h: from a device's measured speed to lease terms (`vcp calibrate`): time a round as the provider
// runs it, then suggest R (rounds per device per epoch), the claimed rate per device, the slack and the network
// allowance for a target epoch length, terms ValidateLease accepts.
//
// Policy: R = floor(target / round time), clamped to 1..kMaxRounds; the claimed rate per device is 90% of the
// measured one, floor(0.9 x operations per round / round time), so an epoch somewhat slower than the median still
// passes; the slack is kDefaultSlackPpm (0.25). The deadline then follows (EpochDeadlineUs). The network allowance
// asked for must fit in half the slack margin (ValidateLease): if it does not, the slack is raised (up to
// kMaxSlackPpm), then R, and `note` says so; likewise R is raised when the compute time would be under
// kMinComputeUs.
//
// Ownership: values. Thread safety: reentrant (MeasureRound runs the engine). Errors: kInvalidArgument for
// parameters out of range (and for terms no R up to kMaxRounds makes valid), the engine's errors from
// MeasureRound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vcp/beacon.h"
#include "vcp/engine.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/workload.h"
#include "vcp/export.h"

namespace vcp {

struct VCP_EXPORT RoundTiming {
  std::vector<double> seconds;  // each repeat, sorted ascending
  double median_seconds = 0;
  DeviceInfo device;
};

// Runs `repeats` (>= 1) rounds of `workload` with fresh seeds drawn from `random`: generate, GEMM, commit and
// copy the leaf hashes out (what the provider does per round for its leaves file), timed on steady_clock.
// workload.seed is ignored.
VCP_EXPORT Result<RoundTiming> MeasureRound(const WorkloadParams& workload, const RunOptions& options, int repeats,
                                            const RandomFill& random = SystemRandom());

struct VCP_EXPORT LeaseSuggestion {
  uint8_t devices = 1;                              // D, as asked
  uint32_t rounds = 1;                              // R, per device
  double epoch_seconds = 0;                         // R x the measured round time
  uint64_t claimed_ops_per_second_per_device = 0;   // 90% of the measured rate
  uint32_t slack_ppm = kDefaultSlackPpm;
  uint64_t network_allowance_us = 0;
  uint64_t compute_us = 0, deadline_us = 0;         // ComputeTimeUs, EpochDeadlineUs of these terms
  double guaranteed_ops_per_second_per_device = 0;  // what a passing epoch proves: rate / (1 + slack)
  double measured_ops_per_second = 0;               // operations per round / round time, one device
  std::string note;                                 // what was raised to make the terms valid; empty if nothing
};

// The policy above. kInvalidArgument unless round_seconds > 0, target_epoch_seconds > 0, 1 <= devices <=
// kMaxDevices and the workload is valid.
VCP_EXPORT Result<LeaseSuggestion> SuggestLeaseTerms(const WorkloadParams& workload, uint8_t devices,
                                                     double round_seconds, double target_epoch_seconds,
                                                     uint64_t network_allowance_us = 1'000'000);

}  // namespace vcp
