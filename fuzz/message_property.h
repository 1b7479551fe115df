// fuzz/message_property.h: the property every protocol message target checks (one target per message type).
//
//   1. Whatever parses re-serializes to exactly the input bytes (one canonical encoding per message).
//   2. A parsed message whose signature verifies under the golden key of its signer is byte-equal to the golden
//      message of that type: no mutation of a signed message verifies.
//
// Ownership, thread safety: stateless. Errors: a failed property aborts (fuzz_target.h).
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/protocol.h"

namespace vcp::fuzz {

template <typename Message, typename Parse, typename Verifies>
void CheckMessage(std::span<const uint8_t> data, Parse parse, Verifies verifies,
                  const std::vector<std::vector<uint8_t>>& golden) {
  Result<Message> parsed = parse(data);
  if (!parsed.ok()) {
    VCP_FUZZ_CHECK(parsed.status().code() == StatusCode::kCorrupt, "a refused message is kCorrupt, got " +
                                                                        parsed.status().ToString());
    VCP_FUZZ_CHECK(!parsed.status().message().empty(), "a refusal says what was wrong");
    return;
  }
  const std::vector<uint8_t> again = Serialize(*parsed);
  VCP_FUZZ_CHECK(std::equal(again.begin(), again.end(), data.begin(), data.end()),
                 "the parsed message re-serializes to other bytes (" + std::to_string(again.size()) + " vs " +
                     std::to_string(data.size()) + ")");
  if (verifies(*parsed)) {
    const bool is_golden = std::any_of(golden.begin(), golden.end(), [&](const std::vector<uint8_t>& g) {
      return std::equal(g.begin(), g.end(), data.begin(), data.end());
    });
    VCP_FUZZ_CHECK(is_golden, "a message that is not the golden one verifies under the golden key");
  }
}

}  // namespace vcp::fuzz
