// The spec's input generator on the CPU (lib/cpu/philox_fill.h), one thread: Philox blocks per tier, the
// verifier's strided tile segments, and the engine's row fills. Items are Philox blocks (16 int8 or 4 fp32
// elements each). A tier this CPU lacks reports an error instead of a figure.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cpu/philox_fill.h"

namespace {

using vcp::cpu::Tier;

constexpr vcp::shared::PhiloxKey kKey{0x01234567, 0x89abcdef};

Tier TierArg(benchmark::State& state) { return static_cast<Tier>(state.range(0)); }

bool Unavailable(benchmark::State& state, Tier tier) {
  if (vcp::cpu::TierAvailable(tier)) return false;
  state.SkipWithError(("this CPU lacks the " + std::string(vcp::cpu::TierName(tier)) + " tier").c_str());
  return true;
}

void TierArgs(benchmark::internal::Benchmark* b) {
  b->ArgName("tier");
  for (Tier tier : {Tier::kPortable, Tier::kAvx2, Tier::kAvx512Vnni}) b->Arg(static_cast<int64_t>(tier));
}

// Args: tier. 4096 consecutive blocks (64 KiB of words) per call, the counter moving on each time.
void BM_PhiloxBlocks(benchmark::State& state) {
  const Tier tier = TierArg(state);
  if (Unavailable(state, tier)) return;
  constexpr uint64_t kCount = 4096;
  std::vector<uint32_t> words(4 * kCount);
  uint64_t block0 = 0;
  for (auto _ : state) {
    vcp::cpu::PhiloxBlocks(tier, kKey, vcp::shared::kMatrixB, block0, kCount, words.data());
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
    block0 += kCount;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCount));
  state.SetLabel(std::string(vcp::cpu::TierName(tier)));
}
BENCHMARK(BM_PhiloxBlocks)->Apply(TierArgs);

// Args: tier, run_blocks. The verifier's recompute of one 32-column segment of B (K = 8192 rows, N = 8192):
// run_blocks = 2 for int8 (stride N / 16 blocks), 8 for fp32 (stride N / 4 blocks).
void BM_PhiloxBlockRuns(benchmark::State& state) {
  const Tier tier = TierArg(state);
  if (Unavailable(state, tier)) return;
  const auto run_blocks = static_cast<uint64_t>(state.range(1));
  constexpr uint64_t kRuns = 8192, kN = 8192;
  const uint64_t stride = kN / (run_blocks == 2 ? vcp::shared::kInt8PerBlock : vcp::shared::kFp32PerBlock);
  std::vector<uint32_t> words(4 * run_blocks * kRuns);
  uint64_t first = 0;
  for (auto _ : state) {
    vcp::cpu::PhiloxBlockRuns(tier, kKey, vcp::shared::kMatrixB, first, stride, run_blocks, kRuns, words.data());
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
    first = (first + run_blocks) % stride;  // the next tile's segment
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * run_blocks * kRuns));
  state.SetLabel(std::string(vcp::cpu::TierName(tier)));
}
BENCHMARK(BM_PhiloxBlockRuns)->ArgNames({"tier", "run_blocks"})->ArgsProduct({{0, 1, 2}, {2, 8}});

// One 8192-element row of A per call, at the process's tier (VCP_CPU_TIER selects another).
constexpr uint64_t kRow = 8192;

void BM_FillInt8(benchmark::State& state) {
  std::vector<int8_t> row(kRow);
  uint64_t first = 0;
  for (auto _ : state) {
    vcp::cpu::FillInt8(kKey, vcp::shared::kMatrixA, first, kRow, row.data());
    benchmark::DoNotOptimize(row.data());
    benchmark::ClobberMemory();
    first += kRow;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRow / vcp::shared::kInt8PerBlock));
  state.SetLabel(std::string(vcp::cpu::TierName(vcp::cpu::SelectedTier())));
}
BENCHMARK(BM_FillInt8);

void BM_FillFp32(benchmark::State& state) {
  std::vector<float> row(kRow);
  uint64_t first = 0;
  for (auto _ : state) {
    vcp::cpu::FillFp32(kKey, vcp::shared::kMatrixA, first, kRow, row.data());
    benchmark::DoNotOptimize(row.data());
    benchmark::ClobberMemory();
    first += kRow;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRow / vcp::shared::kFp32PerBlock));
  state.SetLabel(std::string(vcp::cpu::TierName(vcp::cpu::SelectedTier())));
}
BENCHMARK(BM_FillFp32);

}  // namespace
