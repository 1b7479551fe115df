// Merkle trees, inclusion proofs and multiproofs against a tiny recursive RFC 6962 reference kept in this file,
// Certificate Transparency's published known answers, and every mutation of valid proofs.
#include "vcp/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ct_vectors.h"
#include "vcp/bytes.h"
#include "vcp/hash.h"

namespace vcp {
namespace {

using testing::kCtInclusionPaths;
using testing::kCtLeaves;
using testing::kCtRoots;

// ---------------------------------------------------------------------------------------------------------------
// Reference: RFC 6962 section 2.1 written as literally as possible, with its own hashing so that it shares nothing
// with lib/merkle.cpp but SHA-256 itself.

Hash32 RefHash(uint8_t prefix, std::span<const uint8_t> a, std::span<const uint8_t> b = {}) {
  std::vector<uint8_t> buf{prefix};
  buf.insert(buf.end(), a.begin(), a.end());
  buf.insert(buf.end(), b.begin(), b.end());
  return Sha256(buf);
}
Hash32 RefLeaf(std::span<const uint8_t> bytes) { return RefHash(0x00, bytes); }
Hash32 RefNode(const Hash32& l, const Hash32& r) { return RefHash(0x01, l, r); }

// The largest power of two strictly smaller than n (n >= 2), by counting rather than bit tricks.
uint64_t RefSplit(uint64_t n) {
  uint64_t k = 1;
  while (2 * k < n) k *= 2;
  return k;
}

// MTH(D[n]) over leaf hashes.
Hash32 RefMth(std::span<const Hash32> d) {
  if (d.empty()) return Sha256({});
  if (d.size() == 1) return d[0];
  const uint64_t k = RefSplit(d.size());
  return RefNode(RefMth(d.first(k)), RefMth(d.subspan(k)));
}

// PATH(m, D[n]) of RFC 6962 section 2.1.1. `left_sides` receives, per element, whether the sibling is on the left.
std::vector<Hash32> RefPath(uint64_t m, std::span<const Hash32> d, std::vector<bool>* left_sides = nullptr) {
  if (d.size() <= 1) return {};
  const uint64_t k = RefSplit(d.size());
  std::vector<Hash32> path;
  if (m < k) {
    path = RefPath(m, d.first(k), left_sides);
    path.push_back(RefMth(d.subspan(k)));
    if (left_sides) left_sides->push_back(false);
  } else {
    path = RefPath(m - k, d.subspan(k), left_sides);
    path.push_back(RefMth(d.first(k)));
    if (left_sides) left_sides->push_back(true);
  }
  return path;
}

// Whether leaf m's audit path has the same shape (length and sibling sides) in trees of sizes n1 and n2; when it
// does, the RFC 9162 verifier computes the same root from the same proof for both sizes, because an inclusion proof
// binds the tree size only through the root.
bool SamePathShape(uint64_t m, uint64_t n1, uint64_t n2) {
  const std::vector<Hash32> dummy1(n1), dummy2(n2);
  std::vector<bool> s1, s2;
  (void)RefPath(m, dummy1, &s1);
  (void)RefPath(m, dummy2, &s2);
  return s1 == s2;
}

// MP(D, S) exactly as docs/SPEC.md section 7.3 defines it; S holds indices relative to d.
std::vector<Hash32> RefMultiProof(std::span<const Hash32> d, const std::vector<uint64_t>& s) {
  if (d.size() == 1) return {};
  const uint64_t k = RefSplit(d.size());
  std::vector<uint64_t> l, r;
  for (uint64_t i : s) (i < k ? l : r).push_back(i < k ? i : i - k);
  std::vector<Hash32> out = l.empty() ? std::vector<Hash32>{RefMth(d.first(k))} : RefMultiProof(d.first(k), l);
  const std::vector<Hash32> right =
      r.empty() ? std::vector<Hash32>{RefMth(d.subspan(k))} : RefMultiProof(d.subspan(k), r);
  out.insert(out.end(), right.begin(), right.end());
  return out;
}

// The shape of MP(D[0:n], S): "L" an opened leaf, "H" a proof hash, "(xy)" a node. Two (n, S) with the same shape
// are indistinguishable to a verifier that is given the same hashes and the same root.
std::string MultiShape(uint64_t n, const std::vector<uint64_t>& s) {
  if (n == 1) return "L";
  const uint64_t k = RefSplit(n);
  std::vector<uint64_t> l, r;
  for (uint64_t i : s) (i < k ? l : r).push_back(i < k ? i : i - k);
  std::string shape = "(";
  shape += l.empty() ? std::string("H") : MultiShape(k, l);
  shape += r.empty() ? std::string("H") : MultiShape(n - k, r);
  shape += ")";
  return shape;
}

// ---------------------------------------------------------------------------------------------------------------

Hash32 H(std::string_view hex) {
  auto r = FixedFromHex<32>(hex);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Hash32{};
}

std::vector<uint8_t> Bytes(std::string_view hex) {
  auto r = FromHex(hex);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<uint8_t>{};
}

// Distinct leaf bytes for synthetic trees: the index, little-endian, plus a varying tail so lengths differ too.
std::vector<Hash32> SyntheticLeaves(uint64_t n) {
  std::vector<Hash32> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::vector<uint8_t> bytes(8 + i % 5, static_cast<uint8_t>(0xa0 + i % 7));
    for (int b = 0; b < 8; ++b) bytes[b] = static_cast<uint8_t>(i >> (8 * b));
    out.push_back(RefLeaf(bytes));
  }
  return out;
}

Hash32 FlipBit(Hash32 h, int bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

std::vector<Hash32> CtLeafHashes(size_t n) {
  std::vector<Hash32> out;
  for (size_t i = 0; i < n; ++i) out.push_back(MerkleLeafHash(Bytes(kCtLeaves[i])));
  return out;
}

TEST(MerkleKnownAnswer, EmptyTree) {
  EXPECT_EQ(ToHex(MerkleEmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const MerkleTree tree = MerkleTree::Build({});
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.root(), MerkleEmptyRoot());
  EXPECT_FALSE(tree.InclusionProof(0).ok());
}

TEST(MerkleKnownAnswer, CertificateTransparencyRoots) {
  for (size_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(ToHex(MerkleTree::Build(CtLeafHashes(n)).root()), kCtRoots[n - 1]) << "tree size " << n;
  }
}

TEST(MerkleKnownAnswer, CertificateTransparencyInclusionProofs) {
  for (const testing::CtInclusionVector& v : kCtInclusionPaths) {
    const std::vector<Hash32> leaves = CtLeafHashes(v.size);
    const MerkleTree tree = MerkleTree::Build(leaves);
    auto proof = tree.InclusionProof(v.index);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    std::vector<Hash32> expected;
    for (const char* h : v.path) expected.push_back(H(h));
    EXPECT_EQ(*proof, expected) << "leaf " << v.index << " of " << v.size;
    EXPECT_TRUE(VerifyInclusion(v.index, v.size, leaves[v.index], expected, H(kCtRoots[v.size - 1])).ok());
  }
}

TEST(MerkleKnownAnswer, LeafAndNodeHashesAreDomainSeparated) {
  const std::vector<uint8_t> empty;
  EXPECT_EQ(ToHex(MerkleLeafHash(empty)), kCtRoots[0]);  // the one-leaf tree's root is its leaf hash
  const Hash32 a = MerkleLeafHash(empty), b = MerkleLeafHash(Bytes("00"));
  EXPECT_EQ(ToHex(MerkleNodeHash(a, b)), kCtRoots[1]);
  // A node's 64 input bytes hashed as a leaf must differ from the node: that is what the prefixes are for.
  std::vector<uint8_t> concat(a.begin(), a.end());
  concat.insert(concat.end(), b.begin(), b.end());
  EXPECT_NE(MerkleLeafHash(concat), MerkleNodeHash(a, b));
  for (size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 200u}) {
    const std::vector<uint8_t> bytes(len, 0x5a);
    EXPECT_EQ(MerkleLeafHash(bytes), RefLeaf(bytes)) << "length " << len;
  }
}

TEST(MerkleTree, RootsAndLevelsMatchReferenceForEverySizeUpTo64) {
  for (uint64_t n = 0; n <= 64; ++n) {
    const std::vector<Hash32> leaves = SyntheticLeaves(n);
    const MerkleTree tree = MerkleTree::Build(leaves, 1);
    ASSERT_EQ(tree.size(), n);
    EXPECT_EQ(tree.root(), RefMth(leaves)) << "tree size " << n;
    // Level h node j is MTH of leaves [j*2^h, min((j+1)*2^h, n)): the invariant ProveMulti relies on.
    for (size_t h = 0; h < tree.levels().size(); ++h) {
      const uint64_t width = uint64_t{1} << h;
      ASSERT_EQ(tree.levels()[h].size(), (n + width - 1) / width) << "n " << n << " level " << h;
      for (uint64_t j = 0; j < tree.levels()[h].size(); ++j) {
        const uint64_t lo = j * width, hi = std::min(n, lo + width);
        EXPECT_EQ(tree.levels()[h][j], RefMth(std::span(leaves).subspan(lo, hi - lo)))
            << "n " << n << " level " << h << " node " << j;
      }
    }
  }
}

TEST(MerkleTree, ParallelBuildEqualsSerialAndReference) {
  // Large enough that several levels are split across threads (the grain is 4096 nodes), with an odd size so
  // promotions happen at chunk boundaries too.
  for (uint64_t n : {uint64_t{4096 * 3 + 5}, uint64_t{16385}}) {
    const std::vector<Hash32> leaves = SyntheticLeaves(n);
    const MerkleTree serial = MerkleTree::Build(leaves, 1);
    const MerkleTree parallel = MerkleTree::Build(leaves, 4);
    EXPECT_EQ(serial.levels(), parallel.levels()) << "n " << n;
    EXPECT_EQ(parallel.root(), RefMth(leaves)) << "n " << n;
  }
}

// Every way of corrupting a valid inclusion proof must be rejected.
void ExpectInclusionMutationsRejected(const std::vector<Hash32>& leaves, uint64_t index,
                                      const std::vector<Hash32>& proof, bool every_bit) {
  const uint64_t n = leaves.size();
  const Hash32 root = RefMth(leaves), leaf = leaves[index];
  auto rejected = [&](uint64_t i, uint64_t size, const Hash32& l, const std::vector<Hash32>& p, const Hash32& r) {
    const Status s = VerifyInclusion(i, size, l, p, r);
    return !s.ok() && s.code() == StatusCode::kRejected;
  };
  const std::string where = "leaf " + std::to_string(index) + " of " + std::to_string(n);

  EXPECT_TRUE(rejected(index + 1, n, leaf, proof, root)) << where << ": index + 1";
  if (index > 0) {
    EXPECT_TRUE(rejected(index - 1, n, leaf, proof, root)) << where << ": index - 1";
  }
  EXPECT_TRUE(rejected(n, n, leaf, proof, root)) << where << ": index = size";

  // Size changed by one. Against the true root of the other size the proof must fail; against this root it is
  // accepted exactly when the audit path has the same shape in both trees (RFC 9162 binds size via the root only).
  for (uint64_t other : {n - 1, n + 1}) {
    if (other == 0) continue;
    const std::vector<Hash32> other_leaves = SyntheticLeaves(other);
    const Hash32 other_root = RefMth(other_leaves);
    EXPECT_TRUE(rejected(index, other, leaf, proof, other_root)) << where << ": size " << other << ", its root";
    const bool same_shape = index < other && SamePathShape(index, n, other);
    EXPECT_EQ(VerifyInclusion(index, other, leaf, proof, root).ok(), same_shape)
        << where << ": size " << other << ", this root";
  }

  for (size_t e = 0; e < proof.size(); ++e) {
    for (int bit = 0; bit < 256; bit += every_bit ? 1 : 9) {
      std::vector<Hash32> p = proof;
      p[e] = FlipBit(p[e], bit);
      EXPECT_TRUE(rejected(index, n, leaf, p, root)) << where << ": element " << e << " bit " << bit;
    }
  }
  for (size_t at = 0; at <= proof.size(); ++at) {
    for (const Hash32& extra : {root, leaf, MerkleEmptyRoot()}) {
      std::vector<Hash32> p = proof;
      p.insert(p.begin() + static_cast<std::ptrdiff_t>(at), extra);
      EXPECT_TRUE(rejected(index, n, leaf, p, root)) << where << ": element added at " << at;
    }
  }
  for (size_t e = 0; e < proof.size(); ++e) {
    std::vector<Hash32> p = proof;
    p.erase(p.begin() + static_cast<std::ptrdiff_t>(e));
    EXPECT_TRUE(rejected(index, n, leaf, p, root)) << where << ": element " << e << " removed";
  }
  for (size_t a = 0; a < proof.size(); ++a) {
    for (size_t b = a + 1; b < proof.size(); ++b) {
      std::vector<Hash32> p = proof;
      std::swap(p[a], p[b]);
      EXPECT_TRUE(rejected(index, n, leaf, p, root)) << where << ": elements " << a << " and " << b << " swapped";
    }
  }
  EXPECT_TRUE(rejected(index, n, FlipBit(leaf, 0), proof, root)) << where << ": wrong leaf";
  if (n > 1) {
    EXPECT_TRUE(rejected(index, n, leaves[(index + 1) % n], proof, root)) << where << ": other leaf";
  }
  EXPECT_TRUE(rejected(index, n, leaf, proof, FlipBit(root, 255))) << where << ": wrong root";
  EXPECT_TRUE(rejected(index, n, leaf, proof, MerkleEmptyRoot())) << where << ": empty root";
}

TEST(MerkleInclusion, EveryLeafOfEverySizeUpTo64MatchesReferenceAndResistsMutation) {
  for (uint64_t n = 1; n <= 64; ++n) {
    const std::vector<Hash32> leaves = SyntheticLeaves(n);
    const MerkleTree tree = MerkleTree::Build(leaves);
    const Hash32 root = tree.root();
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = tree.InclusionProof(i);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_EQ(*proof, RefPath(i, leaves)) << "leaf " << i << " of " << n;
      ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], *proof, root).ok()) << "leaf " << i << " of " << n;
      ExpectInclusionMutationsRejected(leaves, i, *proof, /*every_bit=*/n <= 16);
    }
    EXPECT_FALSE(tree.InclusionProof(n).ok());
  }
}

TEST(MerkleInclusion, LargeTreeMatchesReference) {
  const std::vector<Hash32> leaves = SyntheticLeaves(5000);
  const MerkleTree tree = MerkleTree::Build(leaves);
  for (uint64_t i : {uint64_t{0}, uint64_t{1}, uint64_t{2047}, uint64_t{4095}, uint64_t{4096}, uint64_t{4998},
                     uint64_t{4999}}) {
    auto proof = tree.InclusionProof(i);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(*proof, RefPath(i, leaves)) << "leaf " << i;
    EXPECT_TRUE(VerifyInclusion(i, 5000, leaves[i], *proof, tree.root()).ok());
  }
}

TEST(MerkleInclusion, ErrorsNameBothRoots) {
  const std::vector<Hash32> leaves = SyntheticLeaves(7);
  const MerkleTree tree = MerkleTree::Build(leaves);
  const Hash32 wrong = FlipBit(tree.root(), 3);
  const Status s = VerifyInclusion(3, 7, leaves[3], *tree.InclusionProof(3), wrong);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(ToHex(tree.root())), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find(ToHex(wrong)), std::string_view::npos) << s.ToString();
  EXPECT_FALSE(VerifyInclusion(0, 0, leaves[0], {}, MerkleEmptyRoot()).ok());
}

// ---------------------------------------------------------------------------------------------------------------
// Multiproofs.

std::vector<uint64_t> RandomIndexSet(uint64_t n, std::mt19937_64& rng) {
  std::vector<uint64_t> s;
  switch (rng() % 4) {
    case 0:  // sparse
      for (uint64_t i = 0; i < n; ++i) {
        if (rng() % 8 == 0) s.push_back(i);
      }
      break;
    case 1:  // dense
      for (uint64_t i = 0; i < n; ++i) {
        if (rng() % 2 == 0) s.push_back(i);
      }
      break;
    case 2: {  // a contiguous run
      const uint64_t a = rng() % n, b = a + rng() % (n - a);
      for (uint64_t i = a; i <= b; ++i) s.push_back(i);
      break;
    }
    default:  // one or two leaves
      s.push_back(rng() % n);
      s.push_back(rng() % n);
      std::sort(s.begin(), s.end());
      s.erase(std::unique(s.begin(), s.end()), s.end());
      break;
  }
  if (s.empty()) s.push_back(rng() % n);
  return s;
}

std::vector<Hash32> Pick(const std::vector<Hash32>& leaves, const std::vector<uint64_t>& s) {
  std::vector<Hash32> out;
  for (uint64_t i : s) out.push_back(leaves[i]);
  return out;
}

void ExpectMultiMutationsRejected(const std::vector<Hash32>& leaves, const MultiProof& proof) {
  const uint64_t n = leaves.size();
  const Hash32 root = RefMth(leaves);
  const std::vector<Hash32> opened = Pick(leaves, proof.indices);
  auto rejected = [&](const MultiProof& p, const std::vector<Hash32>& l, const Hash32& r) {
    const Status s = VerifyMulti(p, l, r);
    return !s.ok() && s.code() == StatusCode::kRejected;
  };
  std::string where = "n " + std::to_string(n) + " indices";
  for (uint64_t i : proof.indices) where += ' ' + std::to_string(i);

  for (size_t e = 0; e < proof.hashes.size(); ++e) {
    for (int bit : {0, 77, 255}) {
      MultiProof p = proof;
      p.hashes[e] = FlipBit(p.hashes[e], bit);
      EXPECT_TRUE(rejected(p, opened, root)) << where << ": hash " << e << " bit " << bit;
    }
    MultiProof removed = proof;
    removed.hashes.erase(removed.hashes.begin() + static_cast<std::ptrdiff_t>(e));
    EXPECT_TRUE(rejected(removed, opened, root)) << where << ": hash " << e << " removed";
    for (size_t f = e + 1; f < proof.hashes.size(); ++f) {
      MultiProof swapped = proof;
      std::swap(swapped.hashes[e], swapped.hashes[f]);
      EXPECT_TRUE(rejected(swapped, opened, root)) << where << ": hashes " << e << ", " << f << " swapped";
    }
  }
  for (size_t at = 0; at <= proof.hashes.size(); ++at) {
    MultiProof added = proof;
    added.hashes.insert(added.hashes.begin() + static_cast<std::ptrdiff_t>(at), root);
    EXPECT_TRUE(rejected(added, opened, root)) << where << ": hash added at " << at;
  }
  // Leaf hashes: each wrong, one missing, one extra, two swapped.
  for (size_t e = 0; e < opened.size(); ++e) {
    std::vector<Hash32> l = opened;
    l[e] = FlipBit(l[e], 100);
    EXPECT_TRUE(rejected(proof, l, root)) << where << ": leaf hash " << e << " wrong";
  }
  {
    std::vector<Hash32> l = opened;
    l.pop_back();
    EXPECT_TRUE(rejected(proof, l, root)) << where << ": a leaf hash missing";
    l = opened;
    l.push_back(opened[0]);
    EXPECT_TRUE(rejected(proof, l, root)) << where << ": a leaf hash extra";
  }
  if (opened.size() >= 2) {
    std::vector<Hash32> l = opened;
    std::swap(l[0], l[1]);
    EXPECT_TRUE(rejected(proof, l, root)) << where << ": leaf hashes swapped";
  }
  // Indices: each dropped (with its leaf hash), one added (with its true leaf hash), unsorted, duplicated,
  // out of range.
  for (size_t e = 0; e < proof.indices.size(); ++e) {
    MultiProof p = proof;
    std::vector<Hash32> l = opened;
    p.indices.erase(p.indices.begin() + static_cast<std::ptrdiff_t>(e));
    l.erase(l.begin() + static_cast<std::ptrdiff_t>(e));
    EXPECT_TRUE(rejected(p, l, root)) << where << ": index " << proof.indices[e] << " dropped";
  }
  for (uint64_t extra = 0; extra < n; ++extra) {
    if (std::binary_search(proof.indices.begin(), proof.indices.end(), extra)) continue;
    MultiProof p = proof;
    const auto pos = std::lower_bound(p.indices.begin(), p.indices.end(), extra) - p.indices.begin();
    p.indices.insert(p.indices.begin() + pos, extra);
    std::vector<Hash32> l = opened;
    l.insert(l.begin() + pos, leaves[extra]);
    EXPECT_TRUE(rejected(p, l, root)) << where << ": index " << extra << " added";
    break;  // one is enough per set; the random sets vary where
  }
  if (proof.indices.size() >= 2) {
    MultiProof p = proof;
    std::vector<Hash32> l = opened;
    std::swap(p.indices[0], p.indices[1]);
    std::swap(l[0], l[1]);
    EXPECT_TRUE(rejected(p, l, root)) << where << ": indices unsorted";
  }
  {
    MultiProof p = proof;
    std::vector<Hash32> l = opened;
    p.indices.insert(p.indices.begin(), p.indices[0]);
    l.insert(l.begin(), l[0]);
    EXPECT_TRUE(rejected(p, l, root)) << where << ": index duplicated";
    p = proof;
    p.indices.back() = n;
    EXPECT_TRUE(rejected(p, opened, root)) << where << ": index out of range";
    p = proof;
    p.indices.clear();
    EXPECT_TRUE(rejected(p, {}, root)) << where << ": no indices";
  }
  // Tree size changed: rejected against the other size's root; against this root accepted exactly when the
  // recursion has the same shape for both sizes (a multiproof binds the size through the root only).
  for (uint64_t other : {n - 1, n + 1}) {
    MultiProof p = proof;
    p.tree_size = other;
    EXPECT_TRUE(rejected(p, opened, RefMth(SyntheticLeaves(other)))) << where << ": size " << other << ", its root";
    const bool in_range = other > 0 && proof.indices.back() < other;
    const bool same_shape = in_range && MultiShape(other, proof.indices) == MultiShape(n, proof.indices);
    EXPECT_EQ(VerifyMulti(p, opened, root).ok(), same_shape) << where << ": size " << other << ", this root";
  }
  EXPECT_TRUE(rejected(proof, opened, FlipBit(root, 200))) << where << ": wrong root";
}

TEST(MerkleMulti, MatchesReferenceAndResistsMutation) {
  std::mt19937_64 rng(20240611);
  for (uint64_t n = 1; n <= 64; ++n) {
    const std::vector<Hash32> leaves = SyntheticLeaves(n);
    const MerkleTree tree = MerkleTree::Build(leaves);
    for (int trial = 0; trial < 12; ++trial) {
      const std::vector<uint64_t> s = RandomIndexSet(n, rng);
      auto proof = ProveMulti(tree, s);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_EQ(proof->tree_size, n);
      ASSERT_EQ(proof->indices, s);
      ASSERT_EQ(proof->hashes, RefMultiProof(leaves, s)) << "n " << n << " trial " << trial;
      ASSERT_TRUE(VerifyMulti(*proof, Pick(leaves, s), tree.root()).ok()) << "n " << n << " trial " << trial;
      ExpectMultiMutationsRejected(leaves, *proof);
    }
  }
}

TEST(MerkleMulti, EdgeSets) {
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{5}, uint64_t{8}, uint64_t{9}, uint64_t{4099}}) {
    const std::vector<Hash32> leaves = SyntheticLeaves(n);
    const MerkleTree tree = MerkleTree::Build(leaves);
    std::vector<uint64_t> all(n);
    for (uint64_t i = 0; i < n; ++i) all[i] = i;
    for (const std::vector<uint64_t>& s :
         {std::vector<uint64_t>{0}, std::vector<uint64_t>{n - 1}, all}) {
      auto proof = ProveMulti(tree, s);
      ASSERT_TRUE(proof.ok());
      EXPECT_EQ(proof->hashes, RefMultiProof(leaves, s)) << "n " << n;
      EXPECT_TRUE(VerifyMulti(*proof, Pick(leaves, s), tree.root()).ok()) << "n " << n;
    }
    // Opening every leaf needs no hashes; opening one leaf needs exactly its audit path's hashes, listed left to
    // right: for leaf 0 every sibling is on the right, so that is the audit path's bottom-up order; for the last
    // leaf every sibling is on the left, so it is the audit path reversed.
    EXPECT_TRUE(ProveMulti(tree, all)->hashes.empty());
    EXPECT_EQ(ProveMulti(tree, std::vector<uint64_t>{0})->hashes, *tree.InclusionProof(0)) << "n " << n;
    std::vector<Hash32> path = *tree.InclusionProof(n - 1);
    std::reverse(path.begin(), path.end());
    EXPECT_EQ(ProveMulti(tree, std::vector<uint64_t>{n - 1})->hashes, path) << "n " << n;
  }
}

TEST(MerkleMulti, ProveRejectsBadIndexSets) {
  const MerkleTree tree = MerkleTree::Build(SyntheticLeaves(10));
  EXPECT_EQ(ProveMulti(tree, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ProveMulti(tree, std::vector<uint64_t>{3, 2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ProveMulti(tree, std::vector<uint64_t>{2, 2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ProveMulti(tree, std::vector<uint64_t>{10}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ProveMulti(MerkleTree::Build({}), std::vector<uint64_t>{0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(MerkleMulti, ErrorsNameBothRoots) {
  const std::vector<Hash32> leaves = SyntheticLeaves(11);
  const MerkleTree tree = MerkleTree::Build(leaves);
  const std::vector<uint64_t> s{1, 7};
  const Hash32 wrong = FlipBit(tree.root(), 9);
  const Status st = VerifyMulti(*ProveMulti(tree, s), Pick(leaves, s), wrong);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(ToHex(tree.root())), std::string_view::npos) << st.ToString();
  EXPECT_NE(st.message().find(ToHex(wrong)), std::string_view::npos) << st.ToString();
}

// ---------------------------------------------------------------------------------------------------------------
// Serialization.

TEST(MerkleMultiSerialization, LayoutIsAsSpecified) {
  const std::vector<Hash32> leaves = SyntheticLeaves(5);
  const MultiProof proof = *ProveMulti(MerkleTree::Build(leaves), std::vector<uint64_t>{1, 4});
  ASSERT_EQ(proof.hashes.size(), 2u);  // leaf 0 and node [2, 4)
  const std::vector<uint8_t> bytes = SerializeMultiProof(proof);
  std::string expected_head = ToHex(std::vector<uint8_t>{'V', 'C', 'P', 'M'}) + "02" + "01" + "0500000000000000" +
                              "02000000" + "0100000000000000" + "0400000000000000" + "02000000";
  EXPECT_EQ(ToHex(std::span(bytes).first(expected_head.size() / 2)), expected_head);
  EXPECT_EQ(bytes.size(), expected_head.size() / 2 + 64);
  EXPECT_EQ(ToHex(std::span(bytes).last(64)), ToHex(proof.hashes[0]) + ToHex(proof.hashes[1]));
}

TEST(MerkleMultiSerialization, RoundTripsAndRejectsEveryCorruption) {
  std::mt19937_64 rng(7);
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{13}, uint64_t{64}, uint64_t{1000}}) {
    const std::vector<Hash32> leaves = SyntheticLeaves(n);
    const MerkleTree tree = MerkleTree::Build(leaves);
    for (int trial = 0; trial < 3; ++trial) {
      const MultiProof proof = *ProveMulti(tree, RandomIndexSet(n, rng));
      const std::vector<uint8_t> bytes = SerializeMultiProof(proof);
      auto parsed = ParseMultiProof(bytes);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(parsed->tree_size, proof.tree_size);
      EXPECT_EQ(parsed->indices, proof.indices);
      EXPECT_EQ(parsed->hashes, proof.hashes);
      EXPECT_TRUE(VerifyMulti(*parsed, Pick(leaves, parsed->indices), tree.root()).ok());

      for (size_t len = 0; len < bytes.size(); ++len) {
        auto r = ParseMultiProof(std::span(bytes).first(len));
        ASSERT_FALSE(r.ok()) << "n " << n << ": truncated to " << len << " of " << bytes.size() << " bytes";
        EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
      }
      std::vector<uint8_t> longer = bytes;
      longer.push_back(0);
      EXPECT_FALSE(ParseMultiProof(longer).ok()) << "trailing byte";
      for (size_t i = 0; i < 6; ++i) {  // each magic byte, the version and the hash id
        std::vector<uint8_t> b = bytes;
        b[i] ^= 0x01;
        EXPECT_FALSE(ParseMultiProof(b).ok()) << "byte " << i << " flipped";
      }
    }
  }
}

// Builds the bytes field by field so each header field can be made wrong on its own.
std::vector<uint8_t> Encode(uint8_t version, uint64_t size, const std::vector<uint64_t>& indices, uint32_t count,
                            uint32_t hash_count, size_t hashes_present, uint8_t hash_id = 1) {
  ByteWriter w;
  w.Text("VCPM");
  w.U8(version);
  w.U8(hash_id);
  w.U64(size);
  w.U32(count);
  for (uint64_t i : indices) w.U64(i);
  w.U32(hash_count);
  for (size_t i = 0; i < hashes_present; ++i) w.Bytes(FlipBit(Hash32{}, static_cast<int>(i)));
  return w.Take();
}

TEST(MerkleMultiSerialization, RejectsImpossibleHeaders) {
  auto code = [](const std::vector<uint8_t>& b) { return ParseMultiProof(b).status().code(); };
  // The valid base: tree of 8, indices {1, 5}, 4 hashes (leaf 0, node [2,4), leaf 4, node [6,8)).
  ASSERT_TRUE(ParseMultiProof(Encode(2, 8, {1, 5}, 2, 4, 4)).ok());
  EXPECT_EQ(code(Encode(0, 8, {1, 5}, 2, 4, 4)), StatusCode::kCorrupt);           // version 0
  EXPECT_EQ(code(Encode(1, 8, {1, 5}, 2, 4, 4)), StatusCode::kCorrupt);           // version 1 (replaced by 2)
  EXPECT_EQ(code(Encode(3, 8, {1, 5}, 2, 4, 4)), StatusCode::kCorrupt);           // version 3
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 2, 4, 4, 0)), StatusCode::kCorrupt);        // hash id 0
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 2, 4, 4, 2)), StatusCode::kCorrupt);        // hash id 2 (no such hash)
  EXPECT_EQ(code(Encode(2, 0, {}, 0, 0, 0)), StatusCode::kCorrupt);               // tree size 0
  EXPECT_EQ(code(Encode(2, 8, {}, 0, 0, 0)), StatusCode::kCorrupt);               // no indices
  EXPECT_EQ(code(Encode(2, 8, {5, 1}, 2, 4, 4)), StatusCode::kCorrupt);           // unsorted
  EXPECT_EQ(code(Encode(2, 8, {5, 5}, 2, 4, 4)), StatusCode::kCorrupt);           // duplicate
  EXPECT_EQ(code(Encode(2, 8, {1, 8}, 2, 4, 4)), StatusCode::kCorrupt);           // out of range
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 3, 4, 4)), StatusCode::kCorrupt);           // count larger than the indices
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 0xffffffffu, 4, 4)), StatusCode::kCorrupt);  // absurd count, no allocation
  // The index set fixes the hash count: one more or one fewer is malformed even when the bytes agree with it.
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 2, 5, 5)), StatusCode::kCorrupt);
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 2, 3, 3)), StatusCode::kCorrupt);
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 2, 4, 3)), StatusCode::kCorrupt);  // hash count larger than the bytes
  EXPECT_EQ(code(Encode(2, 8, {1, 5}, 2, 4, 5)), StatusCode::kCorrupt);  // a trailing hash
  EXPECT_EQ(code(Encode(2, 8, {1}, 1, 4, 4)), StatusCode::kCorrupt);
  EXPECT_EQ(code(Encode(2, 8, {1}, 1, 0xffffffffu, 3)), StatusCode::kCorrupt);  // absurd hash count
  EXPECT_TRUE(ParseMultiProof(Encode(2, 8, {1}, 1, 3, 3)).ok());
  EXPECT_EQ(code(Encode(2, 1, {0}, 1, 1, 1)), StatusCode::kCorrupt);  // a one-leaf tree needs no hash
}

TEST(MerkleMultiSerialization, MessagesSayWhatWasWrong) {
  auto message = [](const std::vector<uint8_t>& b) { return std::string(ParseMultiProof(b).status().message()); };
  std::vector<uint8_t> bad_magic = Encode(2, 8, {1}, 1, 3, 3);
  bad_magic[0] = 'X';
  EXPECT_NE(message(bad_magic).find("magic"), std::string::npos) << message(bad_magic);
  EXPECT_NE(message(Encode(3, 8, {1}, 1, 3, 3)).find("version 3"), std::string::npos);
  EXPECT_NE(message(Encode(1, 8, {1}, 1, 3, 3)).find("only version 2"), std::string::npos);
  EXPECT_NE(message(Encode(2, 8, {1}, 1, 3, 3, 7)).find("hash id 7"), std::string::npos);
  EXPECT_NE(message(Encode(2, 8, {1}, 1, 3, 3, 7)).find("SHA-256"), std::string::npos);
  EXPECT_NE(message(Encode(2, 8, {2, 1}, 2, 0, 0)).find("increasing"), std::string::npos);
  EXPECT_NE(message(Encode(2, 8, {9}, 1, 0, 0)).find("out of range"), std::string::npos);
  EXPECT_NE(message(Encode(2, 8, {1}, 1, 3, 4)).find("trailing"), std::string::npos);
  EXPECT_NE(message(Encode(2, 8, {1}, 1, 3, 2)).find("truncated"), std::string::npos);
  EXPECT_NE(message(Encode(2, 8, {1}, 1, 2, 2)).find("need exactly 3"), std::string::npos);
}

}  // namespace
}  // namespace vcp
