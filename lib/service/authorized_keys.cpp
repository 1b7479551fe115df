#include "service/authorized_keys.h"

#include <algorithm>
#include <cctype>

#include "fileio.h"
#include "vcp/bytes.h"

namespace vcp::service {

namespace {

constexpr std::string_view kPublicKeyPrefix = "vcp-ed25519-public-v1";
constexpr size_t kKeyHexDigits = 2 * kPublicKeyBytes;
constexpr uint64_t kMaxFileBytes = 1 << 20;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The next whitespace-separated word of `rest`, which keeps what follows it.
std::string_view NextWord(std::string_view& rest) {
  rest = Trim(rest);
  size_t end = 0;
  while (end < rest.size() && !IsSpace(rest[end])) ++end;
  std::string_view word = rest.substr(0, end);
  rest = Trim(rest.substr(end));
  return word;
}

bool IsHexKey(std::string_view word) {
  return word.size() == kKeyHexDigits &&
         std::all_of(word.begin(), word.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

Result<AuthorizedKeys> AuthorizedKeys::Parse(std::string_view text, std::string_view source) {
  AuthorizedKeys result;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    std::string_view rest = Trim(line);
    if (rest.empty() || rest.front() == '#') continue;
    std::string_view word = NextWord(rest);
    if (word == kPublicKeyPrefix) word = NextWord(rest);
    if (!IsHexKey(word)) {
      return Status::InvalidArgument(std::string(source) + " line " + std::to_string(line_number) + ": '" +
                                     std::string(Trim(line).substr(0, 80)) +
                                     "' is not a verifier key; allowed: 64 hex digits (as vcp keygen prints "
                                     "them) or 'vcp-ed25519-public-v1 HEX', optionally followed by a comment; "
                                     "'#' comment lines and blank lines");
    }
    VCP_ASSIGN_OR_RETURN(PublicKey key, FixedFromHex<kPublicKeyBytes>(word, "verifier key"));
    result.keys_.push_back(AuthorizedKey{key, std::string(rest), line_number});
  }
  return result;
}

Result<AuthorizedKeys> AuthorizedKeys::Load(const std::filesystem::path& file) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(file, kMaxFileBytes));
  const std::string text(bytes.begin(), bytes.end());
  return Parse(text, "authorized keys file " + file.string());
}

bool AuthorizedKeys::Contains(const PublicKey& key) const {
  return std::any_of(keys_.begin(), keys_.end(), [&](const AuthorizedKey& k) { return k.key == key; });
}

}  // namespace vcp::service
