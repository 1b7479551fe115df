// Fuzz target challenge: the challenge (ParseChallenge). Property: fuzz/message_property.h.
#include "message_property.h"

namespace {
using namespace vcp;
using namespace vcp::fuzz;
}  // namespace

VCP_FUZZ_TARGET(challenge) {
  const Golden& g = GetGolden();
  CheckMessage<Challenge>(
      data, [](std::span<const uint8_t> bytes) { return ParseChallenge(bytes); },
      [](const Challenge& m) { return CheckSignature(m, VerifierKey().public_key()).ok(); }, {Serialize(g.challenge)});
}
