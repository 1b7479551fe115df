// The fp32-ordered workload's GEMM: c[i][j] = fma(a[i][K-1], b[K-1][j], ... fma(a[i][0], b[0][j], +0.0f)), the
// left-to-right chain of fused multiply-adds over k, round to nearest even, exactly as the CPU engine computes it.
//
// Why the bits equal the CPU's: each output lives in one register of one thread for the whole K loop; that thread
// applies __fmaf_rn (one IEEE binary32 fma, round to nearest even) for k = 0, 1, ..., K-1 in order, starting from
// +0.0f. There is no split-K, no atomics, no reduction tree, and the file is compiled with --fmad=false
// --ftz=false and without fast math (lib/CMakeLists.txt), so the compiler can neither contract nor reassociate
// anything and subnormals would be kept. Tiling changes only which thread owns an output and where its operands
// come from, never the order of its chain.
//
// Tiling (the classic register-blocked SGEMM): a block of 256 threads computes a 128 x 128 tile of C; thread
// (tx, ty) of a 16 x 16 grid owns an 8 x 8 sub-tile made of rows {4ty..4ty+3, 64+4ty..64+4ty+3} and columns
// {4tx..4tx+3, 64+4tx..64+4tx+3}, so its shared-memory reads are 128-bit and conflict-free. K advances in slices
// of 8: the A slice is staged transposed (as[kk][row]) and the B slice as is (bs[kk][col]), double-buffered, the
// next slice's global loads issued before the current slice's arithmetic. Out-of-range rows and columns are
// staged as 0 and their outputs never stored; the last K slice runs only its kc valid steps, so no output ever
// sees a padded term.
#include "cuda/kernels.h"

namespace vcp::cuda {

namespace {

constexpr uint32_t kBm = 128, kBn = 128, kBk = 8;
constexpr uint32_t kThreads = 256;
constexpr uint32_t kApad = 4;  // as rows of 132 floats: the transposed stores of one warp hit 32 banks

__global__ void __launch_bounds__(kThreads, 2) Fp32OrderedKernel(uint32_t m, uint32_t n, uint32_t k,
                                                                 const float* __restrict__ a,
                                                                 const float* __restrict__ b, float* __restrict__ c) {
  __shared__ __align__(16) float as[2][kBk][kBm + kApad];  // as[buf][kk][row]: A slice, transposed
  __shared__ __align__(16) float bs[2][kBk][kBn];          // bs[buf][kk][col]: B slice

  const uint32_t tid = threadIdx.x;
  const uint32_t row0 = blockIdx.y * kBm, col0 = blockIdx.x * kBn;
  // Loader roles: A slice (128 rows x 8 k): row tid/2, k (tid%2)*4 .. +3. B slice (8 k x 128 cols): k tid/32,
  // cols (tid%32)*4 .. +3.
  const uint32_t a_row = tid >> 1, a_k = (tid & 1) * 4;
  const uint32_t b_k = tid >> 5, b_col = (tid & 31) * 4;
  // Compute roles.
  const uint32_t tx = tid & 15, ty = tid >> 4;

  float a_next[4], b_next[4];
  auto load_slice = [&](uint32_t k0) {
    const uint32_t r = row0 + a_row;
#pragma unroll
    for (uint32_t i = 0; i < 4; ++i) {
      const uint32_t kk = k0 + a_k + i;
      a_next[i] = (r < m && kk < k) ? a[uint64_t(r) * k + kk] : 0.0f;
    }
    const uint32_t kk = k0 + b_k;
#pragma unroll
    for (uint32_t i = 0; i < 4; ++i) {
      const uint32_t col = col0 + b_col + i;
      b_next[i] = (kk < k && col < n) ? b[uint64_t(kk) * n + col] : 0.0f;
    }
  };
  auto store_slice = [&](uint32_t buf) {
#pragma unroll
    for (uint32_t i = 0; i < 4; ++i) as[buf][a_k + i][a_row] = a_next[i];
    *reinterpret_cast<float4*>(&bs[buf][b_k][b_col]) = make_float4(b_next[0], b_next[1], b_next[2], b_next[3]);
  };

  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = +0.0f;
  }
  // One term of every owned chain: acc[i][j] = fma(A[row i][k0 + kk], B[k0 + kk][col j], acc[i][j]).
  auto step = [&](uint32_t buf, uint32_t kk) {
    const float4 a0 = *reinterpret_cast<const float4*>(&as[buf][kk][4 * ty]);
    const float4 a1 = *reinterpret_cast<const float4*>(&as[buf][kk][64 + 4 * ty]);
    const float4 b0 = *reinterpret_cast<const float4*>(&bs[buf][kk][4 * tx]);
    const float4 b1 = *reinterpret_cast<const float4*>(&bs[buf][kk][64 + 4 * tx]);
    const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
    const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[i][j] = __fmaf_rn(av[i], bv[j], acc[i][j]);
    }
  };

  const uint32_t slices = (k + kBk - 1) / kBk;
  load_slice(0);
  store_slice(0);
  __syncthreads();
  for (uint32_t s = 0; s < slices; ++s) {
    const uint32_t buf = s & 1;
    const bool more = s + 1 < slices;
    if (more) load_slice((s + 1) * kBk);  // in flight while this slice is computed
    const uint32_t kc = min(kBk, k - s * kBk);
    if (kc == kBk) {
#pragma unroll
      for (uint32_t kk = 0; kk < kBk; ++kk) step(buf, kk);
    } else {
      for (uint32_t kk = 0; kk < kc; ++kk) step(buf, kk);
    }
    // buf ^ 1 was last read in iteration s - 1, which every thread finished before the barrier ending it.
    if (more) store_slice(buf ^ 1);
    __syncthreads();
  }

  // Row i of acc is C row row0 + 4ty + i (i < 4) or row0 + 64 + 4ty + i - 4; columns likewise with tx.
#pragma unroll
  for (uint32_t i = 0; i < 8; ++i) {
    const uint32_t r = row0 + (i < 4 ? 4 * ty + i : 64 + 4 * ty + (i - 4));
    if (r >= m) continue;
    float* crow = c + uint64_t(r) * n;
#pragma unroll
    for (uint32_t half = 0; half < 2; ++half) {
      const uint32_t col = col0 + 64 * half + 4 * tx;
      if (n % 4 == 0 && col + 3 < n) {  // 16-byte aligned: n, col0 and 4tx are multiples of 4
        *reinterpret_cast<float4*>(crow + col) =
            make_float4(acc[i][4 * half], acc[i][4 * half + 1], acc[i][4 * half + 2], acc[i][4 * half + 3]);
      } else {
#pragma unroll
        for (uint32_t j = 0; j < 4; ++j) {
          if (col + j < n) crow[col + j] = acc[i][4 * half + j];
        }
      }
    }
  }
}

}  // namespace

Status GemmFp32Ordered(uint32_t m, uint32_t n, uint32_t k, const float* a, const float* b, float* c,
                       cudaStream_t stream) {
  if (m == 0 || n == 0 || k == 0) return Status::InvalidArgument("fp32-ordered GEMM: M, N and K must be at least 1");
  // M, N <= 2^20 give at most 8192 tiles per dimension, inside the grid limits (2^31 - 1 and 65535).
  const dim3 grid((n + kBn - 1) / kBn, (m + kBm - 1) / kBm);
  Fp32OrderedKernel<<<grid, kThreads, 0, stream>>>(m, n, k, a, b, c);
  return LaunchCheck("fp32-ordered GEMM kernel");
}

}  // namespace vcp::cuda
