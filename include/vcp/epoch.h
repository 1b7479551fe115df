// vcp/epoch.h: one epoch of a lease, both roles, without storage: the provider runs the lease's D devices at once,
// R rounds each, commits the D x R round roots and answers a challenge; the verifier checks the record and the
// response and names the first thing found wrong (docs/PROTOCOL.md sections 6, 7 and 9). vcp/lease_session.h wraps
// these with the crash-safe stores.
//
// Rounds are numbered device-major everywhere below: epoch round q = d x R + r is round r of device d, with seed
// RoundWorkload(lease, start, q).
//
// Ownership: values in, values out; RoundLeafSource callbacks are borrowed for the duration of the call.
// Thread safety: reentrant; RunEpochRounds runs one thread per device. Errors: the provider side returns Status
// (engine failures, fewer devices than the lease names, a challenge that does not belong to the record); the
// verifier side never fails, it returns a Finding with a Reason.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vcp/engine.h"
#include "vcp/hash.h"
#include "vcp/keys.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

// ---------------------------------------------------------------------------------------------------------------
// Provider.

// The leaf hashes of every round of an epoch, [q][leaf] in leaf order (D x R rounds): what the provider keeps (in
// memory or in a leaves file) to answer any challenge without recomputing.
using EpochLeaves = std::vector<std::vector<Hash32>>;

// What the record says about a device, from what the engine read of it (name, UUID, PCI bus id, memory, compute
// units, clocks, compute capability, driver and runtime versions; CPU: model and the threads it was given). Text is
// made printable ASCII and cut to the record's limits.
VCP_EXPORT DeviceEvidence EvidenceOf(const DeviceInfo& device);

struct VCP_EXPORT EpochRun {
  EpochLeaves leaves;                    // D x R rounds, q order, each LeavesPerRound hashes
  std::vector<DeviceEvidence> devices;   // D entries, device order: what ran each device's rounds
};

// Runs the epoch: the lease's D devices at the same time, one thread each, device d running its R rounds
// (RoundWorkload(lease, start, d x R + r) for r = 0..R-1) one after another. The backend is options.backend as
// SelectBackend resolves it. CUDA: device d runs on GPU ordinal d (RunOptions::device); fewer visible GPUs than D
// is kUnavailable ("the lease names 8 devices; this machine has 1 CUDA device"). CPU: D simulated devices (tests
// and the demo), the threads (options.threads, 0 = all hardware threads) split evenly between them, at least one
// each. The first failing device's error is returned.
VCP_EXPORT Result<EpochRun> RunEpochRounds(const Lease& lease, const EpochStart& start, const RunOptions& options);

struct VCP_EXPORT EpochCommit {
  EpochRecord record;               // signed
  std::vector<Hash32> round_roots;  // D x R, q order
};

// Commits an epoch: builds each round's tree from its leaf hashes and the epoch tree over the D x R round roots,
// and signs the record with one evidence entry per device. `leaves` is (D x R) x LeavesPerRound and `devices` has D
// entries (kInvalidArgument otherwise); times are the provider's own clock (informative).
VCP_EXPORT Result<EpochCommit> CommitEpoch(const Lease& lease, const EpochStart& start, const EpochLeaves& leaves,
                                           std::span<const DeviceEvidence> devices, uint64_t provider_start_us,
                                           uint64_t provider_end_us, const SecretKey& provider_key);

// Supplies one epoch round's leaf hashes (round = q) when the provider answers a challenge: from memory, from the
// leaves file, or by recomputing the round (RecomputeRoundLeaves, on whichever device `options` names).
using RoundLeafSource = std::function<Result<std::vector<Hash32>>(uint32_t round)>;
VCP_EXPORT Result<std::vector<Hash32>> RecomputeRoundLeaves(const Lease& lease, const EpochStart& start,
                                                            uint32_t round, const RunOptions& options);

// Builds and signs the response to `challenge` for a committed record. round_roots are the D x R roots of the
// record, q order. Fails (kInvalidArgument) when a supplied round's leaves do not hash to its committed root.
VCP_EXPORT Result<EpochResponse> BuildResponse(const Lease& lease, const EpochRecord& record,
                                               std::span<const Hash32> round_roots, const ChallengeValue& challenge,
                                               const RoundLeafSource& leaves, const SecretKey& provider_key);

// The openings half of BuildResponse for a given sample: each sampled round's root and multiproof, and the
// multiproof of those roots in the epoch tree.
struct VCP_EXPORT EpochOpenings {
  std::vector<RoundOpening> rounds;
  std::vector<Hash32> epoch_hashes;
};
VCP_EXPORT Result<EpochOpenings> BuildOpenings(const Lease& lease, const EpochRecord& record,
                                               std::span<const Hash32> round_roots, const SampleSet& sample,
                                               const RoundLeafSource& leaves);

// ---------------------------------------------------------------------------------------------------------------
// Verifier.

struct VCP_EXPORT Finding {
  Reason reason = Reason::kPass;
  std::string detail;
  bool ok() const { return reason == Reason::kPass; }
};

struct VCP_EXPORT RecordCheck {
  Finding finding;
  // Set once the record is authentic for this epoch (parsed, this lease, signed by the provider, this epoch,
  // this beacon, chained to the previous record): such a record becomes the head of the chain even when it then
  // fails on parameters or lateness.
  std::optional<EpochRecord> record;
};

// Checks a record against the epoch the verifier issued, in this order: parses, lease, signature, epoch index,
// beacon, chain link, devices D, rounds R and operations (kWrongParameters), the verifier's clock (arrival_us <
// start.start_us: kVoidClock, the epoch cannot be timed), deadline (arrival_us - start.start_us <=
// EpochDeadlineUs(lease), else kLate).
VCP_EXPORT RecordCheck CheckRecord(const Lease& lease, const EpochStart& start, uint64_t arrival_us,
                                   std::span<const uint8_t> record_bytes);

// The expensive half of CheckResponse, once the response's binding, signature and challenge are checked and
// `sample` is derived: opened rounds equal the sample, each proof's hash count, the round roots against the epoch
// root, and each round's sampled tiles recomputed on the CPU (CheckOpening) against its root. Benchmarks time it
// on openings built for a chosen sample.
VCP_EXPORT Finding CheckOpenings(const Lease& lease, const EpochStart& start, const EpochRecord& record,
                                 const SampleSet& sample, const EpochOpenings& openings, int threads = 0);

// Checks a response to an accepted record: parses, binding (lease, epoch, record hash), challenge value equals
// `expected`, opened rounds equal the derived sample, each proof's hash count, each round's recomputed tiles
// against its root (CheckOpening on the CPU), and the round roots against the epoch root.
// threads: CPU threads for tile recomputation (0 = all).
VCP_EXPORT Finding CheckResponse(const Lease& lease, const EpochStart& start, const EpochRecord& record,
                                 const ChallengeValue& expected, std::span<const uint8_t> response_bytes,
                                 int threads = 0);

}  // namespace vcp
