// Several devices and several runs at once on the CUDA backend, and the device evidence ListDevices reads:
// the evidence is plausible for a real GPU; two runs on one GPU from two threads, and runs on GPUs 0 and 1 at the
// same time (where two are visible), each give the CPU engine's roots and open from another thread; an ordinal
// outside the visible GPUs is refused, never run elsewhere.
//
// Every case skips, with the loader's or the probe's reason, where the plugin, the driver or a usable GPU is
// missing (ctest reports SKIPPED); the two-GPU case also skips with fewer than two GPUs visible.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"
#include "test_util.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/workload.h"

namespace vcp {
namespace {

class CudaDevices : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cuda = CudaBackend();
    if (!cuda.ok()) GTEST_SKIP() << cuda.status().message();
    auto probe = (*cuda)->probe(0);
    if (!probe.ok()) GTEST_SKIP() << probe.status().message();
    auto devices = ListDevices(BackendChoice::kCuda);
    ASSERT_OK(devices);
    devices_ = *devices;
  }
  std::vector<DeviceInfo> devices_;
};

// One run per thread, each on its own ordinal and seed; the root of each, and an opening made on this thread.
struct ThreadRun {
  int device = 0;
  WorkloadParams params;
  Result<std::unique_ptr<Commitment>> commitment = Status::Internal("not run");
};

void RunConcurrently(std::vector<ThreadRun>& runs) {
  std::vector<std::thread> threads;
  for (ThreadRun& run : runs) {
    threads.emplace_back([&run] {
      run.commitment = RunWorkload(run.params, RunOptions{.backend = BackendChoice::kCuda, .device = run.device});
    });
  }
  for (std::thread& t : threads) t.join();
}

// Each run equals the CPU engine's root for its workload, and opens on this (another) thread.
void ExpectCpuRoots(const std::vector<ThreadRun>& runs) {
  for (const ThreadRun& run : runs) {
    SCOPED_TRACE("device " + std::to_string(run.device) + ", seed byte " + std::to_string(run.params.seed[0]));
    ASSERT_OK(run.commitment);
    const Commitment& gpu = **run.commitment;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Commitment> cpu,
                         RunWorkload(run.params, RunOptions{.backend = BackendChoice::kCpu}));
    EXPECT_EQ(ToHex(gpu.root()), ToHex(cpu->root()));
    EXPECT_EQ(gpu.device().ordinal, run.device);
    const uint64_t set[] = {0, gpu.leaf_count() / 2, gpu.leaf_count() - 1};
    ASSERT_OK_AND_ASSIGN(MultiProof proof, gpu.Open(set));
    const Status verdict = CheckOpening(run.params, gpu.root(), proof);
    EXPECT_TRUE(verdict.ok()) << verdict.ToString();
  }
}

TEST_F(CudaDevices, ListDevicesReadsPlausibleEvidence) {
  ASSERT_FALSE(devices_.empty());
  const std::regex pci("[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.0");
  std::set<std::array<uint8_t, 16>> uuids;
  std::set<std::string> buses;
  for (size_t i = 0; i < devices_.size(); ++i) {
    const DeviceInfo& d = devices_[i];
    SCOPED_TRACE("GPU " + std::to_string(i) + ": " + d.name);
    EXPECT_EQ(d.backend, "cuda");
    EXPECT_EQ(d.ordinal, static_cast<int>(i));
    EXPECT_FALSE(d.name.empty());
    EXPECT_FALSE(d.uuid == (std::array<uint8_t, 16>{})) << "a GPU has a UUID";
    EXPECT_TRUE(std::regex_match(d.pci_bus_id, pci)) << d.pci_bus_id;
    EXPECT_GE(d.memory_bytes, uint64_t{1} << 30);
    EXPECT_GT(d.compute_units, 0);
    EXPECT_GE(d.max_clock_khz, 100'000u);  // 0.1 to 5 GHz
    EXPECT_LE(d.max_clock_khz, 5'000'000u);
    EXPECT_GT(d.max_memory_clock_khz, 0u);
    EXPECT_GE(d.compute_capability_major, 7);
    EXPECT_GE(d.driver_version_number, 11000);
    EXPECT_GE(d.runtime_version_number, 11000);
    EXPECT_EQ(d.driver_version, CudaVersionString(d.driver_version_number));
    EXPECT_EQ(d.runtime_version, CudaVersionString(d.runtime_version_number));
    EXPECT_TRUE(d.selection_note.empty());
    uuids.insert(d.uuid);
    buses.insert(d.pci_bus_id);
    std::printf("evidence: GPU %zu %s uuid %s pci %s, %llu bytes, %d SMs, %u / %u kHz, cc %d.%d, driver %s, "
                "runtime %s\n",
                i, d.name.c_str(), ToHex(d.uuid).c_str(), d.pci_bus_id.c_str(),
                static_cast<unsigned long long>(d.memory_bytes), d.compute_units, d.max_clock_khz,
                d.max_memory_clock_khz, d.compute_capability_major, d.compute_capability_minor,
                d.driver_version.c_str(), d.runtime_version.c_str());
  }
  EXPECT_EQ(uuids.size(), devices_.size()) << "two ordinals with one UUID";
  EXPECT_EQ(buses.size(), devices_.size()) << "two ordinals at one PCI address";
  // A run's description is the same evidence as the list's entry for its ordinal.
  ASSERT_OK_AND_ASSIGN(DeviceInfo selected, SelectBackend(RunOptions{.backend = BackendChoice::kCuda}));
  EXPECT_TRUE(selected.uuid == devices_[0].uuid);
  EXPECT_EQ(selected.pci_bus_id, devices_[0].pci_bus_id);
}

TEST_F(CudaDevices, TwoRunsOnOneDeviceAtOnce) {
  std::vector<ThreadRun> runs(2);
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].device = 0;
    runs[i].params = testing::MakeWorkload(i == 0 ? WorkloadKind::kInt8 : WorkloadKind::kFp32Ordered, 520, 384, 260,
                                           kDefaultTile, static_cast<uint8_t>(0x31 + i));
  }
  RunConcurrently(runs);
  ExpectCpuRoots(runs);
}

TEST_F(CudaDevices, RunsOnTwoDevicesAtOnce) {
  if (devices_.size() < 2) GTEST_SKIP() << devices_.size() << " GPU visible; this case needs 2";
  std::vector<ThreadRun> runs(4);  // two per device, alternating, each its own seed
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].device = static_cast<int>(i % 2);
    runs[i].params = testing::MakeWorkload(WorkloadKind::kInt8, 1024, 768, 512, kDefaultTile,
                                           static_cast<uint8_t>(0x51 + i));
  }
  RunConcurrently(runs);
  ExpectCpuRoots(runs);
  for (const ThreadRun& run : runs) {
    ASSERT_OK(run.commitment);
    EXPECT_TRUE((*run.commitment)->device().uuid == devices_[run.device].uuid);
  }
}

TEST_F(CudaDevices, AnOrdinalOutsideTheVisibleGpusIsRefused) {
  const int count = static_cast<int>(devices_.size());
  const std::string expected = "CUDA device " + std::to_string(count) + " requested; " + std::to_string(count) +
                               " visible (ordinals 0 to " + std::to_string(count - 1) + ")";
  const WorkloadParams p = testing::MakeWorkload(WorkloadKind::kInt8, 64, 64, 64, kDefaultTile, 9);
  for (BackendChoice choice : {BackendChoice::kCuda, BackendChoice::kAuto}) {
    SCOPED_TRACE(std::string(BackendChoiceName(choice)));
    auto run = RunWorkload(p, RunOptions{.backend = choice, .device = count});
    ASSERT_FALSE(run.ok()) << "ran on " << (*run)->device().backend;
    EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(run.status().message().find(expected), std::string_view::npos) << run.status().message();
  }
  auto stages = CudaBackend();
  ASSERT_OK(stages);
  auto probe = (*stages)->probe(count + 3);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vcp
