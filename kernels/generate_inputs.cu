// Input generation on the device: A and B from the workload's Philox key, element by element exactly as
// lib/shared/philox_inputs.h defines them (the same header the CPU engine runs), so the bits equal the CPU's by
// construction; tests/backend_stages_test.cpp compares them byte for byte.
//
// Row-major matrices: one thread per Philox block, which yields 16 int8 or 4 float elements, stored with one
// 128-bit write (element 16b or 4b starts at byte 16b, so whole blocks are 16-byte aligned).
// Transposed B (B^T, (N, K) row-major, for cuBLASLt's int8 kernels): a block of threads generates a 64 x 64 tile
// of B row-major into shared memory, then writes it out transposed, so both the Philox work (each block computed
// once per tile) and the global writes (consecutive threads, consecutive k) stay efficient.
#include "cuda/kernels.h"

namespace vcp::cuda {

namespace {

constexpr unsigned kThreads = 256;
constexpr uint32_t kTransposeTile = 64;

template <typename T>
constexpr uint32_t kPerBlock = sizeof(T) == 1 ? uint32_t(shared::kInt8PerBlock) : uint32_t(shared::kFp32PerBlock);

// Element q of a Philox block, as the spec maps words to elements.
template <typename T>
__device__ __forceinline__ T ElementOf(const r123::Philox4x32::ctr_type& words, uint32_t q) {
  if constexpr (sizeof(T) == 1) {
    return shared::Int8FromBlock(words, q);
  } else {
    return shared::Fp32FromWord(words.v[q]);
  }
}

// out: (count) elements, row-major index order. Thread b handles Philox block b.
template <typename T>
__global__ void __launch_bounds__(kThreads) RowMajorKernel(shared::PhiloxKey key, uint32_t matrix, uint64_t count,
                                                           T* __restrict__ out) {
  constexpr uint32_t kE = kPerBlock<T>;
  const uint64_t b = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const uint64_t e0 = b * kE;
  if (e0 >= count) return;
  const auto words = shared::PhiloxBlock(key, matrix, b);
  T v[kE];
#pragma unroll
  for (uint32_t q = 0; q < kE; ++q) v[q] = ElementOf<T>(words, q);
  if (e0 + kE <= count) {
    uint4 packed;
    if constexpr (sizeof(T) == 1) {
      uint32_t word[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        word[i] = uint32_t(uint8_t(v[4 * i])) | (uint32_t(uint8_t(v[4 * i + 1])) << 8) |
                  (uint32_t(uint8_t(v[4 * i + 2])) << 16) | (uint32_t(uint8_t(v[4 * i + 3])) << 24);
      }
      packed = make_uint4(word[0], word[1], word[2], word[3]);
    } else {
      packed = make_uint4(__float_as_uint(v[0]), __float_as_uint(v[1]), __float_as_uint(v[2]), __float_as_uint(v[3]));
    }
    *reinterpret_cast<uint4*>(out + e0) = packed;
  } else {
    for (uint32_t q = 0; q < kE && e0 + q < count; ++q) out[e0 + q] = v[q];
  }
}

// The source is (rows, cols) row-major in the spec's element order; out is its transpose, (cols, rows) row-major.
// Block (x, y) covers source rows [64y, 64y + 64) and columns [64x, 64x + 64), clipped at the edges.
template <typename T>
__global__ void __launch_bounds__(kThreads) TransposedKernel(shared::PhiloxKey key, uint32_t matrix, uint32_t rows,
                                                             uint32_t cols, T* __restrict__ out) {
  constexpr uint32_t kE = kPerBlock<T>;
  // Padding makes a tile row an odd number of 32-bit words (68 bytes or 65 floats), so the column reads of
  // phase 2 hit 32 different banks.
  constexpr uint32_t kPad = sizeof(T) == 1 ? 4 : 1;
  __shared__ T tile[kTransposeTile][kTransposeTile + kPad];  // tile[source row][source column]
  const uint32_t r0 = blockIdx.y * kTransposeTile, c0 = blockIdx.x * kTransposeTile;
  const uint32_t h = min(kTransposeTile, rows - r0), w = min(kTransposeTile, cols - c0);

  // Phase 1: the tile's part of source row r is elements [e0, e0 + w) with e0 = r * cols + c0; it overlaps at
  // most w / E + 1 Philox blocks (an unaligned start splits one more), one job each.
  constexpr uint32_t kJobsPerRow = kTransposeTile / kE + 1;
  for (uint32_t job = threadIdx.x; job < kTransposeTile * kJobsPerRow; job += blockDim.x) {
    const uint32_t rr = job / kJobsPerRow, j = job % kJobsPerRow;
    if (rr >= h) continue;
    const uint64_t e0 = uint64_t(r0 + rr) * cols + c0, e1 = e0 + w;
    const uint64_t b = e0 / kE + j;
    if (b * kE >= e1) continue;
    const auto words = shared::PhiloxBlock(key, matrix, b);
#pragma unroll
    for (uint32_t q = 0; q < kE; ++q) {
      const uint64_t e = b * kE + q;
      if (e >= e0 && e < e1) tile[rr][e - e0] = ElementOf<T>(words, q);
    }
  }
  __syncthreads();

  // Phase 2: output row c0 + cc is source column cc; consecutive threads take consecutive source rows, so each
  // warp writes a contiguous run of one output row.
  for (uint32_t idx = threadIdx.x; idx < kTransposeTile * kTransposeTile; idx += blockDim.x) {
    const uint32_t cc = idx / kTransposeTile, rr = idx % kTransposeTile;
    if (cc < w && rr < h) out[uint64_t(c0 + cc) * rows + r0 + rr] = tile[rr][cc];
  }
}

template <typename T>
Status LaunchRowMajor(shared::PhiloxKey key, uint32_t matrix, uint64_t count, T* out, cudaStream_t stream) {
  const uint64_t blocks = (count + kPerBlock<T> - 1) / kPerBlock<T>;
  const uint64_t grid = (blocks + kThreads - 1) / kThreads;
  if (grid > 0x7fffffffu) {
    return Status::InvalidArgument("input generation: " + std::to_string(count) +
                                   " elements need more than 2^31 - 1 thread blocks");
  }
  RowMajorKernel<T><<<static_cast<unsigned>(grid), kThreads, 0, stream>>>(key, matrix, count, out);
  return LaunchCheck(matrix == shared::kMatrixA ? "input generation of A" : "input generation of B");
}

template <typename T>
Status LaunchTransposed(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols, T* out,
                        cudaStream_t stream) {
  // rows, cols <= 2^20 give at most 16384 tiles per dimension, inside the grid limits (2^31 - 1 and 65535).
  const dim3 grid((cols + kTransposeTile - 1) / kTransposeTile, (rows + kTransposeTile - 1) / kTransposeTile);
  TransposedKernel<T><<<grid, kThreads, 0, stream>>>(key, matrix, rows, cols, out);
  return LaunchCheck("input generation of B^T");
}

template <typename T>
Status GenerateMatrix(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols, T* out, BLayout layout,
                      cudaStream_t stream) {
  if (rows == 0 || cols == 0) return Status::InvalidArgument("input generation: M, N and K must be at least 1");
  if (layout == BLayout::kRowMajor) return LaunchRowMajor<T>(key, matrix, uint64_t(rows) * cols, out, stream);
  return LaunchTransposed<T>(key, matrix, rows, cols, out, stream);
}

}  // namespace

Status GenerateInt8Matrix(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols, int8_t* out,
                          BLayout layout, cudaStream_t stream) {
  return GenerateMatrix(key, matrix, rows, cols, out, layout, stream);
}

Status GenerateFp32Matrix(shared::PhiloxKey key, uint32_t matrix, uint32_t rows, uint32_t cols, float* out,
                          BLayout layout, cudaStream_t stream) {
  return GenerateMatrix(key, matrix, rows, cols, out, layout, stream);
}

}  // namespace vcp::cuda
