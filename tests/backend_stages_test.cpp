// Every stage of every backend present (lib/backend.h) against the CPU reference functions of vcp/workload.h and
// vcp/merkle.h, bytes compared with ==, for both workloads over edge shapes (1, T-1, T, T+1, primes, several tile
// sizes). Each stage is fed the reference output of the stage before it (uploaded), so a failure names the stage
// that broke; then the whole pipeline runs end to end and its root, leaves and openings are compared too.
// The CPU instantiation always runs; the CUDA one skips at once, with the loader's or probe's reason, where the
// plugin, the driver or a usable GPU is missing. Also: the plugin loader's refusals, ListDevices and the device
// option on the CPU.
#include <gtest/gtest.h>
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"
#include "merkle_positions.h"
#include "pipeline.h"
#include "test_util.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/merkle.h"
#include "vcp/workload.h"

namespace vcp {
namespace {
using testing::ScopedEnv;

struct StageCase {
  const char* backend;
  WorkloadKind kind;
  uint32_t m, n, k, tile;
};

std::string CaseName(const ::testing::TestParamInfo<StageCase>& info) {
  const StageCase& c = info.param;
  std::string kind(WorkloadName(c.kind));
  std::replace(kind.begin(), kind.end(), '-', '_');
  return kind + "_" + std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k) + "_T" +
         std::to_string(c.tile);
}

void PrintTo(const StageCase& c, std::ostream* os) {
  *os << c.backend << " " << WorkloadName(c.kind) << " " << c.m << " x " << c.n << " x " << c.k << ", T = " << c.tile;
}

std::vector<StageCase> Cases(const char* backend) {
  // (M, N, K, T): the edges of T = 8 and T = 32, primes, several tiles with K tails, aligned int8 shapes
  // (cuBLASLt's path on CUDA) and unaligned ones (its fallback kernel).
  const uint32_t shapes[][4] = {{1, 1, 1, 8},     {7, 7, 7, 8},     {8, 8, 8, 8},      {9, 9, 9, 8},
                                {31, 31, 31, 32}, {32, 32, 32, 32}, {33, 33, 33, 32},  {37, 41, 43, 8},
                                {13, 17, 19, 16}, {40, 72, 33, 16}, {33, 64, 128, 16}, {130, 129, 17, 16},
                                {64, 96, 20, 256}};
  std::vector<StageCase> cases;
  for (WorkloadKind kind : kWorkloadKinds) {
    for (const auto& s : shapes) cases.push_back({backend, kind, s[0], s[1], s[2], s[3]});
  }
  return cases;
}

// The CPU reference of every stage's output.
struct Reference {
  std::vector<uint8_t> a, b;  // row-major, input_bytes per element
  std::vector<uint32_t> c;    // (M, N)
  std::vector<Hash32> leaves;
  MerkleTree tree;
};

Status ComputeReference(const WorkloadParams& p, Reference& ref) {
  const uint64_t e = FindWorkload(p.kind)->input_bytes;
  ref.a.assign(uint64_t{p.m} * p.k * e, 0);
  ref.b.assign(uint64_t{p.k} * p.n * e, 0);
  ref.c.assign(uint64_t{p.m} * p.n, 0);
  VCP_RETURN_IF_ERROR(GenerateInput(p, Matrix::kA, ref.a, 1));
  VCP_RETURN_IF_ERROR(GenerateInput(p, Matrix::kB, ref.b, 1));
  VCP_RETURN_IF_ERROR(ComputeOutput(p, ref.a, ref.b, ref.c, 1));
  // Each leaf through the streamed single-leaf hash (not the banded HashLeaves the CPU backend runs).
  ref.leaves.clear();
  for (uint64_t i = 0; i < TileGridOf(p).leaf_count(); ++i) {
    const Tile t = TileAt(p, i);
    std::vector<uint32_t> tile;
    for (uint32_t r = 0; r < t.rows; ++r) {
      for (uint32_t col = 0; col < t.cols; ++col) tile.push_back(ref.c[uint64_t{t.row0 + r} * p.n + t.col0 + col]);
    }
    ref.leaves.push_back(LeafHashOfTile(p, t, tile));
  }
  ref.tree = MerkleTree::Build(ref.leaves, 1);
  return Status::Ok();
}

// Equal byte strings, or where the first of elem-byte elements differs (CUTLASS style: enough to find the edge).
::testing::AssertionResult SameBytes(const std::string& what, std::span<const uint8_t> expected,
                                     std::span<const uint8_t> got, size_t elem) {
  if (expected.size() != got.size()) {
    return ::testing::AssertionFailure() << what << ": " << got.size() << " bytes, expected " << expected.size();
  }
  if (std::equal(expected.begin(), expected.end(), got.begin())) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (std::memcmp(&expected[i * elem], &got[i * elem], elem) == 0) ++i;
  return ::testing::AssertionFailure() << what << ": element " << i << " differs: reference "
                                       << ToHex(expected.subspan(i * elem, elem)) << ", backend "
                                       << ToHex(got.subspan(i * elem, elem));
}

template <typename T>
std::span<const uint8_t> AsBytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

class BackendStagesTest : public ::testing::TestWithParam<StageCase> {
 protected:
  void SetUp() override {
    auto stages = FindBackend(GetParam().backend);
    if (!stages.ok()) GTEST_SKIP() << stages.status().message();
    auto device = (*stages)->probe(0);
    if (!device.ok()) GTEST_SKIP() << device.status().message();
    stages_ = *stages;
    device_ = *device;
    const StageCase& c = GetParam();
    params_ = testing::MakeWorkload(c.kind, c.m, c.n, c.k, c.tile, uint8_t(c.m * 7 + c.n + c.k));
    ASSERT_OK(ComputeReference(params_, ref_));
  }

  const BackendStages* stages_ = nullptr;
  DeviceInfo device_;
  WorkloadParams params_;
  Reference ref_;
};

TEST_P(BackendStagesTest, EveryStageMatchesTheCpuReference) {
  const WorkloadParams& p = params_;
  const BackendStages& s = *stages_;
  const size_t e = FindWorkload(p.kind)->input_bytes;
  ASSERT_OK_AND_ASSIGN(StageRun run, StageRun::Open(s, p, device_, 2));
  ASSERT_OK_AND_ASSIGN(StageBuffer a, run.Allocate(BufferRole::kA));
  ASSERT_OK_AND_ASSIGN(StageBuffer b, run.Allocate(BufferRole::kB));
  ASSERT_OK_AND_ASSIGN(StageBuffer c, run.Allocate(BufferRole::kC));
  ASSERT_OK_AND_ASSIGN(StageBuffer tree, run.Allocate(BufferRole::kTree));
  BackendRun* r = run.get();

  // generate: A and B as the spec lays them out.
  ASSERT_OK(s.generate(r, Matrix::kA, a.get()));
  ASSERT_OK(s.generate(r, Matrix::kB, b.get()));
  ASSERT_OK(s.finish(r));
  std::vector<uint8_t> got_a(ref_.a.size()), got_b(ref_.b.size());
  ASSERT_OK(s.download_input(r, Matrix::kA, a.get(), got_a));
  ASSERT_OK(s.download_input(r, Matrix::kB, b.get(), got_b));
  EXPECT_TRUE(SameBytes("A", ref_.a, got_a, e));
  EXPECT_TRUE(SameBytes("B", ref_.b, got_b, e));

  // gemm on the backend's own A and B.
  ASSERT_OK(s.gemm(r, a.get(), b.get(), c.get()));
  ASSERT_OK(s.finish(r));
  std::vector<uint32_t> got_c(ref_.c.size());
  ASSERT_OK(s.download(r, c.get(), 0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(got_c.data()), got_c.size() * 4)));
  EXPECT_TRUE(SameBytes("C", AsBytes(ref_.c), AsBytes(got_c), 4)) << "GEMM path: " << s.gemm_path(r);

  // hash_leaves on the reference C.
  ASSERT_OK(s.upload(r, c.get(), 0, AsBytes(ref_.c)));
  ASSERT_OK(s.hash_leaves(r, c.get(), tree.get()));
  ASSERT_OK(s.finish(r));
  std::vector<Hash32> got_leaves(ref_.leaves.size());
  ASSERT_OK(s.download(r, tree.get(), 0,
                       std::span<uint8_t>(reinterpret_cast<uint8_t*>(got_leaves.data()), got_leaves.size() * 32)));
  EXPECT_TRUE(SameBytes("leaf hashes", AsBytes(ref_.leaves), AsBytes(got_leaves), 32));

  // build_levels on the reference leaves: every level equals MerkleTree's.
  const TreeLayout layout = LayoutTree(ref_.leaves.size());
  ASSERT_EQ(layout.sizes.size(), ref_.tree.levels().size());
  ASSERT_OK(s.upload(r, tree.get(), 0, AsBytes(ref_.leaves)));
  ASSERT_OK(s.build_levels(r, tree.get(), layout));
  ASSERT_OK(s.finish(r));
  for (size_t h = 0; h < layout.sizes.size(); ++h) {
    std::vector<Hash32> level(layout.sizes[h]);
    ASSERT_OK(s.download(r, tree.get(), layout.offsets[h] * 32,
                         std::span<uint8_t>(reinterpret_cast<uint8_t*>(level.data()), level.size() * 32)));
    EXPECT_TRUE(SameBytes("tree level " + std::to_string(h), AsBytes(ref_.tree.levels()[h]), AsBytes(level), 32));
  }

  // gather_nodes: the nodes of multiproofs equal ProveMulti's on the reference tree.
  const uint64_t n = ref_.leaves.size();
  std::vector<std::vector<uint64_t>> index_sets = {{0}, {n - 1}, {n / 2}, {0, n / 2, n - 1}};
  std::vector<uint64_t> every_third;
  for (uint64_t i = 0; i < n; i += 3) every_third.push_back(i);
  index_sets.push_back(every_third);
  for (auto& set : index_sets) {
    set.erase(std::unique(set.begin(), set.end()), set.end());
    ASSERT_OK_AND_ASSIGN(MultiProof expected, ProveMulti(ref_.tree, set));
    ASSERT_OK_AND_ASSIGN(std::vector<NodePosition> positions, MultiProofNodePositions(n, set));
    std::vector<uint64_t> nodes;
    for (const NodePosition& pos : positions) nodes.push_back(layout.offsets[pos.level] + pos.index);
    std::vector<Hash32> got(nodes.size());
    ASSERT_OK(s.gather_nodes(r, tree.get(), nodes, got));
    EXPECT_TRUE(SameBytes("proof nodes", AsBytes(expected.hashes), AsBytes(got), 32)) << set.size() << " tiles";
  }
  const std::vector<uint64_t> beyond = {layout.nodes};
  std::vector<Hash32> sink(1);
  EXPECT_EQ(s.gather_nodes(r, tree.get(), beyond, sink).code(), StatusCode::kInvalidArgument);
}

// The pipeline of lib/pipeline.cpp on this backend: root, leaves and openings equal the reference's and pass the
// verifier's check; twice gives identical bits.
TEST_P(BackendStagesTest, PipelineMatchesTheCpuReference) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Commitment> first, RunPipeline(*stages_, params_, device_, 2));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Commitment> second, RunPipeline(*stages_, params_, device_, 1));
  EXPECT_EQ(first->device().backend, stages_->name);
  EXPECT_EQ(first->leaf_count(), ref_.leaves.size());
  EXPECT_EQ(ToHex(first->root()), ToHex(ref_.tree.root()));
  EXPECT_EQ(ToHex(second->root()), ToHex(ref_.tree.root()));
  EXPECT_GE(first->timings().total_seconds, first->timings().gemm_seconds);
  ASSERT_OK_AND_ASSIGN(std::vector<Hash32> leaves, first->LeafHashes());
  EXPECT_TRUE(SameBytes("leaf hashes", AsBytes(ref_.leaves), AsBytes(leaves), 32));
  const uint64_t n = first->leaf_count();
  std::vector<uint64_t> set = {0, n / 3, n - 1};
  set.erase(std::unique(set.begin(), set.end()), set.end());
  ASSERT_OK_AND_ASSIGN(MultiProof proof, first->Open(set));
  ASSERT_OK_AND_ASSIGN(MultiProof expected, ProveMulti(ref_.tree, set));
  EXPECT_EQ(proof.tree_size, expected.tree_size);
  EXPECT_EQ(proof.indices, expected.indices);
  EXPECT_TRUE(SameBytes("proof nodes", AsBytes(expected.hashes), AsBytes(proof.hashes), 32));
  const Status verdict = CheckOpening(params_, first->root(), proof, 1);
  EXPECT_TRUE(verdict.ok()) << verdict.ToString();
  const uint64_t unsorted[] = {n, 0};
  EXPECT_EQ(first->Open(unsorted).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Cpu, BackendStagesTest, ::testing::ValuesIn(Cases("cpu")), CaseName);
INSTANTIATE_TEST_SUITE_P(Cuda, BackendStagesTest, ::testing::ValuesIn(Cases("cuda")), CaseName);

// supports() runs after validation: an id that names no workload is refused before any backend is asked.
TEST(BackendStages, UnknownWorkloadIsRefusedBeforeLaunch) {
  WorkloadParams p = testing::MakeWorkload(WorkloadKind::kInt8, 8, 8, 8, 8);
  p.kind = static_cast<WorkloadKind>(9);
  auto run = StageRun::Open(CpuBackend(), p, DeviceInfo{}, 1);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(run.status().message().find("1 (int8), 2 (fp32-ordered)"), std::string_view::npos)
      << run.status().message();
}

// The host CPU as the one CPU device: its model and threads, and no GPU evidence.
void ExpectHostCpu(const DeviceInfo& d) {
  EXPECT_EQ(d.backend, "cpu");
  EXPECT_FALSE(d.name.empty());
  EXPECT_EQ(d.name.find("tier"), std::string::npos) << "the name is the CPU model only: " << d.name;
  EXPECT_EQ(d.ordinal, 0);
  EXPECT_EQ(d.compute_units, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  EXPECT_TRUE(d.uuid == (std::array<uint8_t, 16>{}));
  EXPECT_TRUE(d.pci_bus_id.empty());
  EXPECT_EQ(d.memory_bytes, 0u);
  EXPECT_EQ(d.max_clock_khz, 0u);
  EXPECT_EQ(d.max_memory_clock_khz, 0u);
  EXPECT_EQ(d.compute_capability_major, 0);
  EXPECT_EQ(d.compute_capability_minor, 0);
  EXPECT_EQ(d.driver_version_number, 0);
  EXPECT_EQ(d.runtime_version_number, 0);
  EXPECT_TRUE(d.driver_version.empty());
  EXPECT_TRUE(d.runtime_version.empty());
  EXPECT_TRUE(d.selection_note.empty());
}

TEST(ListDevices, TheCpuIsOneDevice) {
  ASSERT_OK_AND_ASSIGN(std::vector<DeviceInfo> devices, ListDevices(BackendChoice::kCpu));
  ASSERT_EQ(devices.size(), 1u);
  ExpectHostCpu(devices[0]);
  // kAuto lists what SelectBackend resolves to: VCP_BACKEND=cpu forces the CPU even where a GPU is.
  ScopedEnv cpu_env("VCP_BACKEND", "cpu");
  ASSERT_OK_AND_ASSIGN(std::vector<DeviceInfo> automatic, ListDevices(BackendChoice::kAuto));
  ASSERT_EQ(automatic.size(), 1u);
  ExpectHostCpu(automatic[0]);
}

// Where the plugin or the driver is missing, listing CUDA devices says why (the loader's reason).
TEST(ListDevices, NoCudaIsUnavailableWithTheReason) {
  auto cuda = CudaBackend();
  if (cuda.ok()) GTEST_SKIP() << "the CUDA plugin loads here; tests/gpu/ lists its devices";
  auto devices = ListDevices(BackendChoice::kCuda);
  ASSERT_FALSE(devices.ok());
  EXPECT_EQ(devices.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(devices.status().message().find(cuda.status().message()), std::string_view::npos)
      << devices.status().message();
  // kAuto falls back to the CPU, whatever device was asked for: there is no GPU for the ordinal to name.
  ScopedEnv no_env("VCP_BACKEND", nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<DeviceInfo> automatic, ListDevices(BackendChoice::kAuto));
  ASSERT_EQ(automatic.size(), 1u);
  EXPECT_EQ(automatic[0].backend, "cpu");
  ASSERT_OK_AND_ASSIGN(DeviceInfo chosen, SelectBackend(RunOptions{.backend = BackendChoice::kAuto, .device = 7}));
  EXPECT_EQ(chosen.backend, "cpu") << chosen.selection_note;
}

// The CPU engine has one device: any ordinal runs on it with the same bits; a negative one is refused everywhere.
TEST(ListDevices, TheCpuIgnoresTheDeviceOrdinal) {
  const WorkloadParams p = testing::MakeWorkload(WorkloadKind::kInt8, 40, 33, 17, 8, 3);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Commitment> first,
                       RunWorkload(p, RunOptions{.backend = BackendChoice::kCpu, .threads = 2, .device = 0}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Commitment> fifth,
                       RunWorkload(p, RunOptions{.backend = BackendChoice::kCpu, .threads = 1, .device = 5}));
  EXPECT_EQ(ToHex(fifth->root()), ToHex(first->root()));
  EXPECT_EQ(fifth->device().ordinal, 0);
  EXPECT_EQ(first->device().compute_units, 2) << "compute_units of a run = the threads it uses";
  EXPECT_EQ(fifth->device().compute_units, 1);
  ASSERT_OK_AND_ASSIGN(DeviceInfo selected, SelectBackend(RunOptions{.backend = BackendChoice::kCpu, .device = 3}));
  EXPECT_EQ(selected.backend, "cpu");
  for (BackendChoice choice : {BackendChoice::kCpu, BackendChoice::kAuto, BackendChoice::kCuda}) {
    auto negative = RunWorkload(p, RunOptions{.backend = choice, .device = -1});
    ASSERT_FALSE(negative.ok());
    EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(negative.status().message().find("device = -1 is negative"), std::string_view::npos)
        << negative.status().message();
  }
}

// The CPU half of a multi-device epoch: one thread per simulated device, each its own workload, at once; each
// root equals the same workload run alone, and each commitment opens from another thread.
TEST(ListDevices, ConcurrentCpuRunsGiveTheirOwnRoots) {
  std::vector<WorkloadParams> params;
  for (uint8_t d = 0; d < 3; ++d) params.push_back(testing::MakeWorkload(WorkloadKind::kInt8, 70, 33, 40, 8, 11 + d));
  std::vector<Result<std::unique_ptr<Commitment>>> runs;
  for (size_t d = 0; d < params.size(); ++d) runs.emplace_back(Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (size_t d = 0; d < params.size(); ++d) {
    threads.emplace_back([&, d] {
      runs[d] = RunWorkload(params[d], RunOptions{.backend = BackendChoice::kCpu, .threads = 1,
                                                  .device = static_cast<int>(d)});
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t d = 0; d < params.size(); ++d) {
    ASSERT_OK(runs[d]);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Commitment> alone,
                         RunWorkload(params[d], RunOptions{.backend = BackendChoice::kCpu}));
    EXPECT_EQ(ToHex((*runs[d])->root()), ToHex(alone->root())) << "device " << d;
    const uint64_t set[] = {1, 7};
    ASSERT_OK_AND_ASSIGN(MultiProof proof, (*runs[d])->Open(set));
    const Status verdict = CheckOpening(params[d], (*runs[d])->root(), proof, 1);
    EXPECT_TRUE(verdict.ok()) << verdict.ToString();
  }
  EXPECT_NE(ToHex((*runs[0])->root()), ToHex((*runs[1])->root())) << "each thread ran its own seed";
}

TEST(ListDevices, CudaVersionStringsComeFromTheIntegers) {
  EXPECT_EQ(CudaVersionString(12040), "12.4");
  EXPECT_EQ(CudaVersionString(13000), "13.0");
  EXPECT_EQ(CudaVersionString(11080), "11.8");
  EXPECT_EQ(CudaVersionString(0), "");
}

std::filesystem::path ExecutableDir() { return std::filesystem::read_symlink("/proc/self/exe").parent_path(); }

// A plugin built from tests/fake_backend_plugin.cpp, whose table claims another interface version.
TEST(BackendPlugin, RefusesAnotherInterfaceVersion) {
  const std::string path = (ExecutableDir() / "libvcp_fake_backend_plugin.so").string();
  auto loaded = LoadBackendPlugin(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kUnavailable);
  const std::string message(loaded.status().message());
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("interface version " + std::to_string(kBackendInterfaceVersion + 100)), std::string::npos)
      << message;
  EXPECT_NE(message.find("needs version " + std::to_string(kBackendInterfaceVersion)), std::string::npos) << message;
}

TEST(BackendPlugin, RefusesAMissingFile) {
  auto loaded = LoadBackendPlugin((ExecutableDir() / "no-such-plugin.so").string());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(loaded.status().message().find("could not be loaded"), std::string_view::npos) << loaded.status().message();
}

// In a CUDA build the real plugin sits in build/lib and loads (all its symbols resolve, RTLD_NOW) even without
// a GPU; its probe then says why it cannot run. Loading it maps the CUDA runtime and cuBLASLt (about a second).
TEST(BackendPlugin, TheBuiltPluginLoadsWithThisInterfaceVersion) {
  const std::filesystem::path path = ExecutableDir() / ".." / "lib" / "libvcp_cuda.so";
#if VCP_CUDA_PLUGIN_BUILT
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing; the vcp_cuda target builds it";
  ASSERT_OK_AND_ASSIGN(const BackendStages* stages, LoadBackendPlugin(path.string()));
  EXPECT_EQ(stages->interface_version, kBackendInterfaceVersion);
  EXPECT_STREQ(stages->name, "cuda");
  auto probe = stages->probe(0);
  if (!probe.ok()) {
    EXPECT_EQ(probe.status().code(), StatusCode::kUnavailable) << probe.status().ToString();
  }
#else
  GTEST_SKIP() << "built without CUDA: no plugin at " << path;
#endif
}

// Without the NVIDIA driver the reason is the missing driver, found before the CUDA runtime is touched.
TEST(BackendPlugin, NoDriverIsNamedAsSuch) {
  void* driver = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  auto cuda = CudaBackend();
#if VCP_CUDA_PLUGIN_BUILT
  if (driver != nullptr) GTEST_SKIP() << "this machine has the NVIDIA driver";
  ASSERT_FALSE(cuda.ok());
  EXPECT_EQ(cuda.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(cuda.status().message(), "no NVIDIA driver (libcuda.so.1 not found)");
#else
  (void)driver;
  ASSERT_FALSE(cuda.ok());
  EXPECT_NE(cuda.status().message().find("built without CUDA"), std::string_view::npos) << cuda.status().message();
#endif
}

}  // namespace
}  // namespace vcp
