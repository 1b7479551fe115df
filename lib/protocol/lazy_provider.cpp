// The simulated lazy provider (vcp/lazy_provider.h).
#include "vcp/lazy_provider.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <numeric>
#include <random>
#include <utility>

#include "vcp/bytes.h"
#include "vcp/merkle.h"

namespace vcp {

namespace {

// The positions in the order the lazy provider computes them: the first `computed` are done, the rest skipped.
// std::shuffle's algorithm is unspecified, so the shuffle is written out to be the same on every platform.
std::vector<uint64_t> LazyOrder(uint64_t total, uint64_t seed) {
  std::vector<uint64_t> order(total);
  std::iota(order.begin(), order.end(), uint64_t{0});
  std::mt19937_64 rng(seed);
  for (uint64_t i = total; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  return order;
}

}  // namespace

uint64_t ComputedPositions(uint64_t total, double fraction) {
  const double skipped = std::round(std::clamp(fraction, 0.0, 1.0) * double(total));
  return total - std::min(total, static_cast<uint64_t>(skipped));
}

Status CheckSkipFraction(uint64_t total, double fraction) {
  char f[32];
  std::snprintf(f, sizeof f, "%.3g", fraction);
  if (!(fraction >= 0 && fraction <= 1)) {
    return Status::InvalidArgument("skip fraction " + std::string(f) +
                                   " is out of range; allowed: 0 (honest) to 1, the share of tiles the lazy provider "
                                   "skips");
  }
  if (fraction > 0 && ComputedPositions(total, fraction) == total) {
    char smallest[32];
    std::snprintf(smallest, sizeof smallest, "%.3g", total == 0 ? 1.0 : 0.5 / double(total));
    char share[32];
    std::snprintf(share, sizeof share, "%.3g", fraction * double(total));
    return Status::InvalidArgument("skip fraction " + std::string(f) + " skips no tile at all: " + f + " x " +
                                   std::to_string(total) + " positions per epoch (D x R x tiles per round) = " +
                                   share + ", which rounds to 0; skip at least " + smallest +
                                   " (one position), or use a larger shape");
  }
  return Status::Ok();
}

std::vector<bool> LazyComputedMask(uint64_t total, uint64_t computed, uint64_t seed) {
  const std::vector<uint64_t> order = LazyOrder(total, seed);
  std::vector<bool> mask(total, false);
  for (uint64_t i = 0; i < std::min(computed, total); ++i) mask[order[i]] = true;
  return mask;
}

EpochLeaves SimulateLazyLeaves(const EpochLeaves& honest, uint64_t computed, uint64_t seed) {
  const uint64_t per_round = honest.empty() ? 0 : honest[0].size();
  const uint64_t total = honest.size() * per_round;
  const std::vector<uint64_t> order = LazyOrder(total, seed);
  EpochLeaves lazy = honest;
  for (uint64_t i = std::min(computed, total); i < total; ++i) {
    const uint64_t position = order[i];
    ByteWriter w;
    w.U64(seed);
    w.U64(position);
    const Hash32 garbage_tile = TaggedHash("vcp.lazy.garbage-tile", w.bytes());
    lazy[position / per_round][position % per_round] = MerkleLeafHash(garbage_tile);
  }
  return lazy;
}

}  // namespace vcp
