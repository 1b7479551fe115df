// Fuzz target acceptance: the lease acceptance (ParseLeaseAcceptance). Property: fuzz/message_property.h.
#include "message_property.h"

namespace {
using namespace vcp;
using namespace vcp::fuzz;
}  // namespace

VCP_FUZZ_TARGET(acceptance) {
  const Golden& g = GetGolden();
  CheckMessage<LeaseAcceptance>(
      data, [](std::span<const uint8_t> bytes) { return ParseLeaseAcceptance(bytes); },
      [](const LeaseAcceptance& m) { return CheckSignature(m, ProviderKey().public_key()).ok(); }, {Serialize(g.acceptance)});
}
