// One epoch, both roles, without storage (docs/PROTOCOL.md sections 6, 7 and 9).
#include <algorithm>
#include <optional>
#include <string>

#include "parallel.h"
#include "tile_recompute.h"
#include "vcp/bytes.h"
#include "vcp/epoch.h"
#include "vcp/merkle.h"

namespace vcp {

namespace {

std::string Short(const Hash32& h) { return ToHex(h).substr(0, 16); }

std::string JoinRounds(std::span<const uint32_t> rounds) {
  std::string out;
  for (size_t i = 0; i < rounds.size() && i < 8; ++i) {
    if (i > 0) out += ',';
    out += std::to_string(rounds[i]);
  }
  if (rounds.size() > 8) out += ",... (" + std::to_string(rounds.size()) + " in all)";
  return out;
}

Finding Fail(Reason reason, std::string detail) { return Finding{reason, ToProtocolText(detail, kMaxDetailBytes)}; }

std::string Plural(uint64_t n, const std::string& word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

Status CheckLeafShape(const Lease& lease, const EpochLeaves& leaves) {
  const uint64_t per_round = LeavesPerRound(lease);
  if (leaves.size() != EpochRounds(lease)) {
    return Status::InvalidArgument("epoch leaves: " + std::to_string(leaves.size()) +
                                   " rounds given; the lease has D x R = " + std::to_string(lease.devices) + " x " +
                                   std::to_string(lease.rounds_per_epoch) + " = " +
                                   std::to_string(EpochRounds(lease)));
  }
  for (size_t r = 0; r < leaves.size(); ++r) {
    if (leaves[r].size() != per_round) {
      return Status::InvalidArgument("epoch leaves: round " + std::to_string(r) + " has " +
                                     std::to_string(leaves[r].size()) + " leaf hashes; the workload has " +
                                     std::to_string(per_round) + " tiles per round");
    }
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Provider.

DeviceEvidence EvidenceOf(const DeviceInfo& device) {
  DeviceEvidence e;
  e.backend = device.backend == "cuda" ? DeviceBackend::kCuda : DeviceBackend::kCpu;
  e.name = ToProtocolText(device.name, kMaxDeviceNameBytes);
  e.uuid = device.uuid;
  e.pci_bus_id = ToProtocolText(device.pci_bus_id, kMaxPciBusIdBytes);
  e.memory_bytes = device.memory_bytes;
  e.compute_units = static_cast<uint32_t>(std::max(device.compute_units, 0));
  e.max_clock_khz = device.max_clock_khz;
  e.max_memory_clock_khz = device.max_memory_clock_khz;
  e.compute_capability_major = static_cast<uint8_t>(std::clamp(device.compute_capability_major, 0, 255));
  e.compute_capability_minor = static_cast<uint8_t>(std::clamp(device.compute_capability_minor, 0, 255));
  e.driver_version = static_cast<uint32_t>(std::max(device.driver_version_number, 0));
  e.runtime_version = static_cast<uint32_t>(std::max(device.runtime_version_number, 0));
  return e;
}

namespace {

// The run options of each of the lease's devices: a GPU ordinal each (CUDA), or a share of the threads (CPU).
Result<std::vector<RunOptions>> DeviceOptions(const Lease& lease, const RunOptions& options) {
  const uint32_t devices = lease.devices;
  VCP_ASSIGN_OR_RETURN(const DeviceInfo selected, SelectBackend(options));
  std::vector<RunOptions> each(devices, options);
  if (selected.backend == "cuda") {
    VCP_ASSIGN_OR_RETURN(const std::vector<DeviceInfo> gpus, ListDevices(BackendChoice::kCuda));
    if (gpus.size() < devices) {
      return Status::Unavailable("the lease names " + Plural(devices, "device") + "; this machine has " +
                                 Plural(gpus.size(), "CUDA device") +
                                 " (CUDA_VISIBLE_DEVICES may hide some): run it where all of them are visible");
    }
    for (uint32_t d = 0; d < devices; ++d) {
      each[d].backend = BackendChoice::kCuda;
      each[d].device = static_cast<int>(d);
    }
    return each;
  }
  // Simulated devices: the threads split between them, so D of them together use what one run would.
  const int threads = std::max(1, ResolveThreads(options.threads) / static_cast<int>(devices));
  for (RunOptions& o : each) {
    o.backend = BackendChoice::kCpu;
    o.threads = threads;
  }
  return each;
}

}  // namespace

Result<EpochRun> RunEpochRounds(const Lease& lease, const EpochStart& start, const RunOptions& options) {
  const uint32_t devices = lease.devices, rounds = lease.rounds_per_epoch;
  if (devices == 0)
    return Status::InvalidArgument("the lease names no devices; D is 1 to " + std::to_string(kMaxDevices));
  VCP_ASSIGN_OR_RETURN(const std::vector<RunOptions> each, DeviceOptions(lease, options));
  EpochRun run;
  run.leaves.resize(EpochRounds(lease));
  run.devices.resize(devices);
  std::vector<Status> failures(devices);
  // One thread per device, each running its rounds in order: one deadline covers all D devices at once.
  ParallelFor(devices, static_cast<int>(devices), 1, [&](uint64_t begin, uint64_t end) {
    for (uint64_t d = begin; d < end; ++d) {
      for (uint32_t r = 0; r < rounds; ++r) {
        const uint32_t q = static_cast<uint32_t>(d) * rounds + r;
        Result<std::unique_ptr<Commitment>> commitment = RunWorkload(RoundWorkload(lease, start, q), each[d]);
        if (!commitment.ok()) {
          failures[d] = commitment.status().WithContext("device " + std::to_string(d) + " round " + std::to_string(r));
          return;
        }
        if (r == 0) run.devices[d] = EvidenceOf((*commitment)->device());
        Result<std::vector<Hash32>> leaves = (*commitment)->LeafHashes();
        if (!leaves.ok()) {
          failures[d] = leaves.status().WithContext("device " + std::to_string(d) + " round " + std::to_string(r));
          return;
        }
        run.leaves[q] = std::move(leaves).value();
      }
    }
  });
  for (const Status& failure : failures) VCP_RETURN_IF_ERROR(failure);
  return run;
}

Result<EpochCommit> CommitEpoch(const Lease& lease, const EpochStart& start, const EpochLeaves& leaves,
                                std::span<const DeviceEvidence> devices, uint64_t provider_start_us,
                                uint64_t provider_end_us, const SecretKey& provider_key) {
  VCP_RETURN_IF_ERROR(CheckLeafShape(lease, leaves));
  if (devices.size() != lease.devices) {
    return Status::InvalidArgument("epoch record: " + std::to_string(devices.size()) +
                                   " device evidence entries given; the lease names D = " +
                                   std::to_string(lease.devices) + " devices, one entry each");
  }
  EpochCommit commit;
  commit.round_roots.reserve(leaves.size());
  for (const auto& round : leaves) commit.round_roots.push_back(MerkleTree::Build(round).root());
  EpochRecord& record = commit.record;
  record.lease_id = start.lease_id;
  record.epoch = start.epoch;
  record.beacon = start.beacon;
  record.prev_record = start.prev_record;
  record.rounds = lease.rounds_per_epoch;
  record.epoch_root = EpochRoot(commit.round_roots);
  record.operations = EpochOperations(lease);
  record.provider_start_us = provider_start_us;
  record.provider_end_us = provider_end_us;
  for (DeviceEvidence device : devices) {
    device.name = ToProtocolText(device.name, kMaxDeviceNameBytes);
    device.pci_bus_id = ToProtocolText(device.pci_bus_id, kMaxPciBusIdBytes);
    record.devices.push_back(std::move(device));
  }
  VCP_RETURN_IF_ERROR(Sign(record, provider_key));
  return commit;
}

Result<std::vector<Hash32>> RecomputeRoundLeaves(const Lease& lease, const EpochStart& start, uint32_t round,
                                                 const RunOptions& options) {
  VCP_ASSIGN_OR_RETURN(std::unique_ptr<Commitment> commitment,
                       RunWorkload(RoundWorkload(lease, start, round), options));
  return commitment->LeafHashes();
}

Result<EpochOpenings> BuildOpenings(const Lease& lease, const EpochRecord& record, std::span<const Hash32> round_roots,
                                    const SampleSet& sample, const RoundLeafSource& leaves) {
  if (round_roots.size() != EpochRounds(lease)) {
    return Status::InvalidArgument("response: " + std::to_string(round_roots.size()) +
                                   " round roots given; the lease has D x R = " + std::to_string(EpochRounds(lease)));
  }
  const uint64_t per_round = LeavesPerRound(lease);
  EpochOpenings openings;
  for (size_t i = 0; i < sample.rounds.size(); ++i) {
    const uint32_t round = sample.rounds[i];
    VCP_ASSIGN_OR_RETURN(std::vector<Hash32> round_leaves, leaves(round));
    if (round_leaves.size() != per_round) {
      return Status::InvalidArgument("response: round " + std::to_string(round) + " has " +
                                     std::to_string(round_leaves.size()) + " leaf hashes; expected " +
                                     std::to_string(per_round));
    }
    const MerkleTree tree = MerkleTree::Build(std::move(round_leaves));
    if (tree.root() != round_roots[round]) {
      return Status::InvalidArgument("response: the leaf hashes supplied for round " + std::to_string(round) +
                                     " give root " + ToHex(tree.root()) + ", but the record committed " +
                                     ToHex(round_roots[round]));
    }
    VCP_ASSIGN_OR_RETURN(MultiProof proof, ProveMulti(tree, sample.tiles[i]));
    openings.rounds.push_back(RoundOpening{round, round_roots[round], std::move(proof.hashes)});
  }
  std::vector<Hash32> epoch_leaves;
  epoch_leaves.reserve(round_roots.size());
  for (const Hash32& root : round_roots) epoch_leaves.push_back(EpochTreeLeaf(root));
  const MerkleTree epoch_tree = MerkleTree::Build(std::move(epoch_leaves), 1);
  if (epoch_tree.root() != record.epoch_root) {
    return Status::InvalidArgument("response: the round roots give epoch root " + ToHex(epoch_tree.root()) +
                                   ", but the record committed " + ToHex(record.epoch_root));
  }
  const std::vector<uint64_t> opened_rounds(sample.rounds.begin(), sample.rounds.end());
  VCP_ASSIGN_OR_RETURN(MultiProof epoch_proof, ProveMulti(epoch_tree, opened_rounds));
  openings.epoch_hashes = std::move(epoch_proof.hashes);
  return openings;
}

Result<EpochResponse> BuildResponse(const Lease& lease, const EpochRecord& record, std::span<const Hash32> round_roots,
                                    const ChallengeValue& challenge, const RoundLeafSource& leaves,
                                    const SecretKey& provider_key) {
  const Hash32 record_hash = RecordHash(record);
  const SampleSet sample = GroupSamples(SamplePositions(record_hash, challenge.value, EpochRounds(lease),
                                                        LeavesPerRound(lease), lease.samples_per_epoch));
  VCP_ASSIGN_OR_RETURN(EpochOpenings openings, BuildOpenings(lease, record, round_roots, sample, leaves));
  EpochResponse response;
  response.lease_id = record.lease_id;
  response.epoch = record.epoch;
  response.record_hash = record_hash;
  response.challenge = challenge;
  response.rounds = std::move(openings.rounds);
  response.epoch_hashes = std::move(openings.epoch_hashes);
  VCP_RETURN_IF_ERROR(Sign(response, provider_key));
  return response;
}

// ---------------------------------------------------------------------------------------------------------------
// Verifier.

RecordCheck CheckRecord(const Lease& lease, const EpochStart& start, uint64_t arrival_us,
                        std::span<const uint8_t> record_bytes) {
  RecordCheck out;
  Result<EpochRecord> parsed = ParseEpochRecord(record_bytes);
  if (!parsed.ok()) {
    out.finding = Fail(Reason::kMalformedRecord, std::string(parsed.status().message()));
    return out;
  }
  const EpochRecord& record = *parsed;
  const Hash32 lease_id = LeaseId(lease);
  if (record.lease_id != lease_id) {
    out.finding = Fail(Reason::kWrongLease,
                       "the record is for lease " + Short(record.lease_id) + "; this lease is " + Short(lease_id));
    return out;
  }
  if (Status s = CheckSignature(record, lease.provider_key); !s.ok()) {
    out.finding = Fail(Reason::kBadSignature, std::string(s.message()));
    return out;
  }
  if (record.epoch != start.epoch) {
    out.finding = Fail(Reason::kWrongEpoch, "the record is for epoch " + std::to_string(record.epoch) +
                                                "; the open epoch is " + std::to_string(start.epoch));
    return out;
  }
  if (record.beacon != start.beacon) {
    out.finding =
        Fail(Reason::kWrongBeacon, "the record names beacon " + Short(record.beacon) + "; epoch " +
                                       std::to_string(start.epoch) + " was issued with beacon " + Short(start.beacon));
    return out;
  }
  if (record.prev_record != start.prev_record) {
    out.finding =
        Fail(Reason::kBrokenChain, "the record follows record " + Short(record.prev_record) +
                                       "; the last record the verifier received is " + Short(start.prev_record));
    return out;
  }
  out.record = record;
  if (record.devices.size() != lease.devices || record.rounds != lease.rounds_per_epoch ||
      record.operations != EpochOperations(lease)) {
    out.finding = Fail(Reason::kWrongParameters,
                       "the record claims D = " + std::to_string(record.devices.size()) + " devices, R = " +
                           std::to_string(record.rounds) + " rounds per device and " +
                           std::to_string(record.operations) + " operations; the lease requires D = " +
                           std::to_string(lease.devices) + ", R = " + std::to_string(lease.rounds_per_epoch) +
                           " and " + std::to_string(EpochOperations(lease)));
    return out;
  }
  if (arrival_us < start.start_us) {
    // No window can be measured on a clock that went backwards: the verifier's fault, not the provider's.
    out.finding = Fail(Reason::kVoidClock, "the verifier's clock went backwards: the record arrived at " +
                                               std::to_string(arrival_us) + " us, before the epoch's start at " +
                                               std::to_string(start.start_us) + " us");
    return out;
  }
  if (!RecordOnTime(lease, start.start_us, arrival_us)) {
    // In microseconds: one microsecond over is late, and milliseconds would print the two figures equal.
    out.finding = Fail(Reason::kLate, "the record arrived " + std::to_string(arrival_us - start.start_us) +
                                          " us after the epoch start; the deadline is " +
                                          std::to_string(EpochDeadlineUs(lease)) +
                                          " us (on time iff arrival - start <= deadline)");
    return out;
  }
  return out;
}

Finding CheckResponse(const Lease& lease, const EpochStart& start, const EpochRecord& record,
                      const ChallengeValue& expected, std::span<const uint8_t> response_bytes, int threads) {
  Result<EpochResponse> parsed = ParseEpochResponse(response_bytes);
  if (!parsed.ok()) return Fail(Reason::kMalformedResponse, std::string(parsed.status().message()));
  const EpochResponse& response = *parsed;
  if (response.lease_id != record.lease_id) {
    return Fail(Reason::kWrongLease,
                "the response is for lease " + Short(response.lease_id) + "; this lease is " + Short(record.lease_id));
  }
  const Hash32 record_hash = RecordHash(record);
  if (response.epoch != record.epoch || response.record_hash != record_hash) {
    return Fail(Reason::kResponseMismatch, "the response answers epoch " + std::to_string(response.epoch) + " record " +
                                               Short(response.record_hash) + "; expected epoch " +
                                               std::to_string(record.epoch) + " record " + Short(record_hash));
  }
  if (Status s = CheckSignature(response, lease.provider_key); !s.ok()) {
    return Fail(Reason::kBadSignature, std::string(s.message()));
  }
  if (response.challenge.kind != expected.kind || response.challenge.beacon_round != expected.beacon_round ||
      response.challenge.value != expected.value) {
    return Fail(
        Reason::kWrongChallenge,
        "the response answers challenge " + Short(response.challenge.value) +
            (response.challenge.kind == ChallengeKind::kBeacon
                 ? " (beacon round " + std::to_string(response.challenge.beacon_round) + ")"
                 : std::string()) +
            "; the verifier's challenge is " + Short(expected.value) +
            (expected.kind == ChallengeKind::kBeacon ? " (beacon round " + std::to_string(expected.beacon_round) + ")"
                                                     : std::string()));
  }

  const SampleSet sample = GroupSamples(SamplePositions(record_hash, expected.value, EpochRounds(lease),
                                                        LeavesPerRound(lease), lease.samples_per_epoch));
  return CheckOpenings(lease, start, record, sample, EpochOpenings{response.rounds, response.epoch_hashes}, threads);
}

Finding CheckOpenings(const Lease& lease, const EpochStart& start, const EpochRecord& record, const SampleSet& sample,
                      const EpochOpenings& openings, int threads) {
  const uint64_t per_round = LeavesPerRound(lease);
  std::vector<uint32_t> opened;
  opened.reserve(openings.rounds.size());
  for (const RoundOpening& round : openings.rounds) opened.push_back(round.round);
  if (opened != sample.rounds) {
    return Fail(Reason::kWrongSamples, "the response opens rounds " + JoinRounds(opened) +
                                           "; the challenge samples rounds " + JoinRounds(sample.rounds));
  }
  for (size_t i = 0; i < sample.rounds.size(); ++i) {
    const uint64_t needed = MultiProofHashCount(per_round, sample.tiles[i]);
    if (openings.rounds[i].hashes.size() != needed) {
      return Fail(Reason::kBadProof, "round " + std::to_string(sample.rounds[i]) + ": the proof carries " +
                                         std::to_string(openings.rounds[i].hashes.size()) + " hashes; the " +
                                         std::to_string(sample.tiles[i].size()) + " sampled tiles need " +
                                         std::to_string(needed));
    }
  }
  std::vector<uint64_t> rounds64(sample.rounds.begin(), sample.rounds.end());
  const uint64_t epoch_needed = MultiProofHashCount(EpochRounds(lease), rounds64);
  if (openings.epoch_hashes.size() != epoch_needed) {
    return Fail(Reason::kBadProof, "the epoch proof carries " + std::to_string(openings.epoch_hashes.size()) +
                                       " hashes; the " + std::to_string(rounds64.size()) + " opened rounds need " +
                                       std::to_string(epoch_needed));
  }

  // Cheap before expensive: the round roots against the signed epoch root, then the tiles.
  std::vector<Hash32> root_leaves;
  root_leaves.reserve(openings.rounds.size());
  for (const RoundOpening& round : openings.rounds) root_leaves.push_back(EpochTreeLeaf(round.root));
  const MultiProof epoch_proof{EpochRounds(lease), rounds64, openings.epoch_hashes};
  if (Status s = VerifyMulti(epoch_proof, root_leaves, record.epoch_root); !s.ok()) {
    return Fail(Reason::kBadEpochProof,
                "the opened round roots do not give the record's epoch root: " + std::string(s.message()));
  }
  // Every round's sampled tiles recomputed at once, split across the threads (an epoch opens a few tiles in each
  // of many rounds: per round, the cores would mostly wait), then each round's proof against its root.
  std::vector<MultiProof> proofs;
  std::vector<WorkloadParams> params;
  proofs.reserve(sample.rounds.size());
  params.reserve(sample.rounds.size());
  std::vector<OpenedTile> tiles;
  for (size_t i = 0; i < sample.rounds.size(); ++i) {
    proofs.push_back(MultiProof{per_round, sample.tiles[i], openings.rounds[i].hashes});
    params.push_back(RoundWorkload(lease, start, sample.rounds[i]));
    if (Status s = ValidateOpening(params.back(), proofs.back()); !s.ok()) {
      return Fail(Reason::kTileMismatch, "round " + std::to_string(sample.rounds[i]) + ": " + std::string(s.message()));
    }
  }
  for (size_t i = 0; i < sample.rounds.size(); ++i) {
    for (uint64_t index : sample.tiles[i]) tiles.push_back({&params[i], index});
  }
  std::vector<Hash32> hashes(tiles.size());
  if (Status s = RecomputeLeafHashes(tiles, threads, hashes); !s.ok()) {
    return Fail(Reason::kTileMismatch, std::string(s.message()));
  }
  for (size_t i = 0, first = 0; i < sample.rounds.size(); first += sample.tiles[i].size(), ++i) {
    const std::span<const Hash32> round_hashes(hashes.data() + first, sample.tiles[i].size());
    if (Status s = VerifyOpenedTiles(proofs[i], round_hashes, openings.rounds[i].root); !s.ok()) {
      return Fail(Reason::kTileMismatch, "round " + std::to_string(sample.rounds[i]) + ": " + std::string(s.message()));
    }
  }
  return Finding{};
}

}  // namespace vcp
