#include "vcp/hash.h"

#include <openssl/evp.h>

#include <exception>

namespace vcp {

namespace {
// OpenSSL 3 fetches the implementation once; EVP_sha256() would look it up on every init.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? static_cast<const EVP_MD*>(fetched) : EVP_sha256();
  }();
  return md;
}

void Check(int openssl_ok) {
  if (openssl_ok != 1) std::terminate();  // only reachable on allocation failure inside OpenSSL; see hash.h
}
}  // namespace

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr) std::terminate();
  Check(EVP_DigestInit_ex(impl_->ctx, Sha256Md(), nullptr));
}
Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

void Sha256Hasher::Update(std::span<const uint8_t> bytes) {
  if (!bytes.empty()) Check(EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()));
}

Hash32 Sha256Hasher::Final() {
  Hash32 out{};
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(impl_->ctx, out.data(), &len));
  // Re-initialise with the digest the context already holds: skips the method lookup on every leaf.
  Check(EVP_DigestInit_ex(impl_->ctx, nullptr, nullptr));
  return out;
}

Hash32 Sha256(std::span<const uint8_t> bytes) {
  Hash32 out{};
  unsigned int len = 0;
  Check(EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, Sha256Md(), nullptr));
  return out;
}

Hash32 TaggedHash(std::string_view tag, std::span<const uint8_t> fields) {
  Sha256Hasher h;
  const uint8_t len = static_cast<uint8_t>(tag.size());
  h.Update(len);
  h.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(tag.data()), tag.size()));
  h.Update(fields);
  return h.Final();
}

}  // namespace vcp
