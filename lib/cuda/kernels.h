// The host launchers of kernels/*.cu: one per file (gemm_int8.cu also has PrepareGemmInt8, which launches nothing;
// generate_inputs.cu has one per element type),
// each enqueueing its work on `stream` and returning a Status
// (launch failures carry CUDA's error text; faults inside a kernel surface at the caller's next synchronisation).
// Pointers are device pointers from cudaMalloc unless a comment says otherwise. Shapes are validated workloads
// (lib/workload.cpp): 1 <= M, N, K <= 2^20, T a power of two in [8, 256].
//
// The stages of the CUDA backend (lib/cuda/cuda_backend.cpp; the pipeline itself is lib/pipeline.cpp):
//   Generate*Matrix -> A (M, K) and B: row-major (K, N), or transposed (N, K) for the int8 tensor-core GEMM
//   GemmInt8 / GemmFp32Ordered -> C (M, N) row-major, 4-byte elements
//   HashLeaves      -> level 0 of the tree: one 32-byte digest per T x T tile, in leaf order
//   BuildMerkleLevels -> levels 1.. in the same buffer; the last level holds the root
//   GatherNodes     -> the few nodes a multiproof needs, for Commitment::Open
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "cuda/cuda_util.h"
#include "cuda/tree_hash.h"
#include "shared/philox_inputs.h"
#include "vcp/status.h"
#include "vcp/workload.h"

namespace vcp::cuda {

// kernels/generate_inputs.cu, one launcher per element type (the workload table in lib/cuda/cuda_backend.cpp
// picks one). Every element is shared::Int8Element / Fp32Element of its row-major index in the spec's matrix
// (rows, cols) = (M, K) for A or (K, N) for B, whatever layout it is stored in.
enum class BLayout {
  kRowMajor,    // out is (rows, cols) row-major, as the spec writes the matrix
  kTransposed,  // out is the transpose, (cols, rows) row-major: for B, K-contiguous, as cuBLASLt's int8 kernels need
};
// matrix: shared::kMatrixA or kMatrixB. out: rows * cols elements laid out as layout says.
[[nodiscard]] Status GenerateInt8Matrix(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols,
                                        int8_t* out, BLayout layout, cudaStream_t stream);
[[nodiscard]] Status GenerateFp32Matrix(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols,
                                        float* out, BLayout layout, cudaStream_t stream);

// kernels/gemm_int8.cu. cuBLASLt state for one shape, built on the first call and reused while the shape stays
// the same (so repeated launches, as in the benchmarks, pay the heuristic query once). Owned by the caller.
constexpr size_t kInt8GemmWorkspaceBytes = size_t{32} << 20;
struct GemmInt8Plan {
  uint32_t m = 0, n = 0, k = 0;  // the shape the members below were made for; 0 = none yet
  bool use_cublaslt = false;     // false: the exact fallback kernel (shapes cuBLASLt's IMMA kernels refuse)
  LtHandleOwner handle;
  DeviceBuffer workspace;        // kInt8GemmWorkspaceBytes
  LtMatmulDescOwner desc;
  LtLayoutOwner bt_layout, a_layout, c_layout;
  cublasLtMatmulAlgo_t algo{};
};
// Builds plan for (m, n, k): cuBLASLt handle, workspace, descriptors and algorithm, or the choice of the fallback.
// Launches nothing; GemmInt8 calls it when the shape changes, callers that time GemmInt8 call it first so the
// host-side set-up stays outside the timed region.
[[nodiscard]] Status PrepareGemmInt8(GemmInt8Plan& plan, uint32_t m, uint32_t n, uint32_t k);
// c = a * b exactly in int32 (alpha 1, beta 0, no saturation; |c| <= 128*128*K < 2^31 for K <= 131071).
// a: (M, K) row-major int8. bt: B^T, (N, K) row-major int8. c: (M, N) row-major int32.
[[nodiscard]] Status GemmInt8(GemmInt8Plan& plan, uint32_t m, uint32_t n, uint32_t k, const int8_t* a,
                              const int8_t* bt, int32_t* c, cudaStream_t stream);

// kernels/gemm_fp32_ordered.cu. c[i][j] = the left-to-right __fmaf_rn chain over k = 0..K-1 from +0.0f.
// a: (M, K) row-major. b: (K, N) row-major. c: (M, N) row-major.
[[nodiscard]] Status GemmFp32Ordered(uint32_t m, uint32_t n, uint32_t k, const float* a, const float* b, float* c,
                                     cudaStream_t stream);

// kernels/hash_leaves.cu. One thread per leaf runs HashLeaf (tree_hash.h).
// c: (M, ldc) row-major 4-byte elements, ldc >= N. leaf_hashes: (leaf count, 32) bytes, digests in leaf order.
[[nodiscard]] Status HashLeaves(const LeafSpec& spec, const uint32_t* c, uint64_t ldc, uint8_t* leaf_hashes,
                                cudaStream_t stream);

// kernels/merkle_levels.cu. nodes holds every level back to back, 32 bytes per node: level h starts at node
// level_offsets[h] and has level_sizes[h] nodes, level_sizes[h + 1] = ceil(level_sizes[h] / 2), ending at 1.
// Level 0 must already hold the leaf hashes; one launch per level fills the rest (pairs hashed with HashNode, an
// unpaired last node copied up unchanged, which yields the RFC 6962 tree; see vcp/merkle.h).
// level_offsets and level_sizes are host arrays.
[[nodiscard]] Status BuildMerkleLevels(uint8_t* nodes, std::span<const uint64_t> level_offsets,
                                       std::span<const uint64_t> level_sizes, cudaStream_t stream);

// kernels/gather_nodes.cu. out[i] = nodes[positions[i]] (32 bytes each). positions: (count) device array of node
// numbers into nodes. out: (count, 32) bytes.
[[nodiscard]] Status GatherNodes(const uint8_t* nodes, const uint64_t* positions, uint64_t count, uint8_t* out,
                                 cudaStream_t stream);

}  // namespace vcp::cuda
