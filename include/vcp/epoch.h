// vcp/epoch.h: one epoch of a lease, both roles, without storage: the provider runs and commits R rounds and
// answers a challenge; the verifier checks the record and the response and names the first thing found wrong
// (docs/PROTOCOL.md sections 6 and 7). vcp/lease_session.h wraps these with the crash-safe stores.
//
// Ownership: values in, values out; RoundLeafSource callbacks are borrowed for the duration of the call.
// Thread safety: reentrant. Errors: the provider side returns Status (engine failures, a challenge that does
// not belong to the record); the verifier side never fails, it returns a Finding with a Reason.
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

namespace vcp {

// ---------------------------------------------------------------------------------------------------------------
// Provider.

// The leaf hashes of every round of an epoch, [round][leaf] in leaf order: what the provider keeps (in memory or
// in a leaves file) to answer any challenge without recomputing.
using EpochLeaves = std::vector<std::vector<Hash32>>;

struct EpochRun {
  EpochLeaves leaves;  // R x LeavesPerRound
  DeviceInfo device;   // the backend that ran the rounds
};

// Runs the R rounds of an epoch on the engine (RoundWorkload(lease, start, r) for r = 0..R-1) and collects each
// round's leaf hashes.
Result<EpochRun> RunEpochRounds(const Lease& lease, const EpochStart& start, const RunOptions& options);

struct EpochCommit {
  EpochRecord record;               // signed
  std::vector<Hash32> round_roots;  // R
};

// Commits an epoch: builds each round's tree from its leaf hashes and the epoch tree over the round roots, and
// signs the record. `leaves` is R x LeavesPerRound; times are the provider's own clock (informative).
Result<EpochCommit> CommitEpoch(const Lease& lease, const EpochStart& start, const EpochLeaves& leaves,
                                const std::string& device, uint64_t provider_start_us, uint64_t provider_end_us,
                                const SecretKey& provider_key);

// Supplies one round's leaf hashes when the provider answers a challenge: from memory, from the leaves file, or
// by recomputing the round (RecomputeRoundLeaves).
using RoundLeafSource = std::function<Result<std::vector<Hash32>>(uint32_t round)>;
Result<std::vector<Hash32>> RecomputeRoundLeaves(const Lease& lease, const EpochStart& start, uint32_t round,
                                                 const RunOptions& options);

// Builds and signs the response to `challenge` for a committed record. round_roots are the R roots of the
// record. Fails (kInvalidArgument) when a supplied round's leaves do not hash to its committed root.
Result<EpochResponse> BuildResponse(const Lease& lease, const EpochRecord& record, std::span<const Hash32> round_roots,
                                    const ChallengeValue& challenge, const RoundLeafSource& leaves,
                                    const SecretKey& provider_key);

// The openings half of BuildResponse for a given sample: each sampled round's root and multiproof, and the
// multiproof of those roots in the epoch tree.
struct EpochOpenings {
  std::vector<RoundOpening> rounds;
  std::vector<Hash32> epoch_hashes;
};
Result<EpochOpenings> BuildOpenings(const Lease& lease, const EpochRecord& record, std::span<const Hash32> round_roots,
                                    const SampleSet& sample, const RoundLeafSource& leaves);

// ---------------------------------------------------------------------------------------------------------------
// Verifier.

struct Finding {
  Reason reason = Reason::kPass;
  std::string detail;
  bool ok() const { return reason == Reason::kPass; }
};

struct RecordCheck {
  Finding finding;
  // Set once the record is authentic for this epoch (parsed, this lease, signed by the provider, this epoch,
  // this beacon, chained to the previous record): such a record becomes the head of the chain even when it then
  // fails on parameters or lateness.
  std::optional<EpochRecord> record;
};

// Checks a record against the epoch the verifier issued, in this order: parses, lease, signature, epoch index,
// beacon, chain link, rounds and operations, deadline (arrival_us - start.start_us <= lease deadline).
RecordCheck CheckRecord(const Lease& lease, const EpochStart& start, uint64_t arrival_us,
                        std::span<const uint8_t> record_bytes);

// The expensive half of CheckResponse, once the response's binding, signature and challenge are checked and
// `sample` is derived: opened rounds equal the sample, each proof's hash count, the round roots against the epoch
// root, and each round's sampled tiles recomputed on the CPU (CheckOpening) against its root. Benchmarks time it
// on openings built for a chosen sample.
Finding CheckOpenings(const Lease& lease, const EpochStart& start, const EpochRecord& record, const SampleSet& sample,
                      const EpochOpenings& openings, int threads = 0);

// Checks a response to an accepted record: parses, binding (lease, epoch, record hash), challenge value equals
// `expected`, opened rounds equal the derived sample, each proof's hash count, each round's recomputed tiles
// against its root (CheckOpening on the CPU), and the round roots against the epoch root.
// threads: CPU threads for tile recomputation (0 = all).
Finding CheckResponse(const Lease& lease, const EpochStart& start, const EpochRecord& record,
                      const ChallengeValue& expected, std::span<const uint8_t> response_bytes, int threads = 0);

}  // namespace vcp
