// vcp/keys.h: Ed25519 signing keys through libsodium.
//
// Ownership: SecretKey owns a sodium_malloc'd buffer (guarded pages, locked where the OS allows) that is wiped
// and freed on destruction; it is move-only. PublicKey and Signature are plain values.
// Thread safety: a SecretKey may sign from several threads at once; loading and saving touch only the files named.
// Errors: Status / Result. Loading a secret key whose file is readable or writable by group or others is
// refused, with the mode found and the fix (chmod 600). A public key file given where the secret key is needed,
// or the other way round, is refused as such (never with chmod advice), and a secret key file read by mistake as
// a public one is wiped from memory before the error returns. Saving never leaves a partial file: each file is written
// to a temporary name in the same directory, flushed and renamed.
//
// Files (docs/SPEC.md section 8), text, one line each:
//   DIR/vcp.key  "vcp-ed25519-secret-v1 " + 64 hex digits (the 32-byte seed) + "\n", mode 0600
//   DIR/vcp.pub  "vcp-ed25519-public-v1 " + 64 hex digits (the 32-byte public key) + "\n"
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

constexpr size_t kPublicKeyBytes = 32;
constexpr size_t kSignatureBytes = 64;
using PublicKey = std::array<uint8_t, kPublicKeyBytes>;
using Signature = std::array<uint8_t, kSignatureBytes>;

class VCP_EXPORT SecretKey {
 public:
  static Result<SecretKey> Generate();
  // Deterministic key from a 32-byte seed (tests and test vectors).
  static Result<SecretKey> FromSeed(std::span<const uint8_t, 32> seed);
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  const PublicKey& public_key() const { return public_key_; }
  Signature Sign(std::span<const uint8_t> message) const;

 private:
  friend Status SaveKeyPair(const SecretKey& key, const std::filesystem::path& dir);  // writes the seed
  SecretKey() = default;
  uint8_t* secret_ = nullptr;  // 64 bytes, libsodium's seed || public key layout, in sodium_malloc memory
  PublicKey public_key_{};
};

// Rejected (with which key) when the signature does not verify.
[[nodiscard]] VCP_EXPORT Status VerifySignature(const PublicKey& key, std::span<const uint8_t> message,
                                                const Signature& signature);

// Writes DIR/vcp.key and DIR/vcp.pub; creates DIR (0700) if missing; refuses to overwrite an existing key.
[[nodiscard]] VCP_EXPORT Status SaveKeyPair(const SecretKey& key, const std::filesystem::path& dir);
VCP_EXPORT Result<SecretKey> LoadSecretKey(const std::filesystem::path& file);
VCP_EXPORT Result<PublicKey> LoadPublicKey(const std::filesystem::path& file);

// The text of a vcp.key / vcp.pub file (the formats above; the final newline is optional) without any file: what
// the loaders call once they have read the file (and checked a secret key file's mode). `what` names the text in
// errors ("secret key file DIR/vcp.key"). kCorrupt naming the byte that is wrong and the expected format.
VCP_EXPORT Result<SecretKey> ParseSecretKeyText(std::span<const uint8_t> text, std::string_view what);
VCP_EXPORT Result<PublicKey> ParsePublicKeyText(std::span<const uint8_t> text, std::string_view what);

// What a user may type where a key is expected (a command-line flag, a configuration value), resolved to the key.
// A public key is the 64 hex digits `vcp keygen` prints (either case), a vcp.pub file, or a directory holding
// vcp.pub; 64 hex digits are always taken as the key itself, even if a file of that name exists. A secret key
// file is refused with what to give instead. Errors: InvalidArgument when the argument is none of these forms,
// IoError when a named file cannot be read, Corrupt when it is not a key file.
VCP_EXPORT Result<PublicKey> ResolvePublicKey(std::string_view argument);
// A secret key is a vcp.key file or a directory holding vcp.key (the directory `vcp keygen --out` wrote). A
// public key file is refused, saying it is the public half; otherwise as LoadSecretKey.
VCP_EXPORT Result<SecretKey> ResolveSecretKey(std::string_view argument);

}  // namespace vcp
