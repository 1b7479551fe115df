// vcp/lease_driver.h: a whole lease in one process, both roles over their own store directories, through the
// same ProviderSession / VerifierSession calls the CLI makes one per process: `vcp demo`, the tests, and a
// provider agent's self-test use it.
//
// Per epoch: the verifier starts it (at the next time of a compressed Poisson schedule when mean_gap_us > 0), the
// provider proves it (honestly, or as a lazy provider that skips skip_fraction of the positions, simulated by
// SimulateLazyLeaves), the verifier receives the record and challenges it (interactive) or both wait for the
// beacon round (beacon mode), the provider responds and the verifier closes the epoch with a signed verdict.
//
// Ownership: RunLease creates and owns both sessions for the call; options' clock, beacon and progress callback
// and keys are borrowed. Thread safety: one call per pair of directories (the store locks refuse a second). Errors: any
// session or engine error ends the lease and is returned; a lazy provider being caught is not an error, it is a
// failing verdict in the result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vcp/beacon.h"
#include "vcp/engine.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/verdict.h"
#include "vcp/workload.h"

namespace vcp {

enum class LeaseStepKind : uint8_t {
  kLeaseAccepted,  // both stores exist, the lease is signed and accepted (no epoch; `lease` and `device` set)
  kEpochStarted,   // the verifier issued the epoch
  kRecordSigned,   // the provider committed its record (seconds: run + commit time)
  kRecordChecked,  // the verifier received it (finding; a challenge was issued, or the beacon round named)
  kResponded,      // the provider built its response (seconds: build time)
  kEpochClosed,    // the verifier's signed verdict (verdict set)
};
std::string_view LeaseStepName(LeaseStepKind kind);  // "lease-accepted", "epoch-started", ...

struct LeaseStep {
  LeaseStepKind kind = LeaseStepKind::kLeaseAccepted;
  uint64_t epoch = 0;
  std::string text;                // one line for a front end, e.g. "record 3f2a... signed in 0.412 s"
  double seconds = 0;              // kRecordSigned, kResponded
  std::optional<Finding> finding;  // kRecordChecked
  std::optional<Verdict> verdict;  // kEpochClosed
};

struct LeaseRun;

struct LeaseDriverOptions {
  LeaseMode mode = LeaseMode::kInteractive;
  uint32_t epochs = 6;  // 1..1000
  // The workload every round runs (seed ignored: each round's seed comes from the epoch). tile 0 picks the
  // largest power of two <= min(m, n), within kMinTile..kDefaultTile.
  WorkloadParams workload{.kind = WorkloadKind::kInt8, .m = 256, .n = 256, .k = 256, .tile = 0};
  uint32_t rounds = 8;       // R, rounds per epoch
  uint32_t samples = 0;      // k, sampled tiles per epoch; 0 = MinSamples(mode)
  uint64_t deadline_us = 0;  // 0 = 10 s interactive, 2 s beacon (beacon mode waits out the deadline each epoch)
  uint64_t claimed_ops_per_second = 0;  // 0 = EpochOperations / whole deadline seconds (at least 1)
  double audit_share = 0.02;            // the verifier's secret schedule (VerifierSession::Create)
  uint64_t mean_gap_us = 300'000;       // epochs at Poisson times with this mean gap; 0 = back to back
  uint64_t beacon_period_us = 250'000;  // the DemoBeacon's period when `beacon` is null

  RunOptions run;            // the provider's backend and threads
  int verifier_threads = 0;  // tile recomputation; 0 = all
  bool keep_leaves = true;   // ProverOptions::keep_leaves
  double skip_fraction = 0;  // 0 = honest; otherwise the lazy provider skips this share (0..1) of each epoch

  // Time and randomness. The verifier measures deadlines on `clock`; `wait(us)` lets that much time pass on it
  // (default: sleep, for the real clocks; a test with a manual clock advances it instead). `random` draws the
  // keys (when not given), nonces, beacons, challenges, the schedule and the lazy provider's choices.
  const Clock* clock = &SteadyClock();
  std::function<void(uint64_t us)> wait;  // null = std::this_thread::sleep_for
  RandomFill random = SystemRandom();
  const BeaconSource* beacon = nullptr;  // beacon mode; null = a DemoBeacon on `clock` starting now

  // Keys of the two roles (borrowed); generated from `random` when null.
  const SecretKey* verifier_key = nullptr;
  const SecretKey* provider_key = nullptr;

  // Called after each step with the run so far (lease and device are set from kLeaseAccepted on, verdicts grow
  // with each kEpochClosed); may print. Must not touch the stores.
  std::function<void(const LeaseStep& step, const LeaseRun& so_far)> progress;
};

struct LeaseRun {
  Lease lease;                           // as signed by the verifier
  DeviceInfo device;                     // the provider's backend
  std::vector<Verdict> verdicts;         // one per epoch, in order
  LeaseReport report;                    // SummarizeLease at the end, on `clock`
  uint64_t skipped_per_epoch = 0;        // positions the lazy provider skipped in every epoch (0 when honest)
  double expected_pass_probability = 1;  // per epoch: EpochPassProbability(1 - skip_fraction, k)
};

// Runs the lease. verifier_dir and provider_dir must not hold a store yet (they are created).
Result<LeaseRun> RunLease(const std::filesystem::path& verifier_dir, const std::filesystem::path& provider_dir,
                          const LeaseDriverOptions& options);

}  // namespace vcp
