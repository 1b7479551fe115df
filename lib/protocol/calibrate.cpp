// Lease terms from a measured round time (vcp/calibrate.h).
#include "vcp/calibrate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

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

namespace {

// A lease with the suggested terms and placeholder keys and period, for ValidateLease and the derived times.
Lease TermsLease(const WorkloadParams& workload, const LeaseSuggestion& s) {
  Lease lease;
  lease.workload = workload;
  lease.workload.seed = {};
  lease.verifier_key[0] = 1;
  lease.provider_key[0] = 2;
  lease.devices = s.devices;
  lease.rounds_per_epoch = s.rounds;
  lease.samples_per_epoch = kMinSamplesInteractive;
  lease.claimed_ops_per_second_per_device = s.claimed_ops_per_second_per_device;
  lease.slack_ppm = s.slack_ppm;
  lease.network_allowance_us = s.network_allowance_us;
  lease.start_us = 1;
  lease.end_us = 2;
  return lease;
}

uint32_t CeilRounds(double rounds) {
  return static_cast<uint32_t>(std::clamp(std::ceil(rounds), 1.0, double(kMaxRounds)));
}

}  // namespace

Result<LeaseSuggestion> SuggestLeaseTerms(const WorkloadParams& workload, uint8_t devices, double round_seconds,
                                          double target_epoch_seconds, uint64_t network_allowance_us) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(workload));
  if (!(round_seconds > 0) || !std::isfinite(round_seconds)) {
    return Status::InvalidArgument("round time " + std::to_string(round_seconds) + " s must be positive and finite");
  }
  if (!(target_epoch_seconds > 0) || !std::isfinite(target_epoch_seconds)) {
    return Status::InvalidArgument("target epoch length " + std::to_string(target_epoch_seconds) +
                                   " s must be positive and finite");
  }
  if (devices < 1 || devices > kMaxDevices) {
    return Status::InvalidArgument("devices is " + std::to_string(devices) + "; allowed: 1 to " +
                                   std::to_string(kMaxDevices));
  }
  const double ops = double(OperationCount(workload));
  LeaseSuggestion s;
  s.devices = devices;
  s.network_allowance_us = network_allowance_us;
  s.measured_ops_per_second = ops / round_seconds;
  constexpr double kMaxU64 = double(std::numeric_limits<uint64_t>::max());
  s.claimed_ops_per_second_per_device =
      static_cast<uint64_t>(std::clamp(std::floor(0.9 * s.measured_ops_per_second), 1.0, kMaxU64 / 2));
  s.rounds =
      static_cast<uint32_t>(std::clamp(std::floor(target_epoch_seconds / round_seconds), 1.0, double(kMaxRounds)));
  // Compute time of one round at the claimed rate, microseconds: what R multiplies.
  const double round_us = ops * 1e6 / double(s.claimed_ops_per_second_per_device);
  std::vector<std::string> raised;
  if (double(s.rounds) * round_us < double(kMinComputeUs)) {
    s.rounds = CeilRounds(double(kMinComputeUs) / round_us);
    raised.push_back("R raised to " + std::to_string(s.rounds) + " so the epoch computes for at least 1 ms");
  }
  // The allowance fits in half the slack margin: floor(t_c x slack / 10^6) >= 2 x allowance, in integers.
  __extension__ typedef unsigned __int128 u128;  // exact products of 64-bit terms
  const u128 margin_needed = u128{2 * network_allowance_us} * 1'000'000;
  const uint64_t compute_us = ComputeTimeUs(TermsLease(workload, s));
  if (u128{compute_us} * s.slack_ppm < margin_needed) {
    const u128 slack = (margin_needed + compute_us - 1) / std::max<uint64_t>(compute_us, 1);
    if (slack <= kMaxSlackPpm) {
      s.slack_ppm = static_cast<uint32_t>(slack);
      raised.push_back("slack raised to " + std::to_string(s.slack_ppm) + " ppm so the network allowance fits");
    } else {
      s.slack_ppm = kMaxSlackPpm;
      s.rounds = std::max(s.rounds, CeilRounds(2.0 * double(network_allowance_us) / round_us));
      raised.push_back("slack raised to the maximum and R to " + std::to_string(s.rounds) +
                       " so the network allowance fits");
    }
  }
  // The floors of the integer deadline can still leave the allowance a microsecond short: one more round each.
  Lease lease = TermsLease(workload, s);
  while (!ValidateLease(lease).ok() && lease.rounds_per_epoch < kMaxRounds) ++lease.rounds_per_epoch;
  VCP_RETURN_IF_ERROR(ValidateLease(lease));
  if (lease.rounds_per_epoch != s.rounds) {
    s.rounds = lease.rounds_per_epoch;
    raised.push_back("R raised to " + std::to_string(s.rounds) + " for the deadline's rounding");
  }
  for (size_t i = 0; i < raised.size(); ++i) s.note += (i ? "; " : "") + raised[i];
  s.epoch_seconds = s.rounds * round_seconds;
  s.compute_us = ComputeTimeUs(lease);
  s.deadline_us = EpochDeadlineUs(lease);
  s.guaranteed_ops_per_second_per_device = GuaranteedRatePerDevice(lease);
  return s;
}

}  // namespace vcp
