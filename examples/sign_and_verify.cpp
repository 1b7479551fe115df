// Sign a message with a fresh Ed25519 key, verify it, then show that one flipped byte is rejected.
// Uses only the public headers: vcp/keys.h for keys and signatures, vcp/bytes.h for hex.
#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>

#include "vcp/bytes.h"
#include "vcp/keys.h"

int main() {
  auto key = vcp::SecretKey::Generate();  // in memory only; SaveKeyPair would write DIR/vcp.key and DIR/vcp.pub
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.status().ToString().c_str());
    return 1;
  }
  constexpr std::string_view kText = "root of run 42: 9f86d081884c7d65";
  const std::span<const uint8_t> message(reinterpret_cast<const uint8_t*>(kText.data()), kText.size());

  const vcp::Signature signature = key->Sign(message);
  std::printf("public key  %s\n", vcp::ToHex(key->public_key()).c_str());
  std::printf("message     \"%.*s\"\n", static_cast<int>(kText.size()), kText.data());
  std::printf("signature   %s\n", vcp::ToHex(signature).c_str());

  const vcp::Status good = vcp::VerifySignature(key->public_key(), message, signature);
  std::printf("verify      %s\n", good.ToString().c_str());

  vcp::Signature tampered = signature;
  tampered[10] ^= 0x01;
  const vcp::Status bad = vcp::VerifySignature(key->public_key(), message, tampered);
  std::printf("flipped     %s\n", bad.ToString().c_str());

  // The example fails loudly if the library ever accepted the tampered signature or refused the genuine one.
  return good.ok() && bad.code() == vcp::StatusCode::kRejected ? 0 : 1;
}
