// The CUDA backend: generate, compute and commit a workload on the GPU, keeping every tensor on the device.
//
// What leaves the device: the 32-byte root at the end of a run; later, for Commitment::Open, only the nodes a
// multiproof needs (positions computed on the host, lib/merkle_positions.h, gathered on the device); all leaf
// hashes only when a caller asks for them (LeafHashes). A, B and C are freed when the run ends; the Commitment
// keeps the tree (all levels, 32 bytes per node, about 64 bytes per leaf) on the device until it is destroyed.
//
// The device is CUDA device 0 (CUDA_VISIBLE_DEVICES chooses which physical GPU that is).
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "backend.h"
#include "cuda/cuda_util.h"
#include "cuda/kernels.h"
#include "merkle_positions.h"

namespace vcp {

namespace {

using cuda::CudaCheck;
using cuda::DeviceBuffer;

constexpr int kDevice = 0;
// Left free for the CUDA context's own allocations and cuBLASLt's internals when checking that a run fits.
constexpr uint64_t kHeadroomBytes = uint64_t{64} << 20;

static_assert(sizeof(Hash32) == 32, "device digests are copied straight into Hash32 arrays");

std::string CudaVersionString(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

std::string ByteCount(uint64_t b) { return std::to_string(b) + " bytes (" + std::to_string(b >> 20) + " MiB)"; }

Result<DeviceInfo> ProbeCuda() {
  int count = 0;
  if (const cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess) {
    return Status::Unavailable(std::string("no usable CUDA device: cudaGetDeviceCount says ") + cudaGetErrorName(err) +
                               ": " + cudaGetErrorString(err));
  }
  if (count == 0) return Status::Unavailable("no CUDA device: cudaGetDeviceCount found none");
  cudaDeviceProp prop{};
  if (const cudaError_t err = cudaGetDeviceProperties(&prop, kDevice); err != cudaSuccess) {
    return Status::Unavailable(std::string("no usable CUDA device: cudaGetDeviceProperties(0) says ") +
                               cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
  }
  if (prop.major < 8) {
    return Status::Unavailable(std::string("GPU 0 (") + prop.name + ") has compute capability " +
                               std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                               "; vcp's CUDA kernels need 8.0 (Ampere) or newer");
  }
  int driver = 0, runtime = 0;
  if (const cudaError_t err = cudaDriverGetVersion(&driver); err != cudaSuccess) {
    return Status::Unavailable(std::string("no usable CUDA driver: cudaDriverGetVersion says ") +
                               cudaGetErrorString(err));
  }
  if (const cudaError_t err = cudaRuntimeGetVersion(&runtime); err != cudaSuccess) {
    return Status::Unavailable(std::string("cudaRuntimeGetVersion says ") + cudaGetErrorString(err));
  }
  DeviceInfo info;
  info.backend = "cuda";
  info.name = prop.name;
  info.compute_units = prop.multiProcessorCount;
  info.driver_version = CudaVersionString(driver);
  info.runtime_version = CudaVersionString(runtime);
  return info;
}

// The tree as levels in one buffer: level h holds sizes[h] nodes starting at node offsets[h].
struct TreeLayout {
  std::vector<uint64_t> sizes, offsets;
  uint64_t nodes = 0;
};

TreeLayout LayoutTree(uint64_t leaf_count) {
  TreeLayout t;
  t.sizes = MerkleLevelSizes(leaf_count);
  for (uint64_t s : t.sizes) {
    t.offsets.push_back(t.nodes);
    t.nodes += s;
  }
  return t;
}

class CudaCommitment final : public Commitment {
 public:
  CudaCommitment(const WorkloadParams& params, const Hash32& root, DeviceInfo device, RunTimings timings,
                 TreeLayout layout, DeviceBuffer nodes)
      : params_(params),
        root_(root),
        device_(std::move(device)),
        timings_(timings),
        layout_(std::move(layout)),
        nodes_(std::move(nodes)) {}

  const WorkloadParams& params() const override { return params_; }
  const Hash32& root() const override { return root_; }
  uint64_t leaf_count() const override { return layout_.sizes[0]; }
  const DeviceInfo& device() const override { return device_; }
  const RunTimings& timings() const override { return timings_; }

  Result<MultiProof> Open(std::span<const uint64_t> leaf_indices) const override {
    VCP_ASSIGN_OR_RETURN(std::vector<NodePosition> positions, MultiProofNodePositions(leaf_count(), leaf_indices));
    MultiProof proof;
    proof.tree_size = leaf_count();
    proof.indices.assign(leaf_indices.begin(), leaf_indices.end());
    if (positions.empty()) return proof;  // a one-leaf tree: the leaf is the root
    std::vector<uint64_t> flat(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) {
      flat[i] = layout_.offsets[positions[i].level] + positions[i].index;
    }
    proof.hashes.resize(flat.size());
    // Own stream and buffers per call, so several threads may open the same commitment at once.
    VCP_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(kDevice), "cudaSetDevice"));
    VCP_ASSIGN_OR_RETURN(cuda::StreamOwner stream, cuda::CreateStream());
    VCP_ASSIGN_OR_RETURN(DeviceBuffer d_positions, DeviceBuffer::Allocate(flat.size() * 8, "proof node positions"));
    VCP_ASSIGN_OR_RETURN(DeviceBuffer d_hashes, DeviceBuffer::Allocate(flat.size() * 32, "proof nodes"));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(d_positions.get(), flat.data(), flat.size() * 8,
                                                  cudaMemcpyHostToDevice, stream.get()),
                                  "copying proof node positions to the device"));
    VCP_RETURN_IF_ERROR(cuda::GatherNodes(nodes_.as<uint8_t>(), d_positions.as<uint64_t>(), flat.size(),
                                          d_hashes.as<uint8_t>(), stream.get()));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(proof.hashes.data(), d_hashes.get(), flat.size() * 32,
                                                  cudaMemcpyDeviceToHost, stream.get()),
                                  "copying proof nodes to the host"));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaStreamSynchronize(stream.get()), "opening tiles on the device"));
    return proof;
  }

  Result<std::vector<Hash32>> LeafHashes() const override {
    std::vector<Hash32> leaves(leaf_count());
    VCP_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(kDevice), "cudaSetDevice"));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpy(leaves.data(), nodes_.get(), leaves.size() * 32, cudaMemcpyDeviceToHost),
                                  "copying the leaf hashes to the host"));
    return leaves;
  }

 private:
  WorkloadParams params_;
  Hash32 root_;
  DeviceInfo device_;
  RunTimings timings_;
  TreeLayout layout_;
  DeviceBuffer nodes_;  // every level, 32 bytes per node (layout_)
};

// Refuses a run that cannot fit before allocating anything, naming every buffer.
Status CheckDeviceMemory(const DeviceInfo& device, uint64_t a, uint64_t b, uint64_t c, uint64_t tree,
                         uint64_t workspace) {
  size_t free_bytes = 0, total_bytes = 0;
  VCP_RETURN_IF_ERROR(CudaCheck(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo"));
  const uint64_t need = a + b + c + tree + workspace + kHeadroomBytes;
  const std::string what = "this workload needs " + ByteCount(need) + " of GPU memory (A " + ByteCount(a) +
                           ", B " + ByteCount(b) + ", C " + ByteCount(c) + ", tree " + ByteCount(tree) +
                           ", cuBLASLt workspace " + ByteCount(workspace) + ", headroom " +
                           ByteCount(kHeadroomBytes) + ")";
  if (need > total_bytes) {
    return Status::InvalidArgument(what + " but " + device.name + " has " + ByteCount(total_bytes) +
                                   " in all; use smaller M, N, K or --backend cpu");
  }
  if (need > free_bytes) {
    return Status::ResourceExhausted(what + " but " + device.name + " has only " + ByteCount(free_bytes) + " free of " +
                                     ByteCount(total_bytes) + "; free GPU memory or use smaller M, N, K");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Commitment>> RunCuda(const WorkloadParams& p, const RunOptions&, const DeviceInfo& device) {
  VCP_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(kDevice), "cudaSetDevice"));
  const bool int8 = p.kind == WorkloadKind::kInt8;
  const uint64_t in_bytes = int8 ? 1 : 4;
  const uint64_t a_bytes = uint64_t{p.m} * p.k * in_bytes, b_bytes = uint64_t{p.k} * p.n * in_bytes;
  const uint64_t c_bytes = uint64_t{p.m} * p.n * 4;
  TreeLayout layout = LayoutTree(TileGridOf(p).leaf_count());
  const uint64_t tree_bytes = layout.nodes * 32;
  VCP_RETURN_IF_ERROR(
      CheckDeviceMemory(device, a_bytes, b_bytes, c_bytes, tree_bytes, int8 ? cuda::kInt8GemmWorkspaceBytes : 0));

  VCP_ASSIGN_OR_RETURN(cuda::StreamOwner stream, cuda::CreateStream());
  // ev[0] generate ev[1] GEMM ev[2] hash leaves, build levels ev[3]
  cuda::EventOwner ev[4];
  for (auto& e : ev) {
    VCP_ASSIGN_OR_RETURN(e, cuda::CreateEvent());
  }
  VCP_ASSIGN_OR_RETURN(DeviceBuffer nodes, DeviceBuffer::Allocate(tree_bytes, "the Merkle tree"));
  Hash32 root{};
  RunTimings timings;
  {
    VCP_ASSIGN_OR_RETURN(DeviceBuffer a, DeviceBuffer::Allocate(a_bytes, "A (M x K)"));
    VCP_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::Allocate(b_bytes, "B (K x N)"));
    VCP_ASSIGN_OR_RETURN(DeviceBuffer c, DeviceBuffer::Allocate(c_bytes, "C (M x N)"));
    cuda::GemmInt8Plan plan;
    if (int8) VCP_RETURN_IF_ERROR(cuda::PrepareGemmInt8(plan, p.m, p.n, p.k));  // host set-up before timing
    const InputKey key = DeriveInputKey(p);
    cuda::LeafSpec spec{static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, {}};
    for (size_t i = 0; i < p.seed.size(); ++i) spec.seed[i] = p.seed[i];

    cudaStream_t s = stream.get();
    VCP_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(ev[0].get(), s), "cudaEventRecord"));
    // int8 stores B transposed, the K-contiguous layout cuBLASLt's int8 tensor-core kernels need (gemm_int8.cu).
    VCP_RETURN_IF_ERROR(cuda::GenerateInputs(p.kind, shared::PhiloxKey{key.k0, key.k1}, p.m, p.n, p.k, a.get(),
                                             b.get(), int8 ? cuda::BLayout::kTransposed : cuda::BLayout::kRowMajor, s));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(ev[1].get(), s), "cudaEventRecord"));
    if (int8) {
      VCP_RETURN_IF_ERROR(
          cuda::GemmInt8(plan, p.m, p.n, p.k, a.as<int8_t>(), b.as<int8_t>(), c.as<int32_t>(), s));
    } else {
      VCP_RETURN_IF_ERROR(cuda::GemmFp32Ordered(p.m, p.n, p.k, a.as<float>(), b.as<float>(), c.as<float>(), s));
    }
    VCP_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(ev[2].get(), s), "cudaEventRecord"));
    VCP_RETURN_IF_ERROR(cuda::HashLeaves(spec, c.as<uint32_t>(), p.n, nodes.as<uint8_t>(), s));
    VCP_RETURN_IF_ERROR(cuda::BuildMerkleLevels(nodes.as<uint8_t>(), layout.offsets, layout.sizes, s));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(ev[3].get(), s), "cudaEventRecord"));
    // The only bytes of the run that leave the device (a copy to pageable memory: it waits for the stream).
    VCP_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(root.data(), nodes.as<uint8_t>() + 32 * layout.offsets.back(), 32,
                                                  cudaMemcpyDeviceToHost, s),
                                  "copying the root to the host"));
    VCP_RETURN_IF_ERROR(CudaCheck(cudaStreamSynchronize(s), "running the workload on the device"));
  }  // A, B and C are freed here; only the tree stays on the device

  VCP_ASSIGN_OR_RETURN(timings.generate_seconds, cuda::ElapsedSeconds(ev[0], ev[1]));
  VCP_ASSIGN_OR_RETURN(timings.gemm_seconds, cuda::ElapsedSeconds(ev[1], ev[2]));
  VCP_ASSIGN_OR_RETURN(timings.commit_seconds, cuda::ElapsedSeconds(ev[2], ev[3]));
  VCP_ASSIGN_OR_RETURN(timings.total_seconds, cuda::ElapsedSeconds(ev[0], ev[3]));
  return std::unique_ptr<Commitment>(
      new CudaCommitment(p, root, device, timings, std::move(layout), std::move(nodes)));
}

}  // namespace

const Backend& CudaBackend() {
  static const Backend backend{"cuda", &ProbeCuda, &RunCuda};
  return backend;
}

}  // namespace vcp
