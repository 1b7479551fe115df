// Values derived from the lease protocol's messages: ids, seeds, sampled positions, beacon rounds, lease
// validation and the soundness arithmetic (docs/PROTOCOL.md sections 5 and 8).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "protocol/message_schema.h"
#include "vcp/bytes.h"
#include "vcp/merkle.h"
#include "vcp/protocol.h"

namespace vcp {

namespace {

// One maximal subtree without an opened leaf contributes one hash; RFC 6962 splits at the largest power of two
// below the size.
uint64_t CountHashes(uint64_t lo, uint64_t size, std::span<const uint64_t> indices) {
  if (indices.empty()) return 1;
  if (size == 1) return 0;
  uint64_t split = 1;
  while (split * 2 < size) split *= 2;
  const auto mid = std::lower_bound(indices.begin(), indices.end(), lo + split);
  const auto left = static_cast<size_t>(mid - indices.begin());
  return CountHashes(lo, split, indices.subspan(0, left)) +
         CountHashes(lo + split, size - split, indices.subspan(left));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Soundness.

double EpochPassProbability(double computed_fraction, uint32_t samples, double grinding_tries) {
  if (computed_fraction <= 0) return 0;
  if (computed_fraction >= 1) return 1;
  // 1 - (1 - f^k)^G without cancellation when f^k is tiny.
  const double single = std::exp(samples * std::log(computed_fraction));
  if (single >= 1) return 1;
  return -std::expm1(grinding_tries * std::log1p(-single));
}

uint32_t SamplesNeeded(double computed_fraction, double security_bits, double grinding_bits) {
  if (computed_fraction <= 0) return 1;
  if (computed_fraction >= 1) return std::numeric_limits<uint32_t>::max();
  const double k = (security_bits + grinding_bits) / -std::log2(computed_fraction);
  return static_cast<uint32_t>(std::ceil(k - 1e-9));
}

uint32_t MinSamples(LeaseMode mode) { return mode == LeaseMode::kBeacon ? kMinSamplesBeacon : kMinSamplesInteractive; }

// ---------------------------------------------------------------------------------------------------------------
// Lease validation.

Status ValidateLease(const Lease& lease) {
  WorkloadParams workload = lease.workload;
  workload.seed = Seed{};
  VCP_RETURN_IF_ERROR(ValidateWorkload(workload).WithContext("lease workload"));
  const std::string R = std::to_string(lease.rounds_per_epoch), k = std::to_string(lease.samples_per_epoch);
  if (lease.rounds_per_epoch < 1 || lease.rounds_per_epoch > kMaxRounds) {
    return Status::InvalidArgument("lease: rounds per epoch R = " + R + " is out of range; allowed: 1.." +
                                   std::to_string(kMaxRounds));
  }
  const uint32_t min_k = MinSamples(lease.mode);
  if (lease.samples_per_epoch < min_k || lease.samples_per_epoch > kMaxSamples) {
    return Status::InvalidArgument("lease: samples per epoch k = " + k + " is out of range for " +
                                   std::string(LeaseModeName(lease.mode)) + " mode; allowed: " + std::to_string(min_k) +
                                   ".." + std::to_string(kMaxSamples) + " (below " + std::to_string(min_k) +
                                   ", a provider that skipped half of each epoch would pass with probability above " +
                                   "2^-40; see docs/PROTOCOL.md section 8)");
  }
  const uint64_t leaves = LeavesPerRound(lease);
  if (leaves > kMaxPositionsPerEpoch / lease.rounds_per_epoch) {
    return Status::InvalidArgument(
        "lease: R x tiles per round exceeds 2^62 positions; use fewer rounds or a larger tile");
  }
  const uint64_t ops = OperationCount(workload);
  if (ops > std::numeric_limits<uint64_t>::max() / lease.rounds_per_epoch) {
    return Status::InvalidArgument("lease: R x 2MNK operations per epoch does not fit in 64 bits; use fewer rounds");
  }
  if (lease.epoch_deadline_us == 0) {
    return Status::InvalidArgument("lease: the epoch deadline must be positive (microseconds)");
  }
  if (lease.claimed_ops_per_second == 0) {
    return Status::InvalidArgument("lease: the claimed throughput must be positive (operations per second)");
  }
  if (lease.start_us >= lease.end_us) {
    return Status::InvalidArgument("lease: start " + std::to_string(lease.start_us) + " us must be before end " +
                                   std::to_string(lease.end_us) + " us");
  }
  if (lease.verifier_key == lease.provider_key) {
    return Status::InvalidArgument("lease: the verifier and provider keys must differ");
  }
  if (lease.mode == LeaseMode::kBeacon) {
    if (lease.beacon_name.empty() || lease.beacon_name.size() > kMaxBeaconNameBytes ||
        !std::all_of(lease.beacon_name.begin(), lease.beacon_name.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
      return Status::InvalidArgument("lease: beacon mode needs a beacon name of 1.." +
                                     std::to_string(kMaxBeaconNameBytes) + " printable ASCII characters, no spaces");
    }
    if (lease.beacon_period_us == 0) {
      return Status::InvalidArgument("lease: beacon mode needs a positive beacon period");
    }
  } else if (!lease.beacon_name.empty() || lease.beacon_genesis_us != 0 || lease.beacon_period_us != 0) {
    return Status::InvalidArgument("lease: interactive mode takes no beacon (name, genesis and period must be empty)");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------------
// Ids and seeds.

Hash32 LeaseId(const Lease& lease) { return schema::HashBeforeSignature("vcp.v1.lease-id", Serialize(lease)); }

Hash32 RecordHash(const EpochRecord& record) {
  return schema::HashBeforeSignature("vcp.v1.record-hash", Serialize(record));
}

Seed EpochSeed(const Hash32& lease_id, uint64_t epoch, const Hash32& beacon, const Hash32& prev_record) {
  ByteWriter w;
  w.Bytes(lease_id);
  w.U64(epoch);
  w.Bytes(beacon);
  w.Bytes(prev_record);
  return TaggedHash("vcp.v1.epoch-seed", w.bytes());
}

Seed RoundSeed(const Seed& epoch_seed, uint32_t round) {
  ByteWriter w;
  w.Bytes(epoch_seed);
  w.U32(round);
  return TaggedHash("vcp.v1.round-seed", w.bytes());
}

WorkloadParams RoundWorkload(const Lease& lease, const EpochStart& start, uint32_t round) {
  WorkloadParams params = lease.workload;
  params.seed = RoundSeed(EpochSeed(start.lease_id, start.epoch, start.beacon, start.prev_record), round);
  return params;
}

uint64_t LeavesPerRound(const Lease& lease) { return TileGridOf(lease.workload).leaf_count(); }

uint64_t EpochOperations(const Lease& lease) { return OperationCount(lease.workload) * lease.rounds_per_epoch; }

Hash32 EpochTreeLeaf(const Hash32& round_root) { return MerkleLeafHash(round_root); }

Hash32 EpochRoot(std::span<const Hash32> round_roots) {
  std::vector<Hash32> leaves;
  leaves.reserve(round_roots.size());
  for (const Hash32& root : round_roots) leaves.push_back(EpochTreeLeaf(root));
  return MerkleTree::Build(std::move(leaves), 1).root();
}

uint64_t BeaconRoundFor(const Lease& lease, uint64_t epoch_start_us) {
  const uint64_t deadline = epoch_start_us + lease.epoch_deadline_us;
  if (lease.beacon_period_us == 0 || deadline <= lease.beacon_genesis_us) return 0;
  const uint64_t since = deadline - lease.beacon_genesis_us;
  return (since + lease.beacon_period_us - 1) / lease.beacon_period_us;
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling.

std::vector<SamplePosition> SamplePositions(const Hash32& record_hash, const Hash32& challenge, uint32_t rounds,
                                            uint64_t leaves_per_round, uint32_t samples) {
  std::vector<SamplePosition> positions;
  const uint64_t total = uint64_t{rounds} * leaves_per_round;
  if (total == 0) return positions;
  // Accept x < limit, the largest multiple of total that fits in 2^64, so x mod total is exactly uniform.
  const uint64_t rejected = (std::numeric_limits<uint64_t>::max() - total + 1) % total;  // 2^64 mod total
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - rejected + 1;            // 0 means 2^64
  positions.reserve(samples);
  for (uint32_t draw = 0; draw < samples; ++draw) {
    for (uint32_t attempt = 0;; ++attempt) {
      ByteWriter fields;
      fields.Bytes(record_hash);
      fields.Bytes(challenge);
      fields.U32(draw);
      fields.U32(attempt);
      const Hash32 h = TaggedHash("vcp.v1.sample", fields.bytes());
      const uint64_t x = LoadLe64(std::span<const uint8_t, kHashBytes>(h).first<8>());  // the digest's first 8 bytes
      if (limit != 0 && x >= limit) continue;
      const uint64_t position = x % total;
      positions.push_back({static_cast<uint32_t>(position / leaves_per_round), position % leaves_per_round});
      break;
    }
  }
  return positions;
}

SampleSet GroupSamples(std::span<const SamplePosition> positions) {
  std::vector<SamplePosition> sorted(positions.begin(), positions.end());
  std::sort(sorted.begin(), sorted.end(), [](const SamplePosition& a, const SamplePosition& b) {
    return a.round != b.round ? a.round < b.round : a.tile < b.tile;
  });
  SampleSet set;
  for (const SamplePosition& p : sorted) {
    if (set.rounds.empty() || set.rounds.back() != p.round) {
      set.rounds.push_back(p.round);
      set.tiles.emplace_back();
    }
    if (set.tiles.back().empty() || set.tiles.back().back() != p.tile) set.tiles.back().push_back(p.tile);
  }
  return set;
}

uint64_t MultiProofHashCount(uint64_t tree_size, std::span<const uint64_t> indices) {
  if (tree_size == 0) return 0;
  return CountHashes(0, tree_size, indices);
}

}  // namespace vcp
