// vcp/workload.h: workload parameters, the tile grid, input generation and the CPU engine's computation of C,
// all as docs/SPEC.md defines them. The CPU engine is the ground truth every backend must reproduce bit for bit.
//
// Workloads are defined by one table (lib/workload.cpp: id, name, input element size, K bound and the CPU
// kernels; the CUDA kernels are the plugin's half, lib/cuda/cuda_backend.cpp). A new workload is a new
// WorkloadKind value, its entry in kWorkloadKinds, one entry in each table and its kernels; both tables
// static_assert that they cover kWorkloadKinds, so a missing entry fails to compile.
//
// Ownership: callers own every buffer; functions write into spans they are given and never keep them.
// Thread safety: all functions are reentrant; `threads` = 0 means all hardware threads, 1 runs inline.
// Errors: ValidateWorkload says what is out of range and what is allowed; the other functions require a
// validated workload and buffers of the documented sizes (checked, returning InvalidArgument).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/hash.h"
#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

enum class WorkloadKind : uint8_t { kInt8 = 1, kFp32Ordered = 2 };
// Every kind, in id order: the list each workload table must cover entry for entry.
inline constexpr std::array<WorkloadKind, 2> kWorkloadKinds = {WorkloadKind::kInt8, WorkloadKind::kFp32Ordered};

// What the spec fixes about one workload (docs/SPEC.md sections 2-4).
struct VCP_EXPORT WorkloadInfo {
  WorkloadKind kind;
  std::string_view name;  // as the CLI and the docs spell it: "int8", "fp32-ordered"
  uint32_t input_bytes;   // bytes per element of A and B (C's elements are always 4 bytes)
  uint32_t max_k;         // the largest K this workload allows
  std::string_view max_k_reason;  // why, for the error message ("so that ... stays exact"); empty: no own bound
};
// The table entry of kind, or nullptr for an id that names no workload (e.g. a corrupt message's byte).
VCP_EXPORT const WorkloadInfo* FindWorkload(WorkloadKind kind);

// "int8" or "fp32-ordered"; "unknown" for an id that names no workload.
VCP_EXPORT std::string_view WorkloadName(WorkloadKind kind);
// Refuses an unknown name, listing the allowed ones.
VCP_EXPORT Result<WorkloadKind> ParseWorkloadKind(std::string_view name);

using Seed = std::array<uint8_t, 32>;

constexpr uint32_t kSpecVersion = 2;
constexpr uint32_t kHashIdSha256 = 1;  // the leaf header's hash id: SHA-256 for LEAF and NODE
constexpr uint32_t kDefaultTile = 32;          // docs/SPEC.md section 5 justifies the choice
constexpr uint32_t kMinTile = 8;
constexpr uint32_t kMaxTile = 256;
constexpr uint32_t kMaxDimension = 1u << 20;  // M, N, K each in [1, 2^20]
constexpr uint32_t kMaxInt8K = 131071;        // K * 128 * 128 <= 2^31 - 1: int32 accumulation stays exact

struct VCP_EXPORT WorkloadParams {
  WorkloadKind kind = WorkloadKind::kInt8;
  uint32_t m = 0, n = 0, k = 0;  // C (m x n) = A (m x k) * B (k x n)
  uint32_t tile = kDefaultTile;  // T: a power of two in [kMinTile, kMaxTile]
  Seed seed{};
};

[[nodiscard]] VCP_EXPORT Status ValidateWorkload(const WorkloadParams& params);

// 2*M*N*K: one multiply and one add per term, the figure every rate in vcp is quoted in.
VCP_EXPORT uint64_t OperationCount(const WorkloadParams& params);

struct VCP_EXPORT TileGrid {
  uint32_t tile_rows = 0, tile_cols = 0;
  uint64_t leaf_count() const { return uint64_t(tile_rows) * tile_cols; }
};
VCP_EXPORT TileGrid TileGridOf(const WorkloadParams& params);

struct VCP_EXPORT Tile {
  uint64_t index = 0;           // leaf index, row-major over tile coordinates
  uint32_t tile_row = 0, tile_col = 0;
  uint32_t row0 = 0, col0 = 0;  // first element of C it covers
  uint32_t rows = 0, cols = 0;  // T, or less on the last tile row / column
};
// Requires index < leaf count.
VCP_EXPORT Tile TileAt(const WorkloadParams& params, uint64_t index);

// The two 32-bit Philox key words derived from the seed and shape (docs/SPEC.md section 3).
struct VCP_EXPORT InputKey {
  uint32_t k0 = 0, k1 = 0;
};
VCP_EXPORT InputKey DeriveInputKey(const WorkloadParams& params);

enum class Matrix : uint32_t { kA = 0, kB = 1 };

// Whole inputs for any workload: out is A (M, K) or B (K, N) row-major, FindWorkload(kind)->input_bytes bytes per
// element in host order (int8 values or binary32 bit patterns).
[[nodiscard]] VCP_EXPORT Status GenerateInput(const WorkloadParams& params, Matrix which, std::span<uint8_t> out,
                                              int threads = 0);
// C (M, N) for any workload from inputs laid out as GenerateInput writes them; c holds 4-byte elements (int32
// values or binary32 bit patterns).
[[nodiscard]] VCP_EXPORT Status ComputeOutput(const WorkloadParams& params, std::span<const uint8_t> a,
                                              std::span<const uint8_t> b, std::span<uint32_t> c, int threads = 0);

// Typed forms of the two above for one workload each (InvalidArgument for a workload of another kind).
// int8: a is (M, K), b is (K, N), row-major; fp32 likewise.
[[nodiscard]] VCP_EXPORT Status GenerateInt8(const WorkloadParams& params, Matrix which, std::span<int8_t> out,
                                             int threads = 0);
[[nodiscard]] VCP_EXPORT Status GenerateFp32(const WorkloadParams& params, Matrix which, std::span<float> out,
                                             int threads = 0);

// int8: a (M, K) and b (K, N) int8, c (M, N) int32. fp32: c (M, N) binary32.
[[nodiscard]] VCP_EXPORT Status ComputeInt8(const WorkloadParams& params, std::span<const int8_t> a,
                                            std::span<const int8_t> b, std::span<int32_t> c, int threads = 0);
[[nodiscard]] VCP_EXPORT Status ComputeFp32(const WorkloadParams& params, std::span<const float> a,
                                            std::span<const float> b, std::span<float> c, int threads = 0);

// The 4-byte elements of one tile of C, (rows, cols) row-major, recomputed from the seed alone: the verifier
// generates only the tile's rows of A and columns of B. Values are int32 or binary32 bit patterns (the full
// elements; which of their bytes a leaf commits is LeafBytes' business).
VCP_EXPORT Result<std::vector<uint32_t>> ComputeTileFromSeed(const WorkloadParams& params, uint64_t tile_index);

// Leaf bytes (docs/SPEC.md section 6): the 63-byte header common to the tree, the tile's elements row-major, then
// u32 tile row and u32 tile column. The bytes per element differ by workload: int8 commits one byte, C mod 2^8
// (the low byte of the int32); fp32-ordered all 4 bytes of the binary32, little-endian. tile_elements is
// (rows, cols) row-major 4-byte elements as ComputeTileFromSeed returns them.
VCP_EXPORT std::vector<uint8_t> LeafBytes(const WorkloadParams& params, const Tile& tile,
                                          std::span<const uint32_t> tile_elements);
// SHA-256(0x00 || LeafBytes(...)), continuing from the tree's first-block state without building the header.
VCP_EXPORT Hash32 LeafHashOfTile(const WorkloadParams& params, const Tile& tile,
                                 std::span<const uint32_t> tile_elements);

// Leaf hashes of every tile of a full C (M, N) of 4-byte elements (int32 or binary32 bits), in leaf order; each
// leaf commits its elements' bytes as LeafBytes says. The first SHA-256 block is compressed once per call.
[[nodiscard]] VCP_EXPORT Status HashLeaves(const WorkloadParams& params, std::span<const uint32_t> c,
                                           std::span<Hash32> leaf_hashes, int threads = 0);

}  // namespace vcp
