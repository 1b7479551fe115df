// Recomputing single tiles from the seed with reusable buffers: the verifier recomputes many tiles in a row, and a
// fresh ~T*K-byte allocation per tile (above malloc's mmap threshold) costs page faults that rival the GEMM itself.
// The recompute is the workload table's fill and GEMM (lib/workload_table.h) applied to the tile's rows of A and
// columns of B, so it needs no code of its own per workload.
#pragma once

#include <cstdint>
#include <vector>

#include "vcp/status.h"
#include "vcp/workload.h"

namespace vcp {

// Scratch space for one thread; grows to the largest tile seen and is reused across calls. Bytes, because the
// element type is the workload's (std::vector's storage is aligned for every element type a workload uses).
struct TileScratch {
  std::vector<uint8_t> a;  // the tile's rows of A (rows, K)
  std::vector<uint8_t> b;  // the tile's columns of B (K, cols)
};

// out = the tile's 4-byte elements (rows, cols) row-major, as ComputeTileFromSeed returns them. Running out of
// memory is ResourceExhausted, never an exception.
[[nodiscard]] Status ComputeTileInto(const WorkloadParams& params, uint64_t tile_index, TileScratch& scratch,
                                     std::vector<uint32_t>& out);

}  // namespace vcp
