// Ed25519 keys (include/vcp/keys.h) through libsodium: pure Ed25519 as in RFC 8032, no prehash, no context.
//
// Secret material only ever lives in sodium_malloc memory: the 64-byte signing key, the 32-byte seed decoded
// from a key file, and the hex text read from or written to that file. Each such buffer is wiped by
// sodium_free (which zeroes before releasing). The signing key is made read-only once filled, so a stray write
// faults instead of corrupting it; reads stay allowed, which is why Sign needs no lock.
#include "vcp/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "fileio.h"
#include "vcp/bytes.h"

namespace vcp {

namespace {

constexpr std::string_view kSecretPrefix = "vcp-ed25519-secret-v1 ";
constexpr std::string_view kPublicPrefix = "vcp-ed25519-public-v1 ";
constexpr size_t kSeedBytes = crypto_sign_SEEDBYTES;       // 32
constexpr size_t kSecretBytes = crypto_sign_SECRETKEYBYTES;  // 64: seed || public key
constexpr size_t kHexDigits = 2 * kSeedBytes;               // the same 64 for seeds and public keys
// Longest well-formed key file: prefix, hex, newline.
constexpr size_t kMaxKeyFileBytes = kSecretPrefix.size() + kHexDigits + 1;
static_assert(kPublicKeyBytes == crypto_sign_PUBLICKEYBYTES && kSignatureBytes == crypto_sign_BYTES);
static_assert(kPublicPrefix.size() == kSecretPrefix.size());

// sodium_init picks the fastest implementations and seeds the RNG; a function-local static makes the single
// call thread-safe (C++11 guarantees one initialisation even under concurrent first use).
Status EnsureSodium() {
  static const int rc = sodium_init();
  if (rc < 0) return Status::Internal("libsodium failed to initialise (sodium_init returned -1)");
  return Status::Ok();
}

// A sodium_malloc buffer wiped and freed on scope exit, for transient secrets (seed, hex text).
class SecureBuffer {
 public:
  explicit SecureBuffer(size_t size) : data_(static_cast<uint8_t*>(sodium_malloc(size))), size_(size) {}
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;
  ~SecureBuffer() { sodium_free(data_); }
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool ok() const { return data_ != nullptr; }
  // Hands ownership to the caller (who must sodium_free it).
  uint8_t* release() {
    uint8_t* p = data_;
    data_ = nullptr;
    return p;
  }

 private:
  uint8_t* data_;
  size_t size_;
};

Status OutOfSecureMemory() {
  return Status::ResourceExhausted("sodium_malloc could not allocate guarded memory for a secret key");
}

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// What a key file must hold, for error messages.
std::string ExpectedFormat(std::string_view prefix) {
  return "expected \"" + std::string(prefix) + "\" followed by 64 hex digits and an optional newline";
}

// Reads from `fd` into buffer[0, capacity) until end of file or the buffer is full; `length` is what was read.
Status ReadUpTo(int fd, const std::filesystem::path& file, uint8_t* buffer, size_t capacity, size_t& length) {
  length = 0;
  while (length < capacity) {
    ssize_t n = ::read(fd, buffer + length, capacity - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("cannot read secret key file " + file.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  return Status::Ok();
}

bool StartsWith(const uint8_t* text, size_t length, std::string_view prefix) {
  return length >= prefix.size() && std::memcmp(text, prefix.data(), prefix.size()) == 0;
}

// A public key file where the secret key is needed: said as such, since chmod advice would mislead (a public key
// is meant to be readable; the fix is to give the other file).
Status PublicKeyGivenForSecret(const std::filesystem::path& file) {
  return Status::InvalidArgument(file.string() + " is a public key; signing needs the secret key file vcp.key " +
                                 "written by vcp keygen");
}

// Reads a secret key file into `text` (sodium_malloc memory) after checking, on the opened descriptor itself
// (so the file checked is the file read), that it is a regular file no one but the owner can read or write.
// A file readable by others is only read as far as the public prefix, to tell a public key file apart.
Status ReadSecretKeyFile(const std::filesystem::path& file, SecureBuffer& text, size_t& length) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot read secret key file " + file.string() + ": " + std::strerror(errno));
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = Status::IoError("cannot stat secret key file " + file.string() + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::InvalidArgument("secret key file " + file.string() + " is not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    status = ReadUpTo(fd, file, text.data(), kPublicPrefix.size(), length);
    if (status.ok() && StartsWith(text.data(), length, kPublicPrefix)) {
      status = PublicKeyGivenForSecret(file);
    } else if (status.ok()) {
      status = Status::InvalidArgument("secret key file " + file.string() + " has mode " + OctalMode(st.st_mode) +
                                       ": it must not be readable, writable or executable by group or others; " +
                                       "run chmod 600 " + file.string());
    }
  } else {
    status = ReadUpTo(fd, file, text.data(), text.size(), length);
  }
  ::close(fd);
  return status;
}

// Parses "<prefix><64 hex digits>[\n]" exactly into the 32 bytes at `out`. `what` names the file in messages
// ("secret key file X"). The digits are decoded by sodium_hex2bin, which runs in constant time, so secret digits
// are never branched on; everything else checked here is public structure (lengths, positions).
Status ParseKeyText(const std::string& what, std::string_view prefix, const uint8_t* text, size_t length,
                    uint8_t* out) {
  const char* chars = reinterpret_cast<const char*>(text);
  if (length < prefix.size() || std::string_view(chars, prefix.size()) != prefix) {
    return Status::Corrupt(what + " does not start with \"" + std::string(prefix) + "\"; " + ExpectedFormat(prefix));
  }
  const char* hex = chars + prefix.size();
  const size_t available = length - prefix.size();
  const char* hex_end = hex;
  // At most 64 digits are offered, so the only failure is an odd count, where hex_end marks the unpaired digit;
  // otherwise hex_end is where the digits stopped (a non-hex character or the end of the offered text).
  const int rc = sodium_hex2bin(out, kSeedBytes, hex, std::min(available, kHexDigits), nullptr, nullptr, &hex_end);
  const size_t digits = static_cast<size_t>(hex_end - hex) + (rc != 0 ? 1 : 0);
  if (digits < kHexDigits) {
    if (digits == available || hex[digits] == '\n') {
      return Status::Corrupt(what + " holds " + std::to_string(digits) + " hex digits; " + ExpectedFormat(prefix));
    }
    return Status::Corrupt(what + " has a non-hex character at byte " + std::to_string(prefix.size() + digits) +
                           "; " + ExpectedFormat(prefix));
  }
  const size_t rest = available - kHexDigits;
  if (rest == 0 || (rest == 1 && hex[kHexDigits] == '\n')) return Status::Ok();
  return Status::Corrupt(what + " has unexpected data after the 64 hex digits (at byte " +
                         std::to_string(prefix.size() + kHexDigits) + "); " + ExpectedFormat(prefix));
}

}  // namespace

Result<SecretKey> SecretKey::Generate() {
  VCP_RETURN_IF_ERROR(EnsureSodium());
  SecureBuffer secret(kSecretBytes);
  if (!secret.ok()) return OutOfSecureMemory();
  SecretKey key;
  crypto_sign_keypair(key.public_key_.data(), secret.data());
  sodium_mprotect_readonly(secret.data());
  key.secret_ = secret.release();
  return key;
}

Result<SecretKey> SecretKey::FromSeed(std::span<const uint8_t, 32> seed) {
  VCP_RETURN_IF_ERROR(EnsureSodium());
  SecureBuffer secret(kSecretBytes);
  if (!secret.ok()) return OutOfSecureMemory();
  SecretKey key;
  crypto_sign_seed_keypair(key.public_key_.data(), secret.data(), seed.data());
  sodium_mprotect_readonly(secret.data());
  key.secret_ = secret.release();
  return key;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : secret_(other.secret_), public_key_(other.public_key_) {
  other.secret_ = nullptr;
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    sodium_free(secret_);
    secret_ = other.secret_;
    public_key_ = other.public_key_;
    other.secret_ = nullptr;
  }
  return *this;
}

// sodium_free makes the pages writable again, zeroes them and unmaps them; it accepts nullptr (moved-from).
SecretKey::~SecretKey() { sodium_free(secret_); }

Signature SecretKey::Sign(std::span<const uint8_t> message) const {
  Signature signature{};
  // A moved-from key has no secret; its all-zero signature never verifies (libsodium rejects the small-order
  // R it encodes), so misuse fails closed rather than crashing.
  if (secret_ == nullptr) return signature;
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret_);
  return signature;
}

Status VerifySignature(const PublicKey& key, std::span<const uint8_t> message, const Signature& signature) {
  VCP_RETURN_IF_ERROR(EnsureSodium());
  if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()) == 0) {
    return Status::Ok();
  }
  return Status::Rejected("signature does not verify under public key " +
                          ToHex(std::span<const uint8_t>(key.data(), 8)) + "... over the " +
                          std::to_string(message.size()) + "-byte message");
}

Status SaveKeyPair(const SecretKey& key, const std::filesystem::path& dir) {
  if (key.secret_ == nullptr) return Status::InvalidArgument("cannot save a moved-from SecretKey: it holds no key");
  // Create DIR and any missing parents owner-only: the directory holds the secret key.
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::IoError("cannot create key directory " + partial.string() + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::IoError("cannot save keys in " + dir.string() + ": it exists and is not a directory");
  }
  const std::filesystem::path secret_file = dir / "vcp.key";
  const std::filesystem::path public_file = dir / "vcp.pub";
  // Refuse before writing anything, so an existing pair is never half-replaced. WriteFileAtomic's
  // overwrite=false repeats the check atomically for a file that appears meanwhile.
  for (const auto& file : {secret_file, public_file}) {
    const std::filesystem::file_status st = std::filesystem::symlink_status(file, ec);
    if (st.type() == std::filesystem::file_type::not_found) continue;
    if (ec) return Status::IoError("cannot check whether " + file.string() + " exists: " + ec.message());
    // The caller chose a directory that already holds a key: a wrong argument, not a failing disk.
    return Status::InvalidArgument("refusing to overwrite existing key file " + file.string() +
                                   ": move it away or choose another directory");
  }

  // The secret line is built in guarded memory: prefix, hex of the seed (the first half of libsodium's
  // seed || public key layout), newline.
  SecureBuffer text(kMaxKeyFileBytes + 1);  // sodium_bin2hex writes a terminating NUL
  if (!text.ok()) return OutOfSecureMemory();
  std::memcpy(text.data(), kSecretPrefix.data(), kSecretPrefix.size());
  char* hex = reinterpret_cast<char*>(text.data() + kSecretPrefix.size());
  sodium_bin2hex(hex, kHexDigits + 1, key.secret_, kSeedBytes);
  text.data()[kMaxKeyFileBytes - 1] = '\n';
  VCP_RETURN_IF_ERROR(
      WriteFileAtomic(secret_file, std::span<const uint8_t>(text.data(), kMaxKeyFileBytes), 0600, false));

  const std::string public_text = std::string(kPublicPrefix) + ToHex(key.public_key()) + "\n";
  if (Status s = WriteFileAtomic(public_file, public_text, 0644, false); !s.ok()) {
    // Do not leave a secret key without its public half: remove the file this call just created.
    std::filesystem::remove(secret_file, ec);
    return s;
  }
  return Status::Ok();
}

Result<SecretKey> LoadSecretKey(const std::filesystem::path& file) {
  VCP_RETURN_IF_ERROR(EnsureSodium());
  // One byte more than the longest valid file, so trailing junk is seen rather than silently cut off.
  SecureBuffer text(kMaxKeyFileBytes + 1);
  if (!text.ok()) return OutOfSecureMemory();
  size_t length = 0;
  VCP_RETURN_IF_ERROR(ReadSecretKeyFile(file, text, length));
  if (StartsWith(text.data(), length, kPublicPrefix)) return PublicKeyGivenForSecret(file);
  return ParseSecretKeyText(std::span<const uint8_t>(text.data(), length), "secret key file " + file.string());
}

Result<SecretKey> ParseSecretKeyText(std::span<const uint8_t> text, std::string_view what) {
  VCP_RETURN_IF_ERROR(EnsureSodium());
  SecureBuffer seed(kSeedBytes);  // the decoded seed never sits in ordinary heap memory
  if (!seed.ok()) return OutOfSecureMemory();
  VCP_RETURN_IF_ERROR(ParseKeyText(std::string(what), kSecretPrefix, text.data(), text.size(), seed.data()));
  return SecretKey::FromSeed(std::span<const uint8_t, 32>(seed.data(), kSeedBytes));
}

Result<PublicKey> ParsePublicKeyText(std::span<const uint8_t> text, std::string_view what) {
  PublicKey key{};
  VCP_RETURN_IF_ERROR(ParseKeyText(std::string(what), kPublicPrefix, text.data(), text.size(), key.data()));
  return key;
}

Result<PublicKey> LoadPublicKey(const std::filesystem::path& file) {
  // The cap is generous so that a file with trailing junk gets the parser's precise message, not a size error.
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> text, ReadFileBytes(file, 4096));
  if (StartsWith(text.data(), text.size(), kSecretPrefix)) {
    // A secret key read by mistake: wipe it before the buffer goes back to the heap.
    sodium_memzero(text.data(), text.size());
    return Status::InvalidArgument(file.string() + " is a secret key; a public key is expected here: the vcp.pub "
                                   "file beside it, its directory, or the 64 hex digits vcp keygen printed. Keep "
                                   "the secret key private");
  }
  return ParsePublicKeyText(text, "public key file " + file.string());
}

namespace {

// A directory argument names the key pair vcp keygen wrote there; anything else is taken as the file itself.
Result<std::filesystem::path> KeyFileFromArgument(std::string_view argument, const char* name) {
  if (argument.empty()) {
    return Status::InvalidArgument(std::string("empty key argument: give a ") + name +
                                   " file or the directory vcp keygen wrote");
  }
  const std::filesystem::path path(argument);
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return path;  // on error, loading the file reports the reason
  const std::filesystem::path file = path / name;
  if (!std::filesystem::exists(file, ec)) {
    return Status::InvalidArgument("directory " + path.string() + " holds no " + name +
                                   ": give the directory vcp keygen --out wrote, or the key file itself");
  }
  return file;
}

bool IsHexText(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

}  // namespace

Result<PublicKey> ResolvePublicKey(std::string_view argument) {
  if (argument.size() == kHexDigits && IsHexText(argument)) {
    return FixedFromHex<kPublicKeyBytes>(argument, "public key");
  }
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(argument), ec)) {
    std::string what = "public key '";
    what.append(argument).append("'");
    if (IsHexText(argument)) {
      return Status::InvalidArgument(what + " has " + std::to_string(argument.size()) +
                                     " hex digits; a public key in hex has 64 (as vcp keygen prints it)");
    }
    return Status::InvalidArgument(what + " is not 64 hex digits and no such file or directory " +
                                   "exists; give the hex key vcp keygen printed, a vcp.pub file, or the directory " +
                                   "holding vcp.pub");
  }
  VCP_ASSIGN_OR_RETURN(std::filesystem::path file, KeyFileFromArgument(argument, "vcp.pub"));
  return LoadPublicKey(file);
}

Result<SecretKey> ResolveSecretKey(std::string_view argument) {
  VCP_ASSIGN_OR_RETURN(std::filesystem::path file, KeyFileFromArgument(argument, "vcp.key"));
  return LoadSecretKey(file);
}

}  // namespace vcp
