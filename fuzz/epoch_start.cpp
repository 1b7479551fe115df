// Fuzz target epoch_start: the epoch start (ParseEpochStart). Property: fuzz/message_property.h.
#include "message_property.h"

namespace {
using namespace vcp;
using namespace vcp::fuzz;
}  // namespace

VCP_FUZZ_TARGET(epoch_start) {
  const Golden& g = GetGolden();
  CheckMessage<EpochStart>(
      data, [](std::span<const uint8_t> bytes) { return ParseEpochStart(bytes); },
      [](const EpochStart& m) { return CheckSignature(m, VerifierKey().public_key()).ok(); }, {Serialize(g.start)});
}
