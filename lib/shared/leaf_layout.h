// The spec's tile grid and leaf layout (docs/SPEC.md sections 5 and 6), shared by the CPU engine and the CUDA
// kernels.
//
// C (M x N) is cut into T x T tiles in row-major tile order; the last tile row / column is shorter when T does
// not divide M / N. Leaf bytes = a 63-byte header followed by the tile's elements, row-major, 4 bytes each,
// little-endian (int32 for int8 workloads, binary32 bits for fp32-ordered). The header is 63 bytes so that the
// Merkle leaf prefix 0x00 plus the header fill exactly one SHA-256 block and the tile data starts on a block
// boundary, which lets the GPU feed 16 elements straight into each compression.
//
//   offset size field
//        0    1 spec version (1)
//        1    1 workload id (1 = int8, 2 = fp32-ordered)
//        2    2 T, u16 LE
//        4    4 M, u32 LE
//        8    4 N, u32 LE
//       12    4 K, u32 LE
//       16    4 tile row, u32 LE
//       20    4 tile col, u32 LE
//       24   32 workload seed
//       56    7 zero
#pragma once

#include <cstdint>

#include "hd.h"

namespace vcp::shared {

constexpr uint32_t kSpecVersion = 1;
constexpr uint32_t kLeafHeaderBytes = 63;
constexpr uint32_t kElementBytes = 4;

struct TileRect {
  uint32_t tile_row, tile_col;  // tile coordinates
  uint32_t row0, col0;          // first element of C covered
  uint32_t rows, cols;          // extent, T except on the last tile row / column
};

VCP_HD uint32_t TileCount1D(uint32_t extent, uint32_t tile) { return (extent + tile - 1) / tile; }

VCP_HD TileRect TileRectOf(uint32_t m, uint32_t n, uint32_t tile, uint64_t leaf_index) {
  const uint32_t tiles_per_row = TileCount1D(n, tile);
  TileRect r;
  r.tile_row = static_cast<uint32_t>(leaf_index / tiles_per_row);
  r.tile_col = static_cast<uint32_t>(leaf_index % tiles_per_row);
  r.row0 = r.tile_row * tile;
  r.col0 = r.tile_col * tile;
  r.rows = (m - r.row0 < tile) ? (m - r.row0) : tile;
  r.cols = (n - r.col0 < tile) ? (n - r.col0) : tile;
  return r;
}

VCP_HD void PutU32Le(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

// Writes the 63 header bytes of the leaf for tile (tile_row, tile_col). seed is 32 bytes.
VCP_HD void WriteLeafHeader(uint8_t* out, uint32_t workload_id, uint32_t m, uint32_t n, uint32_t k, uint32_t tile,
                            uint32_t tile_row, uint32_t tile_col, const uint8_t* seed) {
  out[0] = static_cast<uint8_t>(kSpecVersion);
  out[1] = static_cast<uint8_t>(workload_id);
  out[2] = static_cast<uint8_t>(tile);
  out[3] = static_cast<uint8_t>(tile >> 8);
  PutU32Le(out + 4, m);
  PutU32Le(out + 8, n);
  PutU32Le(out + 12, k);
  PutU32Le(out + 16, tile_row);
  PutU32Le(out + 20, tile_col);
  for (int i = 0; i < 32; ++i) out[24 + i] = seed[i];
  for (int i = 56; i < 63; ++i) out[i] = 0;
}

}  // namespace vcp::shared
