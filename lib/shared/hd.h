// Host/device portability for the headers in lib/shared/, which both g++ and nvcc compile so the CPU tests
// exercise the very arithmetic the GPU runs. VCP_HD marks a function callable from both sides.
#pragma once

#if defined(__CUDACC__)
#define VCP_HD __host__ __device__ __forceinline__
#else
#define VCP_HD inline
#endif
