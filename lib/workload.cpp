// The CPU engine's workload steps: validation, the tile grid, input generation, C, and leaf hashing
// (docs/SPEC.md sections 2-6). Everything here is the ground truth the CUDA backend reproduces.
#include "vcp/workload.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>
#include <new>

// SHA256_Init / _Update / _Final are deprecated in OpenSSL 3 in favour of EVP, which cannot copy a midstate
// without a heap allocation per leaf; they remain supported through OpenSSL 3.x.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "cpu/gemm.h"
#include "cpu/low_bytes.h"
#include "cpu/philox_fill.h"
#include "parallel.h"
#include "shared/leaf_layout.h"
#include "shared/philox_inputs.h"
#include "tile_recompute.h"
#include "vcp/bytes.h"
#include "workload_table.h"

static_assert(std::endian::native == std::endian::little,
              "vcp writes C's 4-byte elements to leaves straight from memory; a big-endian host needs byte swaps");

namespace vcp {

static_assert(kSpecVersion == shared::kSpecVersion && kHashIdSha256 == shared::kHashIdSha256 &&
                  shared::kWorkloadIdInt8 == static_cast<uint32_t>(WorkloadKind::kInt8),
              "vcp/workload.h and lib/shared/leaf_layout.h must agree on the leaf header's constants");

namespace {

// ---- the table of workload definitions (CPU half; see lib/workload_table.h) ----

void FillInt8Elements(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t count,
                      uint64_t runs, void* out) {
  cpu::FillInt8Runs(key, matrix, first, stride, count, runs, static_cast<int8_t*>(out));
}
void FillFp32Elements(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t count,
                      uint64_t runs, void* out) {
  cpu::FillFp32Runs(key, matrix, first, stride, count, runs, static_cast<float*>(out));
}
void GemmInt8Elements(uint64_t m, uint64_t n, uint64_t k, const void* a, uint64_t lda, const void* b, uint64_t ldb,
                      uint32_t* c, uint64_t ldc) {
  cpu::GemmInt8(cpu::BestInt8Tier(), m, n, k, static_cast<const int8_t*>(a), lda, static_cast<const int8_t*>(b), ldb,
                reinterpret_cast<int32_t*>(c), ldc);
}
void GemmFp32Elements(uint64_t m, uint64_t n, uint64_t k, const void* a, uint64_t lda, const void* b, uint64_t ldb,
                      uint32_t* c, uint64_t ldc) {
  cpu::GemmFp32Ordered(cpu::BestFp32Tier(), m, n, k, static_cast<const float*>(a), lda, static_cast<const float*>(b),
                       ldb, reinterpret_cast<float*>(c), ldc);
}

// One entry per WorkloadKind, in kWorkloadKinds order.
constexpr CpuWorkload kCpuWorkloads[] = {
    {{WorkloadKind::kInt8, "int8", 1, kMaxInt8K, "so that K * 128 * 128 fits int32 and accumulation stays exact"}, shared::kInt8PerBlock, &FillInt8Elements, &GemmInt8Elements,
     &cpu::BestInt8Tier},
    {{WorkloadKind::kFp32Ordered, "fp32-ordered", 4, kMaxDimension, ""}, shared::kFp32PerBlock, &FillFp32Elements,
     &GemmFp32Elements, &cpu::BestFp32Tier},
};

constexpr bool CoversEveryKind() {
  if (std::size(kCpuWorkloads) != kWorkloadKinds.size()) return false;
  for (size_t i = 0; i < kWorkloadKinds.size(); ++i) {
    if (kCpuWorkloads[i].info.kind != kWorkloadKinds[i]) return false;
  }
  return true;
}
static_assert(CoversEveryKind(), "kCpuWorkloads needs exactly one entry per WorkloadKind, in kWorkloadKinds order");

std::string AllowedWorkloads(bool with_ids) {
  std::string allowed;
  for (const CpuWorkload& w : kCpuWorkloads) {
    if (!allowed.empty()) allowed += ", ";
    allowed += with_ids ? std::to_string(static_cast<int>(w.info.kind)) + " (" + std::string(w.info.name) + ")"
                        : std::string(w.info.name);
  }
  return allowed;
}

}  // namespace

const CpuWorkload* FindCpuWorkload(WorkloadKind kind) {
  for (const CpuWorkload& w : kCpuWorkloads) {
    if (w.info.kind == kind) return &w;
  }
  return nullptr;
}

const WorkloadInfo* FindWorkload(WorkloadKind kind) {
  const CpuWorkload* w = FindCpuWorkload(kind);
  return w == nullptr ? nullptr : &w->info;
}

std::string_view WorkloadName(WorkloadKind kind) {
  const WorkloadInfo* info = FindWorkload(kind);
  return info == nullptr ? std::string_view("unknown") : info->name;
}

Result<WorkloadKind> ParseWorkloadKind(std::string_view name) {
  for (const CpuWorkload& w : kCpuWorkloads) {
    if (w.info.name == name) return w.info.kind;
  }
  return Status::InvalidArgument("unknown workload '" + std::string(name) + "'; allowed: " + AllowedWorkloads(false));
}

Status ValidateWorkload(const WorkloadParams& p) {
  const WorkloadInfo* info = FindWorkload(p.kind);
  if (info == nullptr) {
    return Status::InvalidArgument("workload id " + std::to_string(static_cast<int>(p.kind)) +
                                   " is unknown; allowed: " + AllowedWorkloads(true));
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
  if (p.k > info->max_k) {
    return Status::InvalidArgument("K = " + std::to_string(p.k) + " is too large for " + std::string(info->name) +
                                   ": K must be at most " + std::to_string(info->max_k) + " " +
                                   std::string(info->max_k_reason));
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
  const Hash32 d = TaggedHash("vcp.v2.input-key", w.bytes());
  InputKey key;
  key.k0 = LoadLe32(std::span(d).subspan<0, 4>());
  key.k1 = LoadLe32(std::span(d).subspan<4, 4>());
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

// The workload's entry (ValidateWorkload has refused unknown ids), checked to be `expected` when one is given.
Result<const CpuWorkload*> EntryFor(const WorkloadParams& p, const WorkloadKind* expected, std::string_view caller) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  if (expected != nullptr && p.kind != *expected) {
    return Status::InvalidArgument(std::string(caller) + " needs an " + std::string(WorkloadName(*expected)) +
                                   " workload, not " + std::string(WorkloadName(p.kind)) +
                                   "; use GenerateInput / ComputeOutput for any workload");
  }
  return FindCpuWorkload(p.kind);
}

// Whole-matrix generation: chunks of whole Philox blocks, so each thread computes every block it touches exactly
// once. out holds count elements of w.info.input_bytes each.
Status GenerateWith(const CpuWorkload& w, const WorkloadParams& p, Matrix which, void* out, uint64_t out_elements,
                    int threads) {
  const uint64_t count = RowsOf(p, which) * ColsOf(p, which);
  VCP_RETURN_IF_ERROR(CheckSize(which == Matrix::kA ? "A" : "B", out_elements, count));
  const shared::PhiloxKey key = ToPhilox(DeriveInputKey(p));
  const auto matrix = static_cast<uint32_t>(which);
  const uint64_t per_block = w.per_philox_block;
  const uint64_t blocks = (count + per_block - 1) / per_block;
  auto* bytes = static_cast<uint8_t*>(out);
  ParallelFor(blocks, threads, 4096, [&](uint64_t b0, uint64_t b1) {
    const uint64_t first = b0 * per_block;
    const uint64_t last = std::min(count, b1 * per_block);
    w.fill(key, matrix, first, 0, last - first, 1, bytes + first * w.info.input_bytes);
  });
  return Status::Ok();
}

// c (M, N) = a (M, K) * b (K, N), split across threads by rows of C.
Status ComputeWith(const CpuWorkload& w, const WorkloadParams& p, const void* a, uint64_t a_elements, const void* b,
                   uint64_t b_elements, uint32_t* c, uint64_t c_elements, int threads) {
  VCP_RETURN_IF_ERROR(CheckSize("A", a_elements, uint64_t{p.m} * p.k));
  VCP_RETURN_IF_ERROR(CheckSize("B", b_elements, uint64_t{p.k} * p.n));
  VCP_RETURN_IF_ERROR(CheckSize("C", c_elements, uint64_t{p.m} * p.n));
  const auto* a_bytes = static_cast<const uint8_t*>(a);
  ParallelFor(p.m, threads, kRowGrain, [&](uint64_t r0, uint64_t r1) {
    w.gemm(r1 - r0, p.n, p.k, a_bytes + r0 * p.k * w.info.input_bytes, p.k, b, p.n, c + r0 * p.n, p.n);
  });
  return Status::Ok();
}

constexpr WorkloadKind kInt8Kind = WorkloadKind::kInt8;
constexpr WorkloadKind kFp32Kind = WorkloadKind::kFp32Ordered;

}  // namespace

Status GenerateInput(const WorkloadParams& p, Matrix which, std::span<uint8_t> out, int threads) {
  VCP_ASSIGN_OR_RETURN(const CpuWorkload* w, EntryFor(p, nullptr, "GenerateInput"));
  if (out.size() % w->info.input_bytes != 0) {
    return Status::InvalidArgument("the output holds " + std::to_string(out.size()) + " bytes, not a whole number of " +
                                   std::to_string(w->info.input_bytes) + "-byte elements");
  }
  return GenerateWith(*w, p, which, out.data(), out.size() / w->info.input_bytes, threads);
}

Status ComputeOutput(const WorkloadParams& p, std::span<const uint8_t> a, std::span<const uint8_t> b,
                     std::span<uint32_t> c, int threads) {
  VCP_ASSIGN_OR_RETURN(const CpuWorkload* w, EntryFor(p, nullptr, "ComputeOutput"));
  const uint32_t e = w->info.input_bytes;
  if (a.size() % e != 0 || b.size() % e != 0) {
    return Status::InvalidArgument("A and B must hold whole " + std::to_string(e) + "-byte elements; they hold " +
                                   std::to_string(a.size()) + " and " + std::to_string(b.size()) + " bytes");
  }
  return ComputeWith(*w, p, a.data(), a.size() / e, b.data(), b.size() / e, c.data(), c.size(), threads);
}

Status GenerateInt8(const WorkloadParams& p, Matrix which, std::span<int8_t> out, int threads) {
  VCP_ASSIGN_OR_RETURN(const CpuWorkload* w, EntryFor(p, &kInt8Kind, "GenerateInt8"));
  return GenerateWith(*w, p, which, out.data(), out.size(), threads);
}

Status GenerateFp32(const WorkloadParams& p, Matrix which, std::span<float> out, int threads) {
  VCP_ASSIGN_OR_RETURN(const CpuWorkload* w, EntryFor(p, &kFp32Kind, "GenerateFp32"));
  return GenerateWith(*w, p, which, out.data(), out.size(), threads);
}

Status ComputeInt8(const WorkloadParams& p, std::span<const int8_t> a, std::span<const int8_t> b,
                   std::span<int32_t> c, int threads) {
  VCP_ASSIGN_OR_RETURN(const CpuWorkload* w, EntryFor(p, &kInt8Kind, "ComputeInt8"));
  return ComputeWith(*w, p, a.data(), a.size(), b.data(), b.size(), reinterpret_cast<uint32_t*>(c.data()), c.size(),
                     threads);
}

Status ComputeFp32(const WorkloadParams& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                   int threads) {
  VCP_ASSIGN_OR_RETURN(const CpuWorkload* w, EntryFor(p, &kFp32Kind, "ComputeFp32"));
  return ComputeWith(*w, p, a.data(), a.size(), b.data(), b.size(), reinterpret_cast<uint32_t*>(c.data()), c.size(),
                     threads);
}

Status ComputeTileInto(const WorkloadParams& p, uint64_t tile_index, TileScratch& scratch, std::vector<uint32_t>& out) {
  VCP_ASSIGN_OR_RETURN(const CpuWorkload* w, EntryFor(p, nullptr, "ComputeTileInto"));
  const uint64_t leaves = TileGridOf(p).leaf_count();
  if (tile_index >= leaves) {
    return Status::InvalidArgument("tile index " + std::to_string(tile_index) + " is out of range; this workload has " +
                                   std::to_string(leaves) + " tiles (indices 0 to " + std::to_string(leaves - 1) + ")");
  }
  const Tile t = TileAt(p, tile_index);
  const shared::PhiloxKey key = ToPhilox(DeriveInputKey(p));
  const uint64_t k = p.k, e = w->info.input_bytes;
  // The tile's rows of A, a (rows, K), and its columns of B, b (K, cols): each is a run of consecutive indices per
  // row of the source matrix, so only the needed Philox blocks are computed; then the tile (rows, cols) = a * b.
  // They hold up to T * K elements each (2^28 at the limits): running out of memory is this tile's error, not an
  // exception for the caller.
  try {
    scratch.a.resize(t.rows * k * e);
    scratch.b.resize(k * t.cols * e);
    out.resize(uint64_t{t.rows} * t.cols);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory recomputing tile " + std::to_string(tile_index) + " (T = " +
                                     std::to_string(p.tile) + ", K = " + std::to_string(p.k) + ")");
  }
  // The tile's rows of A are consecutive in A: one run. Its columns of B are K runs of cols elements, N apart.
  w->fill(key, shared::kMatrixA, t.row0 * k, 0, t.rows * k, 1, scratch.a.data());
  w->fill(key, shared::kMatrixB, t.col0, p.n, t.cols, k, scratch.b.data());
  w->gemm(t.rows, t.cols, k, scratch.a.data(), k, scratch.b.data(), t.cols, out.data(), t.cols);
  return Status::Ok();
}

Result<std::vector<uint32_t>> ComputeTileFromSeed(const WorkloadParams& p, uint64_t tile_index) {
  TileScratch scratch;
  std::vector<uint32_t> out;
  VCP_RETURN_IF_ERROR(ComputeTileInto(p, tile_index, scratch, out));
  return out;
}

namespace {

// The leaf hashes of one tree (docs/SPEC.md section 6): the first block, 0x00 || header, is the same for every
// leaf, so it is compressed once here and every leaf continues from a copy of that state (a plain struct copy).
// OpenSSL's low-level SHA-256 is used because its context is copyable by value and it picks the SHA-NI / AVX2
// block function itself; EVP would add a method dispatch and a context copy with allocation per leaf.
class LeafHasher {
 public:
  explicit LeafHasher(const WorkloadParams& p) {
    std::array<uint8_t, 64> first{};
    shared::WriteLeafFirstBlock(first.data(), static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, p.seed.data());
    SHA256_Init(&midstate_);
    SHA256_Update(&midstate_, first.data(), first.size());
  }
  // leaf: the leaf's bytes after the header, i.e. the tile's element bytes then the 8-byte trailer
  // (WriteLeafTrailer), contiguous: one update, so the blocks are compressed straight from the caller's buffer.
  Hash32 Hash(const uint8_t* leaf, uint64_t bytes) const {
    SHA256_CTX ctx = midstate_;
    SHA256_Update(&ctx, leaf, bytes);
    Hash32 out{};
    SHA256_Final(out.data(), &ctx);
    return out;
  }

 private:
  SHA256_CTX midstate_;
};

uint32_t LeafElementBytesOf(const WorkloadParams& p) {
  return shared::LeafElementBytes(static_cast<uint32_t>(p.kind));
}

// Runs of the tile's elements as leaf bytes: for s < segments, `length` elements from src + s * length to
// dst + s * dst_stride; int8 the low byte of each int32, fp32-ordered the 4 bytes as they lie in memory
// (little-endian, static_assert above).
void PutLeafElements(const WorkloadParams& p, const uint32_t* src, uint64_t segments, uint32_t length, uint8_t* dst,
                     uint64_t dst_stride) {
  if (LeafElementBytesOf(p) == 1) {
    cpu::LowBytes(cpu::BestLowBytesTier(), src, segments, length, dst, dst_stride);
  } else {
    for (uint64_t g = 0; g < segments; ++g) std::memcpy(dst + g * dst_stride, src + g * length, uint64_t{length} * 4);
  }
}

}  // namespace

std::vector<uint8_t> LeafBytes(const WorkloadParams& p, const Tile& t, std::span<const uint32_t> tile_elements) {
  const uint64_t data = uint64_t{LeafElementBytesOf(p)} * tile_elements.size();
  std::vector<uint8_t> leaf(shared::kLeafHeaderBytes + data + shared::kLeafTrailerBytes);
  shared::WriteLeafHeader(leaf.data(), static_cast<uint32_t>(p.kind), p.m, p.n, p.k, p.tile, p.seed.data());
  PutLeafElements(p, tile_elements.data(), 1, static_cast<uint32_t>(tile_elements.size()),
                  leaf.data() + shared::kLeafHeaderBytes, 0);
  shared::WriteLeafTrailer(leaf.data() + shared::kLeafHeaderBytes + data, t.tile_row, t.tile_col);
  return leaf;
}

Hash32 LeafHashOfTile(const WorkloadParams& p, const Tile& t, std::span<const uint32_t> tile_elements) {
  const LeafHasher hasher(p);
  const uint64_t data = uint64_t{LeafElementBytesOf(p)} * tile_elements.size();
  std::vector<uint8_t> leaf(data + shared::kLeafTrailerBytes);
  PutLeafElements(p, tile_elements.data(), 1, static_cast<uint32_t>(tile_elements.size()), leaf.data(), 0);
  shared::WriteLeafTrailer(leaf.data() + data, t.tile_row, t.tile_col);
  return hasher.Hash(leaf.data(), leaf.size());
}

Status HashLeaves(const WorkloadParams& p, std::span<const uint32_t> c, std::span<Hash32> leaf_hashes, int threads) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  VCP_RETURN_IF_ERROR(CheckSize("C", c.size(), uint64_t{p.m} * p.n));
  const uint64_t leaves = TileGridOf(p).leaf_count();
  VCP_RETURN_IF_ERROR(CheckSize("the leaf hash array", leaf_hashes.size(), leaves));
  const uint32_t tiles_per_row = TileGridOf(p).tile_cols;
  const uint32_t e = LeafElementBytesOf(p);
  const LeafHasher hasher(p);  // read-only after construction: shared by every thread
  ParallelFor(leaves, threads, 16, [&](uint64_t l0, uint64_t l1) {
    // Tiles are gathered a band at a time: up to kBand neighbouring tiles of one tile row are copied row by row
    // (as leaf element bytes), so C is read in long sequential runs (one TLB miss per page, not one per tile row
    // per tile), and each leaf is then hashed from a contiguous, cache-resident slot at full SHA-256 speed.
    constexpr uint64_t kBand = 64;
    const uint64_t slot_bytes = uint64_t{e} * p.tile * p.tile + shared::kLeafTrailerBytes;
    std::vector<uint8_t> band(kBand * slot_bytes);  // (kBand, slot_bytes)
    for (uint64_t first = l0; first < l1;) {
      const Tile head = TileAt(p, first);
      const uint64_t count = std::min<uint64_t>({kBand, l1 - first, tiles_per_row - head.tile_col});
      // Every tile of the band is T wide except a last tile column narrower than T: one call per row of C
      // covers the full-width tiles (their segments lie back to back in the row), one more the narrow tile.
      const Tile last = TileAt(p, first + count - 1);
      const uint64_t full = last.cols == p.tile ? count : count - 1;
      for (uint32_t r = 0; r < head.rows; ++r) {
        const uint32_t* row = &c[(uint64_t{head.row0} + r) * p.n];
        PutLeafElements(p, row + head.col0, full, p.tile, &band[uint64_t{r} * p.tile * e], slot_bytes);
        if (full < count) {
          uint8_t* narrow = &band[(count - 1) * slot_bytes + uint64_t{r} * last.cols * e];
          PutLeafElements(p, row + last.col0, 1, last.cols, narrow, 0);
        }
      }
      // While the band is hashed (SHA-256 bound), the next band's rows of C are prefetched, one row per leaf,
      // so the next gather reads from cache instead of waiting on memory.
      const bool prefetch = first + count < l1;
      const Tile next = TileAt(p, prefetch ? first + count : first);
      const uint64_t next_cols = std::min<uint64_t>(uint64_t{kBand} * p.tile, p.n - next.col0);
      for (uint64_t g = 0; g < count; ++g) {
        if (prefetch && g < next.rows) {
          const uint32_t* row = &c[(uint64_t{next.row0} + g) * p.n + next.col0];
          for (uint64_t at = 0; at < next_cols; at += 16) __builtin_prefetch(row + at, 0, 2);
        }
        const Tile t = TileAt(p, first + g);
        uint8_t* leaf = &band[g * slot_bytes];
        const uint64_t data = uint64_t{e} * t.rows * t.cols;
        shared::WriteLeafTrailer(leaf + data, t.tile_row, t.tile_col);
        leaf_hashes[first + g] = hasher.Hash(leaf, data + shared::kLeafTrailerBytes);
      }
      first += count;
    }
  });
  return Status::Ok();
}

}  // namespace vcp
