// The CUDA backend against the CPU engine, byte for byte: A, B, C, every leaf hash, every tree level and the
// root, for both workloads over edge shapes (1, T-1, T, T+1, primes, other tile sizes) and large ones; the
// backend's commitment, its openings and the verifier's check; determinism (twice, identical bits); the device
// SHA-256 against OpenSSL. Stage-by-stage tests drive the kernels' launchers directly (lib/cuda/kernels.h) and so
// exist only in CUDA builds; the rest uses the public API and compiles everywhere.
//
// Every case skips, with the probe's reason, where no usable GPU is present (ctest reports SKIPPED).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "backend.h"
#include "merkle_positions.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/merkle.h"
#include "vcp/workload.h"

#if VCP_HAVE_CUDA
#include "cuda/kernels.h"
#endif

namespace vcp {
namespace {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = CudaBackend().probe();
    if (!probe.ok()) GTEST_SKIP() << probe.status().message();
  }
};

struct Shape {
  WorkloadKind kind;
  uint32_t m, n, k, tile;
};

std::string ShapeName(const ::testing::TestParamInfo<Shape>& info) {
  const Shape& s = info.param;
  return std::string(s.kind == WorkloadKind::kInt8 ? "int8" : "fp32") + "_" + std::to_string(s.m) + "x" +
         std::to_string(s.n) + "x" + std::to_string(s.k) + "_T" + std::to_string(s.tile);
}

void PrintTo(const Shape& s, std::ostream* os) {
  *os << WorkloadName(s.kind) << " " << s.m << " x " << s.n << " x " << s.k << ", T = " << s.tile;
}

WorkloadParams ParamsOf(const Shape& s) {
  WorkloadParams p;
  p.kind = s.kind;
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.tile = s.tile;
  for (size_t i = 0; i < p.seed.size(); ++i) p.seed[i] = uint8_t(0xa5 ^ (31 * i + s.m + s.n + s.k));
  return p;
}

// The CPU engine's A, B (as bytes, row-major), C (4-byte elements), leaf hashes and tree.
struct CpuResult {
  std::vector<uint8_t> a, b;
  std::vector<uint32_t> c;
  std::vector<Hash32> leaves;
  MerkleTree tree;
};

Status ComputeOnCpu(const WorkloadParams& p, CpuResult& out) {
  const uint64_t mk = uint64_t{p.m} * p.k, kn = uint64_t{p.k} * p.n, mn = uint64_t{p.m} * p.n;
  out.c.assign(mn, 0);
  if (p.kind == WorkloadKind::kInt8) {
    std::vector<int8_t> a(mk), b(kn);
    VCP_RETURN_IF_ERROR(GenerateInt8(p, Matrix::kA, a));
    VCP_RETURN_IF_ERROR(GenerateInt8(p, Matrix::kB, b));
    VCP_RETURN_IF_ERROR(ComputeInt8(p, a, b, std::span<int32_t>(reinterpret_cast<int32_t*>(out.c.data()), mn)));
    out.a.assign(reinterpret_cast<const uint8_t*>(a.data()), reinterpret_cast<const uint8_t*>(a.data()) + mk);
    out.b.assign(reinterpret_cast<const uint8_t*>(b.data()), reinterpret_cast<const uint8_t*>(b.data()) + kn);
  } else {
    std::vector<float> a(mk), b(kn);
    VCP_RETURN_IF_ERROR(GenerateFp32(p, Matrix::kA, a));
    VCP_RETURN_IF_ERROR(GenerateFp32(p, Matrix::kB, b));
    VCP_RETURN_IF_ERROR(ComputeFp32(p, a, b, std::span<float>(reinterpret_cast<float*>(out.c.data()), mn)));
    out.a.assign(reinterpret_cast<const uint8_t*>(a.data()), reinterpret_cast<const uint8_t*>(a.data()) + 4 * mk);
    out.b.assign(reinterpret_cast<const uint8_t*>(b.data()), reinterpret_cast<const uint8_t*>(b.data()) + 4 * kn);
  }
  out.leaves.assign(TileGridOf(p).leaf_count(), Hash32{});
  VCP_RETURN_IF_ERROR(HashLeaves(p, out.c, out.leaves));
  out.tree = MerkleTree::Build(out.leaves);
  return Status::Ok();
}

::testing::AssertionResult SameHashes(const std::string& what, const std::vector<Hash32>& expected,
                                      const std::vector<Hash32>& got) {
  if (expected.size() != got.size()) {
    return ::testing::AssertionFailure() << what << ": " << got.size() << " hashes, expected " << expected.size();
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != got[i]) {
      return ::testing::AssertionFailure() << what << " " << i << ": GPU " << ToHex(got[i]) << ", CPU "
                                           << ToHex(expected[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

class CudaShapes : public CudaTest, public ::testing::WithParamInterface<Shape> {};

// The backend end to end: root and leaf hashes equal the CPU engine's, openings equal ProveMulti's on the CPU
// tree and pass the verifier's check, bad index sets are refused.
TEST_P(CudaShapes, BackendMatchesCpuAndOpens) {
  const WorkloadParams p = ParamsOf(GetParam());
  CpuResult cpu;
  ASSERT_TRUE(ComputeOnCpu(p, cpu).ok());
  auto run = RunWorkload(p, RunOptions{.backend = BackendChoice::kCuda});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const Commitment& commitment = **run;
  EXPECT_EQ(commitment.device().backend, "cuda");
  EXPECT_GT(commitment.device().compute_units, 0);
  EXPECT_GT(commitment.timings().total_seconds, 0.0);
  EXPECT_EQ(commitment.leaf_count(), cpu.leaves.size());
  EXPECT_EQ(ToHex(commitment.root()), ToHex(cpu.tree.root()));
  auto leaves = commitment.LeafHashes();
  ASSERT_TRUE(leaves.ok()) << leaves.status().ToString();
  EXPECT_TRUE(SameHashes("leaf", cpu.leaves, *leaves));

  const uint64_t n = commitment.leaf_count();
  std::vector<std::vector<uint64_t>> index_sets = {{0}, {n - 1}, {n / 2}, {0, n / 2, n - 1}};
  std::vector<uint64_t> every_third;
  for (uint64_t i = 0; i < n && every_third.size() < 64; i += 3) every_third.push_back(i);
  index_sets.push_back(every_third);
  for (auto& set : index_sets) {
    set.erase(std::unique(set.begin(), set.end()), set.end());
    auto proof = commitment.Open(set);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    auto expected = ProveMulti(cpu.tree, set);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(proof->tree_size, expected->tree_size);
    EXPECT_EQ(proof->indices, expected->indices);
    EXPECT_TRUE(SameHashes("proof hash", expected->hashes, proof->hashes));
    EXPECT_TRUE(CheckOpening(p, commitment.root(), *proof).ok());
  }
  const uint64_t unsorted[] = {n, 0};
  EXPECT_EQ(commitment.Open(unsorted).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(commitment.Open({}).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(CudaShapes, BackendTwiceGivesIdenticalBits) {
  const WorkloadParams p = ParamsOf(GetParam());
  auto first = RunWorkload(p, RunOptions{.backend = BackendChoice::kCuda});
  auto second = RunWorkload(p, RunOptions{.backend = BackendChoice::kCuda});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(ToHex((*first)->root()), ToHex((*second)->root()));
  auto l1 = (*first)->LeafHashes(), l2 = (*second)->LeafHashes();
  ASSERT_TRUE(l1.ok() && l2.ok());
  EXPECT_TRUE(SameHashes("leaf", *l1, *l2));
}

#if VCP_HAVE_CUDA

// Equal byte strings, or the first differing element of a (rows, cols) matrix of elem-byte elements (CUTLASS
// style: enough to find the broken tile or edge at once).
::testing::AssertionResult SameBytes(const std::string& what, const void* expected, const void* got, uint64_t rows,
                                     uint64_t cols, size_t elem) {
  const auto* e = static_cast<const uint8_t*>(expected);
  const auto* g = static_cast<const uint8_t*>(got);
  const uint64_t count = rows * cols;
  if (std::memcmp(e, g, count * elem) == 0) return ::testing::AssertionSuccess();
  uint64_t i = 0;
  while (std::memcmp(e + i * elem, g + i * elem, elem) == 0) ++i;
  uint64_t bad = 0;
  for (uint64_t j = i; j < count; ++j) bad += std::memcmp(e + j * elem, g + j * elem, elem) != 0;
  return ::testing::AssertionFailure() << what << " (" << rows << " x " << cols << "): " << bad
                                       << " elements differ, first at (" << i / cols << ", " << i % cols
                                       << "): CPU " << ToHex(std::span(e + i * elem, elem)) << ", GPU "
                                       << ToHex(std::span(g + i * elem, elem));
}

// Device buffers of one pipeline run and host copies of everything in them.
struct GpuResult {
  std::vector<uint8_t> a, b;  // b row-major (K, N), transposed back on the host when the device holds B^T
  std::vector<uint32_t> c;
  std::vector<std::vector<Hash32>> levels;
  bool used_cublaslt = false;
};

Status CopyToHost(void* dst, const cuda::DeviceBuffer& src, size_t bytes, size_t offset = 0) {
  return cuda::CudaCheck(cudaMemcpy(dst, src.as<uint8_t>() + offset, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
}

// b_t: (N, K) row-major, elem bytes each -> (K, N) row-major.
std::vector<uint8_t> Untranspose(const std::vector<uint8_t>& b_t, uint64_t k, uint64_t n, size_t elem) {
  std::vector<uint8_t> b(b_t.size());
  for (uint64_t row = 0; row < k; ++row) {
    for (uint64_t col = 0; col < n; ++col) std::memcpy(&b[(row * n + col) * elem], &b_t[(col * k + row) * elem], elem);
  }
  return b;
}

// The backend's pipeline, launcher by launcher, with the B layout it uses (transposed for int8), or the other
// one when other_b_layout is set (generation only: then the GEMM and tree are skipped).
Status RunOnGpu(const WorkloadParams& p, GpuResult& out, bool other_b_layout = false) {
  const bool int8 = p.kind == WorkloadKind::kInt8;
  const size_t elem = int8 ? 1 : 4;
  const uint64_t mk = uint64_t{p.m} * p.k, kn = uint64_t{p.k} * p.n, mn = uint64_t{p.m} * p.n;
  const std::vector<uint64_t> sizes = MerkleLevelSizes(TileGridOf(p).leaf_count());
  std::vector<uint64_t> offsets;
  uint64_t nodes = 0;
  for (uint64_t s : sizes) {
    offsets.push_back(nodes);
    nodes += s;
  }
  VCP_RETURN_IF_ERROR(cuda::CudaCheck(cudaSetDevice(0), "cudaSetDevice"));
  VCP_ASSIGN_OR_RETURN(cuda::StreamOwner stream, cuda::CreateStream());
  VCP_ASSIGN_OR_RETURN(cuda::DeviceBuffer a, cuda::DeviceBuffer::Allocate(mk * elem, "A"));
  VCP_ASSIGN_OR_RETURN(cuda::DeviceBuffer b, cuda::DeviceBuffer::Allocate(kn * elem, "B"));
  VCP_ASSIGN_OR_RETURN(cuda::DeviceBuffer c, cuda::DeviceBuffer::Allocate(mn * 4, "C"));
  VCP_ASSIGN_OR_RETURN(cuda::DeviceBuffer tree, cuda::DeviceBuffer::Allocate(nodes * 32, "tree"));
  const InputKey key = DeriveInputKey(p);
  const bool transposed = int8 != other_b_layout;
  VCP_RETURN_IF_ERROR(cuda::GenerateInputs(p.kind, shared::PhiloxKey{key.k0, key.k1}, p.m, p.n, p.k, a.get(),
                                           b.get(), transposed ? cuda::BLayout::kTransposed : cuda::BLayout::kRowMajor,
                                           stream.get()));
  if (!other_b_layout) {
    if (int8) {
      cuda::GemmInt8Plan plan;
      VCP_RETURN_IF_ERROR(cuda::GemmInt8(plan, p.m, p.n, p.k, a.as<int8_t>(), b.as<int8_t>(), c.as<int32_t>(),
                                         stream.get()));
      out.used_cublaslt = plan.use_cublaslt;
      // The plan (and its cuBLASLt handle) must outlive the enqueued GEMM.
      VCP_RETURN_IF_ERROR(cuda::CudaCheck(cudaStreamSynchronize(stream.get()), "int8 GEMM"));
    } else {
      VCP_RETURN_IF_ERROR(
          cuda::GemmFp32Ordered(p.m, p.n, p.k, a.as<float>(), b.as<float>(), c.as<float>(), stream.get()));
    }
    cuda::LeafSpec spec{static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, {}};
    std::memcpy(spec.seed, p.seed.data(), 32);
    VCP_RETURN_IF_ERROR(cuda::HashLeaves(spec, c.as<uint32_t>(), p.n, tree.as<uint8_t>(), stream.get()));
    VCP_RETURN_IF_ERROR(cuda::BuildMerkleLevels(tree.as<uint8_t>(), offsets, sizes, stream.get()));
  }
  VCP_RETURN_IF_ERROR(cuda::CudaCheck(cudaStreamSynchronize(stream.get()), "the pipeline"));

  out.a.resize(mk * elem);
  out.b.resize(kn * elem);
  VCP_RETURN_IF_ERROR(CopyToHost(out.a.data(), a, out.a.size()));
  VCP_RETURN_IF_ERROR(CopyToHost(out.b.data(), b, out.b.size()));
  if (transposed) out.b = Untranspose(out.b, p.k, p.n, elem);
  if (other_b_layout) return Status::Ok();
  out.c.resize(mn);
  VCP_RETURN_IF_ERROR(CopyToHost(out.c.data(), c, mn * 4));
  out.levels.clear();
  for (size_t h = 0; h < sizes.size(); ++h) {
    out.levels.emplace_back(sizes[h]);
    VCP_RETURN_IF_ERROR(CopyToHost(out.levels.back().data(), tree, sizes[h] * 32, offsets[h] * 32));
  }
  return Status::Ok();
}

TEST_P(CudaShapes, EveryStageMatchesCpu) {
  const WorkloadParams p = ParamsOf(GetParam());
  const size_t elem = p.kind == WorkloadKind::kInt8 ? 1 : 4;
  CpuResult cpu;
  ASSERT_TRUE(ComputeOnCpu(p, cpu).ok());
  GpuResult gpu;
  Status st = RunOnGpu(p, gpu);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(SameBytes("A", cpu.a.data(), gpu.a.data(), p.m, p.k, elem));
  ASSERT_TRUE(SameBytes("B", cpu.b.data(), gpu.b.data(), p.k, p.n, elem));
  ASSERT_TRUE(SameBytes("C", cpu.c.data(), gpu.c.data(), p.m, p.n, 4));
  ASSERT_EQ(gpu.levels.size(), cpu.tree.levels().size());
  EXPECT_TRUE(SameHashes("leaf", cpu.leaves, gpu.levels[0]));
  for (size_t h = 1; h < gpu.levels.size(); ++h) {
    EXPECT_TRUE(SameHashes("level " + std::to_string(h) + " node", cpu.tree.levels()[h], gpu.levels[h]));
  }
  EXPECT_EQ(ToHex(gpu.levels.back()[0]), ToHex(cpu.tree.root()));
  if (p.kind == WorkloadKind::kInt8) {
    // cuBLASLt's IMMA kernels take N and K multiples of 4; other shapes must go to the fallback kernel, and the
    // large aligned shapes must really run on cuBLASLt, so this suite exercises both paths. (Whether cuBLASLt's
    // heuristic also serves the small aligned shapes is its choice; either path must give the CPU's bits.)
    const bool aligned = p.n % 4 == 0 && p.k % 4 == 0;
    if (!aligned) {
      EXPECT_FALSE(gpu.used_cublaslt) << "N = " << p.n << ", K = " << p.k;
    } else if (p.n >= 1024) {
      EXPECT_TRUE(gpu.used_cublaslt) << "N = " << p.n << ", K = " << p.k;
    }
  }
}

// The B layout the backend does not use for this workload (int8 row-major, fp32 transposed), generation only.
TEST_P(CudaShapes, OtherBLayoutMatchesCpu) {
  const WorkloadParams p = ParamsOf(GetParam());
  const size_t elem = p.kind == WorkloadKind::kInt8 ? 1 : 4;
  CpuResult cpu;
  ASSERT_TRUE(ComputeOnCpu(p, cpu).ok());
  GpuResult gpu;
  Status st = RunOnGpu(p, gpu, /*other_b_layout=*/true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(SameBytes("A", cpu.a.data(), gpu.a.data(), p.m, p.k, elem));
  EXPECT_TRUE(SameBytes("B", cpu.b.data(), gpu.b.data(), p.k, p.n, elem));
}

TEST_P(CudaShapes, PipelineTwiceGivesIdenticalBits) {
  const WorkloadParams p = ParamsOf(GetParam());
  GpuResult first, second;
  Status st = RunOnGpu(p, first);
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = RunOnGpu(p, second);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(SameBytes("C", first.c.data(), second.c.data(), p.m, p.n, 4));
  EXPECT_EQ(ToHex(first.levels.back()[0]), ToHex(second.levels.back()[0]));
}

#endif  // VCP_HAVE_CUDA

constexpr uint32_t T = kDefaultTile;

// Small shapes: the edges of the default tile, other tile sizes, both int8 GEMM paths. Fast enough for
// compute-sanitizer (scripts/gpu-check runs memcheck and racecheck on Small/*).
INSTANTIATE_TEST_SUITE_P(
    Small, CudaShapes,
    ::testing::Values(Shape{WorkloadKind::kInt8, 1, 1, 1, T}, Shape{WorkloadKind::kFp32Ordered, 1, 1, 1, T},
                      Shape{WorkloadKind::kInt8, T - 1, T - 1, T - 1, T},
                      Shape{WorkloadKind::kFp32Ordered, T - 1, T - 1, T - 1, T},
                      Shape{WorkloadKind::kInt8, T, T, T, T}, Shape{WorkloadKind::kFp32Ordered, T, T, T, T},
                      Shape{WorkloadKind::kInt8, T + 1, T + 1, T + 1, T},
                      Shape{WorkloadKind::kFp32Ordered, T + 1, T + 1, T + 1, T},
                      Shape{WorkloadKind::kInt8, 40, 72, 33, 8}, Shape{WorkloadKind::kFp32Ordered, 40, 72, 33, 8},
                      Shape{WorkloadKind::kInt8, 33, 64, 128, 16},          // cuBLASLt path, odd M
                      Shape{WorkloadKind::kFp32Ordered, 130, 129, 17, 16},  // two GEMM tiles, K tail of 1
                      Shape{WorkloadKind::kInt8, 300, 260, 20, 256},
                      Shape{WorkloadKind::kFp32Ordered, 300, 260, 20, 256}),
    ShapeName);

INSTANTIATE_TEST_SUITE_P(Large, CudaShapes,
                         ::testing::Values(Shape{WorkloadKind::kInt8, 257, 263, 509, T},
                                           Shape{WorkloadKind::kFp32Ordered, 257, 263, 509, T},
                                           Shape{WorkloadKind::kInt8, 1024, 1024, 1024, T},
                                           Shape{WorkloadKind::kFp32Ordered, 1024, 1024, 1024, T},
                                           Shape{WorkloadKind::kInt8, 4096, 4096, 4096, T}),
                         ShapeName);

TEST_F(CudaTest, ProbeDescribesTheDevice) {
  auto info = CudaBackend().probe();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->backend, "cuda");
  EXPECT_FALSE(info->name.empty());
  EXPECT_GT(info->compute_units, 0);
  EXPECT_FALSE(info->driver_version.empty());
  EXPECT_FALSE(info->runtime_version.empty());
}

// Larger than any GPU: refused before anything is allocated, with the bytes needed and available.
TEST_F(CudaTest, TooLargeIsRefusedWithTheNumbers) {
  WorkloadParams p;
  p.kind = WorkloadKind::kFp32Ordered;
  p.m = p.n = p.k = kMaxDimension;
  auto run = RunWorkload(p, RunOptions{.backend = BackendChoice::kCuda});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument) << run.status().ToString();
  EXPECT_NE(run.status().message().find("bytes"), std::string_view::npos) << run.status().ToString();
  EXPECT_NE(run.status().message().find("in all"), std::string_view::npos) << run.status().ToString();
}

#if VCP_HAVE_CUDA

Hash32 OpenSslSha256(const uint8_t* data, size_t len) {
  Hash32 out{};
  unsigned int out_len = 0;
  EVP_Digest(data, len, out.data(), &out_len, EVP_sha256(), nullptr);
  return out;
}

// Hashes each message on the device (one thread each) and compares with OpenSSL.
void ExpectDeviceSha256MatchesOpenSsl(const std::vector<uint8_t>& data, const std::vector<uint64_t>& offsets,
                                      const std::vector<uint64_t>& lengths) {
  const uint64_t count = offsets.size();
  auto d_data = cuda::DeviceBuffer::Allocate(data.size(), "messages");
  auto d_offsets = cuda::DeviceBuffer::Allocate(count * 8, "offsets");
  auto d_lengths = cuda::DeviceBuffer::Allocate(count * 8, "lengths");
  auto d_digests = cuda::DeviceBuffer::Allocate(count * 32, "digests");
  ASSERT_TRUE(d_data.ok() && d_offsets.ok() && d_lengths.ok() && d_digests.ok());
  ASSERT_EQ(cudaMemcpy(d_data->get(), data.data(), data.size(), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d_offsets->get(), offsets.data(), count * 8, cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d_lengths->get(), lengths.data(), count * 8, cudaMemcpyHostToDevice), cudaSuccess);
  Status st = cuda::Sha256Messages(d_data->as<uint8_t>(), d_offsets->as<uint64_t>(), d_lengths->as<uint64_t>(), count,
                                   d_digests->as<uint8_t>(), nullptr);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<Hash32> digests(count);
  st = cuda::CudaCheck(cudaMemcpy(digests.data(), d_digests->get(), count * 32, cudaMemcpyDeviceToHost), "digests");
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (uint64_t i = 0; i < count; ++i) {
    EXPECT_EQ(ToHex(digests[i]), ToHex(OpenSslSha256(data.data() + offsets[i], lengths[i])))
        << "message of " << lengths[i] << " bytes at offset " << offsets[i];
  }
}

// Every length 0..300 (all padding cases, several blocks), packed back to back so most start unaligned.
TEST_F(CudaTest, DeviceSha256MatchesOpenSslOnLengthsUpTo300) {
  std::vector<uint8_t> data;
  std::vector<uint64_t> offsets, lengths;
  for (uint64_t len = 0; len <= 300; ++len) {
    offsets.push_back(data.size());
    lengths.push_back(len);
    for (uint64_t i = 0; i < len; ++i) data.push_back(uint8_t(len * 131 + i * 7 + (i >> 8)));
  }
  data.push_back(0);  // never empty, so the device allocation is never zero bytes
  ExpectDeviceSha256MatchesOpenSsl(data, offsets, lengths);
}

TEST_F(CudaTest, DeviceSha256MatchesOpenSslOnALargeBuffer) {
  const uint64_t len = (uint64_t{16} << 20) + 13;
  std::vector<uint8_t> data(len);
  uint32_t x = 12345;
  for (auto& byte : data) {
    x = x * 1664525u + 1013904223u;
    byte = uint8_t(x >> 24);
  }
  ExpectDeviceSha256MatchesOpenSsl(data, {0, 1}, {len, len - 1});
}

#endif  // VCP_HAVE_CUDA

}  // namespace
}  // namespace vcp
