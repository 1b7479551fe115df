// Fuzz target public_key: a vcp.pub file's text (ParsePublicKeyText, vcp/keys.h) and the bare 64-hex-digit form
// ResolvePublicKey takes.
// Properties: an accepted vcp.pub text is the canonical line of its key (digits in either case, the newline
// optional); 64 hex digits resolve to the same key as the vcp.pub line holding them.
#include <cctype>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"

using namespace vcp;
using namespace vcp::fuzz;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

VCP_FUZZ_TARGET(public_key) {
  const std::string_view text = AsText(data);
  if (text.size() == 64 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
    Result<PublicKey> bare = ResolvePublicKey(text);
    VCP_FUZZ_CHECK(bare.ok(), "64 hex digits are not taken as a key: " + bare.status().ToString());
    const std::string line = "vcp-ed25519-public-v1 " + std::string(text);
    Result<PublicKey> from_line = ParsePublicKeyText(AsBytes(line), "line");
    VCP_FUZZ_CHECK(from_line.ok() && *from_line == *bare, "the bare digits and the vcp.pub line differ");
  }
  Result<PublicKey> key = ParsePublicKeyText(data, "fuzz public key");
  if (!key.ok()) {
    VCP_FUZZ_CHECK(key.status().code() == StatusCode::kCorrupt, key.status().ToString());
    return;
  }
  const std::string canonical = "vcp-ed25519-public-v1 " + ToHex(*key);
  std::string_view body = text;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  VCP_FUZZ_CHECK(body.substr(0, 22) == canonical.substr(0, 22) && Lower(body) == canonical,
                 "an accepted public key text is not the canonical line of its key");
}
