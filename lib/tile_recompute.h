// Recomputing single tiles from the seed with reusable buffers: the verifier recomputes many tiles in a row, and a
// fresh ~T*K-byte allocation per tile (above malloc's mmap threshold) costs page faults that rival the GEMM itself.
// The recompute is the workload table's fill and GEMM (lib/workload_table.h) applied to the tile's rows of A and
// columns of B, so it needs no code of its own per workload.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vcp/hash.h"
#include "vcp/merkle.h"
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

// Checking an opening, in the three steps CheckOpening (vcp/engine.h) takes; an epoch's check (CheckOpenings,
// vcp/epoch.h) runs the middle one once over the tiles of all its rounds, so that a few tiles per round still
// keep every core busy.
//
// The opening's shape: a valid workload, a proof for its tree size, strictly increasing tile indices below it.
[[nodiscard]] Status ValidateOpening(const WorkloadParams& params, const MultiProof& proof);

// One tile to recompute: its workload (which outlives the call) and its index there.
struct OpenedTile {
  const WorkloadParams* params;
  uint64_t index;
};
// hashes[i] = the leaf hash of tiles[i] recomputed from its workload's seed, the tiles split across `threads` CPU
// threads (0 = all). hashes.size() == tiles.size(). The first tile's error, in tile order.
[[nodiscard]] Status RecomputeLeafHashes(std::span<const OpenedTile> tiles, int threads, std::span<Hash32> hashes);

// The proof with the recomputed hashes against the committed root; Rejected naming the tiles when they differ.
[[nodiscard]] Status VerifyOpenedTiles(const MultiProof& proof, std::span<const Hash32> hashes, const Hash32& root);

}  // namespace vcp
