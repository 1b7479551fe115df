// Fuzz target lease: the lease message (ParseLease). Property: fuzz/message_property.h.
#include "message_property.h"

namespace {
using namespace vcp;
using namespace vcp::fuzz;
}  // namespace

VCP_FUZZ_TARGET(lease) {
  const Golden& g = GetGolden();
  CheckMessage<Lease>(
      data, [](std::span<const uint8_t> bytes) { return ParseLease(bytes); },
      [](const Lease& m) { return m.verifier_key == VerifierKey().public_key() && CheckSignature(m).ok(); }, {Serialize(g.lease), Serialize(g.beacon_lease)});
}
