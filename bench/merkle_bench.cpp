// What committing to C costs on the CPU (spec version 2), for the issue-8 targets at n = 2048, T = 32, one core:
//
// (a) BM_CommitInt8 / BM_GemmInt8_2048: the commit (vcp::HashLeaves + MerkleTree::Build) against the int8 GEMM
//     of the same n, both on one thread: the commit must take at most 20% of the GEMM's time.
// (b) BM_HashLeaves (int8 and fp32-ordered) against BM_RawSha256 over exactly the bytes the leaf hashing feeds
//     SHA-256 after the per-tree first block (per leaf: e T^2 element bytes + 8 trailer bytes; int8 e = 1,
//     fp32-ordered e = 4), as one-shot digests of leaf-sized chunks and as one big buffer. bytes_per_second
//     counts those bytes, so the ratio is the cost of gathering tiles (int8: extracting the low bytes) and of the
//     per-leaf padding block: leaf hashing must reach at least 90% of raw SHA-256 over leaf-sized chunks.
// (c) BM_Int8LeafGather: the int8 low-byte gather alone, portable and AVX2 (its share of (b)).
// (d) MerkleTree::Build for 2^16 and 2^20 leaves: n - 1 node hashes of 65 bytes each (two SHA-256 blocks).
// Thread-count arguments: 1, or 0 = all hardware threads (timed on the wall clock).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "cpu/low_bytes.h"
#include "vcp/merkle.h"
#include "vcp/workload.h"

namespace {

constexpr uint32_t kDim = 2048;
constexpr uint32_t kTile = 32;
constexpr uint64_t kLeafCount = (uint64_t{kDim} / kTile) * (kDim / kTile);

vcp::WorkloadParams BenchParams(vcp::WorkloadKind kind) {
  vcp::WorkloadParams p;
  p.kind = kind;
  p.m = p.n = p.k = kDim;
  p.tile = kTile;
  return p;
}

// Bytes SHA-256 consumes per leaf after the shared first block: T*T elements of e bytes and the 8-byte trailer.
uint64_t LeafTailBytes(vcp::WorkloadKind kind) {
  return uint64_t{kTile} * kTile * (kind == vcp::WorkloadKind::kInt8 ? 1 : 4) + 8;
}

vcp::WorkloadKind KindArg(int64_t arg) {
  return arg == 1 ? vcp::WorkloadKind::kInt8 : vcp::WorkloadKind::kFp32Ordered;
}

// C (kDim, kDim) row-major; values do not matter to hashing speed but are varied anyway.
std::vector<uint32_t> SyntheticC() {
  std::vector<uint32_t> c(uint64_t{kDim} * kDim);
  std::mt19937 rng(1);
  for (uint32_t& v : c) v = rng();
  return c;
}

// Args: workload id (1 int8, 2 fp32-ordered), threads.
void BM_HashLeaves(benchmark::State& state) {
  const vcp::WorkloadKind kind = KindArg(state.range(0));
  const vcp::WorkloadParams p = BenchParams(kind);
  const std::vector<uint32_t> c = SyntheticC();
  std::vector<vcp::Hash32> leaves(kLeafCount);
  const int threads = static_cast<int>(state.range(1));
  for (auto _ : state) {
    if (!vcp::HashLeaves(p, c, leaves, threads).ok()) {
      state.SkipWithError("HashLeaves failed");
      return;
    }
    benchmark::DoNotOptimize(leaves.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kLeafCount * LeafTailBytes(kind)));
  state.counters["leaves"] = static_cast<double>(kLeafCount);
}
// One thread is timed in CPU time, like the raw SHA-256 runs, so the single-core comparison holds on a shared
// machine; all threads must be timed on the wall clock (CPU time would count only the calling thread).
BENCHMARK(BM_HashLeaves)->ArgNames({"workload", "threads"})->Args({1, 1})->Args({2, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HashLeaves)->ArgNames({"workload", "threads"})->Args({1, 0})->Unit(benchmark::kMillisecond)->UseRealTime();

// The int8 leaves' byte gather alone (cpu/low_bytes.h) over the same C, a row of a 64-tile band per call as
// HashLeaves does it, for both tiers (arg: 0 portable, 1 the AVX2 tier): how much of BM_HashLeaves it is.
void BM_Int8LeafGather(benchmark::State& state) {
  const vcp::cpu::Tier tier = state.range(0) == 0 ? vcp::cpu::Tier::kPortable : vcp::cpu::BestLowBytesTier();
  const std::vector<uint32_t> c = SyntheticC();
  constexpr uint64_t kBand = 64, kSlot = uint64_t{kTile} * kTile;
  std::vector<uint8_t> band(kBand * kSlot);
  for (auto _ : state) {
    for (uint64_t row = 0; row < kDim; ++row) {
      for (uint64_t col = 0; col < kDim; col += kBand * kTile) {
        vcp::cpu::LowBytes(tier, &c[row * kDim + col], kBand, kTile, &band[(row % kTile) * kTile], kSlot);
      }
      benchmark::DoNotOptimize(band.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * uint64_t{kDim} * kDim));  // output bytes
}
BENCHMARK(BM_Int8LeafGather)->ArgName("avx2")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The whole commit of an int8 C on one thread: leaf hashes, then the tree.
void BM_CommitInt8(benchmark::State& state) {
  const vcp::WorkloadParams p = BenchParams(vcp::WorkloadKind::kInt8);
  const std::vector<uint32_t> c = SyntheticC();
  for (auto _ : state) {
    std::vector<vcp::Hash32> leaves(kLeafCount);
    if (!vcp::HashLeaves(p, c, leaves, 1).ok()) {
      state.SkipWithError("HashLeaves failed");
      return;
    }
    const vcp::MerkleTree tree = vcp::MerkleTree::Build(std::move(leaves), 1);
    benchmark::DoNotOptimize(tree.root());
  }
  state.counters["leaves"] = static_cast<double>(kLeafCount);
}
BENCHMARK(BM_CommitInt8)->Unit(benchmark::kMillisecond);

// The int8 GEMM the commit is measured against: C (2048, 2048) = A * B on one thread (inputs generated once).
void BM_GemmInt8_2048(benchmark::State& state) {
  const vcp::WorkloadParams p = BenchParams(vcp::WorkloadKind::kInt8);
  std::vector<int8_t> a(uint64_t{kDim} * kDim), b(uint64_t{kDim} * kDim);
  std::vector<int32_t> c(uint64_t{kDim} * kDim);
  if (!vcp::GenerateInt8(p, vcp::Matrix::kA, a).ok() || !vcp::GenerateInt8(p, vcp::Matrix::kB, b).ok()) {
    state.SkipWithError("input generation failed");
    return;
  }
  for (auto _ : state) {
    if (!vcp::ComputeInt8(p, a, b, c, 1).ok()) {
      state.SkipWithError("ComputeInt8 failed");
      return;
    }
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * vcp::OperationCount(p)));  // operations
}
BENCHMARK(BM_GemmInt8_2048)->Unit(benchmark::kMillisecond);

// Raw OpenSSL over the leaf hashing's byte count of the given workload: one EVP_Digest per leaf-sized chunk
// (per_leaf 1) or over the whole buffer at once (per_leaf 0).
void BM_RawSha256(benchmark::State& state) {
  const vcp::WorkloadKind kind = KindArg(state.range(0));
  const uint64_t total = kLeafCount * LeafTailBytes(kind);
  const uint64_t chunk = state.range(1) == 0 ? total : LeafTailBytes(kind);
  std::vector<uint8_t> data(total);
  std::mt19937 rng(2);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) {
    state.SkipWithError("EVP_MD_fetch(SHA256) failed");
    return;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (auto _ : state) {
    for (uint64_t at = 0; at < total; at += chunk) {
      const uint64_t n = std::min(chunk, total - at);
      if (EVP_Digest(data.data() + at, n, digest, &len, md, nullptr) != 1) {
        state.SkipWithError("EVP_Digest failed");
        break;
      }
      benchmark::DoNotOptimize(digest);
    }
  }
  EVP_MD_free(md);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total));
}
BENCHMARK(BM_RawSha256)
    ->ArgNames({"workload", "per_leaf"})
    ->Args({1, 1})
    ->Args({1, 0})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond);

void BM_MerkleBuild(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  std::vector<vcp::Hash32> leaves(n);
  std::mt19937 rng(3);
  for (vcp::Hash32& h : leaves) {
    for (uint8_t& b : h) b = static_cast<uint8_t>(rng());
  }
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<vcp::Hash32> copy = leaves;  // Build consumes its input
    state.ResumeTiming();
    const vcp::MerkleTree tree = vcp::MerkleTree::Build(std::move(copy), threads);
    benchmark::DoNotOptimize(tree.root());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (n - 1)));  // node hashes
}
BENCHMARK(BM_MerkleBuild)
    ->ArgNames({"leaves", "threads"})
    ->Args({1 << 16, 1})
    ->Args({1 << 20, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MerkleBuild)
    ->ArgNames({"leaves", "threads"})
    ->Args({1 << 16, 0})
    ->Args({1 << 20, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
