// vcp/lease_driver.h: a whole lease in one process, both roles over their own store directories, through the
// same ProviderSession / VerifierSession calls the CLI makes one per process: `vcp demo`, the tests, and a
// provider agent's self-test use it.
//
// Per epoch: the verifier starts it (scheduled: it waits for the next time of the verifier's secret audit schedule,
// compressed by a large audit share; or on demand, back to back), the provider proves it on its D devices at once
// (honestly, or as a lazy provider that skips skip_fraction of the positions, simulated by SimulateLazyLeaves), the
// verifier receives the record and challenges it (interactive) or both wait for the beacon round (beacon mode),
// the provider responds and the verifier closes the epoch with a signed verdict.
//
// Resuming: given directories that already hold both stores (a driver that stopped part-way), RunLease opens them
// and runs the lease on until `epochs` epochs are closed in all; an open epoch whose deadline passed without a
// record arrival is first voided void-verifier-down (the verifier was not there to time it: not the provider's
// failure), an open epoch within its deadline is carried on. Resuming needs both keys in the options.
//
// Ownership: RunLease creates and owns both sessions for the call; options' clock, beacon and progress callback
// and keys are borrowed. Thread safety: one call per pair of directories (the store locks refuse a second).
// Errors: any session or engine error ends the lease and is returned; a lazy provider being caught is not an
// error, it is a failing verdict in the result.
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
#include "vcp/export.h"

namespace vcp {

enum class LeaseStepKind : uint8_t {
  kLeaseAccepted,  // both stores exist, the lease is signed and accepted (or resumed; no epoch; `lease` set)
  kEpochStarted,   // the verifier issued the epoch
  kRecordSigned,   // the provider committed its record (seconds: run + commit time)
  kRecordChecked,  // the verifier received it (finding; a challenge was issued, or the beacon round named)
  kResponded,      // the provider built its response (seconds: build time)
  kEpochClosed,    // the verifier's signed verdict (verdict set), a void one included
};
VCP_EXPORT std::string_view LeaseStepName(LeaseStepKind kind);  // "lease-accepted", "epoch-started", ...

struct VCP_EXPORT LeaseStep {
  LeaseStepKind kind = LeaseStepKind::kLeaseAccepted;
  uint64_t epoch = 0;
  std::string text;                // one line for a front end, e.g. "record 3f2a... signed in 0.412 s"
  double seconds = 0;              // kRecordSigned, kResponded
  std::optional<Finding> finding;  // kRecordChecked
  std::optional<Verdict> verdict;  // kEpochClosed
};

struct LeaseRun;

struct VCP_EXPORT LeaseDriverOptions {
  LeaseMode mode = LeaseMode::kInteractive;
  uint32_t epochs = 6;  // 1..1000 closed epochs in all (a resumed lease counts those already closed)
  // The workload every round runs (seed ignored: each round's seed comes from the epoch). tile 0 picks the
  // largest power of two <= min(m, n), within kMinTile..kDefaultTile.
  WorkloadParams workload{.kind = WorkloadKind::kInt8, .m = 256, .n = 256, .k = 256, .tile = 0};
  uint8_t devices = 1;    // D, devices the lease names (CPU: simulated devices sharing the threads)
  uint32_t rounds = 8;    // R, rounds per device per epoch
  uint32_t samples = 0;   // k, sampled tiles per epoch; 0 = MinSamples(mode)
  // The claimed rate per device; 0 = time one round on one device's share of the backend and claim a third of
  // it, so a shared machine meets the deadline that follows (docs/PROTOCOL.md section 5).
  uint64_t claimed_ops_per_second_per_device = 0;
  uint32_t slack_ppm = kDefaultSlackPpm;
  uint64_t network_allowance_us = 0;
  // The verifier's secret schedule (VerifierSession::Create): epochs take this share of the lease's time on
  // average, so the mean gap between scheduled epochs is deadline / share. A demo compresses the schedule with a
  // large share; on_demand starts every epoch at once instead (they then prove throughput, not availability).
  double audit_share = 0.5;
  bool on_demand = false;
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

  // Called after each step with the run so far (lease and devices are set from kLeaseAccepted on, verdicts grow
  // with each kEpochClosed); may print. Must not touch the stores.
  std::function<void(const LeaseStep& step, const LeaseRun& so_far)> progress;
};

struct VCP_EXPORT LeaseRun {
  Lease lease;                           // as signed by the verifier
  DeviceInfo backend;                    // the provider's backend as SelectBackend resolved it
  std::vector<DeviceEvidence> devices;   // what the last proven epoch ran on, one per device (empty before)
  std::vector<Verdict> verdicts;         // one per closed epoch, in order (a resumed lease's earlier ones included)
  LeaseReport report;                    // SummarizeLease at the end, on `clock`
  uint64_t skipped_per_epoch = 0;        // positions the lazy provider skipped in every epoch (0 when honest)
  double expected_pass_probability = 1;  // per epoch: EpochPassProbability(1 - skip_fraction, k)
  bool resumed = false;                  // the stores existed: the lease was carried on
};

// Runs the lease: creates both stores in verifier_dir and provider_dir, or resumes them when both hold one.
VCP_EXPORT Result<LeaseRun> RunLease(const std::filesystem::path& verifier_dir,
                                     const std::filesystem::path& provider_dir, const LeaseDriverOptions& options);

}  // namespace vcp
