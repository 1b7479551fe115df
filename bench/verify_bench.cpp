// Verifier cost: checking an opening of 64 tiles, recomputed on one CPU core from the seed alone.
// Target (docs/PERFORMANCE.md): 64 opened 64 x 64 int8 tiles at K = 8192 in <= 100 ms on one core.
//
// Building a real commitment of the whole workload would take minutes on a CPU and is not what is measured, so
// the tree here holds the true leaf hashes of the opened tiles and random hashes elsewhere: the verifier's work
// (regenerate the tiles' rows of A and columns of B, multiply, hash, walk the multiproof) is exactly the same.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>

#include "vcp/engine.h"
#include "workload_table.h"

namespace {

struct Opening {
  vcp::WorkloadParams params;
  vcp::Hash32 root;
  vcp::MultiProof proof;
};

Opening MakeOpening(vcp::WorkloadKind kind, uint32_t n, uint32_t k, uint32_t tile, size_t opened) {
  Opening o;
  o.params.kind = kind;
  o.params.m = o.params.n = n;
  o.params.k = k;
  o.params.tile = tile;
  std::mt19937_64 rng(42);
  for (auto& b : o.params.seed) b = static_cast<uint8_t>(rng());
  const uint64_t leaves = vcp::TileGridOf(o.params).leaf_count();
  std::vector<uint64_t> indices;
  while (indices.size() < opened) {
    const uint64_t t = rng() % leaves;
    if (std::find(indices.begin(), indices.end(), t) == indices.end()) indices.push_back(t);
  }
  std::sort(indices.begin(), indices.end());
  std::vector<vcp::Hash32> hashes(leaves);
  for (auto& h : hashes)
    for (auto& b : h) b = static_cast<uint8_t>(rng());
  for (uint64_t t : indices) {
    auto words = vcp::ComputeTileFromSeed(o.params, t);
    hashes[t] = vcp::LeafHashOfTile(o.params, vcp::TileAt(o.params, t), *words);
  }
  const vcp::MerkleTree tree = vcp::MerkleTree::Build(std::move(hashes));
  o.root = tree.root();
  o.proof = *vcp::ProveMulti(tree, indices);
  return o;
}

// Args: n (= M = N), K, T, tiles opened.
void BM_CheckOpening(benchmark::State& state, vcp::WorkloadKind kind) {
  const Opening o = MakeOpening(kind, static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)),
                                static_cast<uint32_t>(state.range(2)), static_cast<size_t>(state.range(3)));
  for (auto _ : state) {
    const vcp::Status s = vcp::CheckOpening(o.params, o.root, o.proof, /*threads=*/1);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  const double macs = double(state.range(2)) * double(state.range(2)) * double(state.range(1)) * double(state.range(3));
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["proof_hashes"] = static_cast<double>(o.proof.hashes.size());
}

BENCHMARK_CAPTURE(BM_CheckOpening, int8, vcp::WorkloadKind::kInt8)
    ->Args({4096, 8192, 64, 64})
    ->Args({8192, 8192, 32, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_CheckOpening, fp32_ordered, vcp::WorkloadKind::kFp32Ordered)
    ->Args({8192, 8192, 32, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One tile, split into its two costs: regenerating inputs and the multiply.
void BM_ComputeTileFromSeed(benchmark::State& state) {
  vcp::WorkloadParams p;
  p.m = p.n = 8192;
  p.k = static_cast<uint32_t>(state.range(0));
  p.tile = static_cast<uint32_t>(state.range(1));
  uint64_t t = 0;
  for (auto _ : state) {
    auto words = vcp::ComputeTileFromSeed(p, t);
    benchmark::DoNotOptimize(words);
    t = (t + 977) % vcp::TileGridOf(p).leaf_count();
  }
}
BENCHMARK(BM_ComputeTileFromSeed)->Args({8192, 32})->Args({8192, 64})->Unit(benchmark::kMillisecond);

// The verifier's input generation for one tile, alone: its T rows of A (T, K), one run, and its T columns of B
// (K, T), K runs of T elements N = 8192 apart, through the workload table's fill (what ComputeTileInto calls).
// Args: K, T. items = Philox blocks generated.
void BM_TileInputs(benchmark::State& state, vcp::WorkloadKind kind) {
  const vcp::CpuWorkload* w = vcp::FindCpuWorkload(kind);
  const uint64_t k = static_cast<uint64_t>(state.range(0)), t = static_cast<uint64_t>(state.range(1)), n = 8192;
  std::vector<uint8_t> a(t * k * w->info.input_bytes), b(k * t * w->info.input_bytes);
  const vcp::shared::PhiloxKey key{0x01234567, 0x89abcdef};
  uint64_t tile = 0;
  for (auto _ : state) {
    const uint64_t row0 = (tile % (n / t)) * t, col0 = (tile * 7 % (n / t)) * t;
    w->fill(key, vcp::shared::kMatrixA, row0 * k, 0, t * k, 1, a.data());
    w->fill(key, vcp::shared::kMatrixB, col0, n, t, k, b.data());
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(b.data());
    ++tile;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 2 * t * k / w->per_philox_block));
}
BENCHMARK_CAPTURE(BM_TileInputs, int8, vcp::WorkloadKind::kInt8)
    ->Args({8192, 32})
    ->Args({8192, 64})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TileInputs, fp32_ordered, vcp::WorkloadKind::kFp32Ordered)
    ->Args({8192, 32})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
