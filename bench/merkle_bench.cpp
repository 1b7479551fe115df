// Leaf hashing and tree building: what committing to C costs on the CPU.
//
// (a) vcp::HashLeaves over a 2048 x 2048 C with T = 32 (4096 leaves of 1 + 63 + 4096 bytes) against raw OpenSSL
//     SHA-256 over exactly as many bytes, once as one-shot digests of 4 KiB buffers and once as one big buffer.
//     bytes_per_second counts the bytes actually hashed (prefix, header and tile), so the ratio is the overhead
//     of gathering tiles and of the per-leaf padding block.
// (b) MerkleTree::Build for 2^16 and 2^20 leaves: n - 1 node hashes of 65 bytes each (two SHA-256 blocks).
// The second argument is the thread count; 0 means all hardware threads.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "vcp/merkle.h"
#include "vcp/workload.h"

namespace {

constexpr uint32_t kDim = 2048;
constexpr uint32_t kTile = 32;

vcp::WorkloadParams LeafBenchParams() {
  vcp::WorkloadParams p;
  p.kind = vcp::WorkloadKind::kInt8;
  p.m = p.n = p.k = kDim;
  p.tile = kTile;
  return p;
}

// Bytes SHA-256 consumes per leaf: the 0x00 prefix, the 63-byte header and T*T 4-byte elements.
constexpr uint64_t kBytesPerLeaf = 1 + 63 + uint64_t{kTile} * kTile * 4;
constexpr uint64_t kLeafCount = (uint64_t{kDim} / kTile) * (kDim / kTile);
constexpr uint64_t kTotalBytes = kLeafCount * kBytesPerLeaf;

// C (kDim, kDim) row-major; values do not matter to hashing speed but are varied anyway.
std::vector<uint32_t> SyntheticC() {
  std::vector<uint32_t> c(uint64_t{kDim} * kDim);
  std::mt19937 rng(1);
  for (uint32_t& v : c) v = rng();
  return c;
}

void BM_HashLeaves(benchmark::State& state) {
  const vcp::WorkloadParams p = LeafBenchParams();
  const std::vector<uint32_t> c = SyntheticC();
  std::vector<vcp::Hash32> leaves(kLeafCount);
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    if (!vcp::HashLeaves(p, c, leaves, threads).ok()) {
      state.SkipWithError("HashLeaves failed");
      return;
    }
    benchmark::DoNotOptimize(leaves.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kTotalBytes));
  state.counters["leaves"] = static_cast<double>(kLeafCount);
}
// One thread is timed in CPU time, like the raw SHA-256 runs, so the single-core comparison holds on a shared
// machine; all threads must be timed on the wall clock (CPU time would count only the calling thread).
BENCHMARK(BM_HashLeaves)->ArgName("threads")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HashLeaves)->ArgName("threads")->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// Raw OpenSSL over kTotalBytes: one EVP_Digest per `chunk` bytes (0 = the whole buffer at once).
void BM_RawSha256(benchmark::State& state) {
  const uint64_t chunk = state.range(0) == 0 ? kTotalBytes : static_cast<uint64_t>(state.range(0));
  std::vector<uint8_t> data(kTotalBytes);
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
    for (uint64_t at = 0; at < kTotalBytes; at += chunk) {
      const uint64_t n = std::min(chunk, kTotalBytes - at);
      if (EVP_Digest(data.data() + at, n, digest, &len, md, nullptr) != 1) {
        state.SkipWithError("EVP_Digest failed");
        break;
      }
      benchmark::DoNotOptimize(digest);
    }
  }
  EVP_MD_free(md);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kTotalBytes));
}
BENCHMARK(BM_RawSha256)->ArgName("chunk")->Arg(4096)->Arg(0)->Unit(benchmark::kMillisecond);

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
