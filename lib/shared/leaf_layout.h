// The spec's tile grid and leaf layout (docs/SPEC.md sections 5 and 6), shared by the CPU engine and the CUDA
// kernels.
//
// C (M x N) is cut into T x T tiles in row-major tile order; the last tile row / column is shorter when T does
// not divide M / N. Leaf bytes (spec version 2) = a 63-byte header holding only fields common to every leaf of
// the tree, the tile's elements row-major, then the tile's row and column:
//
//   offset        size       field
//        0           1       spec version (2)
//        1           1       hash id (1 = SHA-256, the hash of LEAF and NODE of this tree)
//        2           1       workload id (1 = int8, 2 = fp32-ordered)
//        3           1       zero
//        4           4       T, u32 LE
//        8           4       M, u32 LE
//       12           4       N, u32 LE
//       16           4       K, u32 LE
//       20          32       workload seed
//       52          11       zero
//       63      e*rows*cols  elements; int8: e = 1, C mod 2^8 (the low byte of the int32);
//                            fp32-ordered: e = 4, binary32 bits little-endian
//   63 + e*rows*cols    4    tile row, u32 LE
//   67 + e*rows*cols    4    tile col, u32 LE
//
// The Merkle leaf prefix 0x00 plus the 63 header bytes fill exactly the first SHA-256 block, and that block is the
// same for every leaf of one tree: its compression is done once per tree (LeafMidstate) and every leaf hash starts
// from the resulting state. The tile coordinates sit after the data so that they do not break that sharing.
#pragma once

#include <cstdint>

#include "hd.h"
#include "sha256_portable.h"

namespace vcp::shared {

constexpr uint32_t kSpecVersion = 2;
constexpr uint32_t kHashIdSha256 = 1;
constexpr uint32_t kLeafHeaderBytes = 63;   // 0x00 prefix + header = one SHA-256 block
constexpr uint32_t kLeafTrailerBytes = 8;   // tile row, tile col
constexpr uint32_t kWorkloadIdInt8 = 1;     // WorkloadKind::kInt8's value

// Bytes each element of C takes in a leaf: int8 commits only C mod 2^8 (docs/SPEC.md section 6 explains why that
// binds the work as much as the int32 does); fp32-ordered commits all four bytes.
VCP_HD uint32_t LeafElementBytes(uint32_t workload_id) { return workload_id == kWorkloadIdInt8 ? 1u : 4u; }

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

// Writes the 63 header bytes shared by every leaf of the tree. seed is 32 bytes.
VCP_HD void WriteLeafHeader(uint8_t* out, uint32_t workload_id, uint32_t m, uint32_t n, uint32_t k, uint32_t tile,
                            const uint8_t* seed) {
  out[0] = static_cast<uint8_t>(kSpecVersion);
  out[1] = static_cast<uint8_t>(kHashIdSha256);
  out[2] = static_cast<uint8_t>(workload_id);
  out[3] = 0;
  PutU32Le(out + 4, tile);
  PutU32Le(out + 8, m);
  PutU32Le(out + 12, n);
  PutU32Le(out + 16, k);
  for (int i = 0; i < 32; ++i) out[20 + i] = seed[i];
  for (int i = 52; i < 63; ++i) out[i] = 0;
}

// Writes the 8 bytes that follow the tile's elements.
VCP_HD void WriteLeafTrailer(uint8_t* out, uint32_t tile_row, uint32_t tile_col) {
  PutU32Le(out, tile_row);
  PutU32Le(out + 4, tile_col);
}

// Writes the first 64-byte block of every leaf message of the tree: the RFC 6962 leaf prefix 0x00, then the header.
VCP_HD void WriteLeafFirstBlock(uint8_t out[64], uint32_t workload_id, uint32_t m, uint32_t n, uint32_t k,
                                uint32_t tile, const uint8_t* seed) {
  out[0] = 0x00;
  WriteLeafHeader(out + 1, workload_id, m, n, k, tile, seed);
}

// The SHA-256 state after the first block (WriteLeafFirstBlock): the state every leaf hash of the tree continues
// from.
VCP_HD Sha256State LeafMidstate(uint32_t workload_id, uint32_t m, uint32_t n, uint32_t k, uint32_t tile,
                                const uint8_t* seed) {
  uint8_t first[64];
  WriteLeafFirstBlock(first, workload_id, m, n, k, tile, seed);
  uint32_t w[16];
  for (int i = 0; i < 16; ++i) w[i] = LoadBe32(first + 4 * i);
  Sha256State s = Sha256Init();
  Sha256Compress(s, w);
  return s;
}

}  // namespace vcp::shared
