// The foundation's main job, end to end, with the public API only: a verifier picks a fresh seed, a provider
// generates and computes an int8 workload and commits to its tiles, the verifier picks 16 tiles at random after
// seeing the root, the provider opens them, and the verifier recomputes just those tiles from the seed.
//
//   example_commit_and_check [M N K]      (default 2048 2048 2048)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "vcp/bytes.h"
#include "vcp/engine.h"

int main(int argc, char** argv) {
  vcp::WorkloadParams params;
  params.kind = vcp::WorkloadKind::kInt8;
  params.m = params.n = params.k = 2048;
  if (argc == 4) {
    params.m = static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10));
    params.n = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
    params.k = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
  }
  std::random_device entropy;  // the verifier's fresh seed: nothing could have been precomputed
  for (auto& byte : params.seed) byte = static_cast<uint8_t>(entropy());

  // Provider: compute and commit.
  auto commitment = vcp::RunWorkload(params, vcp::RunOptions{});
  if (!commitment.ok()) {
    std::fprintf(stderr, "run failed: %s\n", commitment.status().ToString().c_str());
    return 2;
  }
  const vcp::Commitment& c = **commitment;

  // Verifier: choose 16 tiles only after the root is known.
  std::mt19937_64 pick(entropy());
  std::vector<uint64_t> tiles;
  while (tiles.size() < std::min<uint64_t>(16, c.leaf_count())) {
    const uint64_t t = pick() % c.leaf_count();
    if (std::find(tiles.begin(), tiles.end(), t) == tiles.end()) tiles.push_back(t);
  }
  std::sort(tiles.begin(), tiles.end());

  auto proof = c.Open(tiles);  // provider
  if (!proof.ok()) {
    std::fprintf(stderr, "open failed: %s\n", proof.status().ToString().c_str());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const vcp::Status verdict = vcp::CheckOpening(params, c.root(), *proof);  // verifier, CPU, seed only
  const double check_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double ops = static_cast<double>(vcp::OperationCount(params));
  std::printf("backend     %s\n", c.device().selection_note.c_str());
  std::printf("workload    int8 %u x %u x %u, tile %u, seed %s\n", params.m, params.n, params.k, params.tile,
              vcp::ToHex(params.seed).c_str());
  std::printf("root        %s\n", vcp::ToHex(c.root()).c_str());
  std::printf("tiles       %llu committed, %zu opened (%zu proof hashes)\n",
              static_cast<unsigned long long>(c.leaf_count()), tiles.size(), proof->hashes.size());
  std::printf("operations  %.3e in %.3f s (%.2f Gop/s; gemm %.3f s, commit %.3f s)\n", ops,
              c.timings().total_seconds, ops / c.timings().total_seconds / 1e9, c.timings().gemm_seconds,
              c.timings().commit_seconds);
  std::printf("check       %.3f s on the CPU for %zu tiles\n", check_seconds, tiles.size());
  std::printf("verdict     %s\n", verdict.ok() ? "ACCEPTED" : ("REJECTED: " + verdict.ToString()).c_str());
  return verdict.ok() ? 0 : 1;
}
