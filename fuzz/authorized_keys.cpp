// Fuzz target authorized_keys: the agent's authorized keys file (AuthorizedKeys::Parse, lib/service).
// Properties: every accepted key is found by Contains; a key's line number is within the text; parsing the
// canonical text (one bare hex key and its comment per line) gives the same keys and comments.
#include <algorithm>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "service/authorized_keys.h"
#include "vcp/bytes.h"

using namespace vcp;
using namespace vcp::fuzz;

VCP_FUZZ_TARGET(authorized_keys) {
  const std::string_view text = AsText(data);
  Result<service::AuthorizedKeys> keys = service::AuthorizedKeys::Parse(text, "fuzz authorized keys");
  if (!keys.ok()) {
    VCP_FUZZ_CHECK(!keys.status().message().empty(), "a refusal says what was wrong");
    return;
  }
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  std::string canonical;
  for (const service::AuthorizedKey& k : keys->keys()) {
    VCP_FUZZ_CHECK(keys->Contains(k.key), "an accepted key is not found by Contains");
    VCP_FUZZ_CHECK(k.line >= 1 && k.line <= lines, "key line " + std::to_string(k.line) + " is outside the text");
    canonical += ToHex(k.key) + (k.comment.empty() ? "" : " " + k.comment) + "\n";
  }
  Result<service::AuthorizedKeys> again = service::AuthorizedKeys::Parse(canonical, "canonical authorized keys");
  VCP_FUZZ_CHECK(again.ok(), "the canonical text is refused: " + again.status().ToString());
  VCP_FUZZ_CHECK(again->keys().size() == keys->keys().size(), "the canonical text has another number of keys");
  for (size_t i = 0; i < again->keys().size(); ++i) {
    VCP_FUZZ_CHECK(again->keys()[i].key == keys->keys()[i].key && again->keys()[i].comment == keys->keys()[i].comment,
                   "the canonical text parses to another key or comment at entry " + std::to_string(i));
  }
}
