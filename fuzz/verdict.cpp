// Fuzz target verdict: the verdict (ParseVerdict). Property: fuzz/message_property.h.
#include "message_property.h"

namespace {
using namespace vcp;
using namespace vcp::fuzz;
}  // namespace

VCP_FUZZ_TARGET(verdict) {
  const Golden& g = GetGolden();
  CheckMessage<Verdict>(
      data, [](std::span<const uint8_t> bytes) { return ParseVerdict(bytes); },
      [](const Verdict& m) { return CheckSignature(m, VerifierKey().public_key()).ok(); }, {Serialize(g.verdict)});
}
