// The CPU engine's workload steps: validation, the tile grid, input generation, C, and leaf hashing
// (docs/SPEC.md sections 2-6). Everything here is the ground truth the CUDA backend reproduces.
#include "vcp/workload.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "cpu/gemm.h"
#include "cpu/philox_fill.h"
#include "parallel.h"
#include "shared/leaf_layout.h"
#include "shared/philox_inputs.h"
#include "tile_recompute.h"
#include "vcp/bytes.h"

static_assert(std::endian::native == std::endian::little,
              "vcp writes C's 4-byte elements to leaves straight from memory; a big-endian host needs byte swaps");

namespace vcp {

std::string_view WorkloadName(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kInt8: return "int8";
    case WorkloadKind::kFp32Ordered: return "fp32-ordered";
  }
  return "unknown";
}

Result<WorkloadKind> ParseWorkloadKind(std::string_view name) {
  if (name == "int8") return WorkloadKind::kInt8;
  if (name == "fp32-ordered") return WorkloadKind::kFp32Ordered;
  return Status::InvalidArgument("unknown workload '" + std::string(name) + "'; allowed: int8, fp32-ordered");
}

Status ValidateWorkload(const WorkloadParams& p) {
  if (p.kind != WorkloadKind::kInt8 && p.kind != WorkloadKind::kFp32Ordered) {
    return Status::InvalidArgument("workload id " + std::to_string(static_cast<int>(p.kind)) +
                                   " is unknown; allowed: 1 (int8), 2 (fp32-ordered)");
  }
  const struct {
    const char* name;
    uint32_t value;
  } dims[] = {{"M", p.m}, {"N", p.n}, {"K", p.k}};
  for (const auto& d : dims) {
    if (d.value < 1 || d.value > kMaxDimension) {
      return Status::InvalidArgument(std::string(d.name) + " = " + std::to_string(d.value) +
                                     " is out of range; each of M, N, K must be in [1, " +
                                     std::to_string(kMaxDimension) + "]");
    }
  }
  if (p.kind == WorkloadKind::kInt8 && p.k > kMaxInt8K) {
    return Status::InvalidArgument("K = " + std::to_string(p.k) + " is too large for int8: K must be at most " +
                                   std::to_string(kMaxInt8K) +
                                   " so that K * 128 * 128 fits int32 and accumulation stays exact");
  }
  if (p.tile < kMinTile || p.tile > kMaxTile || !std::has_single_bit(p.tile)) {
    return Status::InvalidArgument("tile size T = " + std::to_string(p.tile) +
                                   " is not allowed; T must be a power of two from " + std::to_string(kMinTile) +
                                   " to " + std::to_string(kMaxTile));
  }
  return Status::Ok();
}

uint64_t OperationCount(const WorkloadParams& p) { return 2ull * p.m * p.n * p.k; }

TileGrid TileGridOf(const WorkloadParams& p) {
  return TileGrid{shared::TileCount1D(p.m, p.tile), shared::TileCount1D(p.n, p.tile)};
}

Tile TileAt(const WorkloadParams& p, uint64_t index) {
  const shared::TileRect r = shared::TileRectOf(p.m, p.n, p.tile, index);
  return Tile{index, r.tile_row, r.tile_col, r.row0, r.col0, r.rows, r.cols};
}

InputKey DeriveInputKey(const WorkloadParams& p) {
  ByteWriter w;
  w.Bytes(p.seed);
  w.U8(static_cast<uint8_t>(p.kind));
  w.U32(p.m);
  w.U32(p.n);
  w.U32(p.k);
  const Hash32 d = TaggedHash("vcp.v1.input-key", w.bytes());
  InputKey key;
  key.k0 = uint32_t{d[0]} | uint32_t{d[1]} << 8 | uint32_t{d[2]} << 16 | uint32_t{d[3]} << 24;
  key.k1 = uint32_t{d[4]} | uint32_t{d[5]} << 8 | uint32_t{d[6]} << 16 | uint32_t{d[7]} << 24;
  return key;
}

namespace {

shared::PhiloxKey ToPhilox(InputKey k) { return shared::PhiloxKey{k.k0, k.k1}; }

uint64_t RowsOf(const WorkloadParams& p, Matrix which) { return which == Matrix::kA ? p.m : p.k; }
uint64_t ColsOf(const WorkloadParams& p, Matrix which) { return which == Matrix::kA ? p.k : p.n; }

Status CheckSize(std::string_view what, uint64_t have, uint64_t need) {
  if (have != need) {
    return Status::InvalidArgument(std::string(what) + " holds " + std::to_string(have) + " elements; this shape needs " +
                                   std::to_string(need));
  }
  return Status::Ok();
}

// Rows of C per parallel chunk: enough that each chunk amortises packing B.
constexpr uint64_t kRowGrain = 32;

}  // namespace

namespace {
// Whole-matrix generation for either element type: chunks of whole Philox blocks, so each thread computes every
// block it touches exactly once. fill(key, matrix, first, count, out) is cpu::FillInt8 or cpu::FillFp32.
template <typename T, typename Fill>
Status Generate(const WorkloadParams& p, Matrix which, std::span<T> out, int threads, uint64_t per_block,
                const Fill& fill) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  const uint64_t count = RowsOf(p, which) * ColsOf(p, which);
  VCP_RETURN_IF_ERROR(CheckSize(which == Matrix::kA ? "A" : "B", out.size(), count));
  const shared::PhiloxKey key = ToPhilox(DeriveInputKey(p));
  const auto matrix = static_cast<uint32_t>(which);
  const uint64_t blocks = (count + per_block - 1) / per_block;
  ParallelFor(blocks, threads, 4096, [&](uint64_t b0, uint64_t b1) {
    const uint64_t first = b0 * per_block;
    const uint64_t last = std::min(count, b1 * per_block);
    fill(key, matrix, first, last - first, out.data() + first);
  });
  return Status::Ok();
}
}  // namespace

Status GenerateInt8(const WorkloadParams& p, Matrix which, std::span<int8_t> out, int threads) {
  return Generate(p, which, out, threads, shared::kInt8PerBlock, cpu::FillInt8);
}

Status GenerateFp32(const WorkloadParams& p, Matrix which, std::span<float> out, int threads) {
  return Generate(p, which, out, threads, shared::kFp32PerBlock, cpu::FillFp32);
}

Status ComputeInt8(const WorkloadParams& p, std::span<const int8_t> a, std::span<const int8_t> b,
                   std::span<int32_t> c, int threads) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  if (p.kind != WorkloadKind::kInt8) return Status::InvalidArgument("ComputeInt8 needs an int8 workload");
  VCP_RETURN_IF_ERROR(CheckSize("A", a.size(), uint64_t{p.m} * p.k));
  VCP_RETURN_IF_ERROR(CheckSize("B", b.size(), uint64_t{p.k} * p.n));
  VCP_RETURN_IF_ERROR(CheckSize("C", c.size(), uint64_t{p.m} * p.n));
  const cpu::Tier tier = cpu::BestInt8Tier();
  ParallelFor(p.m, threads, kRowGrain, [&](uint64_t r0, uint64_t r1) {
    cpu::GemmInt8(tier, r1 - r0, p.n, p.k, a.data() + r0 * p.k, p.k, b.data(), p.n, c.data() + r0 * p.n, p.n);
  });
  return Status::Ok();
}

Status ComputeFp32(const WorkloadParams& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                   int threads) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  if (p.kind != WorkloadKind::kFp32Ordered) return Status::InvalidArgument("ComputeFp32 needs an fp32-ordered workload");
  VCP_RETURN_IF_ERROR(CheckSize("A", a.size(), uint64_t{p.m} * p.k));
  VCP_RETURN_IF_ERROR(CheckSize("B", b.size(), uint64_t{p.k} * p.n));
  VCP_RETURN_IF_ERROR(CheckSize("C", c.size(), uint64_t{p.m} * p.n));
  const cpu::Tier tier = cpu::BestFp32Tier();
  ParallelFor(p.m, threads, kRowGrain, [&](uint64_t r0, uint64_t r1) {
    cpu::GemmFp32Ordered(tier, r1 - r0, p.n, p.k, a.data() + r0 * p.k, p.k, b.data(), p.n, c.data() + r0 * p.n, p.n);
  });
  return Status::Ok();
}

namespace {

// The tile's rows of A, a (rows, K), and its columns of B, b (K, cols): each is a run of consecutive indices per
// row of the source matrix, so only the needed Philox blocks are computed; then c (rows, cols) = a * b, copied
// into out as 4-byte words. fill is cpu::FillInt8 / FillFp32, gemm calls the matching cpu::Gemm*.
template <typename In, typename Acc, typename Fill, typename Gemm>
void RecomputeTile(const WorkloadParams& p, const Tile& t, std::vector<In>& a, std::vector<In>& b,
                   std::vector<Acc>& c, const Fill& fill, const Gemm& gemm, std::vector<uint32_t>& out) {
  const shared::PhiloxKey key = ToPhilox(DeriveInputKey(p));
  const uint64_t k = p.k;
  a.resize(t.rows * k);
  b.resize(k * t.cols);
  c.resize(out.size());
  for (uint64_t r = 0; r < t.rows; ++r) fill(key, shared::kMatrixA, (t.row0 + r) * k, k, a.data() + r * k);
  for (uint64_t kk = 0; kk < k; ++kk) fill(key, shared::kMatrixB, kk * p.n + t.col0, t.cols, b.data() + kk * t.cols);
  gemm(t.rows, t.cols, k, a.data(), b.data(), c.data());
  std::memcpy(out.data(), c.data(), out.size() * sizeof(Acc));
}

}  // namespace

Status ComputeTileInto(const WorkloadParams& p, uint64_t tile_index, TileScratch& scratch, std::vector<uint32_t>& out) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  const uint64_t leaves = TileGridOf(p).leaf_count();
  if (tile_index >= leaves) {
    return Status::InvalidArgument("tile index " + std::to_string(tile_index) + " is out of range; this workload has " +
                                   std::to_string(leaves) + " tiles (0.." + std::to_string(leaves - 1) + ")");
  }
  const Tile t = TileAt(p, tile_index);
  // The tile's rows of A and columns of B hold up to T * K elements each (2^28 at the limits): running out of
  // memory is this tile's error, not an exception for the caller.
  try {
    out.resize(uint64_t{t.rows} * t.cols);
    if (p.kind == WorkloadKind::kInt8) {
      RecomputeTile(p, t, scratch.a_int8, scratch.b_int8, scratch.c_int32, cpu::FillInt8,
                    [](uint64_t m, uint64_t n, uint64_t k, const int8_t* a, const int8_t* b, int32_t* c) {
                      cpu::GemmInt8(cpu::BestInt8Tier(), m, n, k, a, k, b, n, c, n);
                    },
                    out);
    } else {
      RecomputeTile(p, t, scratch.a_fp32, scratch.b_fp32, scratch.c_fp32, cpu::FillFp32,
                    [](uint64_t m, uint64_t n, uint64_t k, const float* a, const float* b, float* c) {
                      cpu::GemmFp32Ordered(cpu::BestFp32Tier(), m, n, k, a, k, b, n, c, n);
                    },
                    out);
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory recomputing tile " + std::to_string(tile_index) + " (T = " +
                                     std::to_string(p.tile) + ", K = " + std::to_string(p.k) + ")");
  }
  return Status::Ok();
}

Result<std::vector<uint32_t>> ComputeTileFromSeed(const WorkloadParams& p, uint64_t tile_index) {
  TileScratch scratch;
  std::vector<uint32_t> out;
  VCP_RETURN_IF_ERROR(ComputeTileInto(p, tile_index, scratch, out));
  return out;
}

namespace {
// 0x00 || 63-byte header: exactly one SHA-256 block (docs/SPEC.md section 6).
std::array<uint8_t, 64> PrefixedHeader(const WorkloadParams& p, const Tile& t) {
  std::array<uint8_t, 64> block{};
  block[0] = 0x00;
  shared::WriteLeafHeader(block.data() + 1, static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, t.tile_row,
                          t.tile_col, p.seed.data());
  return block;
}
}  // namespace

std::vector<uint8_t> LeafBytes(const WorkloadParams& p, const Tile& t, std::span<const uint32_t> tile_elements) {
  const std::array<uint8_t, 64> prefixed = PrefixedHeader(p, t);
  std::vector<uint8_t> leaf(prefixed.begin() + 1, prefixed.end());
  const size_t header = leaf.size();
  leaf.resize(header + tile_elements.size() * 4);
  std::memcpy(leaf.data() + header, tile_elements.data(), tile_elements.size() * 4);
  return leaf;
}

Hash32 LeafHashOfTile(const WorkloadParams& p, const Tile& t, std::span<const uint32_t> tile_elements) {
  thread_local Sha256Hasher hasher;
  hasher.Update(PrefixedHeader(p, t));
  hasher.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(tile_elements.data()),
                                         tile_elements.size() * 4));
  return hasher.Final();
}

Status HashLeaves(const WorkloadParams& p, std::span<const uint32_t> c, std::span<Hash32> leaf_hashes, int threads) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  VCP_RETURN_IF_ERROR(CheckSize("C", c.size(), uint64_t{p.m} * p.n));
  const uint64_t leaves = TileGridOf(p).leaf_count();
  VCP_RETURN_IF_ERROR(CheckSize("the leaf hash array", leaf_hashes.size(), leaves));
  const uint32_t tiles_per_row = TileGridOf(p).tile_cols;
  ParallelFor(leaves, threads, 16, [&](uint64_t l0, uint64_t l1) {
    // Tiles are gathered a band at a time: up to kBand neighbouring tiles of one tile row are copied row by row,
    // so C is read in long sequential runs (one TLB miss per page, not one per tile row per tile). Each slot
    // holds the leaf's 64-byte prefixed header followed by its tile, so one Update hashes a whole leaf message
    // from a contiguous, cache-resident buffer at full SHA-256 speed.
    constexpr uint64_t kBand = 64;
    const uint64_t slot_words = 16 + uint64_t{p.tile} * p.tile;  // 64 header bytes, then T*T elements
    std::vector<uint32_t> band(kBand * slot_words);                // (kBand, slot_words)
    Sha256Hasher hasher;
    for (uint64_t first = l0; first < l1;) {
      const Tile head = TileAt(p, first);
      const uint64_t count = std::min<uint64_t>({kBand, l1 - first, tiles_per_row - head.tile_col});
      for (uint32_t r = 0; r < head.rows; ++r) {
        const uint32_t* row = &c[(uint64_t{head.row0} + r) * p.n];
        for (uint64_t g = 0; g < count; ++g) {
          const Tile t = TileAt(p, first + g);
          std::memcpy(&band[g * slot_words + 16 + uint64_t{r} * t.cols], row + t.col0, t.cols * 4u);
        }
      }
      for (uint64_t g = 0; g < count; ++g) {
        const Tile t = TileAt(p, first + g);
        uint8_t* slot = reinterpret_cast<uint8_t*>(&band[g * slot_words]);
        const std::array<uint8_t, 64> header = PrefixedHeader(p, t);
        std::memcpy(slot, header.data(), header.size());
        hasher.Update(std::span<const uint8_t>(slot, 64 + uint64_t{t.rows} * t.cols * 4));
        leaf_hashes[first + g] = hasher.Final();
      }
      first += count;
    }
  });
  return Status::Ok();
}

}  // namespace vcp
