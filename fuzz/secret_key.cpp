// Fuzz target secret_key: a vcp.key file's text (ParseSecretKeyText, vcp/keys.h).
// Property: an accepted text is exactly "vcp-ed25519-secret-v1 " + 64 hex digits (either case) + an optional
// newline, and the key is the one those digits seed.
#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"

using namespace vcp;
using namespace vcp::fuzz;

VCP_FUZZ_TARGET(secret_key) {
  Result<SecretKey> key = ParseSecretKeyText(data, "fuzz secret key");
  if (!key.ok()) {
    VCP_FUZZ_CHECK(key.status().code() == StatusCode::kCorrupt, key.status().ToString());
    return;
  }
  std::string_view text = AsText(data);
  constexpr std::string_view kPrefix = "vcp-ed25519-secret-v1 ";
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  VCP_FUZZ_CHECK(text.size() == kPrefix.size() + 64 && text.substr(0, kPrefix.size()) == kPrefix,
                 "an accepted secret key text is not prefix + 64 digits + optional newline");
  Result<std::array<uint8_t, 32>> seed = FixedFromHex<32>(text.substr(kPrefix.size()), "seed");
  VCP_FUZZ_CHECK(seed.ok(), "the accepted digits are not hex: " + seed.status().ToString());
  Result<SecretKey> expected = SecretKey::FromSeed(*seed);
  VCP_FUZZ_CHECK(expected.ok() && expected->public_key() == key->public_key(),
                 "the parsed key is not the one its digits seed");
}
