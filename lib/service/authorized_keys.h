// lib/service/authorized_keys.h: the agent's list of verifier public keys allowed to offer it leases, read from a
// text file in the manner of SSH's authorized_keys (docs/API.md section 2.1):
//
//   # comment lines and blank lines are ignored
//   3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 renter-a (optional comment)
//   vcp-ed25519-public-v1 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 renter-b
//
// A key is the 64 hex digits `vcp keygen` prints (either case), or a vcp.pub line; anything after the key and
// whitespace is a comment. Any other line is refused when the file is read, naming the line, so a typo cannot
// silently lock out (or let in) a verifier.
//
// Ownership: values. Thread safety: immutable after Parse / Load, so Contains may run on many threads. Errors:
// kInvalidArgument naming the file and line; kIoError when the file cannot be read.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/keys.h"
#include "vcp/status.h"

namespace vcp::service {

struct AuthorizedKey {
  PublicKey key{};
  std::string comment;  // the rest of the line after the key, trimmed ("" when none)
  size_t line = 0;      // 1-based line in the file
};

class AuthorizedKeys {
 public:
  // `source` names the text in errors ("authorized keys file /etc/vcp/authorized_keys").
  static Result<AuthorizedKeys> Parse(std::string_view text, std::string_view source);
  static Result<AuthorizedKeys> Load(const std::filesystem::path& file);

  bool Contains(const PublicKey& key) const;
  const std::vector<AuthorizedKey>& keys() const { return keys_; }

 private:
  std::vector<AuthorizedKey> keys_;
};

}  // namespace vcp::service
