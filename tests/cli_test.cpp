// The vcp command line as a user meets it: exit codes (0 ok, 1 rejected, 2 usage error), one-line errors that
// say what is allowed, JSON output, and no file left behind by a failed command. Runs the real binary
// (build/bin/vcp, found next to the test directory, or VCP_CLI).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"
#include "vcp/bytes.h"
#include "vcp/engine.h"

namespace {

namespace fs = std::filesystem;

fs::path CliPath() {
  if (const char* env = std::getenv("VCP_CLI")) return env;
  return fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin" / "vcp";
}

struct Outcome {
  int code = -1;
  std::string output;  // stdout and stderr together
};

Outcome Vcp(const std::string& args, bool with_stderr = true) {
  const std::string command = CliPath().string() + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  Outcome o;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return o;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) o.output.append(buf, n);
  const int status = ::pclose(pipe);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

const std::string kSeed = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const std::string kShape = "--workload int8 --m 40 --n 72 --k 33 --tile 16 --seed " + kSeed;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(CliPath())) GTEST_SKIP() << "no vcp binary at " << CliPath();
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
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("nope"), std::string::npos) << "the error names the file: " << missing.output;
}

TEST_F(Cli, FailedOpenLeavesNoFile) {
  const fs::path out = dir_ / "never.bin";
  const Outcome o = Vcp("open --backend cpu " + kShape + " --tiles 3,15 --out " + out.string());
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("0..14"), std::string::npos) << o.output;
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
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("--backend cpu"), std::string::npos) << o.output;
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
  EXPECT_EQ(Vcp("merkle root " + (dir_ / "absent.txt").string()).code, 2);
  EXPECT_EQ(Vcp("merkle prove " + leaves.string() + " --index 99").code, 2);
}

}  // namespace
