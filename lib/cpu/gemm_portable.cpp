// The portable tier: the defining versions of both GEMMs (lib/cpu/gemm.h). Every other tier must produce
// these exact bits; they are written for clarity, not speed.
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace vcp::cpu::detail {

// a (m, k) lda; b (k, n) ldb; c (m, n) ldc. int32 accumulation: |a*b| <= 2^14, so every partial sum of at most
// 131071 terms stays within int32 and the order of the terms does not matter.
void GemmInt8Portable(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* b, size_t ldb,
                      int32_t* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    int32_t* c_row = c + i * ldc;
    for (size_t j = 0; j < n; ++j) c_row[j] = 0;
    for (size_t p = 0; p < k; ++p) {
      const int32_t a_ip = a[i * lda + p];
      const int8_t* b_row = b + p * ldb;
      for (size_t j = 0; j < n; ++j) c_row[j] += a_ip * int32_t{b_row[j]};
    }
  }
}

// a (m, k) lda; b (k, n) ldb; c (m, n) ldc. Each c[i][j] is its own fma chain over p = 0, 1, ..., k-1 starting
// from +0.0f; the p loop sits outside the j loop only so that b is read row by row, which leaves every chain's
// order untouched.
void GemmFp32OrderedPortable(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                             float* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    float* c_row = c + i * ldc;
    for (size_t j = 0; j < n; ++j) c_row[j] = +0.0f;
    for (size_t p = 0; p < k; ++p) {
      const float a_ip = a[i * lda + p];
      const float* b_row = b + p * ldb;
      for (size_t j = 0; j < n; ++j) c_row[j] = std::fma(a_ip, b_row[j], c_row[j]);
    }
  }
}

}  // namespace vcp::cpu::detail
