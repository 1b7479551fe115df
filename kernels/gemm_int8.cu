// The int8 workload's GEMM: C (M, N) int32 = A (M, K) int8 * B (K, N) int8, exact.
//
// Exactness is what makes a library GEMM acceptable here: every product is an integer of magnitude <= 2^14 and
// K <= 131071 keeps every partial sum, in any order and any split, inside int32. So cuBLASLt may tile, split K
// and reduce however it likes and still produce the spec's bits, as long as it computes in int32
// (CUBLAS_COMPUTE_32I, int32 scale type, alpha 1, beta 0, int32 output: no scaling, rounding or saturation).
//
// Layout. cuBLASLt is column-major, and its IMMA (int8 tensor-core) kernels with the regular column order accept
// only the "TN" form: op(A) = transposed, op(B) = not, i.e. both operands K-contiguous, with m and k multiples of 4,
// leading dimensions multiples of 4 and 4-byte aligned pointers (cuBLASLt documentation, cublasLtMatmul). Our
// row-major C is column-major C^T, and C^T = B^T A^T:
//   D = C^T   column-major (N, M), ld N            = our row-major C (M, N)
//   op(X) = X^T with X stored column-major (K, N), ld K  = our B^T stored row-major (N, K)
//   op(Y) = Y   with Y stored column-major (K, M), ld K  = our A stored row-major (M, K)
// so cuBLASLt's (m, n, k) = (N, M, K); the generator writes B^T directly (BLayout::kTransposed). Shapes with
// N or K not a multiple of 4, or for which the heuristic offers no algorithm, use FallbackKernel below.
#include "cuda/kernels.h"

namespace vcp::cuda {

namespace {

constexpr uint32_t kFbTile = 32;  // fallback: 32 x 32 outputs per block
constexpr uint32_t kFbRowsPerPass = 8;

// Exact int32 GEMM for any shape. Block (32 x 8 threads) computes a 32 x 32 tile of C; thread (tx, ty) owns
// column tx of rows ty, ty + 8, ty + 16, ty + 24. K advances in slices of 32 staged in shared memory as int32
// (the +1 column keeps the bs[tx][kk] reads on 32 different banks). Out-of-range elements are staged as 0, which
// adds exactly nothing.
// a: (M, K) row-major. bt: (N, K) row-major. c: (M, N) row-major.
__global__ void __launch_bounds__(kFbTile * kFbRowsPerPass) FallbackKernel(uint32_t m, uint32_t n, uint32_t k,
                                                                           const int8_t* __restrict__ a,
                                                                           const int8_t* __restrict__ bt,
                                                                           int32_t* __restrict__ c) {
  __shared__ int32_t as[kFbTile][kFbTile + 1];  // as[row][kk]
  __shared__ int32_t bs[kFbTile][kFbTile + 1];  // bs[col][kk]
  const uint32_t tx = threadIdx.x, ty = threadIdx.y;
  const uint32_t row0 = blockIdx.y * kFbTile, col0 = blockIdx.x * kFbTile;
  int32_t acc[kFbTile / kFbRowsPerPass] = {};
  for (uint32_t k0 = 0; k0 < k; k0 += kFbTile) {
    const bool k_in = k0 + tx < k;
#pragma unroll
    for (uint32_t i = 0; i < kFbTile / kFbRowsPerPass; ++i) {
      const uint32_t r = ty + kFbRowsPerPass * i;
      as[r][tx] = (k_in && row0 + r < m) ? int32_t(a[uint64_t(row0 + r) * k + k0 + tx]) : 0;
      bs[r][tx] = (k_in && col0 + r < n) ? int32_t(bt[uint64_t(col0 + r) * k + k0 + tx]) : 0;
    }
    __syncthreads();
#pragma unroll 8
    for (uint32_t kk = 0; kk < kFbTile; ++kk) {
      const int32_t bv = bs[tx][kk];
#pragma unroll
      for (uint32_t i = 0; i < kFbTile / kFbRowsPerPass; ++i) acc[i] += as[ty + kFbRowsPerPass * i][kk] * bv;
    }
    __syncthreads();
  }
#pragma unroll
  for (uint32_t i = 0; i < kFbTile / kFbRowsPerPass; ++i) {
    const uint32_t r = row0 + ty + kFbRowsPerPass * i, col = col0 + tx;
    if (r < m && col < n) c[uint64_t(r) * n + col] = acc[i];
  }
}

}  // namespace

Status PrepareGemmInt8(GemmInt8Plan& plan, uint32_t m, uint32_t n, uint32_t k) {
  if (m == 0 || n == 0 || k == 0) return Status::InvalidArgument("int8 GEMM: M, N and K must be at least 1");
  plan.m = plan.n = plan.k = 0;  // stays "no plan" if anything below fails
  plan.use_cublaslt = false;
  plan.desc.Reset();
  plan.bt_layout.Reset();
  plan.a_layout.Reset();
  plan.c_layout.Reset();
  if (n % 4 == 0 && k % 4 == 0) {
    if (!plan.handle) {
      VCP_ASSIGN_OR_RETURN(plan.handle, CreateLtHandle());
    }
    if (plan.workspace.get() == nullptr) {
      VCP_ASSIGN_OR_RETURN(plan.workspace, DeviceBuffer::Allocate(kInt8GemmWorkspaceBytes, "the cuBLASLt workspace"));
    }
    cublasLtMatmulDesc_t desc = nullptr;
    VCP_RETURN_IF_ERROR(CublasCheck(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32I, CUDA_R_32I),
                                    "cublasLtMatmulDescCreate"));
    plan.desc = LtMatmulDescOwner(desc);
    const cublasOperation_t trans_x = CUBLAS_OP_T, trans_y = CUBLAS_OP_N;
    VCP_RETURN_IF_ERROR(CublasCheck(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans_x, sizeof(trans_x)), "TRANSA"));
    VCP_RETURN_IF_ERROR(CublasCheck(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &trans_y, sizeof(trans_y)), "TRANSB"));

    cublasLtMatrixLayout_t layout = nullptr;
    VCP_RETURN_IF_ERROR(CublasCheck(cublasLtMatrixLayoutCreate(&layout, CUDA_R_8I, k, n, k), "layout of B^T"));
    plan.bt_layout = LtLayoutOwner(layout);
    VCP_RETURN_IF_ERROR(CublasCheck(cublasLtMatrixLayoutCreate(&layout, CUDA_R_8I, k, m, k), "layout of A"));
    plan.a_layout = LtLayoutOwner(layout);
    VCP_RETURN_IF_ERROR(CublasCheck(cublasLtMatrixLayoutCreate(&layout, CUDA_R_32I, n, m, n), "layout of C"));
    plan.c_layout = LtLayoutOwner(layout);

    cublasLtMatmulPreference_t pref_raw = nullptr;
    VCP_RETURN_IF_ERROR(CublasCheck(cublasLtMatmulPreferenceCreate(&pref_raw), "cublasLtMatmulPreferenceCreate"));
    const LtPreferenceOwner pref(pref_raw);
    const uint64_t workspace_bytes = kInt8GemmWorkspaceBytes;
    VCP_RETURN_IF_ERROR(CublasCheck(
        cublasLtMatmulPreferenceSetAttribute(pref_raw, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes,
                                             sizeof(workspace_bytes)),
        "MAX_WORKSPACE_BYTES"));
    cublasLtMatmulHeuristicResult_t result{};
    int returned = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(plan.handle.get(), desc, plan.bt_layout.get(), plan.a_layout.get(),
                                       plan.c_layout.get(), plan.c_layout.get(), pref_raw, 1, &result, &returned);
    if (st == CUBLAS_STATUS_SUCCESS && returned > 0) {
      plan.algo = result.algo;
      plan.use_cublaslt = true;
    } else if (st != CUBLAS_STATUS_NOT_SUPPORTED && st != CUBLAS_STATUS_SUCCESS) {
      return CublasCheck(st, "cublasLtMatmulAlgoGetHeuristic");
    }
  }
  plan.m = m;
  plan.n = n;
  plan.k = k;
  return Status::Ok();
}

Status GemmInt8(GemmInt8Plan& plan, uint32_t m, uint32_t n, uint32_t k, const int8_t* a, const int8_t* bt, int32_t* c,
                cudaStream_t stream) {
  if (m == 0 || n == 0 || k == 0) return Status::InvalidArgument("int8 GEMM: M, N and K must be at least 1");
  if (k > kMaxInt8K) {
    return Status::InvalidArgument("int8 GEMM: K = " + std::to_string(k) + " exceeds " + std::to_string(kMaxInt8K) +
                                   ", beyond which int32 accumulation is not exact");
  }
  if (plan.m != m || plan.n != n || plan.k != k) VCP_RETURN_IF_ERROR(PrepareGemmInt8(plan, m, n, k));
  if (plan.use_cublaslt) {
    const int32_t alpha = 1, beta = 0;
    return CublasCheck(cublasLtMatmul(plan.handle.get(), plan.desc.get(), &alpha, bt, plan.bt_layout.get(), a,
                                      plan.a_layout.get(), &beta, c, plan.c_layout.get(), c, plan.c_layout.get(),
                                      &plan.algo, plan.workspace.get(), kInt8GemmWorkspaceBytes, stream),
                       "cublasLtMatmul (int8, " + std::to_string(m) + " x " + std::to_string(n) + " x " +
                           std::to_string(k) + ")");
  }
  // M, N <= 2^20 give at most 32768 tiles per dimension, inside the grid limits (2^31 - 1 and 65535).
  const dim3 grid((n + kFbTile - 1) / kFbTile, (m + kFbTile - 1) / kFbTile);
  FallbackKernel<<<grid, dim3(kFbTile, kFbRowsPerPass), 0, stream>>>(m, n, k, a, bt, c);
  return LaunchCheck("int8 GEMM fallback kernel");
}

}  // namespace vcp::cuda
