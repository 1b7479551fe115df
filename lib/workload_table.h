// The CPU half of the table of workload definitions (the public half, WorkloadInfo, is in vcp/workload.h; the
// CUDA half is in the plugin, lib/cuda/cuda_backend.cpp). Everything the engine does per workload goes through an
// entry here: whole-matrix generation, C, and the verifier's single-tile recompute, which are the same two
// kernels applied to a tile's rows of A and columns of B. There is no "else" path: a kind without an entry is a
// compile error (the static_assert in lib/workload.cpp) or, for an id from outside, InvalidArgument.
#pragma once

#include <cstdint>

#include "cpu/gemm.h"
#include "shared/philox_inputs.h"
#include "vcp/workload.h"

namespace vcp {

struct CpuWorkload {
  WorkloadInfo info;
  uint64_t per_philox_block;  // input elements one Philox block yields (chunks are whole blocks)
  // out[r * count + i] = element (first + r * stride + i) of `matrix` (shared::kMatrixA / kMatrixB), for
  // r < runs and i < count; info.input_bytes each. A run of a whole matrix, or of a tile's rows of A, is one run;
  // a tile's columns of B (K, cols) are K runs of cols elements, N apart, generated straight into the row-major
  // layout the GEMM reads.
  void (*fill)(shared::PhiloxKey key, uint32_t matrix, uint64_t first, uint64_t stride, uint64_t count,
               uint64_t runs, void* out);
  // c (m, n) ldc, 4-byte elements = a (m, k) lda * b (k, n) ldb, on this CPU's fastest tier; single-threaded.
  void (*gemm)(uint64_t m, uint64_t n, uint64_t k, const void* a, uint64_t lda, const void* b, uint64_t ldb,
               uint32_t* c, uint64_t ldc);
  cpu::Tier (*tier)();  // the ISA tier gemm runs on here (for device descriptions and benchmark labels)
};

// The entry of kind, or nullptr for an id that names no workload.
const CpuWorkload* FindCpuWorkload(WorkloadKind kind);

}  // namespace vcp
