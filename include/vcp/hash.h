// vcp/hash.h: SHA-256 through OpenSSL's EVP interface, and the spec's tagged hash for seed derivation.
//
// Ownership: Sha256Hasher owns an EVP_MD_CTX and is move-only. Thread safety: the free functions are safe from
// any thread; a Sha256Hasher is used by one thread at a time. Errors: none reachable. SHA-256 over memory can only
// fail inside OpenSSL on memory exhaustion, which is handled like a failed operator new (std::terminate), never
// by returning a wrong digest.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "vcp/export.h"

namespace vcp {

constexpr size_t kHashBytes = 32;
using Hash32 = std::array<uint8_t, kHashBytes>;

VCP_EXPORT Hash32 Sha256(std::span<const uint8_t> bytes);

// Incremental SHA-256; reusable after Final() (which resets it).
class VCP_EXPORT Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::span<const uint8_t> bytes);
  void Update(uint8_t byte) { Update(std::span<const uint8_t>(&byte, 1)); }
  Hash32 Final();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The spec's domain-separated hash: SHA-256(u8 len(tag) || tag || fields). Tags are ASCII, at most 255 bytes,
// and distinct for every purpose (docs/SPEC.md section 2); fields are fixed-width little-endian.
VCP_EXPORT Hash32 TaggedHash(std::string_view tag, std::span<const uint8_t> fields);

}  // namespace vcp
