// Lease protocol costs (docs/PERFORMANCE.md, "Lease protocol"): the verifier's cost per epoch and the proof size
// for k = 16, 64, 256 samples at n = 4096 and 8192 (int8, T = 32, D = 1 device, R = 16 rounds; the verifier's cost
// depends on D x R, the epoch's rounds), and the provider's storage trade-off (keep leaf hashes vs recompute a
// sampled round).
//
// An honest provider at n = 8192 needs minutes per round on a CPU, so the epochs here are built for a chosen
// sample: every sampled tile is computed honestly from its round seed (exactly what the verifier will recompute)
// and every other leaf is filler. The verifier's work on such an epoch is identical to its work on a real one:
// parse, signature, sample derivation, hash counts, the epoch proof, and the sampled tiles recomputed on one core.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <tuple>

#include "vcp/epoch.h"
#include "vcp/store.h"

namespace vcp {
namespace {

constexpr uint32_t kRounds = 16;

SecretKey Key(uint8_t byte) {
  std::array<uint8_t, 32> seed{};
  seed.fill(byte);
  return std::move(SecretKey::FromSeed(seed)).value();
}

Hash32 Fixed(uint8_t byte) {
  Hash32 h{};
  h.fill(byte);
  return h;
}

Lease BenchLease(uint32_t n, uint32_t samples, uint32_t rounds, const SecretKey& verifier, const SecretKey& provider) {
  Lease lease;
  lease.workload.kind = WorkloadKind::kInt8;
  lease.workload.m = lease.workload.n = lease.workload.k = n;
  lease.workload.tile = 32;
  lease.devices = 1;
  lease.rounds_per_epoch = rounds;
  lease.samples_per_epoch = samples;  // k = 16 is below the library's minimum: measured for the cost curve only
  lease.claimed_ops_per_second_per_device = 1;  // never timed here
  lease.start_us = 1;
  lease.end_us = 2;
  lease.verifier_key = verifier.public_key();
  lease.provider_key = provider.public_key();
  return lease;
}

// Serialized response size for a sample, from the layout in docs/PROTOCOL.md section 4.6.
uint64_t ResponseBytes(const Lease& lease, const SampleSet& sample) {
  uint64_t bytes = 118 + 4 + 4 + kSignatureBytes;
  for (const auto& tiles : sample.tiles) bytes += 4 + 32 + 4 + 32 * MultiProofHashCount(LeavesPerRound(lease), tiles);
  const std::vector<uint64_t> rounds(sample.rounds.begin(), sample.rounds.end());
  return bytes + 32 * MultiProofHashCount(EpochRounds(lease), rounds);
}

struct BenchEpoch {
  SecretKey verifier = Key(0x71), provider = Key(0x72);
  Lease lease;
  EpochStart start;
  EpochRecord record;
  ChallengeValue challenge;
  SampleSet sample;
  std::vector<uint8_t> response;
  std::string error;
};

std::unique_ptr<BenchEpoch> BuildEpoch(uint32_t n, uint32_t samples) {
  auto e = std::make_unique<BenchEpoch>();
  e->lease = BenchLease(n, samples, kRounds, e->verifier, e->provider);
  const Lease& lease = e->lease;
  e->start.lease_id = LeaseId(lease);
  e->start.beacon = Fixed(0xbe);
  e->start.prev_record = e->start.lease_id;
  e->challenge = ChallengeValue{ChallengeKind::kVerifierRandomness, 0, Fixed(0xcc)};
  const uint64_t per_round = LeavesPerRound(lease);
  e->sample = GroupSamples(SamplePositions(Fixed(0x5a), e->challenge.value, kRounds, per_round, samples));

  // Filler everywhere, honest leaves at the sampled tiles.
  EpochLeaves leaves(kRounds, std::vector<Hash32>(per_round));
  std::mt19937_64 rng(n * 1000 + samples);
  for (auto& round : leaves) {
    for (Hash32& h : round) {
      for (size_t i = 0; i < 32; i += 8) {
        const uint64_t v = rng();
        std::memcpy(h.data() + i, &v, 8);
      }
    }
  }
  for (size_t i = 0; i < e->sample.rounds.size(); ++i) {
    const WorkloadParams params = RoundWorkload(lease, e->start, e->sample.rounds[i]);
    for (uint64_t tile : e->sample.tiles[i]) {
      auto elements = ComputeTileFromSeed(params, tile);
      if (!elements.ok()) {
        e->error = elements.status().ToString();
        return e;
      }
      leaves[e->sample.rounds[i]][tile] = LeafHashOfTile(params, TileAt(params, tile), *elements);
    }
  }
  DeviceEvidence device;
  device.name = "bench";
  auto commit = CommitEpoch(lease, e->start, leaves, std::vector<DeviceEvidence>{device}, 0, 0, e->provider);
  if (!commit.ok()) {
    e->error = commit.status().ToString();
    return e;
  }
  e->record = commit->record;
  auto openings = BuildOpenings(lease, e->record, commit->round_roots, e->sample,
                                [&leaves](uint32_t r) -> Result<std::vector<Hash32>> { return leaves[r]; });
  if (!openings.ok()) {
    e->error = openings.status().ToString();
    return e;
  }
  EpochResponse response;
  response.lease_id = e->start.lease_id;
  response.record_hash = RecordHash(e->record);
  response.challenge = e->challenge;
  response.rounds = std::move(openings->rounds);
  response.epoch_hashes = std::move(openings->epoch_hashes);
  (void)Sign(response, e->provider);
  e->response = Serialize(response);
  if (e->response.size() != ResponseBytes(lease, e->sample)) e->error = "response size formula disagrees";
  return e;
}

const BenchEpoch& Epoch(uint32_t n, uint32_t samples) {
  static std::map<std::pair<uint32_t, uint32_t>, std::unique_ptr<BenchEpoch>> cache;
  auto& slot = cache[{n, samples}];
  if (!slot) slot = BuildEpoch(n, samples);
  return *slot;
}

// The verifier's whole check of one epoch's response, on `threads` cores (args n, k, threads; wall time, so the
// scaling with cores shows).
void BM_VerifyEpoch(benchmark::State& state) {
  const BenchEpoch& e = Epoch(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
  if (!e.error.empty()) {
    state.SkipWithError(e.error.c_str());
    return;
  }
  for (auto _ : state) {
    auto parsed = ParseEpochResponse(e.response);
    if (!parsed.ok() || !CheckSignature(*parsed, e.lease.provider_key).ok()) {
      state.SkipWithError("response did not parse or verify");
      return;
    }
    // Deriving the sample is part of the cost; the epoch was built for e.sample, which is what is checked.
    benchmark::DoNotOptimize(SamplePositions(RecordHash(e.record), e.challenge.value, kRounds, LeavesPerRound(e.lease),
                                             e.lease.samples_per_epoch));
    const Finding f = CheckOpenings(e.lease, e.start, e.record, e.sample,
                                    EpochOpenings{parsed->rounds, parsed->epoch_hashes},
                                    static_cast<int>(state.range(2)));
    if (!f.ok()) {
      state.SkipWithError(("verification failed: " + f.detail).c_str());
      return;
    }
  }
  uint64_t tiles = 0;
  for (const auto& t : e.sample.tiles) tiles += t.size();
  state.counters["proof_bytes"] = double(e.response.size());
  state.counters["proof_KiB"] = double(e.response.size()) / 1024;
  state.counters["opened_rounds"] = double(e.sample.rounds.size());
  state.counters["distinct_tiles"] = double(tiles);
}
BENCHMARK(BM_VerifyEpoch)
    ->ArgNames({"n", "k", "threads"})
    ->Args({4096, 16, 1})
    ->Args({4096, 64, 1})
    ->Args({4096, 256, 1})
    ->Args({8192, 16, 1})
    ->Args({8192, 64, 1})
    ->Args({8192, 256, 1})
    ->Args({8192, 64, 2})
    ->Args({8192, 256, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.5);

// Proof size as a function of R (n = 8192, k = 64), averaged over 20 challenges; no timing.
void BM_ProofSizeByRounds(benchmark::State& state) {
  const SecretKey v = Key(1), p = Key(2);
  const Lease lease = BenchLease(8192, 64, static_cast<uint32_t>(state.range(0)), v, p);
  double total = 0, worst = 0;
  for (auto _ : state) {
    total = 0;
    worst = 0;
    for (uint8_t c = 0; c < 20; ++c) {
      const SampleSet sample =
          GroupSamples(SamplePositions(Fixed(c), Fixed(0xcc), EpochRounds(lease), LeavesPerRound(lease), 64));
      const double bytes = double(ResponseBytes(lease, sample));
      total += bytes;
      worst = std::max(worst, bytes);
    }
  }
  state.counters["mean_KiB"] = total / 20 / 1024;
  state.counters["max_KiB"] = worst / 1024;
}
BENCHMARK(BM_ProofSizeByRounds)->ArgName("R")->Arg(1)->Arg(4)->Arg(16)->Arg(32)->Arg(64)->Arg(256)->Iterations(1);

// Provider storage, per round at n = 512 (T = 32: 256 leaves): writing and reading back the round's share of a
// leaves file, against recomputing the round when its tiles are challenged.
void BM_ProviderKeepLeaves(benchmark::State& state) {
  const uint64_t per_round = 256;
  EpochLeaves leaves(kRounds, std::vector<Hash32>(per_round, Fixed(7)));
  const std::string path = "/tmp/vcp-bench-" + std::to_string(::getpid()) + ".leaves";
  for (auto _ : state) {
    if (!WriteLeavesFile(path, Fixed(1), 0, leaves).ok()) state.SkipWithError("write failed");
    benchmark::DoNotOptimize(ReadLeavesFile(path, Fixed(1), 0, kRounds, per_round));
  }
  std::remove(path.c_str());
  state.SetItemsProcessed(int64_t(state.iterations()) * kRounds);  // rounds
}
BENCHMARK(BM_ProviderKeepLeaves)->Unit(benchmark::kMillisecond);

void BM_ProviderRecomputeRound(benchmark::State& state) {
  const SecretKey v = Key(1), p = Key(2);
  const Lease lease = BenchLease(512, 64, kRounds, v, p);
  EpochStart start;
  start.lease_id = LeaseId(lease);
  RunOptions options;
  options.backend = BackendChoice::kCpu;
  options.threads = 1;
  for (auto _ : state) {
    auto leaves = RecomputeRoundLeaves(lease, start, 0, options);
    if (!leaves.ok()) state.SkipWithError(leaves.status().ToString().c_str());
  }
  state.SetItemsProcessed(int64_t(state.iterations()));  // rounds
}
BENCHMARK(BM_ProviderRecomputeRound)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vcp
