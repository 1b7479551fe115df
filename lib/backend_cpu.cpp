// The CPU engine as a backend: generate A and B, compute C, hash leaves and build the tree on all cores.
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>

#include "backend.h"
#include "cpu/gemm.h"
#include "parallel.h"

namespace vcp {

namespace {

class CpuCommitment final : public Commitment {
 public:
  CpuCommitment(const WorkloadParams& params, MerkleTree tree, DeviceInfo device, RunTimings timings)
      : params_(params), tree_(std::move(tree)), root_(tree_.root()), device_(std::move(device)), timings_(timings) {}
  const WorkloadParams& params() const override { return params_; }
  const Hash32& root() const override { return root_; }
  uint64_t leaf_count() const override { return tree_.size(); }
  const DeviceInfo& device() const override { return device_; }
  const RunTimings& timings() const override { return timings_; }
  Result<MultiProof> Open(std::span<const uint64_t> leaf_indices) const override {
    return ProveMulti(tree_, leaf_indices);
  }
  Result<std::vector<Hash32>> LeafHashes() const override { return tree_.levels().at(0); }

 private:
  WorkloadParams params_;
  MerkleTree tree_;
  Hash32 root_;
  DeviceInfo device_;
  RunTimings timings_;
};

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      // substr(npos) would throw, so a "model name" line with nothing after the colon falls through.
      const auto value = colon == std::string::npos ? colon : line.find_first_not_of(" \t", colon + 1);
      if (value != std::string::npos) return line.substr(value);
    }
  }
  return "unknown CPU";
}

Result<DeviceInfo> ProbeCpu() {
  DeviceInfo info;
  info.backend = "cpu";
  info.name = CpuModelName() + " (int8 tier " + std::string(cpu::TierName(cpu::BestInt8Tier())) + ", fp32 tier " +
              std::string(cpu::TierName(cpu::BestFp32Tier())) + ")";
  info.compute_units = ResolveThreads(0);
  return info;
}

// Refuses shapes whose A, B and C cannot fit in physical memory, before allocating anything.
Status CheckHostMemory(const WorkloadParams& p) {
  const uint64_t in_bytes = p.kind == WorkloadKind::kInt8 ? 1 : 4;
  const uint64_t need = (uint64_t{p.m} * p.k + uint64_t{p.k} * p.n) * in_bytes + uint64_t{p.m} * p.n * 4 +
                        TileGridOf(p).leaf_count() * 64;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const uint64_t have = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
  if (have != 0 && need > have) {
    return Status::ResourceExhausted("this workload needs " + std::to_string(need >> 20) +
                                     " MiB of host memory for A, B, C and the tree, but the machine has " +
                                     std::to_string(have >> 20) + " MiB; use smaller M, N, K or a GPU backend");
  }
  return Status::Ok();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result<std::unique_ptr<Commitment>> RunCpu(const WorkloadParams& p, const RunOptions& options,
                                           const DeviceInfo& device) {
  VCP_RETURN_IF_ERROR(CheckHostMemory(p));
  RunTimings timings;
  const auto start = std::chrono::steady_clock::now();
  const uint64_t mn = uint64_t{p.m} * p.n;
  std::vector<uint32_t> c(mn);  // C (M, N): int32 or binary32 bit patterns
  if (p.kind == WorkloadKind::kInt8) {
    std::vector<int8_t> a(uint64_t{p.m} * p.k), b(uint64_t{p.k} * p.n);
    VCP_RETURN_IF_ERROR(GenerateInt8(p, Matrix::kA, a, options.threads));
    VCP_RETURN_IF_ERROR(GenerateInt8(p, Matrix::kB, b, options.threads));
    timings.generate_seconds = SecondsSince(start);
    const auto gemm_start = std::chrono::steady_clock::now();
    VCP_RETURN_IF_ERROR(
        ComputeInt8(p, a, b, std::span<int32_t>(reinterpret_cast<int32_t*>(c.data()), mn), options.threads));
    timings.gemm_seconds = SecondsSince(gemm_start);
  } else {
    std::vector<float> a(uint64_t{p.m} * p.k), b(uint64_t{p.k} * p.n);
    VCP_RETURN_IF_ERROR(GenerateFp32(p, Matrix::kA, a, options.threads));
    VCP_RETURN_IF_ERROR(GenerateFp32(p, Matrix::kB, b, options.threads));
    timings.generate_seconds = SecondsSince(start);
    const auto gemm_start = std::chrono::steady_clock::now();
    VCP_RETURN_IF_ERROR(
        ComputeFp32(p, a, b, std::span<float>(reinterpret_cast<float*>(c.data()), mn), options.threads));
    timings.gemm_seconds = SecondsSince(gemm_start);
  }
  const auto commit_start = std::chrono::steady_clock::now();
  std::vector<Hash32> leaves(TileGridOf(p).leaf_count());
  VCP_RETURN_IF_ERROR(HashLeaves(p, c, leaves, options.threads));
  MerkleTree tree = MerkleTree::Build(std::move(leaves), options.threads);
  timings.commit_seconds = SecondsSince(commit_start);
  timings.total_seconds = SecondsSince(start);
  return std::unique_ptr<Commitment>(new CpuCommitment(p, std::move(tree), device, timings));
}

}  // namespace

const Backend& CpuBackend() {
  static const Backend backend{"cpu", &ProbeCpu, &RunCpu};
  return backend;
}

}  // namespace vcp
