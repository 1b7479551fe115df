// vcp/lazy_provider.h: the one deliberate cheat in the code base, a provider that skips part of an epoch's work,
// simulated at the leaf-hash level so `vcp demo --cheat`, the lease driver and the tests can show it is caught at the
// rate docs/PROTOCOL.md section 8 predicts, (1 - skipped share)^k per epoch.
//
// Of an epoch's D x R x LeavesPerRound positions (every device's rounds, epoch-round order) the lazy provider
// "computes" a seeded choice of `computed` and puts the leaf hash of a garbage tile everywhere else, as a provider that
// never ran those tiles would have to. The choice is a Fisher-Yates shuffle of the positions drawn from
// std::mt19937_64(seed) (index rng() % (i + 1), whose output the C++ standard fixes), so it is the same on every
// platform, and LazyComputedMask predicts exactly which positions a verifier may sample without catching it.
//
// Ownership: values in, values out. Thread safety: reentrant. Errors: only CheckSkipFraction returns any; the other
// functions are total (computed is clamped to the number of positions).
#pragma once

#include <cstdint>
#include <vector>

#include "vcp/epoch.h"
#include "vcp/export.h"

namespace vcp {

// Positions a lazy provider computes when it skips `fraction` (0..1, clamped) of `total`: total - round(fraction
// x total).
VCP_EXPORT uint64_t ComputedPositions(uint64_t total, double fraction);
// A skip fraction that skips what it says, for `vcp demo --cheat` and the lease driver: kInvalidArgument when
// fraction is outside [0, 1] (or NaN), or when fraction > 0 rounds to no skipped position of the `total` an epoch
// has (the message names the positions and the smallest fraction that skips one, 0.5 / total). The share really
// skipped is (total - ComputedPositions(total, fraction)) / total.
[[nodiscard]] VCP_EXPORT Status CheckSkipFraction(uint64_t total, double fraction);

// mask[q * leaves_per_round + leaf] (q the epoch round) is true for the `computed` positions of `total` that seed
// chooses.
VCP_EXPORT std::vector<bool> LazyComputedMask(uint64_t total, uint64_t computed, uint64_t seed);

// `honest` ((D x R) x leaves per round) with every position outside LazyComputedMask(D x R x leaves, computed, seed)
// replaced by MerkleLeafHash(TaggedHash("vcp.lazy.garbage-tile", seed || u64 position)).
VCP_EXPORT EpochLeaves SimulateLazyLeaves(const EpochLeaves& honest, uint64_t computed, uint64_t seed);

}  // namespace vcp
