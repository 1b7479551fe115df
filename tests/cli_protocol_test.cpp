// The lease protocol commands as a user meets them, through the real vcp binary (build/bin/vcp next to the test
// directory, or VCP_CLI): for each command --help, the happy path and one bad input (exit code and a one-line
// message); a whole lease driven command by command; `vcp demo` honest and lazy; two `vcp prove` on one store at
// once; and the provider refusing the verifier's key. Exit codes: 0 ok, 1 rejected or failed verdict, 2 usage or
// input error, 3 I/O, device, resource or internal error (cli/commands.h).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_util.h"
#include "test_util.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using Outcome = vcp::testing::CliOutcome;
using vcp::testing::CliPath;
Outcome Vcp(const std::string& args, bool with_stderr = true) { return vcp::testing::RunCli(args, with_stderr); }

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
size_t Lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// The line of `vcp ... --help` that documents `flag`.
std::string HelpLine(const std::string& help, const std::string& flag) {
  size_t at = help.find("  " + flag + " ");
  if (at == std::string::npos) return "";
  const size_t end = help.find('\n', at);
  return help.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

class ProtocolCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // A missing binary is a broken build, never a reason to pass: vcp_tests depends on vcp_cli.
    ASSERT_TRUE(fs::exists(CliPath())) << "no vcp binary at " << CliPath() << "; build the vcp_cli target";
    dir_ = vcp::testing::MakeTempDir("vcp-cli-protocol-");
    ASSERT_FALSE(dir_.empty());
    ASSERT_EQ(Vcp("keygen --out " + P("vk")).code, 0);
    const Outcome provider = Vcp("keygen --out " + P("pk"));
    ASSERT_EQ(provider.code, 0) << provider.output;
    // The hex public key exactly as keygen printed it: "public key       <64 hex digits>".
    const size_t at = provider.output.find("public key ");
    ASSERT_NE(at, std::string::npos) << provider.output;
    provider_hex_ = provider.output.substr(provider.output.find_first_not_of(' ', at + 11), 64);
    ASSERT_EQ(provider_hex_.size(), 64u);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }

  // A small interactive lease: 32x32x32, T = 16 (4 tiles per round), R = 2, 40 samples, a deadline that a loaded
  // machine meets.
  std::string LeaseNewArgs() const {
    return "lease new --key " + P("vk") + " --provider-key " + provider_hex_ + " --store " + P("vs") + " --out " +
           P("lease.bin") + " --m 32 --n 32 --k 32 --tile 16 --rounds 2 --deadline-ms 120000";
  }
  std::string Provider() const { return " --store " + P("ps") + " --key " + P("pk") + " "; }
  std::string Verifier() const { return " --store " + P("vs") + " --key " + P("vk") + " "; }

  // Runs the lease up to and including `last` ("accept", "start", "prove", "challenge", "respond", "verify").
  void RunLeaseTo(const std::string& last) {
    const std::vector<std::pair<std::string, std::string>> steps = {
        {"new", LeaseNewArgs()},
        {"accept", "lease accept --lease " + P("lease.bin") + " --key " + P("pk") + " --store " + P("ps") + " --out " +
                       P("accept.bin")},
        {"start", "epoch start" + Verifier() + "--acceptance " + P("accept.bin") + " --out " + P("start.bin")},
        {"prove", "prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record.bin")},
        {"challenge", "challenge" + Verifier() + "--record " + P("record.bin") + " --out " + P("challenge.bin")},
        {"respond", "respond" + Provider() + "--challenge " + P("challenge.bin") + " --out " + P("response.bin")},
        {"verify", "verify" + Verifier() + "--response " + P("response.bin")},
    };
    for (const auto& [name, args] : steps) {
      const Outcome o = Vcp(args);
      ASSERT_EQ(o.code, 0) << name << ": vcp " << args << "\n" << o.output;
      if (name == last) return;
    }
    FAIL() << "no step " << last;
  }

  // Expects exit code `code` and exactly one line of output that contains every one of `parts`.
  static void ExpectOneLineError(const Outcome& o, int code, const std::vector<std::string>& parts) {
    EXPECT_EQ(o.code, code) << o.output;
    EXPECT_EQ(Lines(o.output), 1u) << "one line: " << o.output;
    for (const std::string& part : parts) EXPECT_TRUE(Contains(o.output, part)) << "'" << part << "' in " << o.output;
  }

  fs::path dir_;
  std::string provider_hex_;
};

// ---------------------------------------------------------------------------------------------------------------
// --help for each protocol command.

TEST_F(ProtocolCli, EveryProtocolCommandHasHelp) {
  const struct {
    const char* command;
    const char* flag;
  } commands[] = {
      {"lease new", "--provider-key"},
      {"lease accept", "--lease"},
      {"epoch start", "--acceptance"},
      {"prove", "--start"},
      {"challenge", "--record"},
      {"respond", "--challenge"},
      {"verify", "--response"},
      {"report", "--confidence"},
      {"inspect", "FILE"},
      {"calibrate", "--target-seconds"},
      {"demo", "--cheat"},
  };
  for (const auto& c : commands) {
    const Outcome o = Vcp(std::string(c.command) + " --help");
    EXPECT_EQ(o.code, 0) << c.command << "\n" << o.output;
    EXPECT_TRUE(Contains(o.output, c.flag)) << c.command << "\n" << o.output;
  }
  // The groups need a subcommand.
  EXPECT_EQ(Vcp("lease").code, 2);
  EXPECT_EQ(Vcp("epoch").code, 2);
}

// --k is the inner dimension and the sample count is named as such, so the two cannot be confused.
TEST_F(ProtocolCli, HelpKeepsInnerDimensionAndSampleCountApart) {
  for (const char* command : {"lease new", "calibrate"}) {
    const Outcome o = Vcp(std::string(command) + " --help");
    ASSERT_EQ(o.code, 0) << o.output;
    EXPECT_TRUE(Contains(HelpLine(o.output, "--k"), "inner dimension K")) << command << "\n" << o.output;
  }
  for (const char* command : {"lease new", "demo"}) {
    const Outcome o = Vcp(std::string(command) + " --help");
    const std::string samples = HelpLine(o.output, "--samples");
    EXPECT_TRUE(Contains(samples, "sampled tiles per epoch")) << command << "\n" << o.output;
    EXPECT_FALSE(Contains(samples, "k:")) << samples;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// lease new | lease accept

TEST_F(ProtocolCli, LeaseNewTakesTheHexKeyKeygenPrinted) {
  const Outcome o = Vcp(LeaseNewArgs());
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(fs::exists(P("lease.bin")));
  EXPECT_TRUE(Contains(o.output, "40 samples per epoch")) << o.output;
  const Outcome inspect = Vcp("inspect " + P("lease.bin"), false);
  ASSERT_EQ(inspect.code, 0) << inspect.output;
  EXPECT_EQ(json::parse(inspect.output).at("provider_key"), provider_hex_);
}

TEST_F(ProtocolCli, LeaseNewRateOutOfRangeSaysTheAllowedRange) {
  // 1e20 does not fit the lease's u64 rate: it used to wrap and be reported as "must be positive".
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --rate 1e20"), 2, {"--rate", "out of range", "allowed: 1 to 1.8e+19"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --rate 0"), 2, {"--rate", "allowed: 1 to"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --hours 1e30"), 2, {"--hours", "allowed:"});
  EXPECT_FALSE(fs::exists(P("lease.bin")));
  EXPECT_FALSE(fs::exists(P("vs") + "/verifier.log"));
}

TEST_F(ProtocolCli, LeaseNewPublicKeyAsKeyIsNamedWithoutChmodAdvice) {
  const Outcome o = Vcp("lease new --key " + P("vk/vcp.pub") + " --provider-key " + provider_hex_ + " --store " +
                        P("vs") + " --out " + P("lease.bin"));
  ExpectOneLineError(o, 2, {"--key", "public key"});
  EXPECT_FALSE(Contains(o.output, "chmod")) << o.output;
}

TEST_F(ProtocolCli, LeaseAccept) {
  RunLeaseTo("accept");
  EXPECT_TRUE(fs::exists(P("accept.bin")));
  // Bad input: the acceptance where the lease belongs names both files' kinds.
  const Outcome o = Vcp("lease accept --lease " + P("accept.bin") + " --key " + P("pk") + " --store " + P("ps2") +
                        " --out " + P("accept2.bin"));
  ExpectOneLineError(o, 2, {"--lease", "lease-acceptance", "vcp lease new"});
  EXPECT_FALSE(fs::exists(P("ps2") + "/provider.log"));
}

// ---------------------------------------------------------------------------------------------------------------
// epoch start | prove | challenge | respond | verify

TEST_F(ProtocolCli, EpochStart) {
  RunLeaseTo("start");
  EXPECT_TRUE(fs::exists(P("start.bin")));
  ExpectOneLineError(Vcp("epoch start" + Verifier() + "--acceptance " + P("lease.bin") + " --out " + P("s2.bin")), 2,
                     {"--acceptance", "holds a lease", "vcp lease accept"});
}

TEST_F(ProtocolCli, ProveTwiceHandsBackTheLoggedRecord) {
  RunLeaseTo("prove");
  const std::string first = vcp::testing::ReadText(P("record.bin"));
  const Outcome again =
      Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record2.bin"));
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "handed back the record logged")) << again.output;
  EXPECT_FALSE(Contains(again.output, " in 0.000 s")) << again.output;
  EXPECT_EQ(vcp::testing::ReadText(P("record2.bin")), first);
  // Bad input: the lease where the epoch start belongs.
  ExpectOneLineError(Vcp("prove" + Provider() + "--start " + P("lease.bin") + " --out " + P("r3.bin")), 2,
                     {"--start", "holds a lease", "vcp epoch start"});
}

TEST_F(ProtocolCli, ProveRefusesTheVerifiersKeyAndLogsNothing) {
  RunLeaseTo("start");
  const std::string log_before = vcp::testing::ReadText(P("ps") + "/provider.log");
  const Outcome o = Vcp("prove --store " + P("ps") + " --key " + P("vk") + " --backend cpu --start " + P("start.bin") +
                        " --out " + P("record.bin"));
  ExpectOneLineError(o, 2, {"verifier key"});
  EXPECT_FALSE(fs::exists(P("record.bin")));
  EXPECT_EQ(vcp::testing::ReadText(P("ps") + "/provider.log"), log_before) << "nothing logged";
  // The right key then proves the epoch: nothing was lost.
  const Outcome right =
      Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record.bin"));
  EXPECT_EQ(right.code, 0) << right.output;
  EXPECT_FALSE(Contains(right.output, "handed back")) << right.output;
}

TEST_F(ProtocolCli, Challenge) {
  RunLeaseTo("challenge");
  EXPECT_TRUE(fs::exists(P("challenge.bin")));
  ExpectOneLineError(Vcp("challenge" + Verifier() + "--record " + P("start.bin") + " --out " + P("c2.bin")), 2,
                     {"--record", "holds an epoch-start", "vcp prove"});
}

TEST_F(ProtocolCli, RespondTwiceSaysItHandedBackTheLoggedResponse) {
  RunLeaseTo("respond");
  const Outcome again =
      Vcp("respond" + Provider() + "--challenge " + P("challenge.bin") + " --out " + P("response2.bin"));
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "handed back the response logged")) << again.output;
  EXPECT_FALSE(Contains(again.output, "leaves from )")) << again.output;
  EXPECT_EQ(vcp::testing::ReadText(P("response2.bin")), vcp::testing::ReadText(P("response.bin")));
  ExpectOneLineError(Vcp("respond" + Provider() + "--out " + P("r3.bin")), 2, {"exactly one of --challenge"});
}

TEST_F(ProtocolCli, VerifyPassesThenSaysTheVerdictWasAlreadyGiven) {
  RunLeaseTo("respond");
  const Outcome pass = Vcp("verify" + Verifier() + "--response " + P("response.bin") + " --out " + P("verdict.bin"));
  ASSERT_EQ(pass.code, 0) << pass.output;
  EXPECT_TRUE(Contains(pass.output, "PASS")) << pass.output;
  EXPECT_FALSE(Contains(pass.output, "already given")) << pass.output;
  const Outcome again = Vcp("verify" + Verifier() + "--response " + P("response.bin"));
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "verdict already given for epoch 0")) << again.output;
  const Outcome inspect = Vcp("inspect " + P("verdict.bin"), false);
  ASSERT_EQ(inspect.code, 0) << inspect.output;
  EXPECT_EQ(json::parse(inspect.output).at("type"), "verdict");
}

TEST_F(ProtocolCli, VerifyGivenARecordSaysSoInsteadOfNoEpochIsOpen) {
  RunLeaseTo("challenge");
  // While the epoch awaits its response ...
  ExpectOneLineError(Vcp("verify" + Verifier() + "--response " + P("record.bin")), 2,
                     {"--response", "holds an epoch-record", "vcp respond"});
  // ... and after it closed.
  ASSERT_EQ(Vcp("respond" + Provider() + "--challenge " + P("challenge.bin") + " --out " + P("response.bin")).code, 0);
  ASSERT_EQ(Vcp("verify" + Verifier() + "--response " + P("response.bin")).code, 0);
  const Outcome o = Vcp("verify" + Verifier() + "--response " + P("record.bin"));
  ExpectOneLineError(o, 2, {"holds an epoch-record"});
  EXPECT_FALSE(Contains(o.output, "no epoch is open")) << o.output;
}

// A beacon lease through the CLI: the record names a beacon round instead of getting a challenge, and the provider
// answers epoch N from the beacon file. Every round from the genesis (now) to well past the deadline is published
// up front, as a beacon file that a publisher keeps appending to would be by then.
TEST_F(ProtocolCli, BeaconLeaseRespondsFromTheBeaconFile) {
  const uint64_t now_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  {
    std::ofstream beacon(P("beacon.txt"));
    beacon << "vcp-beacon-v1 test-beacon " << now_us << " 1000000\n";
    for (int round = 0; round < 400; ++round) {
      char value[65];
      std::snprintf(value, sizeof value, "%064x", round + 1);
      beacon << round << " " << value << "\n";
    }
  }
  const std::string beacon = " --beacon-file " + P("beacon.txt") + " ";
  ASSERT_EQ(Vcp("lease new --mode beacon" + beacon + "--key " + P("vk") + " --provider-key " + P("pk") + " --store " +
                P("vs") + " --out " + P("lease.bin") + " --m 32 --n 32 --k 32 --tile 16 --rounds 2 --deadline-ms 5000")
                .code,
            0);
  ASSERT_EQ(Vcp("lease accept --lease " + P("lease.bin") + " --key " + P("pk") + " --store " + P("ps") + " --out " +
                P("accept.bin"))
                .code,
            0);
  ASSERT_EQ(Vcp("epoch start" + Verifier() + "--acceptance " + P("accept.bin") + " --out " + P("start.bin")).code, 0);
  ASSERT_EQ(Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record.bin")).code,
            0);
  const Outcome challenge = Vcp("challenge" + Verifier() + "--record " + P("record.bin"));
  ASSERT_EQ(challenge.code, 0) << challenge.output;
  EXPECT_TRUE(Contains(challenge.output, "no challenge is sent in beacon mode")) << challenge.output;
  ExpectOneLineError(Vcp("respond" + Provider() + beacon + "--out " + P("response.bin")), 2, {"--epoch"});
  const Outcome respond = Vcp("respond" + Provider() + beacon + "--epoch 0 --out " + P("response.bin"));
  ASSERT_EQ(respond.code, 0) << respond.output;
  const Outcome verify = Vcp("verify" + Verifier() + beacon + "--response " + P("response.bin"));
  EXPECT_EQ(verify.code, 0) << verify.output;
  EXPECT_TRUE(Contains(verify.output, "PASS")) << verify.output;
}

// ---------------------------------------------------------------------------------------------------------------
// report | inspect | calibrate

TEST_F(ProtocolCli, Report) {
  RunLeaseTo("verify");
  const Outcome text = Vcp("report --store " + P("vs"));
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_TRUE(Contains(text.output, "1 passed, 0 failed, 0 missed")) << text.output;
  const Outcome j = Vcp("--json report --store " + P("vs"), false);
  ASSERT_EQ(j.code, 0) << j.output;
  const json report = json::parse(j.output);
  EXPECT_EQ(report.at("passed"), 1);
  EXPECT_EQ(report.at("epoch_verdicts").size(), 1u);
  ExpectOneLineError(Vcp("report --store " + P("vs") + " --confidence 2"), 2, {"--confidence", "between 0 and 1"});
}

TEST_F(ProtocolCli, InspectMessagesAndStoreLogs) {
  RunLeaseTo("prove");
  const Outcome record = Vcp("inspect " + P("record.bin"), false);
  ASSERT_EQ(record.code, 0) << record.output;
  const json r = json::parse(record.output);
  EXPECT_EQ(r.at("epoch"), 0);
  EXPECT_EQ(r.at("file"), P("record.bin"));
  const Outcome log = Vcp("inspect " + P("ps") + "/provider.log", false);
  ASSERT_EQ(log.code, 0) << log.output;
  const json l = json::parse(log.output);
  EXPECT_EQ(l.at("type"), "store-log");
  EXPECT_EQ(l.at("role"), "provider");
  EXPECT_GE(l.at("entries").size(), 4u) << "lease, acceptance, start, record";
  // Bad input: a file that is none of vcp's.
  std::FILE* f = std::fopen(P("junk.bin").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("not a vcp file\n", f);
  std::fclose(f);
  ExpectOneLineError(Vcp("inspect " + P("junk.bin")), 2, {P("junk.bin"), "vcp inspect reads"});
}

TEST_F(ProtocolCli, Calibrate) {
  const Outcome o =
      Vcp("--json calibrate --backend cpu --m 32 --n 32 --k 32 --tile 16 --repeats 1 --target-seconds 1", false);
  ASSERT_EQ(o.code, 0) << o.output;
  const json j = json::parse(o.output);
  EXPECT_GE(j.at("suggested_rounds").get<uint32_t>(), 1u);
  EXPECT_GT(j.at("suggested_deadline_ms").get<uint64_t>(), 1000u) << "a second for the record's trip";
  EXPECT_GE(j.at("suggested_claimed_rate").get<uint64_t>(), 1u);
  ExpectOneLineError(Vcp("calibrate --backend cpu --m 32 --n 32 --k 32 --tile 16 --repeats 0"), 2, {"--repeats"});
}

// ---------------------------------------------------------------------------------------------------------------
// demo

// `vcp demo` as the README runs it: every epoch passes, exit 0; with a provider skipping 5% of its tiles it is
// caught, exit 1. Default shape (256^3, R = 8, 40 samples, 6 epochs): an epoch passes the lazy provider with
// probability 0.95^40 = 0.13, so all six pass with 4e-6.
TEST_F(ProtocolCli, DemoHonestPassesAndLazyIsCaught) {
  const Outcome honest = Vcp("--json demo --keep " + P("honest"), false);
  ASSERT_EQ(honest.code, 0) << honest.output;
  const json h = json::parse(honest.output);
  EXPECT_EQ(h.at("epochs"), 6);
  EXPECT_EQ(h.at("passed"), 6);
  EXPECT_TRUE(h.at("all_passed").get<bool>());
  EXPECT_EQ(h.at("skipped_per_epoch"), 0);

  const Outcome lazy = Vcp("--json demo --cheat 0.05", false);
  EXPECT_EQ(lazy.code, 1) << lazy.output;
  const json l = json::parse(lazy.output);
  EXPECT_FALSE(l.at("all_passed").get<bool>());
  EXPECT_GE(l.at("failed").get<int>(), 1);
  EXPECT_GT(l.at("skipped_per_epoch").get<uint64_t>(), 0u);
  for (const json& v : l.at("epoch_verdicts")) {
    if (v.at("verdict") == "fail") {
      EXPECT_EQ(v.at("reason"), "tile-mismatch") << v.dump();
    }
  }
}

TEST_F(ProtocolCli, DemoTextShowsRowsAndTheLeaseVerdict) {
  const Outcome o = Vcp("demo --n 64 --rounds 2 --epochs 2 --gap-ms 0 --backend cpu");
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(Contains(o.output, "40 samples per epoch")) << o.output;
  size_t rows = 0;
  for (size_t at = o.output.find("  PASS  "); at != std::string::npos; at = o.output.find("  PASS  ", at + 1)) ++rows;
  EXPECT_EQ(rows, 2u) << o.output;
  EXPECT_TRUE(Contains(o.output, "every epoch passed")) << o.output;
  ExpectOneLineError(Vcp("demo --cheat 2"), 2, {"--cheat", "allowed: 0"});
}

TEST_F(ProtocolCli, DemoBeaconMode) {
  const Outcome o =
      Vcp("--json demo --mode beacon --n 64 --rounds 2 --epochs 2 --gap-ms 0 --deadline-ms 300 "
          "--backend cpu",
          false);
  ASSERT_EQ(o.code, 0) << o.output;
  const json j = json::parse(o.output);
  EXPECT_EQ(j.at("mode"), "beacon");
  EXPECT_EQ(j.at("passed"), 2);
  EXPECT_TRUE(j.at("catch_probability").contains("skip_1pct_grinding")) << o.output;
}

// ---------------------------------------------------------------------------------------------------------------
// One writer per store (needs the library's store lock, vcp/store.h StoreLock).

pid_t Spawn(const std::string& args, const std::string& output_file) {
  const std::string command = CliPath().string() + " " + args + " >" + output_file + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = -1;
  if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return -1;
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(ProtocolCli, TwoProvesOnOneStoreAtOnceSignOnce) {
  // A lease whose epoch takes a while to prove (16 rounds of 1024^3 on one thread, about 0.4 s here), so the two
  // runs overlap.
  ASSERT_EQ(Vcp("lease new --key " + P("vk") + " --provider-key " + P("pk") + " --store " + P("vs") + " --out " +
                P("lease.bin") + " --m 1024 --n 1024 --k 1024 --rounds 16 --deadline-ms 600000")
                .code,
            0);
  ASSERT_EQ(Vcp("lease accept --lease " + P("lease.bin") + " --key " + P("pk") + " --store " + P("ps") + " --out " +
                P("accept.bin"))
                .code,
            0);
  ASSERT_EQ(Vcp("epoch start" + Verifier() + "--acceptance " + P("accept.bin") + " --out " + P("start.bin")).code, 0);
  const std::string prove = "prove" + Provider() + "--backend cpu --threads 1 --start " + P("start.bin") + " --out ";
  const pid_t a = Spawn(prove + P("record-a.bin"), P("a.txt"));
  const pid_t b = Spawn(prove + P("record-b.bin"), P("b.txt"));
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  const int code_a = Wait(a), code_b = Wait(b);
  const std::string out_a = vcp::testing::ReadText(P("a.txt")), out_b = vcp::testing::ReadText(P("b.txt"));
  const bool a_won = code_a == 0;
  ASSERT_NE(code_a == 0, code_b == 0) << "exactly one may sign\nA: " << out_a << "\nB: " << out_b;
  const std::string& loser = a_won ? out_b : out_a;
  EXPECT_EQ(a_won ? code_b : code_a, 3) << loser;
  EXPECT_EQ(Lines(loser), 1u) << loser;
  // The holder is named by pid once it has written the lock file, as "another process that is still starting"
  // before that.
  EXPECT_TRUE(Contains(loser, "provider store " + P("ps") + " is in use by")) << loser;
  EXPECT_TRUE(fs::exists(P(a_won ? "record-a.bin" : "record-b.bin")));
  EXPECT_FALSE(fs::exists(P(a_won ? "record-b.bin" : "record-a.bin"))) << "the refused run wrote nothing";
  // The provider's log holds one record for the epoch, the one handed out.
  const Outcome log = Vcp("inspect " + P("ps") + "/provider.log", false);
  ASSERT_EQ(log.code, 0) << log.output;
  const json scan = json::parse(log.output);
  int records = 0;
  for (const json& e : scan.at("entries")) records += e.at("type") == "record";
  EXPECT_EQ(records, 1) << log.output;
}

}  // namespace
