// vcp merkle root | prove | verify: RFC 6962 Merkle trees over a text file of leaves, one hex-encoded leaf per
// line ("-" alone for the empty leaf), and RFC 9162 inclusion proofs over them. Leaf hash = SHA-256(0x00 || leaf
// bytes), exactly as the tile commitments hash their leaves, so these commands double as a standalone RFC 6962
// tool.
#include <charconv>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "fileio.h"
#include "vcp/bytes.h"
#include "vcp/merkle.h"

namespace vcp::cli {

namespace {

// Leaf hashes of a leaf file (the format of vcp/merkle.h ParseMerkleLeafFile).
Result<std::vector<Hash32>> ReadLeafFile(const std::string& path) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path));
  VCP_ASSIGN_OR_RETURN(
      const std::vector<std::vector<uint8_t>> leaves,
      ParseMerkleLeafFile(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path));
  std::vector<Hash32> hashes;
  hashes.reserve(leaves.size());
  for (const std::vector<uint8_t>& leaf : leaves) hashes.push_back(MerkleLeafHash(leaf));
  return hashes;
}

Result<MerkleTree> TreeOfFile(const std::string& path) {
  VCP_ASSIGN_OR_RETURN(std::vector<Hash32> leaves, ReadLeafFile(path));
  return MerkleTree::Build(std::move(leaves));
}

nlohmann::json HexList(const std::vector<Hash32>& hashes) {
  nlohmann::json list = nlohmann::json::array();
  for (const Hash32& h : hashes) list.push_back(ToHex(h));
  return list;
}

int DoRoot(const CliState& state, const std::string& path) {
  auto tree = TreeOfFile(path);
  if (!tree.ok()) return ReportError(state, tree.status());
  if (state.json) {
    PrintJson({{"ok", true}, {"tree_size", tree->size()}, {"root", ToHex(tree->root())}});
  } else {
    std::cout << ToHex(tree->root()) << "\n";
  }
  return kExitOk;
}

int DoProve(const CliState& state, const std::string& path, uint64_t index) {
  auto tree = TreeOfFile(path);
  if (!tree.ok()) return ReportError(state, tree.status());
  if (index >= tree->size()) {
    return ReportError(state, Status::InvalidArgument("--index " + std::to_string(index) + " is out of range: " +
                                                      path + " holds " + std::to_string(tree->size()) + " leaves"));
  }
  auto proof = tree->InclusionProof(index);
  if (!proof.ok()) return ReportError(state, proof.status());
  if (state.json) {
    PrintJson({{"ok", true},
               {"tree_size", tree->size()},
               {"index", index},
               {"leaf_hash", ToHex(tree->levels()[0][index])},
               {"root", ToHex(tree->root())},
               {"proof", HexList(*proof)}});
  } else {
    for (const Hash32& h : *proof) std::cout << ToHex(h) << "\n";
  }
  return kExitOk;
}

struct VerifyFlags {
  uint64_t size = 0;
  uint64_t index = 0;
  std::string leaf;   // leaf bytes, hex; "" or "-" is the empty leaf
  std::string root;   // 64 hex digits
  std::string proof;  // comma-separated hashes, bottom-up; empty for a one-leaf tree
};

// "H1,H2,..." into hashes; the empty string is the empty proof.
Result<std::vector<Hash32>> ParseProofList(std::string_view text) {
  std::vector<Hash32> proof;
  if (text.empty()) return proof;
  size_t at = 0;
  for (size_t element = 0;; ++element) {
    const size_t end = std::min(text.find(',', at), text.size());
    VCP_ASSIGN_OR_RETURN(Hash32 h,
                         FixedFromHex<kHashBytes>(text.substr(at, end - at),
                                                  "--proof element " + std::to_string(element)));
    proof.push_back(h);
    if (end == text.size()) return proof;
    at = end + 1;
  }
}

int DoVerify(const CliState& state, const VerifyFlags& f) {
  if (f.size == 0) {
    return ReportError(state, Status::InvalidArgument("--size 0 has no leaves to prove; --size must be at least 1"));
  }
  if (f.index >= f.size) {
    return ReportError(state, Status::InvalidArgument("--index " + std::to_string(f.index) +
                                                      " is out of range for --size " + std::to_string(f.size) +
                                                      " (indices 0 to " + std::to_string(f.size - 1) + ")"));
  }
  auto leaf = ParseMerkleLeaf(f.leaf, "--leaf");
  if (!leaf.ok()) return ReportError(state, leaf.status());
  auto root = FixedFromHex<kHashBytes>(f.root, "--root");
  if (!root.ok()) return ReportError(state, root.status());
  auto proof = ParseProofList(f.proof);
  if (!proof.ok()) return ReportError(state, proof.status());

  const Hash32 leaf_hash = MerkleLeafHash(*leaf);
  if (Status s = VerifyInclusion(f.index, f.size, leaf_hash, *proof, *root); !s.ok()) return ReportError(state, s);
  if (state.json) {
    PrintJson({{"ok", true}, {"valid", true}, {"tree_size", f.size}, {"index", f.index},
               {"leaf_hash", ToHex(leaf_hash)}, {"root", ToHex(*root)}});
  } else {
    std::cout << "valid: leaf " << f.index << " is in the tree of size " << f.size << " with root " << ToHex(*root)
              << "\n";
  }
  return kExitOk;
}

// CLI11 would wrap "-1" into a huge unsigned value and saturate overlong numbers; leaf indices and sizes must be
// plain decimal digits that fit in 64 bits.
const CLI::Validator kUnsigned(
    [](std::string& value) -> std::string {
      uint64_t parsed = 0;
      const char* end = value.data() + value.size();
      const auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
      if (value.empty() || value[0] == '+' || ec != std::errc() || ptr != end) {
        return "'" + value + "' is not a decimal integer in 0 to 18446744073709551615";
      }
      return "";
    },
    "");

constexpr const char* kLeafFileHelp =
    "leaf file: one leaf per line as hex digits, \"-\" alone for the empty leaf; no blank lines";

}  // namespace

void RegisterMerkleCommands(CLI::App& app, CliState& state) {
  CLI::App* merkle = app.add_subcommand(
      "merkle", "RFC 6962 Merkle trees over a file of leaves, one hex-encoded leaf per line (a line holding only "
                "\"-\" is the empty leaf), and RFC 9162 inclusion proofs (leaf hash = SHA-256(0x00 || leaf), node "
                "hash = SHA-256(0x01 || left || right))");
  merkle->require_subcommand(1);

  auto root_file = std::make_shared<std::string>();
  CLI::App* root = merkle->add_subcommand("root", "print the tree head (root hash, hex) of a leaf file");
  root->add_option("FILE", *root_file, kLeafFileHelp)->required();
  root->callback([&state, root_file] { state.exit_code = DoRoot(state, *root_file); });

  auto prove_file = std::make_shared<std::string>();
  auto prove_index = std::make_shared<uint64_t>(0);
  CLI::App* prove =
      merkle->add_subcommand("prove", "print the inclusion proof of one leaf, bottom-up, one hex hash per line");
  prove->add_option("FILE", *prove_file, kLeafFileHelp)->required();
  prove->add_option("--index", *prove_index, "0-based index of the leaf to prove")
      ->required()
      ->check(kUnsigned);
  prove->callback(
      [&state, prove_file, prove_index] { state.exit_code = DoProve(state, *prove_file, *prove_index); });

  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* verify = merkle->add_subcommand(
      "verify", "check an inclusion proof (RFC 9162 section 2.1.3.2); exit 0 valid, 1 invalid, 2 usage error, 3 I/O error");
  verify->add_option("--size", flags->size, "tree size (number of leaves), at least 1")
      ->required()
      ->check(kUnsigned);
  verify->add_option("--index", flags->index, "0-based index of the leaf, below --size")
      ->required()
      ->check(kUnsigned);
  // --leaf and --proof may be empty strings (the empty leaf, the one-leaf tree's proof), which CLI11's required()
  // would refuse, so their presence is checked by hand.
  CLI::Option* leaf =
      verify->add_option("--leaf", flags->leaf, "REQUIRED: the leaf's bytes as hex (\"\" or \"-\" for the empty leaf)");
  verify->add_option("--root", flags->root, "the tree head, 64 hex digits")->required();
  CLI::Option* proof = verify->add_option(
      "--proof", flags->proof, "REQUIRED: proof hashes, bottom-up, comma-separated (\"\" for a one-leaf tree)");
  verify->callback([&state, flags, leaf, proof] {
    for (const CLI::Option* opt : {leaf, proof}) {
      if (opt->count() == 0) {
        state.exit_code = ReportError(
            state, Status::InvalidArgument(opt->get_name() + " is required (an empty value is written " +
                                           opt->get_name() + " \"\")"));
        return;
      }
    }
    state.exit_code = DoVerify(state, *flags);
  });
}

}  // namespace vcp::cli
