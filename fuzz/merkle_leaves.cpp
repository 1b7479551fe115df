// Fuzz target merkle_leaves: `vcp merkle`'s leaf file (ParseMerkleLeafFile, vcp/merkle.h).
// Properties: an accepted file has one leaf per line; its canonical text (lower-case hex, "-" for the empty
// leaf, one per line) parses to the same leaves; the tree over them proves and verifies its first and last leaf.
#include <algorithm>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/bytes.h"
#include "vcp/merkle.h"

using namespace vcp;
using namespace vcp::fuzz;

VCP_FUZZ_TARGET(merkle_leaves) {
  const std::string_view text = AsText(data);
  Result<std::vector<std::vector<uint8_t>>> leaves = ParseMerkleLeafFile(text, "fuzz leaf file");
  if (!leaves.ok()) {
    VCP_FUZZ_CHECK(leaves.status().code() == StatusCode::kInvalidArgument, leaves.status().ToString());
    return;
  }
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  if (!text.empty() && text.back() != '\n') ++lines;
  VCP_FUZZ_CHECK(leaves->size() == lines, "one leaf per line: " + std::to_string(leaves->size()) + " leaves, " +
                                              std::to_string(lines) + " lines");
  std::string canonical;
  std::vector<Hash32> hashes;
  for (const std::vector<uint8_t>& leaf : *leaves) {
    canonical += (leaf.empty() ? std::string(kMerkleEmptyLeaf) : ToHex(leaf)) + "\n";
    hashes.push_back(MerkleLeafHash(leaf));
  }
  Result<std::vector<std::vector<uint8_t>>> again = ParseMerkleLeafFile(canonical, "canonical leaf file");
  VCP_FUZZ_CHECK(again.ok() && *again == *leaves, "the canonical text parses to other leaves");
  if (hashes.empty()) return;
  const MerkleTree tree = MerkleTree::Build(hashes, 1);
  for (uint64_t index : {uint64_t{0}, tree.size() - 1}) {
    Result<std::vector<Hash32>> proof = tree.InclusionProof(index);
    VCP_FUZZ_CHECK(proof.ok() && VerifyInclusion(index, tree.size(), hashes[index], *proof, tree.root()).ok(),
                   "leaf " + std::to_string(index) + "'s inclusion proof does not verify");
  }
}
