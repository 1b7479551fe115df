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

// Positions per epoch fit comfortably in a u64 under the lease limits alone (at most 16 x 2^16 x (2^20 / 8)^2 =
// 2^54), so no lease can reach kMaxPositionsPerEpoch and ValidateLease needs no check of its own for it.
static_assert(uint64_t{kMaxDevices} * kMaxRounds * (uint64_t{kMaxDimension} / kMinTile) *
                      (uint64_t{kMaxDimension} / kMinTile) <=
                  kMaxPositionsPerEpoch,
              "the lease limits must keep D x R x tiles per round within kMaxPositionsPerEpoch");


namespace {

// One maximal subtree without an opened leaf contributes one hash; RFC 6962 splits at the largest power of two
// below the size.
__extension__ typedef unsigned __int128 u128;  // exact products of 64-bit terms

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
uint64_t Saturate(u128 v) { return v > kU64Max ? kU64Max : static_cast<uint64_t>(v); }

constexpr u128 kU128Max = ~u128{0};
// a x b, or 2^128 - 1 when it does not fit: only a lease outside ValidateLease's limits gets there, and its
// derived values then saturate instead of wrapping.
u128 MulSat(u128 a, u128 b) { return b != 0 && a > kU128Max / b ? kU128Max : a * b; }

// R x 2MNK and D x R x 2MNK exactly: M, N, K <= 2^20 and R <= 2^16 keep them below 2^82 (2MNK < 2^97 always, so
// only the factor R can leave 128 bits, for a lease that is not valid).
u128 DeviceOps128(const Lease& lease) {
  return MulSat(u128{2} * lease.workload.m * lease.workload.n * lease.workload.k, lease.rounds_per_epoch);
}
u128 ComputeTime128(const Lease& lease) {
  if (lease.claimed_ops_per_second_per_device == 0) return kU64Max;
  return MulSat(DeviceOps128(lease), 1000000) / lease.claimed_ops_per_second_per_device;
}
u128 Deadline128(const Lease& lease) {
  const u128 t_c = std::min<u128>(ComputeTime128(lease), kU64Max);  // < 2^64, so t_c x slack < 2^96: no wrap
  return t_c + t_c * lease.slack_ppm / 1000000;
}

std::string Us(uint64_t us) { return std::to_string(us) + " us"; }

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
  const double k = std::ceil((security_bits + grinding_bits) / -std::log2(computed_fraction) - 1e-9);
  // Checked as a double before converting: f close to 1 needs more draws than a u32 counts (and NaN bits none).
  if (!(k >= 1)) return 1;
  return k >= double(std::numeric_limits<uint32_t>::max()) ? std::numeric_limits<uint32_t>::max()
                                                            : static_cast<uint32_t>(k);
}

uint32_t MinSamples(LeaseMode mode) { return mode == LeaseMode::kBeacon ? kMinSamplesBeacon : kMinSamplesInteractive; }

// ---------------------------------------------------------------------------------------------------------------
// Lease validation.

Status ValidateLease(const Lease& lease) {
  WorkloadParams workload = lease.workload;
  workload.seed = Seed{};
  VCP_RETURN_IF_ERROR(ValidateWorkload(workload).WithContext("lease workload"));
  const std::string D = std::to_string(lease.devices), R = std::to_string(lease.rounds_per_epoch),
                    k = std::to_string(lease.samples_per_epoch);
  if (lease.devices < 1 || lease.devices > kMaxDevices) {
    return Status::InvalidArgument("lease: devices D = " + D + " is out of range; allowed: 1 to " +
                                   std::to_string(kMaxDevices));
  }
  if (lease.rounds_per_epoch < 1 || lease.rounds_per_epoch > kMaxRounds) {
    return Status::InvalidArgument("lease: rounds per device per epoch R = " + R + " is out of range; allowed: 1 to " +
                                   std::to_string(kMaxRounds));
  }
  const uint32_t min_k = MinSamples(lease.mode);
  if (lease.samples_per_epoch < min_k || lease.samples_per_epoch > kMaxSamples) {
    return Status::InvalidArgument("lease: samples per epoch k = " + k + " is out of range for " +
                                   std::string(LeaseModeName(lease.mode)) + " mode; allowed: " + std::to_string(min_k) +
                                   " to " + std::to_string(kMaxSamples) + " (below " + std::to_string(min_k) +
                                   ", a provider that skipped half of each epoch would pass with probability above " +
                                   "2^-40; see docs/PROTOCOL.md section 8)");
  }
  if (MulSat(DeviceOps128(lease), lease.devices) > kU64Max) {
    return Status::InvalidArgument("lease: D x R x 2MNK operations per epoch does not fit in 64 bits (at most 2^64 - 1"
                                   "); use fewer rounds or a smaller workload");
  }
  if (lease.claimed_ops_per_second_per_device == 0) {
    return Status::InvalidArgument(
        "lease: the claimed rate per device must be positive (operations per second); the deadline follows from it");
  }
  if (lease.slack_ppm > kMaxSlackPpm) {
    return Status::InvalidArgument("lease: slack " + std::to_string(lease.slack_ppm) +
                                   " ppm is above the maximum " + std::to_string(kMaxSlackPpm) +
                                   " ppm (1.0, which proves half the claimed rate); a larger slack proves less than "
                                   "half of what the lease claims");
  }
  const uint64_t t_c = ComputeTimeUs(lease);
  if (t_c < kMinComputeUs) {
    return Status::InvalidArgument("lease: compute time t_c = R x 2MNK / rate = " + Us(t_c) +
                                   " per epoch is below the minimum " + Us(kMinComputeUs) +
                                   " (1 ms: an epoch too short to time); raise R or use a larger workload");
  }
  const uint64_t deadline = EpochDeadlineUs(lease);
  if (deadline > kMaxDeadlineUs) {
    return Status::InvalidArgument(
        "lease: the epoch deadline " + Us(deadline) + " (compute time t_c = " + Us(t_c) + " x (1 + slack)) is above "
        "the maximum " + Us(kMaxDeadlineUs) + " (2^40 us, 12.7 days; the bound that keeps every sum of protocol "
        "times in 64 bits, docs/PROTOCOL.md section 5.2); lower R, use a smaller workload or claim a higher rate");
  }
  const uint64_t margin = deadline - t_c;
  // Half the margin for the network, the other half for the honest provider's jitter at exactly the claimed rate.
  if (u128{lease.network_allowance_us} * 2 > margin) {
    return Status::InvalidArgument(
        "lease: the network allowance " + Us(lease.network_allowance_us) +
        " is not small beside the epoch's compute time: t_c = " + Us(t_c) + ", slack margin = deadline - t_c = " +
        Us(margin) + " (slack " + std::to_string(lease.slack_ppm) + " ppm), and the allowance must fit in half of "
        "the margin (at most " + Us(margin / 2) + "); raise R, raise the slack (max 1.0) or lower the allowance");
  }
  VCP_RETURN_IF_ERROR(ValidateLeaseTimes(lease));
  if (lease.start_us >= lease.end_us) {
    return Status::InvalidArgument("lease: start " + Us(lease.start_us) + " must be before end " + Us(lease.end_us) +
                                   " (microseconds since the Unix epoch)");
  }
  if (lease.verifier_key == lease.provider_key) {
    return Status::InvalidArgument("lease: the verifier and provider keys must differ");
  }
  if (lease.mode == LeaseMode::kBeacon) {
    if (lease.beacon_name.empty() || lease.beacon_name.size() > kMaxBeaconNameBytes ||
        !std::all_of(lease.beacon_name.begin(), lease.beacon_name.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
      return Status::InvalidArgument("lease: beacon mode needs a beacon name of 1 to " +
                                     std::to_string(kMaxBeaconNameBytes) + " printable ASCII characters, no spaces");
    }
    if (lease.beacon_period_us == 0) {
      return Status::InvalidArgument("lease: beacon mode needs a positive beacon period (microseconds)");
    }
  } else if (!lease.beacon_name.empty() || lease.beacon_genesis_us != 0 || lease.beacon_period_us != 0) {
    return Status::InvalidArgument("lease: interactive mode takes no beacon (name, genesis and period must be empty)");
  }
  return Status::Ok();
}

Status ValidateLeaseTimes(const Lease& lease) {
  const auto at_most = [](std::string_view field, uint64_t value, uint64_t max, std::string_view what) {
    if (value <= max) return Status::Ok();
    return Status::InvalidArgument("lease: " + std::string(field) + " " + Us(value) + " is above the maximum " +
                                   Us(max) + " (" + std::string(what) +
                                   "; the bounds keep every sum of protocol times in 64 bits, docs/PROTOCOL.md "
                                   "section 5.2)");
  };
  VCP_RETURN_IF_ERROR(at_most("start", lease.start_us, kMaxTimeUs, "2^53 us since the Unix epoch, the year 2255"));
  VCP_RETURN_IF_ERROR(at_most("end", lease.end_us, kMaxTimeUs, "2^53 us since the Unix epoch, the year 2255"));
  VCP_RETURN_IF_ERROR(at_most("beacon genesis", lease.beacon_genesis_us, kMaxTimeUs,
                              "2^53 us since the Unix epoch, the year 2255"));
  VCP_RETURN_IF_ERROR(at_most("beacon period", lease.beacon_period_us, kMaxBeaconPeriodUs, "2^40 us, 12.7 days"));
  VCP_RETURN_IF_ERROR(at_most("network allowance", lease.network_allowance_us, kMaxDeadlineUs,
                              "2^40 us, the longest epoch deadline"));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------------
// Ids and seeds.

Hash32 LeaseId(const Lease& lease) { return schema::HashBeforeSignature("vcp.v2.lease-id", Serialize(lease)); }

Hash32 RecordHash(const EpochRecord& record) {
  return schema::HashBeforeSignature("vcp.v2.record-hash", Serialize(record));
}

Seed EpochSeed(const Hash32& lease_id, uint64_t epoch, const Hash32& beacon, const Hash32& prev_record) {
  ByteWriter w;
  w.Bytes(lease_id);
  w.U64(epoch);
  w.Bytes(beacon);
  w.Bytes(prev_record);
  return TaggedHash("vcp.v2.epoch-seed", w.bytes());
}

Seed RoundSeed(const Seed& epoch_seed, uint32_t device, uint32_t round) {
  ByteWriter w;
  w.Bytes(epoch_seed);
  w.U32(device);
  w.U32(round);
  return TaggedHash("vcp.v2.round-seed", w.bytes());
}

uint32_t EpochRounds(const Lease& lease) { return uint32_t{lease.devices} * lease.rounds_per_epoch; }

uint32_t EpochRound(const Lease& lease, uint32_t device, uint32_t round) {
  return device * lease.rounds_per_epoch + round;
}

WorkloadParams RoundWorkload(const Lease& lease, const EpochStart& start, uint32_t epoch_round) {
  WorkloadParams params = lease.workload;
  const uint32_t r = lease.rounds_per_epoch == 0 ? 0 : epoch_round % lease.rounds_per_epoch;
  const uint32_t d = lease.rounds_per_epoch == 0 ? 0 : epoch_round / lease.rounds_per_epoch;
  params.seed = RoundSeed(EpochSeed(start.lease_id, start.epoch, start.beacon, start.prev_record), d, r);
  return params;
}

uint64_t LeavesPerRound(const Lease& lease) { return TileGridOf(lease.workload).leaf_count(); }

uint64_t DeviceOperations(const Lease& lease) { return Saturate(DeviceOps128(lease)); }
uint64_t EpochOperations(const Lease& lease) { return Saturate(DeviceOps128(lease) * lease.devices); }
uint64_t ComputeTimeUs(const Lease& lease) { return Saturate(ComputeTime128(lease)); }
uint64_t EpochDeadlineUs(const Lease& lease) { return Saturate(Deadline128(lease)); }

double GuaranteedRatePerDevice(const Lease& lease) {
  return static_cast<double>(lease.claimed_ops_per_second_per_device) / (1.0 + lease.slack_ppm / 1e6);
}

Hash32 EpochTreeLeaf(const Hash32& round_root) { return MerkleLeafHash(round_root); }

Hash32 EpochRoot(std::span<const Hash32> round_roots) {
  std::vector<Hash32> leaves;
  leaves.reserve(round_roots.size());
  for (const Hash32& root : round_roots) leaves.push_back(EpochTreeLeaf(root));
  return MerkleTree::Build(std::move(leaves), 1).root();
}

bool RecordOnTime(const Lease& lease, uint64_t epoch_start_us, uint64_t arrival_us) {
  return arrival_us >= epoch_start_us && arrival_us - epoch_start_us <= EpochDeadlineUs(lease);
}

uint64_t BeaconRoundFor(const Lease& lease, uint64_t epoch_start_us) {
  // Exact in 128 bits whatever the inputs; under the bounds of section 5.2 every value here is below 2^55.
  const u128 latest_on_time = u128{epoch_start_us} + EpochDeadlineUs(lease);
  if (lease.beacon_period_us == 0 || latest_on_time < lease.beacon_genesis_us) return 0;
  return Saturate((latest_on_time - lease.beacon_genesis_us) / lease.beacon_period_us + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling.

SampleDraw DrawSample(const Hash32& record_hash, const Hash32& challenge, uint32_t epoch_rounds,
                      uint64_t leaves_per_round, uint32_t draw) {
  const uint64_t total = uint64_t{epoch_rounds} * leaves_per_round;
  if (total == 0) return {};
  // Accept x < limit, the largest multiple of total that fits in 2^64, so x mod total is exactly uniform.
  const uint64_t rejected = (kU64Max - total + 1) % total;  // 2^64 mod total
  const uint64_t limit = kU64Max - rejected + 1;            // 0 means 2^64
  for (uint32_t attempt = 0;; ++attempt) {
    ByteWriter fields;
    fields.Bytes(record_hash);
    fields.Bytes(challenge);
    fields.U32(draw);
    fields.U32(attempt);
    const Hash32 h = TaggedHash("vcp.v2.sample", fields.bytes());
    const uint64_t x = LoadLe64(std::span<const uint8_t, kHashBytes>(h).first<8>());  // the digest's first 8 bytes
    if (limit != 0 && x >= limit) continue;
    const uint64_t position = x % total;
    return {{static_cast<uint32_t>(position / leaves_per_round), position % leaves_per_round}, attempt};
  }
}

std::vector<SamplePosition> SamplePositions(const Hash32& record_hash, const Hash32& challenge, uint32_t epoch_rounds,
                                            uint64_t leaves_per_round, uint32_t samples) {
  std::vector<SamplePosition> positions;
  if (uint64_t{epoch_rounds} * leaves_per_round == 0) return positions;
  positions.reserve(samples);
  for (uint32_t draw = 0; draw < samples; ++draw) {
    positions.push_back(DrawSample(record_hash, challenge, epoch_rounds, leaves_per_round, draw).position);
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
