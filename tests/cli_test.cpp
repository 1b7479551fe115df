// The vcp command line as a user meets it: exit codes (0 ok, 1 rejected, 2 usage or input error, 3 I/O, device or
// internal error), one-line errors that say what is allowed and name a mistyped word, JSON output, the empty-leaf
// notation of leaf files, and no file left behind by a failed command. Runs the real binary
// (build/bin/vcp, found next to the test directory, or VCP_CLI).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.h"
#include "cpu/gemm.h"
#include "ct_vectors.h"
#include "test_util.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/keys.h"
#include "vcp/protocol.h"
#include "vcp/workload.h"

namespace {

namespace fs = std::filesystem;

using Outcome = vcp::testing::CliOutcome;
using vcp::testing::CliPath;
Outcome Vcp(const std::string& args, bool with_stderr = true) { return vcp::testing::RunCli(args, with_stderr); }

const std::string kSeed = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const std::string kShape = "--workload int8 --m 40 --n 72 --k 33 --tile 16 --seed " + kSeed;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    // A missing binary is a broken build, never a reason to pass: vcp_tests depends on vcp_cli.
    ASSERT_TRUE(fs::exists(CliPath())) << "no vcp binary at " << CliPath() << "; build the vcp_cli target";
    dir_ = vcp::testing::MakeTempDir("vcp-cli-");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(Cli, HelpAndUsageErrors) {
  EXPECT_EQ(Vcp("--help").code, 0);
  for (const char* cmd : {"run", "open", "check", "keygen", "merkle root", "merkle prove", "merkle verify"})
    EXPECT_EQ(Vcp(std::string(cmd) + " --help").code, 0) << cmd;
  EXPECT_EQ(Vcp("").code, 2) << "a subcommand is required";
  EXPECT_EQ(Vcp("frobnicate").code, 2);
  EXPECT_EQ(Vcp("run --m 8").code, 2) << "missing required flags";
}

// --version names the spec and protocol versions this binary implements, from the library's constants.
TEST_F(Cli, VersionNamesTheSpecAndProtocolVersions) {
  const Outcome o = Vcp("--version");
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("spec version " + std::to_string(vcp::kSpecVersion)), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("protocol version " + std::to_string(vcp::kProtocolVersion)), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("protocol version 2"), std::string::npos) << o.output;
}

TEST_F(Cli, HelpDocumentsTheExitCodes) {
  const Outcome help = Vcp("--help");
  ASSERT_EQ(help.code, 0);
  for (const char* fragment : {"Exit codes: 0 ok", "1 rejected", "2 usage or input error", "3 I/O,", "docs/CLI.md"})
    EXPECT_NE(help.output.find(fragment), std::string::npos) << fragment << "\n" << help.output;
}

TEST_F(Cli, MistypedCommandsAndFlagsAreNamedWithTheClosestWord) {
  const struct {
    std::string args, expect;
  } cases[] = {
      {"kegen --out x", "unknown command 'kegen'; did you mean 'keygen'?"},
      {"merkle rot leaves.txt", "unknown command 'merkle rot'; did you mean 'merkle root'?"},
      {"frobnicate", "unknown command 'frobnicate'; the commands are: "},
      {"run --sed " + kSeed + " --m 8 --n 8 --k 8", "unknown flag '--sed' for 'vcp run'; did you mean '--seed'?"},
      {"run --m 8 --n 8 --k 8 --seed " + kSeed + " --tiel 16",
       "unknown flag '--tiel' for 'vcp run'; did you mean '--tile'?"},
      {"--jsn keygen --out x", "unknown flag '--jsn' for 'vcp'; did you mean '--json'?"},
      {"keygen --out x --frobnicate", "unknown flag '--frobnicate' for 'vcp keygen' (run 'vcp keygen --help'"},
      {"", "'vcp' needs a command: "},
      {"merkle", "'vcp merkle' needs a command: root, prove, verify"},
  };
  for (const auto& c : cases) {
    const Outcome o = Vcp(c.args);
    EXPECT_EQ(o.code, 2) << c.args << "\n" << o.output;
    EXPECT_NE(o.output.find(c.expect), std::string::npos) << c.args << "\n" << o.output;
    EXPECT_EQ(std::count(o.output.begin(), o.output.end(), '\n'), 1) << "one line: " << o.output;
  }
  EXPECT_FALSE(fs::exists("x")) << "no command ran";
  // The list of commands names the real ones.
  EXPECT_NE(Vcp("frobnicate").output.find("keygen"), std::string::npos);
}

TEST_F(Cli, JsonFlagMayFollowTheCommand) {
  const fs::path leaves = dir_ / "leaves.txt";
  std::ofstream(leaves) << "00\n";
  for (const std::string& args : {"--json merkle root " + leaves.string(), "merkle root " + leaves.string() + " --json",
                                   "merkle root --json " + leaves.string()}) {
    const Outcome o = Vcp(args, false);
    ASSERT_EQ(o.code, 0) << args << "\n" << o.output;
    EXPECT_EQ(nlohmann::json::parse(o.output).at("tree_size"), 1) << args;
  }
}

TEST_F(Cli, ErrorsAreClassifiedInTextAndJson) {
  // 3: an I/O error, with its kind in JSON so a program need not parse the text.
  const fs::path absent = dir_ / "absent.txt";
  const Outcome io = Vcp("--json merkle root " + absent.string(), false);
  EXPECT_EQ(io.code, 3) << io.output;
  const nlohmann::json j = nlohmann::json::parse(io.output);
  EXPECT_EQ(j.at("ok"), false);
  EXPECT_EQ(j.at("exit_code"), 3);
  EXPECT_EQ(j.at("kind"), "I/O error");
  EXPECT_NE(j.at("error").get<std::string>().find(absent.string()), std::string::npos) << io.output;
  const Outcome io_text = Vcp("merkle root " + absent.string());
  EXPECT_EQ(io_text.output.rfind("vcp: ", 0), 0u) << io_text.output;

  // 2: malformed input, and 1: a proof checked and found wrong, each with its kind.
  const fs::path leaves = dir_ / "leaves.txt";
  std::ofstream(leaves) << "zz\n";
  const Outcome bad = Vcp("--json merkle root " + leaves.string(), false);
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(nlohmann::json::parse(bad.output).at("kind"), "invalid argument") << bad.output;
  const std::string wrong_root(64, '0');
  const Outcome rejected =
      Vcp("--json merkle verify --size 1 --index 0 --leaf 00 --proof \"\" --root " + wrong_root, false);
  EXPECT_EQ(rejected.code, 1) << rejected.output;
  EXPECT_EQ(nlohmann::json::parse(rejected.output).at("kind"), "rejected") << rejected.output;
}

TEST_F(Cli, BadWorkloadsAreOneLineErrorsSayingWhatIsAllowed) {
  const struct {
    std::string args, expect;
  } cases[] = {
      {"run --m 8 --n 8 --k 8 --seed zz", "64 hex digits"},
      {"run --m 8 --n 8 --k 8 --seed " + std::string(62, '0') + "zz", "not hex"},
      {"run --m 8 --n 8 --k 131072 --seed " + kSeed, "131071"},
      {"run --m 8 --n 8 --k 8 --tile 12 --seed " + kSeed, "power of two from 8 to 256"},
      {"run --m 0 --n 8 --k 8 --seed " + kSeed, "[1, 1048576]"},
      {"run --workload int4 --m 8 --n 8 --k 8 --seed " + kSeed, "allowed: int8, fp32-ordered"},
      {"run --m 8 --n 8 --k 8 --backend tpu --seed " + kSeed, "allowed: auto, cpu, cuda"},
  };
  for (const auto& c : cases) {
    const Outcome o = Vcp(c.args);
    EXPECT_EQ(o.code, 2) << c.args << "\n" << o.output;
    EXPECT_NE(o.output.find(c.expect), std::string::npos) << c.args << "\n" << o.output;
    EXPECT_EQ(std::count(o.output.begin(), o.output.end(), '\n'), 1) << "one line: " << o.output;
  }
}

// vcp run names the GEMM code that ran: the CPU tier its process chose, which VCP_CPU_TIER forces.
TEST_F(Cli, RunNamesTheCpuTierThatRan) {
  const std::string best(vcp::cpu::TierName(vcp::cpu::ChooseTier(nullptr)));
  const char* outer = std::getenv("VCP_CPU_TIER");
  const std::string restore = outer != nullptr ? outer : "";
  for (const std::string& forced : {std::string(), std::string("portable")}) {
    if (forced.empty()) {
      ::unsetenv("VCP_CPU_TIER");
    } else {
      ::setenv("VCP_CPU_TIER", forced.c_str(), 1);  // the child process inherits it
    }
    const Outcome run = Vcp("--json run --backend cpu " + kShape, false);
    ::unsetenv("VCP_CPU_TIER");
    ASSERT_EQ(run.code, 0) << run.output;
    EXPECT_EQ(nlohmann::json::parse(run.output).at("gemm_path"), forced.empty() ? best : forced) << run.output;
  }
  const Outcome text = Vcp("run --backend cpu " + kShape);
  EXPECT_NE(text.output.find("gemm path   " + best + "\n"), std::string::npos) << text.output;
  if (!restore.empty()) ::setenv("VCP_CPU_TIER", restore.c_str(), 1);
}

TEST_F(Cli, RunOpenCheckRoundTrip) {
  const Outcome run = Vcp("--json run --backend cpu " + kShape, false);
  ASSERT_EQ(run.code, 0) << run.output;
  const nlohmann::json j = nlohmann::json::parse(run.output);
  const std::string root = j.at("root");
  EXPECT_EQ(j.at("leaves"), 15);
  EXPECT_EQ(j.at("operations"), 2ull * 40 * 72 * 33);
  EXPECT_EQ(j.at("device").at("backend"), "cpu");

  // The CLI's root is the library's root.
  vcp::WorkloadParams p;
  p.m = 40;
  p.n = 72;
  p.k = 33;
  p.tile = 16;
  p.seed = *vcp::FixedFromHex<32>(kSeed);
  vcp::RunOptions cpu;
  cpu.backend = vcp::BackendChoice::kCpu;
  EXPECT_EQ(root, vcp::ToHex((*vcp::RunWorkload(p, cpu))->root()));

  const fs::path proof = dir_ / "p.bin";
  EXPECT_EQ(Vcp("open --backend cpu " + kShape + " --tiles 14,0,7,7 --out " + proof.string()).code, 0);
  ASSERT_TRUE(fs::exists(proof));
  EXPECT_EQ(Vcp("check " + kShape + " --root " + root + " --proof " + proof.string()).code, 0);

  std::string wrong_root = root;
  wrong_root[0] = wrong_root[0] == '0' ? '1' : '0';
  const Outcome rejected = Vcp("check " + kShape + " --root " + wrong_root + " --proof " + proof.string());
  EXPECT_EQ(rejected.code, 1) << rejected.output;
  EXPECT_NE(rejected.output.find("rejected"), std::string::npos);

  const std::string other_seed = "ff" + kSeed.substr(2);
  EXPECT_EQ(Vcp("check --workload int8 --m 40 --n 72 --k 33 --tile 16 --seed " + other_seed + " --root " + root +
                " --proof " + proof.string())
                .code,
            1)
      << "another seed gives other tiles";

  // A damaged proof file is a bad input, reported without a crash.
  std::string bytes = vcp::testing::ReadText(proof);
  bytes[0] = 'X';
  const fs::path damaged = dir_ / "damaged.bin";
  std::ofstream(damaged, std::ios::binary) << bytes;
  const Outcome corrupt = Vcp("check " + kShape + " --root " + root + " --proof " + damaged.string());
  EXPECT_EQ(corrupt.code, 2) << corrupt.output;
  EXPECT_NE(corrupt.output.find("VCPM"), std::string::npos) << corrupt.output;

  const Outcome missing = Vcp("check " + kShape + " --root " + root + " --proof " + (dir_ / "nope").string());
  EXPECT_EQ(missing.code, 3) << "a file that cannot be read is an I/O error: " << missing.output;
  EXPECT_NE(missing.output.find("nope"), std::string::npos) << "the error names the file: " << missing.output;
}

TEST_F(Cli, FailedOpenLeavesNoFile) {
  const fs::path out = dir_ / "never.bin";
  const Outcome o = Vcp("open --backend cpu " + kShape + " --tiles 3,15 --out " + out.string());
  EXPECT_EQ(o.code, 2);
  // The message names the index and how many tiles there are (however it writes the range of valid indices).
  EXPECT_NE(o.output.find("tile 15 is out of range"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("15 tiles"), std::string::npos) << o.output;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(Vcp("open --backend cpu " + kShape + " --tiles 1,x --out " + out.string()).code, 2);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir_)) << "no temporary file left behind";
}

TEST_F(Cli, CudaBackendWithoutAGpuIsAClearError) {
  vcp::RunOptions cuda;
  cuda.backend = vcp::BackendChoice::kCuda;
  if (vcp::SelectBackend(cuda).ok()) GTEST_SKIP() << "a usable GPU is present";
  const Outcome o = Vcp("run --backend cuda " + kShape);
  EXPECT_EQ(o.code, 3) << "a device error: " << o.output;
  EXPECT_NE(o.output.find("--backend cpu"), std::string::npos) << o.output;
}

TEST_F(Cli, KeygenPrintsTheHexKeyThatItsPublicFileHolds) {
  const fs::path keys = dir_ / "keys";
  const Outcome o = Vcp("--json keygen --out " + keys.string(), false);
  ASSERT_EQ(o.code, 0) << o.output;
  const std::string hex = nlohmann::json::parse(o.output).at("public_key");
  // The printed hex is a public key argument in its own right, equal to the file and the directory.
  ASSERT_OK_AND_ASSIGN(vcp::PublicKey from_hex, vcp::ResolvePublicKey(hex));
  ASSERT_OK_AND_ASSIGN(vcp::PublicKey from_dir, vcp::ResolvePublicKey(keys.string()));
  EXPECT_EQ(from_hex, from_dir);
  EXPECT_EQ(vcp::ToHex(from_hex), hex);
}

TEST_F(Cli, KeyFlagsTakeTheHexKeyAndRefuseThePublicKeyForTheSecretOne) {
  const fs::path verifier = dir_ / "verifier", provider = dir_ / "provider";
  ASSERT_EQ(Vcp("keygen --out " + verifier.string()).code, 0);
  const Outcome keygen = Vcp("--json keygen --out " + provider.string(), false);
  ASSERT_EQ(keygen.code, 0) << keygen.output;
  const std::string provider_hex = nlohmann::json::parse(keygen.output).at("public_key");
  const std::string lease = " --store " + (dir_ / "vs").string() + " --out " + (dir_ / "lease.bin").string() +
                            " --m 64 --n 64 --k 64 --rate 1e6";

  // The public key where the secret key is needed: said as such, with no advice to chmod a public key.
  const Outcome wrong = Vcp("lease new --key " + (verifier / "vcp.pub").string() + " --provider-key " + provider_hex +
                            lease);
  EXPECT_EQ(wrong.code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("is a public key"), std::string::npos) << wrong.output;
  EXPECT_EQ(wrong.output.find("chmod"), std::string::npos) << wrong.output;
  EXPECT_FALSE(fs::exists(dir_ / "lease.bin"));

  // The hex public key vcp keygen printed is a valid --provider-key.
  const Outcome ok = Vcp("lease new --key " + verifier.string() + " --provider-key " + provider_hex + lease);
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_TRUE(fs::exists(dir_ / "lease.bin"));
}

TEST_F(Cli, KeygenRefusesToOverwrite) {
  const fs::path keys = dir_ / "keys";
  EXPECT_EQ(Vcp("keygen --out " + keys.string()).code, 0);
  EXPECT_TRUE(fs::exists(keys / "vcp.key"));
  EXPECT_EQ(fs::status(keys / "vcp.key").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  const Outcome again = Vcp("keygen --out " + keys.string());
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.output.find("vcp.key"), std::string::npos) << again.output;
}

TEST_F(Cli, MerkleRootProveVerify) {
  const fs::path leaves = dir_ / "leaves.txt";
  std::ofstream(leaves) << "00\n10\n2021\n3031\n40414243\n";
  const Outcome root = Vcp("merkle root " + leaves.string(), false);
  ASSERT_EQ(root.code, 0) << root.output;
  const std::string root_hex = root.output.substr(0, 64);
  const Outcome prove = Vcp("merkle prove " + leaves.string() + " --index 2", false);
  ASSERT_EQ(prove.code, 0);
  std::string proof_csv;
  std::istringstream lines(prove.output);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) proof_csv += (proof_csv.empty() ? "" : ",") + line;
  const std::string verify = "merkle verify --size 5 --index 2 --leaf 2021 --root " + root_hex + " --proof ";
  EXPECT_EQ(Vcp(verify + proof_csv).code, 0);
  EXPECT_EQ(Vcp("merkle verify --size 5 --index 3 --leaf 2021 --root " + root_hex + " --proof " + proof_csv).code, 1);
  EXPECT_EQ(Vcp("merkle verify --size 5 --index 2 --leaf 2022 --root " + root_hex + " --proof " + proof_csv).code, 1);
  EXPECT_EQ(Vcp(verify + "zz").code, 2);

  std::ofstream(leaves) << "00\nq1\n";
  const Outcome bad = Vcp("merkle root " + leaves.string());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("line 2"), std::string::npos) << bad.output;
  EXPECT_EQ(Vcp("merkle root " + (dir_ / "absent.txt").string()).code, 3);
  EXPECT_EQ(Vcp("merkle prove " + leaves.string() + " --index 99").code, 2);
}

// Hashes printed one per line, as a list.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(Cli, MerkleReproducesTheCertificateTransparencyReferenceTree) {
  using vcp::testing::kCtLeaves;
  using vcp::testing::kCtRoots;
  // The empty leaf is written "-", the others as hex: RFC 6962's tree starts with the empty leaf.
  auto write_prefix = [&](size_t n) {
    const fs::path file = dir_ / ("ct" + std::to_string(n) + ".txt");
    std::ofstream out(file);
    for (size_t i = 0; i < n; ++i) out << (*kCtLeaves[i] == '\0' ? "-" : kCtLeaves[i]) << "\n";
    return file;
  };
  for (size_t n = 1; n <= 8; ++n) {
    const Outcome root = Vcp("merkle root " + write_prefix(n).string(), false);
    ASSERT_EQ(root.code, 0) << root.output;
    EXPECT_EQ(root.output, std::string(kCtRoots[n - 1]) + "\n") << "tree size " << n;
  }
  for (const vcp::testing::CtInclusionVector& v : vcp::testing::kCtInclusionPaths) {
    const Outcome prove =
        Vcp("merkle prove " + write_prefix(v.size).string() + " --index " + std::to_string(v.index), false);
    ASSERT_EQ(prove.code, 0) << prove.output;
    EXPECT_EQ(Lines(prove.output), std::vector<std::string>(v.path.begin(), v.path.end()))
        << "leaf " << v.index << " of " << v.size;
  }
  // The empty leaf verifies the same whether written "" or "-", like a line of a leaf file.
  const std::string proof = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7,"
                            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e,"
                            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4";
  for (const char* leaf : {"\"\"", "-"}) {
    const Outcome o = Vcp("merkle verify --size 8 --index 0 --leaf " + std::string(leaf) + " --root " + kCtRoots[7] +
                          " --proof " + proof);
    EXPECT_EQ(o.code, 0) << leaf << "\n" << o.output;
  }
  EXPECT_EQ(Vcp("merkle verify --size 8 --index 0 --leaf 00 --root " + std::string(kCtRoots[7]) + " --proof " + proof)
                .code,
            1)
      << "the empty leaf is not the leaf 00";
}

TEST_F(Cli, ABlankLeafLineIsAnErrorNamingTheEmptyLeafNotation) {
  const fs::path leaves = dir_ / "leaves.txt";
  std::ofstream(leaves) << "00\n\n10\n";
  const Outcome o = Vcp("merkle root " + leaves.string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("line 2 is blank"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("\"-\" alone for the empty leaf"), std::string::npos) << o.output;
  // "-" is only the empty leaf when alone on its line.
  std::ofstream(leaves) << "-00\n";
  EXPECT_EQ(Vcp("merkle root " + leaves.string()).code, 2);
  // The help says how to write it.
  EXPECT_NE(Vcp("merkle root --help").output.find("\"-\" alone for the empty leaf"), std::string::npos);
}

}  // namespace
