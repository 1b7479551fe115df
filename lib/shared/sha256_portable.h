// A portable SHA-256 (FIPS 180-4) for code that cannot call OpenSSL: the CUDA kernels hash leaves and Merkle
// nodes with it. The host build compiles the same code and tests it against OpenSSL (tests/sha256_test.cpp), so
// the device hashes with arithmetic that is checked on every machine. The CPU engine itself uses OpenSSL.
#pragma once

#include <cstdint>

#include "hd.h"

namespace vcp::shared {

struct Sha256State {
  uint32_t h[8];
};

VCP_HD Sha256State Sha256Init() {
  return Sha256State{{0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu,
                      0x5be0cd19u}};
}

VCP_HD uint32_t Sha256Rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

// One compression over a 64-byte block given as 16 big-endian words.
VCP_HD void Sha256Compress(Sha256State& s, const uint32_t block[16]) {
  constexpr uint32_t kRound[64] = {
      0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
      0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
      0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
      0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
      0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
      0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
      0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
      0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};
  uint32_t w[16];
  for (int i = 0; i < 16; ++i) w[i] = block[i];
  uint32_t a = s.h[0], b = s.h[1], c = s.h[2], d = s.h[3], e = s.h[4], f = s.h[5], g = s.h[6], h = s.h[7];
  // nvcc does not unroll this loop by itself; rolled, kRound and w live in local memory (320-byte stack frame).
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int i = 0; i < 64; ++i) {
    if (i >= 16) {
      // Message schedule kept in a 16-word ring: w[i] = s1(w[i-2]) + w[i-7] + s0(w[i-15]) + w[i-16].
      const uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
      const uint32_t s0 = Sha256Rotr(w15, 7) ^ Sha256Rotr(w15, 18) ^ (w15 >> 3);
      const uint32_t s1 = Sha256Rotr(w2, 17) ^ Sha256Rotr(w2, 19) ^ (w2 >> 10);
      w[i & 15] += s0 + w[(i - 7) & 15] + s1;
    }
    const uint32_t big_s1 = Sha256Rotr(e, 6) ^ Sha256Rotr(e, 11) ^ Sha256Rotr(e, 25);
    const uint32_t ch = (e & f) ^ (~e & g);
    const uint32_t t1 = h + big_s1 + ch + kRound[i] + w[i & 15];
    const uint32_t big_s0 = Sha256Rotr(a, 2) ^ Sha256Rotr(a, 13) ^ Sha256Rotr(a, 22);
    const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const uint32_t t2 = big_s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  s.h[0] += a; s.h[1] += b; s.h[2] += c; s.h[3] += d;
  s.h[4] += e; s.h[5] += f; s.h[6] += g; s.h[7] += h;
}

VCP_HD uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Streaming hasher over bytes; small and allocation-free so a GPU thread can hold one in registers/local memory.
struct Sha256Stream {
  Sha256State state;
  uint8_t buffer[64];
  uint32_t buffered;
  uint64_t total;

  VCP_HD void Init() {
    state = Sha256Init();
    buffered = 0;
    total = 0;
  }
  VCP_HD void CompressBuffer() {
    uint32_t w[16];
    for (int i = 0; i < 16; ++i) w[i] = LoadBe32(buffer + 4 * i);
    Sha256Compress(state, w);
  }
  VCP_HD void Update(const uint8_t* data, uint64_t len) {
    total += len;
    for (uint64_t i = 0; i < len; ++i) {
      buffer[buffered++] = data[i];
      if (buffered == 64) {
        CompressBuffer();
        buffered = 0;
      }
    }
  }
  // Writes the 32-byte digest.
  VCP_HD void Final(uint8_t* digest) {
    const uint64_t bit_len = total * 8;
    buffer[buffered++] = 0x80;
    if (buffered > 56) {
      while (buffered < 64) buffer[buffered++] = 0;
      CompressBuffer();
      buffered = 0;
    }
    while (buffered < 56) buffer[buffered++] = 0;
    for (int i = 0; i < 8; ++i) buffer[56 + i] = static_cast<uint8_t>(bit_len >> (56 - 8 * i));
    CompressBuffer();
    for (int i = 0; i < 8; ++i) {
      digest[4 * i + 0] = static_cast<uint8_t>(state.h[i] >> 24);
      digest[4 * i + 1] = static_cast<uint8_t>(state.h[i] >> 16);
      digest[4 * i + 2] = static_cast<uint8_t>(state.h[i] >> 8);
      digest[4 * i + 3] = static_cast<uint8_t>(state.h[i]);
    }
  }
};

}  // namespace vcp::shared
