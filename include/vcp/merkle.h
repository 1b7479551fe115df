// vcp/merkle.h: Merkle trees exactly as RFC 6962 / RFC 9162 section 2.1 define them, inclusion proofs, and
// multi-leaf proofs (docs/SPEC.md section 7).
//
//   leaf hash  = SHA-256(0x00 || leaf bytes)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH({})    = SHA-256()                       (the empty string)
//   MTH(D[n])  = NODE(MTH(D[0:k]), MTH(D[k:n]))  k = the largest power of two smaller than n
//
/* An uneven tree of 5 leaves: the last leaf is promoted, never duplicated.

                root
               /    \
             n03     e
            /   \
          n01   n23
          / \   / \
         a   b c   d   e
*/
// Indices are 0-based. Ownership: MerkleTree owns every level of its tree; proofs are values. Thread safety:
// a built MerkleTree is immutable and may be read from many threads. Errors: proving out of range, verifying a
// wrong proof and parsing malformed bytes return Status with both roots / the offending index in the message.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vcp/hash.h"
#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

VCP_EXPORT Hash32 MerkleLeafHash(std::span<const uint8_t> leaf_bytes);
VCP_EXPORT Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right);
VCP_EXPORT Hash32 MerkleEmptyRoot();

// All levels of a tree over leaf hashes. Level 0 holds the leaf hashes; level i+1 pairs level i left to right and
// carries an unpaired last node up unchanged, which yields the RFC 6962 tree.
class VCP_EXPORT MerkleTree {
 public:
  // threads = 0: all hardware threads.
  static MerkleTree Build(std::vector<Hash32> leaf_hashes, int threads = 0);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Hash32 root() const;
  const std::vector<std::vector<Hash32>>& levels() const { return levels_; }
  // Audit path for leaf `index`, bottom-up (RFC 9162 section 2.1.3).
  Result<std::vector<Hash32>> InclusionProof(uint64_t index) const;

 private:
  std::vector<std::vector<Hash32>> levels_;
};

// RFC 9162 section 2.1.3.2 verification. leaf_hash is MerkleLeafHash(leaf bytes).
[[nodiscard]] VCP_EXPORT Status VerifyInclusion(uint64_t index, uint64_t tree_size, const Hash32& leaf_hash,
                                                std::span<const Hash32> proof, const Hash32& root);

// Opens several leaves at once without repeating any hash (docs/SPEC.md section 7.3). `hashes` are the roots of
// the maximal subtrees that contain no opened leaf, in the order a left-to-right depth-first walk meets them.
struct VCP_EXPORT MultiProof {
  uint64_t tree_size = 0;
  std::vector<uint64_t> indices;  // strictly increasing, each < tree_size, at least one
  std::vector<Hash32> hashes;
};

// Requires strictly increasing indices (callers sort and deduplicate first).
VCP_EXPORT Result<MultiProof> ProveMulti(const MerkleTree& tree, std::span<const uint64_t> indices);
// leaf_hashes holds the hashes of proof.indices, in that order. The root does not bind proof.tree_size: a proof
// claiming another size whose tree has the same shape above the opened leaves verifies too (as in RFC 9162, where
// the size comes from the signed tree head), so take the size from a trusted source, never from the proof bytes
// (the protocol derives it from the lease; fuzz/multiproof.cpp found the case).
[[nodiscard]] VCP_EXPORT Status VerifyMulti(const MultiProof& proof, std::span<const Hash32> leaf_hashes,
                                            const Hash32& root);

// `vcp merkle`'s leaf file (docs/CLI.md): one leaf per line as hex digits (either case), or kMerkleEmptyLeaf alone
// for the empty leaf (zero bytes, which hex cannot write on a line of its own without making a blank line mean
// something). A final newline is optional and CRLF line ends are accepted; a blank line is refused, because it is
// almost always a stray edit and skipping it would shift every later index. Returns each line's leaf bytes, in
// order. `source` names the text in errors (kInvalidArgument naming the line).
inline constexpr std::string_view kMerkleEmptyLeaf = "-";
VCP_EXPORT Result<std::vector<std::vector<uint8_t>>> ParseMerkleLeafFile(std::string_view text,
                                                                          std::string_view source);
// One leaf as such a line (or a --leaf value) writes it: hex, or kMerkleEmptyLeaf; `what` names it in errors.
VCP_EXPORT Result<std::vector<uint8_t>> ParseMerkleLeaf(std::string_view text, std::string_view what);

// Serialization (docs/SPEC.md section 7.4): magic "VCPM", u8 version 2, u8 hash id 1 (SHA-256), u64 tree size,
// u32 count, count x u64 indices, u32 hash count, hashes. Parsing rejects wrong magic, version, hash id, lengths,
// unsorted indices and trailing bytes.
VCP_EXPORT std::vector<uint8_t> SerializeMultiProof(const MultiProof& proof);
VCP_EXPORT Result<MultiProof> ParseMultiProof(std::span<const uint8_t> bytes);

}  // namespace vcp
