// Fuzz target record: the epoch record (ParseEpochRecord). Property: fuzz/message_property.h.
#include "message_property.h"

namespace {
using namespace vcp;
using namespace vcp::fuzz;
}  // namespace

VCP_FUZZ_TARGET(record) {
  const Golden& g = GetGolden();
  CheckMessage<EpochRecord>(
      data, [](std::span<const uint8_t> bytes) { return ParseEpochRecord(bytes); },
      [](const EpochRecord& m) { return CheckSignature(m, ProviderKey().public_key()).ok(); }, {Serialize(g.record)});
}
