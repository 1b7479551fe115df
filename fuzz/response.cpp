// Fuzz target response: the epoch response (ParseEpochResponse). Property: fuzz/message_property.h.
#include "message_property.h"

namespace {
using namespace vcp;
using namespace vcp::fuzz;
}  // namespace

VCP_FUZZ_TARGET(response) {
  const Golden& g = GetGolden();
  CheckMessage<EpochResponse>(
      data, [](std::span<const uint8_t> bytes) { return ParseEpochResponse(bytes); },
      [](const EpochResponse& m) { return CheckSignature(m, ProviderKey().public_key()).ok(); }, {Serialize(g.response)});
}
