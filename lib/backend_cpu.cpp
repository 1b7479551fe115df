// The CPU engine as a backend: the stages of lib/backend.h on host memory, each the public CPU function of
// vcp/workload.h or vcp/merkle.h that defines the bytes, on all cores. Stages run synchronously.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <new>

#include "backend.h"
#include "cpu/gemm.h"
#include "merkle_positions.h"
#include "parallel.h"
#include "workload_table.h"

namespace vcp {

namespace {

struct Run {
  WorkloadParams params;
  int threads = 0;
  uint64_t bytes[4] = {};  // per BufferRole
  std::chrono::steady_clock::time_point marks[kRunMarks];
};

struct Buffer {
  BufferRole role;
  std::vector<uint32_t> words;  // 4-byte aligned storage for any element type; the role's bytes, rounded up
};

// The opaque handles of lib/backend.h are these types.
Run* AsRun(BackendRun* r) { return reinterpret_cast<Run*>(r); }
Buffer* AsBuffer(BackendBuffer* b) { return reinterpret_cast<Buffer*>(b); }
const Buffer* AsBuffer(const BackendBuffer* b) { return reinterpret_cast<const Buffer*>(b); }

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

// The host CPU as one device: its model and hardware threads; no other evidence field applies to a CPU.
// (The GEMM tier a run uses is the run's gemm_path, not part of the device.)
DeviceInfo HostCpu() {
  DeviceInfo info;
  info.backend = "cpu";
  info.name = CpuModelName();
  info.compute_units = ResolveThreads(0);
  return info;
}

Result<std::vector<DeviceInfo>> ListDevices() { return std::vector<DeviceInfo>{HostCpu()}; }

// The CPU engine has one device, so every ordinal names it (RunOptions::device is for GPUs).
Result<DeviceInfo> Probe(int) { return HostCpu(); }

// Every workload of the table runs on the CPU (it is the table's CPU half that defines them).
Status Supports(const WorkloadParams&, const DeviceInfo&) { return Status::Ok(); }

uint64_t RoleBytes(const WorkloadParams& p, BufferRole role) {
  const uint64_t in_bytes = FindWorkload(p.kind)->input_bytes;
  switch (role) {
    case BufferRole::kA: return uint64_t{p.m} * p.k * in_bytes;
    case BufferRole::kB: return uint64_t{p.k} * p.n * in_bytes;
    case BufferRole::kC: return uint64_t{p.m} * p.n * 4;
    case BufferRole::kTree: return LayoutTree(TileGridOf(p).leaf_count()).nodes * 32;
  }
  return 0;
}

// Refuses shapes whose A, B, C and tree cannot fit in physical memory, before allocating anything.
Result<BackendRun*> OpenRun(const WorkloadParams& p, int threads, int) {
  auto run = std::make_unique<Run>();
  run->params = p;
  run->threads = threads;
  uint64_t need = 0;
  for (int role = 0; role < 4; ++role) {
    run->bytes[role] = RoleBytes(p, static_cast<BufferRole>(role));
    need += run->bytes[role];
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const uint64_t have = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
  if (have != 0 && need > have) {
    return Status::ResourceExhausted("this workload needs " + std::to_string(need >> 20) +
                                     " MiB of host memory for A, B, C and the tree, but the machine has " +
                                     std::to_string(have >> 20) + " MiB; use smaller M, N, K or a GPU backend");
  }
  return reinterpret_cast<BackendRun*>(run.release());
}

void CloseRun(BackendRun* run) { delete AsRun(run); }

// A cgroup or overcommit limit can refuse memory that fits the machine: that is an error to report, not an
// exception to let escape.
Result<BackendBuffer*> Allocate(BackendRun* run, BufferRole role) {
  const uint64_t bytes = AsRun(run)->bytes[static_cast<int>(role)];
  try {
    auto buffer = std::make_unique<Buffer>();
    buffer->role = role;
    buffer->words.resize((bytes + 3) / 4);
    return reinterpret_cast<BackendBuffer*>(buffer.release());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory allocating " + std::to_string(bytes >> 20) + " MiB for " +
                                     BufferRoleName(role) + " on the CPU backend; use a smaller shape");
  }
}

void Release(BackendRun*, BackendBuffer* buffer) { delete AsBuffer(buffer); }

// The buffer's bytes (exactly the role's size) and, for C and the tree, its 4-byte words and 32-byte nodes.
std::span<uint8_t> Bytes(BackendRun* run, BackendBuffer* b) {
  Buffer* buf = AsBuffer(b);
  return {reinterpret_cast<uint8_t*>(buf->words.data()), AsRun(run)->bytes[static_cast<int>(buf->role)]};
}
std::span<const uint8_t> Bytes(BackendRun* run, const BackendBuffer* b) {
  const Buffer* buf = AsBuffer(b);
  return {reinterpret_cast<const uint8_t*>(buf->words.data()), AsRun(run)->bytes[static_cast<int>(buf->role)]};
}
std::span<uint32_t> Words(BackendBuffer* b) { return AsBuffer(b)->words; }
std::span<const uint32_t> Words(const BackendBuffer* b) { return AsBuffer(b)->words; }
std::span<Hash32> Nodes(BackendBuffer* b) {
  return {reinterpret_cast<Hash32*>(AsBuffer(b)->words.data()), AsBuffer(b)->words.size() / 8};
}
std::span<const Hash32> Nodes(const BackendBuffer* b) {
  return {reinterpret_cast<const Hash32*>(AsBuffer(b)->words.data()), AsBuffer(b)->words.size() / 8};
}

Status Generate(BackendRun* r, Matrix which, BackendBuffer* out) {
  const Run* run = AsRun(r);
  return GenerateInput(run->params, which, Bytes(r, out), run->threads);
}

Status Gemm(BackendRun* r, const BackendBuffer* a, const BackendBuffer* b, BackendBuffer* c) {
  const Run* run = AsRun(r);
  return ComputeOutput(run->params, Bytes(r, a), Bytes(r, b), Words(c), run->threads);
}

Status HashLeavesStage(BackendRun* r, const BackendBuffer* c, BackendBuffer* tree) {
  const Run* run = AsRun(r);
  const uint64_t leaves = TileGridOf(run->params).leaf_count();
  return HashLeaves(run->params, Words(c), Nodes(tree).first(leaves), run->threads);
}

Status BuildLevels(BackendRun* r, BackendBuffer* tree, const TreeLayout& layout) {
  const Run* run = AsRun(r);
  const std::span<Hash32> nodes = Nodes(tree);
  if (layout.nodes > nodes.size()) {
    return Status::InvalidArgument("the tree layout has " + std::to_string(layout.nodes) + " nodes but the buffer " +
                                   std::to_string(nodes.size()));
  }
  for (size_t h = 1; h < layout.sizes.size(); ++h) {
    HashLevel(nodes.subspan(layout.offsets[h - 1], layout.sizes[h - 1]),
              nodes.subspan(layout.offsets[h], layout.sizes[h]), run->threads);
  }
  return Status::Ok();
}

Status GatherNodes(BackendRun*, const BackendBuffer* tree, std::span<const uint64_t> positions,
                   std::span<Hash32> out) {
  const std::span<const Hash32> nodes = Nodes(tree);
  if (positions.size() != out.size()) return Status::InvalidArgument("gather: positions and output differ in size");
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i] >= nodes.size()) {
      return Status::InvalidArgument("gather: node " + std::to_string(positions[i]) + " is beyond the tree's " +
                                     std::to_string(nodes.size()) + " nodes");
    }
    out[i] = nodes[positions[i]];
  }
  return Status::Ok();
}

Status Mark(BackendRun* run, RunMark mark) {
  AsRun(run)->marks[static_cast<int>(mark)] = std::chrono::steady_clock::now();
  return Status::Ok();
}

Status Finish(BackendRun*) { return Status::Ok(); }

Result<double> SecondsBetween(BackendRun* r, RunMark from, RunMark to) {
  const Run* run = AsRun(r);
  return std::chrono::duration<double>(run->marks[static_cast<int>(to)] - run->marks[static_cast<int>(from)]).count();
}

Status Upload(BackendRun* run, BackendBuffer* dst, uint64_t offset, std::span<const uint8_t> src) {
  const std::span<uint8_t> to = Bytes(run, dst);
  VCP_RETURN_IF_ERROR(CheckBufferRange("upload", offset, src.size(), to.size()));
  std::copy(src.begin(), src.end(), to.begin() + static_cast<std::ptrdiff_t>(offset));
  return Status::Ok();
}

Status Download(BackendRun* run, const BackendBuffer* src, uint64_t offset, std::span<uint8_t> dst) {
  const std::span<const uint8_t> from = Bytes(run, src);
  VCP_RETURN_IF_ERROR(CheckBufferRange("download", offset, dst.size(), from.size()));
  std::memcpy(dst.data(), from.data() + offset, dst.size());
  return Status::Ok();
}

// The CPU stores A and B as the spec writes them.
Status DownloadInput(BackendRun* run, Matrix, const BackendBuffer* in, std::span<uint8_t> dst) {
  return Download(run, in, 0, dst);
}

std::string GemmPath(const BackendRun* run) {
  return std::string(cpu::TierName(FindCpuWorkload(reinterpret_cast<const Run*>(run)->params.kind)->tier()));
}

void* RawPointer(BackendBuffer* buffer) { return AsBuffer(buffer)->words.data(); }

}  // namespace

const BackendStages& CpuBackend() {
  static constexpr BackendStages stages{
      kBackendInterfaceVersion, "cpu", &ListDevices, &Probe, &Supports, &OpenRun, &CloseRun, &Allocate, &Release, &Generate,
      &Gemm, &HashLeavesStage, &BuildLevels, &GatherNodes, &Mark, &Finish, &SecondsBetween, &Upload, &Download,
      &DownloadInput, &GemmPath, &RawPointer};
  return stages;
}

}  // namespace vcp
