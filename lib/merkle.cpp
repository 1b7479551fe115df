// RFC 6962 / RFC 9162 Merkle trees over a level representation, inclusion proofs and multiproofs
// (docs/SPEC.md section 7).
//
// Why the level representation is the RFC 6962 tree. Level h node j covers leaves [j*2^h, min((j+1)*2^h, n)).
// Claim: it equals MTH of that range. Level 0 holds the leaf hashes. For h >= 1 let m be the size of the range:
// if m > 2^(h-1) the node is NODE(level h-1 node 2j, level h-1 node 2j+1); the left child covers a full
// 2^(h-1) block and the right one the remaining m - 2^(h-1) <= 2^(h-1) leaves, and 2^(h-1) is exactly the
// largest power of two smaller than m, so this is RFC 6962's split. If m <= 2^(h-1) only child 2j exists, it
// covers the same range, and carrying it up unchanged is right. Hence promotion of an unpaired node, never
// duplication, gives MTH.
//
// Which RFC subtrees are nodes. Every range the RFC recursion visits from [0, n) has the form [lo, hi) with
// hi - lo <= 2^h, lo a multiple of 2^h (h = ceil(log2(hi - lo))), and either hi - lo = 2^h or hi = n: the root
// range has lo = 0 and hi = n; splitting [lo, hi) at k = 2^(h-1) gives the aligned full block [lo, lo + k) and
// [lo + k, hi), which is aligned to 2^(h-1), hence to 2^h' for its own h' <= h-1, and is either full (when
// [lo, hi) was) or ends at n. Such a range is exactly level h node lo >> h, so every subtree hash a proof needs
// is read from the levels, never recomputed.
#include "vcp/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

#include "merkle_positions.h"
#include "parallel.h"
#include "vcp/bytes.h"

namespace vcp {

namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// Levels below this many nodes are hashed on the calling thread: starting threads costs more than hashing them.
constexpr uint64_t kParallelGrain = 4096;

constexpr char kMultiProofMagic[] = "VCPM";
constexpr uint8_t kMultiProofVersion = 2;
constexpr uint8_t kMultiProofHashId = 1;  // SHA-256: the hash of every leaf, node and proof hash in the file

// The largest power of two strictly smaller than n; requires n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// Number of levels above the leaves in a tree of n >= 1 leaves: ceil(log2 n).
int Depth(uint64_t n) { return n <= 1 ? 0 : static_cast<int>(std::bit_width(n - 1)); }

// Checks the index set every multiproof operation requires: nonempty, strictly increasing, each < tree_size.
Status CheckIndices(std::span<const uint64_t> indices, uint64_t tree_size) {
  if (tree_size == 0) return Status::InvalidArgument("a multiproof needs a tree of at least one leaf, got size 0");
  if (indices.empty()) return Status::InvalidArgument("a multiproof must open at least one leaf, got no indices");
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= tree_size) {
      return Status::InvalidArgument("index " + std::to_string(indices[i]) + " is out of range: the tree has " +
                                     std::to_string(tree_size) + " leaves (indices 0 to " +
                                     std::to_string(tree_size - 1) + ")");
    }
    if (i > 0 && indices[i] <= indices[i - 1]) {
      return Status::InvalidArgument("indices must be strictly increasing, but index " + std::to_string(indices[i]) +
                                     " follows " + std::to_string(indices[i - 1]) + " at position " +
                                     std::to_string(i));
    }
  }
  return Status::Ok();
}

// The multiproof walk of docs/SPEC.md 7.3 over [lo, hi) with the sorted absolute indices s inside it: split at
// the largest power of two below hi - lo; a side without an opened index is a proof node, emitted as
// emit(level, index) (see the file comment for why it is a node of the levels), a side with one recurses. Proving,
// counting (the parser, which must not allocate for a forged size) and the CUDA gather all use this one walk.
template <typename Emit>
void WalkMultiProof(uint64_t lo, uint64_t hi, std::span<const uint64_t> s, const Emit& emit) {
  if (hi - lo == 1) return;
  const uint64_t mid = lo + SplitPoint(hi - lo);
  const size_t left_count = static_cast<size_t>(std::lower_bound(s.begin(), s.end(), mid) - s.begin());
  const auto left = s.first(left_count), right = s.subspan(left_count);
  if (left.empty()) {
    const int h = Depth(mid - lo);
    emit(h, lo >> h);
  } else {
    WalkMultiProof(lo, mid, left, emit);
  }
  if (right.empty()) {
    const int h = Depth(hi - mid);
    emit(h, mid >> h);
  } else {
    WalkMultiProof(mid, hi, right, emit);
  }
}

// The number of hashes in MP(D[0:n], S), without allocating.
uint64_t CountProofHashes(uint64_t tree_size, std::span<const uint64_t> s) {
  uint64_t count = 0;
  WalkMultiProof(0, tree_size, s, [&count](int, uint64_t) { ++count; });
  return count;
}

// Recomputes MTH(D[lo:hi]) from the opened leaves inside it and the proof hashes, consuming proof hashes in the
// order WalkMultiProof emits them. `s` and `leaves` are the opened indices in [lo, hi) and their hashes.
class MultiVerifier {
 public:
  explicit MultiVerifier(std::span<const Hash32> hashes) : hashes_(hashes) {}

  Status Range(uint64_t lo, uint64_t hi, std::span<const uint64_t> s, std::span<const Hash32> leaves, Hash32& out) {
    if (hi - lo == 1) {
      out = leaves[0];  // the caller's checks guarantee s == {lo} here
      return Status::Ok();
    }
    const uint64_t mid = lo + SplitPoint(hi - lo);
    const size_t left_count = static_cast<size_t>(std::lower_bound(s.begin(), s.end(), mid) - s.begin());
    Hash32 left{}, right{};
    VCP_RETURN_IF_ERROR(Side(lo, mid, s.first(left_count), leaves.first(left_count), left));
    VCP_RETURN_IF_ERROR(Side(mid, hi, s.subspan(left_count), leaves.subspan(left_count), right));
    out = MerkleNodeHash(left, right);
    return Status::Ok();
  }

  size_t used() const { return next_; }

 private:
  Status Side(uint64_t lo, uint64_t hi, std::span<const uint64_t> s, std::span<const Hash32> leaves, Hash32& out) {
    if (!s.empty()) return Range(lo, hi, s, leaves, out);
    if (next_ == hashes_.size()) {
      return Status::Rejected("multiproof has too few hashes: " + std::to_string(hashes_.size()) +
                              " ran out at the subtree of leaves [" + std::to_string(lo) + ", " + std::to_string(hi) +
                              ")");
    }
    out = hashes_[next_++];
    return Status::Ok();
  }

  std::span<const Hash32> hashes_;
  size_t next_ = 0;
};

}  // namespace

Hash32 MerkleLeafHash(std::span<const uint8_t> leaf_bytes) {
  Sha256Hasher hasher;
  hasher.Update(kLeafPrefix);
  hasher.Update(leaf_bytes);
  return hasher.Final();
}

Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right) {
  // Node hashing is all of tree building. A one-shot digest allocates and frees an OpenSSL context per call;
  // reusing one context per thread (Final() re-initialises it) makes a 2^16-leaf build about 15% faster.
  thread_local Sha256Hasher hasher;
  std::array<uint8_t, 1 + 2 * kHashBytes> buf;
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 1 + kHashBytes);
  hasher.Update(buf);
  return hasher.Final();
}

Hash32 MerkleEmptyRoot() { return Sha256({}); }

void HashLevel(std::span<const Hash32> below, std::span<Hash32> above, int threads) {
  const uint64_t below_size = below.size();
  ParallelFor(above.size(), threads, kParallelGrain, [&](uint64_t begin, uint64_t end) {
    for (uint64_t j = begin; j < end; ++j) {
      // An unpaired last node is promoted unchanged (RFC 6962's split; see the file comment).
      above[j] = 2 * j + 1 < below_size ? MerkleNodeHash(below[2 * j], below[2 * j + 1]) : below[2 * j];
    }
  });
}

MerkleTree MerkleTree::Build(std::vector<Hash32> leaf_hashes, int threads) {
  MerkleTree tree;
  tree.levels_.push_back(std::move(leaf_hashes));
  while (tree.levels_.back().size() > 1) {
    std::vector<Hash32> level((tree.levels_.back().size() + 1) / 2);
    HashLevel(tree.levels_.back(), level, threads);
    tree.levels_.push_back(std::move(level));
  }
  return tree;
}

Hash32 MerkleTree::root() const { return size() == 0 ? MerkleEmptyRoot() : levels_.back()[0]; }

Result<std::vector<Hash32>> MerkleTree::InclusionProof(uint64_t index) const {
  if (index >= size()) {
    return Status::InvalidArgument("leaf index " + std::to_string(index) + " is out of range: the tree has " +
                                   std::to_string(size()) + " leaves");
  }
  // Bottom-up siblings; a promoted node has no sibling on its level and contributes nothing, which is exactly
  // RFC 9162's PATH for the uneven right edge.
  std::vector<Hash32> path;
  uint64_t j = index;
  for (size_t h = 0; h + 1 < levels_.size(); ++h, j >>= 1) {
    const uint64_t sibling = j ^ 1;
    if (sibling < levels_[h].size()) path.push_back(levels_[h][sibling]);
  }
  return path;
}

Status VerifyInclusion(uint64_t index, uint64_t tree_size, const Hash32& leaf_hash, std::span<const Hash32> proof,
                       const Hash32& root) {
  // RFC 9162 section 2.1.3.2, step by step.
  if (index >= tree_size) {
    return Status::Rejected("leaf index " + std::to_string(index) + " is out of range for tree size " +
                            std::to_string(tree_size));
  }
  uint64_t fn = index, sn = tree_size - 1;
  Hash32 r = leaf_hash;
  for (size_t i = 0; i < proof.size(); ++i) {
    if (sn == 0) {
      return Status::Rejected("inclusion proof for leaf " + std::to_string(index) + " in a tree of size " +
                              std::to_string(tree_size) + " is too long: " + std::to_string(proof.size()) +
                              " hashes, element " + std::to_string(i) + " reaches past the root");
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(proof[i], r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(r, proof[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Status::Rejected("inclusion proof for leaf " + std::to_string(index) + " in a tree of size " +
                            std::to_string(tree_size) + " is too short: " + std::to_string(proof.size()) +
                            " hashes do not reach the root");
  }
  if (r != root) {
    return Status::Rejected("inclusion proof for leaf " + std::to_string(index) + " in a tree of size " +
                            std::to_string(tree_size) + " computes root " + ToHex(r) + ", expected " + ToHex(root));
  }
  return Status::Ok();
}

Result<MultiProof> ProveMulti(const MerkleTree& tree, std::span<const uint64_t> indices) {
  VCP_RETURN_IF_ERROR(CheckIndices(indices, tree.size()));
  MultiProof proof;
  proof.tree_size = tree.size();
  proof.indices.assign(indices.begin(), indices.end());
  WalkMultiProof(0, tree.size(), indices,
                 [&](int level, uint64_t index) { proof.hashes.push_back(tree.levels()[level][index]); });
  return proof;
}

std::vector<uint64_t> MerkleLevelSizes(uint64_t leaf_count) {
  std::vector<uint64_t> sizes{leaf_count};
  while (sizes.back() > 1) sizes.push_back((sizes.back() + 1) / 2);
  return sizes;
}

Result<std::vector<NodePosition>> MultiProofNodePositions(uint64_t tree_size, std::span<const uint64_t> indices) {
  VCP_RETURN_IF_ERROR(CheckIndices(indices, tree_size));
  std::vector<NodePosition> positions;
  WalkMultiProof(0, tree_size, indices, [&](int level, uint64_t index) {
    positions.push_back({static_cast<uint32_t>(level), index});
  });
  return positions;
}

Status VerifyMulti(const MultiProof& proof, std::span<const Hash32> leaf_hashes, const Hash32& root) {
  if (Status s = CheckIndices(proof.indices, proof.tree_size); !s.ok()) {
    return Status::Rejected("multiproof: " + std::string(s.message()));
  }
  if (leaf_hashes.size() != proof.indices.size()) {
    return Status::Rejected("multiproof opens " + std::to_string(proof.indices.size()) + " leaves but " +
                            std::to_string(leaf_hashes.size()) + " leaf hashes were given");
  }
  MultiVerifier verifier(proof.hashes);
  Hash32 computed{};
  VCP_RETURN_IF_ERROR(verifier.Range(0, proof.tree_size, proof.indices, leaf_hashes, computed));
  if (verifier.used() != proof.hashes.size()) {
    return Status::Rejected("multiproof has too many hashes: " + std::to_string(proof.hashes.size()) +
                            " given, the recomputation used " + std::to_string(verifier.used()));
  }
  if (computed != root) {
    return Status::Rejected("multiproof over " + std::to_string(proof.indices.size()) + " leaves of a tree of size " +
                            std::to_string(proof.tree_size) + " computes root " + ToHex(computed) + ", expected " +
                            ToHex(root));
  }
  return Status::Ok();
}

std::vector<uint8_t> SerializeMultiProof(const MultiProof& proof) {
  ByteWriter w;
  w.Text(std::string_view(kMultiProofMagic, 4));
  w.U8(kMultiProofVersion);
  w.U8(kMultiProofHashId);
  w.U64(proof.tree_size);
  w.U32(static_cast<uint32_t>(proof.indices.size()));
  for (uint64_t i : proof.indices) w.U64(i);
  w.U32(static_cast<uint32_t>(proof.hashes.size()));
  for (const Hash32& h : proof.hashes) w.Bytes(h);
  return w.Take();
}

Result<MultiProof> ParseMultiProof(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "multiproof");
  VCP_RETURN_IF_ERROR(r.Expect(std::string_view(kMultiProofMagic, 4)));
  uint8_t version = 0;
  VCP_RETURN_IF_ERROR(r.U8(version));
  if (version != kMultiProofVersion) {
    return Status::Corrupt("multiproof version " + std::to_string(version) + " is not supported: only version " +
                           std::to_string(kMultiProofVersion) + " is");
  }
  uint8_t hash_id = 0;
  VCP_RETURN_IF_ERROR(r.U8(hash_id));
  if (hash_id != kMultiProofHashId) {
    return Status::Corrupt("multiproof hash id " + std::to_string(hash_id) + " is not supported: only hash id " +
                           std::to_string(kMultiProofHashId) + " (SHA-256) is");
  }
  MultiProof proof;
  VCP_RETURN_IF_ERROR(r.U64(proof.tree_size));
  if (proof.tree_size == 0) return Status::Corrupt("multiproof tree size is 0: a proof needs at least one leaf");

  uint32_t count = 0;
  VCP_RETURN_IF_ERROR(r.U32(count));
  if (count == 0) return Status::Corrupt("multiproof opens no leaves: the index count must be at least 1");
  // Checked before allocating, so a forged count cannot make us reserve gigabytes.
  if (uint64_t{count} * 8 > r.remaining()) {
    return Status::Corrupt("multiproof index count " + std::to_string(count) + " needs " +
                           std::to_string(uint64_t{count} * 8) + " bytes but only " + std::to_string(r.remaining()) +
                           " remain");
  }
  proof.indices.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    VCP_RETURN_IF_ERROR(r.U64(proof.indices[i]));
    if (proof.indices[i] >= proof.tree_size) {
      return Status::Corrupt("multiproof index " + std::to_string(proof.indices[i]) + " at position " +
                             std::to_string(i) + " is out of range for tree size " +
                             std::to_string(proof.tree_size));
    }
    if (i > 0 && proof.indices[i] <= proof.indices[i - 1]) {
      return Status::Corrupt("multiproof indices must be strictly increasing: " + std::to_string(proof.indices[i]) +
                             " at position " + std::to_string(i) + " follows " +
                             std::to_string(proof.indices[i - 1]));
    }
  }

  uint32_t hash_count = 0;
  VCP_RETURN_IF_ERROR(r.U32(hash_count));
  // The index set alone fixes how many hashes MP(D, S) has, so any other count is malformed; checking it here
  // also keeps a forged count from allocating more than the input holds.
  const uint64_t required = CountProofHashes(proof.tree_size, proof.indices);
  if (hash_count != required) {
    return Status::Corrupt("multiproof hash count " + std::to_string(hash_count) + " is wrong: " +
                           std::to_string(count) + " opened leaves of a tree of size " +
                           std::to_string(proof.tree_size) + " need exactly " + std::to_string(required));
  }
  const uint64_t hash_bytes = uint64_t{hash_count} * kHashBytes;
  if (hash_bytes > r.remaining()) {
    return Status::Corrupt("multiproof is truncated: hash count " + std::to_string(hash_count) + " needs " +
                           std::to_string(hash_bytes) + " bytes of hashes, but only " + std::to_string(r.remaining()) +
                           " remain");
  }
  proof.hashes.resize(hash_count);
  for (Hash32& h : proof.hashes) VCP_RETURN_IF_ERROR(r.Bytes(h));
  VCP_RETURN_IF_ERROR(r.ExpectEnd());
  return proof;
}

Result<std::vector<uint8_t>> ParseMerkleLeaf(std::string_view text, std::string_view what) {
  if (text == kMerkleEmptyLeaf) return std::vector<uint8_t>{};
  return FromHex(text, what);
}

Result<std::vector<std::vector<uint8_t>>> ParseMerkleLeafFile(std::string_view text, std::string_view source) {
  std::vector<std::vector<uint8_t>> leaves;
  size_t at = 0;
  for (uint64_t line_no = 1; at < text.size(); ++line_no) {
    const size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = std::string(source) + " line " + std::to_string(line_no);
    if (line.empty()) {
      return Status::InvalidArgument(where + " is blank; every line must hold one leaf as hex digits, or \"" +
                                     std::string(kMerkleEmptyLeaf) + "\" alone for the empty leaf");
    }
    VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> leaf, ParseMerkleLeaf(line, where));
    leaves.push_back(std::move(leaf));
  }
  return leaves;
}

}  // namespace vcp
