// Recomputing single tiles from the seed with reusable buffers: the verifier recomputes many tiles in a row, and a
// fresh ~T*K-byte allocation per tile (above malloc's mmap threshold) costs page faults that rival the GEMM itself.
#pragma once

#include <cstdint>
#include <vector>

#include "vcp/status.h"
#include "vcp/workload.h"

namespace vcp {

// Scratch space for one thread; grows to the largest tile seen and is reused across calls.
struct TileScratch {
  std::vector<int8_t> a_int8, b_int8;  // the tile's rows of A (rows, K) and columns of B (K, cols)
  std::vector<float> a_fp32, b_fp32;
  std::vector<int32_t> c_int32;        // the tile of C (rows, cols)
  std::vector<float> c_fp32;
};

// out = the tile's 4-byte elements (rows, cols) row-major, as ComputeTileFromSeed returns them. Running out of
// memory is ResourceExhausted, never an exception.
[[nodiscard]] Status ComputeTileInto(const WorkloadParams& params, uint64_t tile_index, TileScratch& scratch,
                                     std::vector<uint32_t>& out);

}  // namespace vcp
