// Fuzz target multiproof: the multiproof file (ParseMultiProof, docs/SPEC.md section 7.4).
// Properties: whatever parses re-serializes to the input bytes; a parsed proof that verifies against the golden
// tree's root carries exactly the canonical hashes of its indices (ProveMulti over that tree): no other hash list
// verifies. (Its tree size may differ where the shape agrees: see below.)
#include <algorithm>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/merkle.h"

using namespace vcp;
using namespace vcp::fuzz;

VCP_FUZZ_TARGET(multiproof) {
  const Golden& g = GetGolden();
  Result<MultiProof> parsed = ParseMultiProof(data);
  if (!parsed.ok()) {
    VCP_FUZZ_CHECK(parsed.status().code() == StatusCode::kCorrupt, parsed.status().ToString());
    return;
  }
  const std::vector<uint8_t> again = SerializeMultiProof(*parsed);
  VCP_FUZZ_CHECK(std::equal(again.begin(), again.end(), data.begin(), data.end()),
                 "the parsed proof re-serializes to other bytes");
  VCP_FUZZ_CHECK(!parsed->indices.empty() && std::is_sorted(parsed->indices.begin(), parsed->indices.end()),
                 "a parsed proof has sorted, non-empty indices");
  // The leaves it claims to open, as the golden tree holds them (a zero hash for an index outside it).
  const std::vector<Hash32>& level0 = g.proof_tree.levels()[0];
  std::vector<Hash32> leaves;
  for (uint64_t index : parsed->indices) leaves.push_back(index < level0.size() ? level0[index] : Hash32{});
  if (!VerifyMulti(*parsed, leaves, g.proof_tree.root()).ok()) return;
  // The tree size is not bound by the root: a proof claiming another size whose tree has the same shape above the
  // opened leaves verifies too (fuzz/regressions/multiproof/crash-719cec9e..., 39 for 37), as in RFC 9162 where
  // the size comes from the signed tree head. The protocol never takes it from the proof (LeavesPerRound of the
  // lease); what must hold is that the hashes are the canonical ones.
  Result<MultiProof> canonical = ProveMulti(g.proof_tree, parsed->indices);
  VCP_FUZZ_CHECK(canonical.ok(), "a verifying proof's indices cannot be proven: " + canonical.status().ToString());
  VCP_FUZZ_CHECK(canonical->hashes == parsed->hashes, "a proof with other hashes than the canonical one verifies");
}
