// The lease protocol commands (protocol v2) as a user meets them, through the real vcp binary (build/bin/vcp next to
// the test directory, or VCP_CLI): for each command --help, the happy path and one bad input (exit code and a
// one-line message); a whole lease driven command by command, on one device and on two; `vcp lease new` printing
// the deadline that follows from the rate and refusing terms that cannot prove it; on-demand and scheduled
// (`--wait`) epoch starts; `vcp epoch void`; the report's wording (every figure beside words, schedule kinds and
// void counted apart); `vcp demo` honest, lazy and on two devices; two `vcp prove` on one store at once; and the
// provider refusing the verifier's key. Exit codes: 0 ok, 1 rejected or failed verdict, 2 usage or input error, 3
// I/O, device, resource or internal error (cli/commands.h).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
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

// The lines of `text` that hold `part`.
std::vector<std::string> LinesWith(const std::string& text, const std::string& part) {
  std::vector<std::string> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (Contains(line, part)) found.push_back(line);
  }
  return found;
}

// Every line of `text` that shows a figure also says what it is: a line with a digit must carry at least two
// words of letters (so "  0.0000" or "1%: 0.0000" alone fails), and no figure is printed as a bare
// "<percent>: <number>" pair without words between.
void ExpectEveryFigureExplained(const std::string& text) {
  static const std::regex word("[A-Za-z]{2,}");
  static const std::regex bare_pair("[0-9]%: [0-9]");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (std::none_of(line.begin(), line.end(), [](unsigned char c) { return std::isdigit(c); })) continue;
    const auto words = std::distance(std::sregex_iterator(line.begin(), line.end(), word), std::sregex_iterator());
    EXPECT_GE(words, 2) << "a figure without words: '" << line << "'";
    EXPECT_FALSE(std::regex_search(line, bare_pair)) << "an unexplained figure: '" << line << "'";
  }
}

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

  // A small interactive lease: 32x32x32, T = 16 (4 tiles per round), R = 2, 40 samples. W = R x 2MNK = 131072
  // operations per device; at the claimed 1000 ops/s per device the compute time is 131072 ms and the deadline
  // 163840 ms (slack 0.25), which a loaded machine meets.
  std::string LeaseArgs(const std::string& store, const std::string& out) const {
    return "lease new --key " + P("vk") + " --provider-key " + provider_hex_ + " --store " + P(store) + " --out " +
           P(out) + " --m 32 --n 32 --k 32 --tile 16 --rounds 2";
  }
  std::string LeaseNewArgs() const { return LeaseArgs("vs", "lease.bin") + " --rate 1000"; }
  std::string Provider() const { return " --store " + P("ps") + " --key " + P("pk") + " "; }
  std::string Verifier() const { return " --store " + P("vs") + " --key " + P("vk") + " "; }

  // Runs the lease up to and including `last` ("accept", "start", "prove", "challenge", "respond", "verify");
  // `lease_extra` is added to `vcp lease new` (e.g. " --devices 2").
  void RunLeaseTo(const std::string& last, const std::string& lease_extra = "") {
    const std::vector<std::pair<std::string, std::string>> steps = {
        {"new", LeaseNewArgs() + lease_extra},
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

// The wording check itself fails on the kind of line the v1 report printed.
TEST(ReportWordingCheck, CatchesBareFigures) {
  EXPECT_NONFATAL_FAILURE(ExpectEveryFigureExplained("  if beacons leak   1%: 0.0000, 10%: 0.0000\n"),
                          "an unexplained figure");
  EXPECT_NONFATAL_FAILURE(ExpectEveryFigureExplained("ok line with words 12\n  0.0000\n"), "a figure without words");
  ExpectEveryFigureExplained("no figures here\nproven >= 1.2e+06 ops/s per device\n");
}

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
      {"epoch void", "--reason"},
      {"prove", "--start"},
      {"challenge", "--record"},
      {"respond", "--challenge"},
      {"verify", "--response"},
      {"report", "--confidence"},
      {"inspect", "FILE"},
      {"calibrate", "--target-seconds"},
      {"demo", "--cheat"},
      {"devices", "--backend"},
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

// Protocol v2's lease terms: the rate is per device, the slack and the allowance are terms, the deadline is not a
// flag any more (it follows), and --wait is what makes an epoch scheduled.
TEST_F(ProtocolCli, HelpNamesTheV2Terms) {
  const Outcome lease = Vcp("lease new --help");
  ASSERT_EQ(lease.code, 0) << lease.output;
  EXPECT_TRUE(Contains(HelpLine(lease.output, "--rate"), "PER DEVICE")) << lease.output;
  EXPECT_TRUE(Contains(HelpLine(lease.output, "--devices"), "1 to 16")) << lease.output;
  EXPECT_TRUE(Contains(HelpLine(lease.output, "--slack"), "rate / (1 + slack)")) << lease.output;
  EXPECT_FALSE(HelpLine(lease.output, "--allowance-ms").empty()) << lease.output;
  EXPECT_FALSE(Contains(lease.output, "--deadline-ms")) << lease.output;
  const Outcome start = Vcp("epoch start --help");
  EXPECT_TRUE(Contains(HelpLine(start.output, "--wait"), "scheduled")) << start.output;
  EXPECT_TRUE(Contains(HelpLine(Vcp("demo --help").output, "--devices"), "1 to 16"));
  EXPECT_FALSE(HelpLine(Vcp("calibrate --help").output, "--allowance-ms").empty());
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

// The deadline follows from the terms and is printed up front with how it follows, what a passing epoch proves
// and what a perfect provider reaches over the lease.
TEST_F(ProtocolCli, LeaseNewPrintsTheDeadlineWhatItProvesAndThePerfectBound) {
  const Outcome o = Vcp(LeaseNewArgs() + " --devices 2 --allowance-ms 1000");
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(Contains(o.output, "D = 2 devices, R = 2 rounds per device, 40 samples per epoch")) << o.output;
  EXPECT_TRUE(Contains(o.output, "claimed     1e+03 ops/s per device (2e+03 ops/s over the 2 devices)")) << o.output;
  EXPECT_TRUE(Contains(o.output, "deadline    163840 ms per epoch = compute time 131072 ms")) << o.output;
  EXPECT_TRUE(Contains(o.output, "x (1 + slack 0.25)")) << o.output;
  EXPECT_TRUE(Contains(o.output, "a passing epoch proves >= 800 ops/s per device")) << o.output;
  EXPECT_TRUE(Contains(o.output, "allowance   1000 ms of the 32768 ms slack margin")) << o.output;
  ASSERT_EQ(LinesWith(o.output, "perfect ").size(), 1u) << o.output;
  EXPECT_TRUE(Contains(LinesWith(o.output, "perfect ")[0], "GPU-hours of 48.00 (2 devices x 24.00 h)")) << o.output;
  ExpectEveryFigureExplained(o.output);

  // An audit share of 8% over 1 h with a 262.144 s deadline: E = 1.1 scheduled epochs, about the fewest a lease may
  // expect; even if every one passes, (1 - 0.95)^(1/E) stays low, and the explanation says why.
  const Outcome j =
      Vcp("--json " + LeaseArgs("vs2", "lease2.bin") + " --rate 1000 --slack 1 --hours 1 --audit-share 0.08", false);
  ASSERT_EQ(j.code, 0) << j.output;
  const json lease = json::parse(j.output);
  EXPECT_EQ(lease.at("terms").at("deadline_ms"), 262144.0) << "compute time x (1 + 1.0)";
  EXPECT_EQ(lease.at("terms").at("guaranteed_ops_per_second_per_device"), 500.0);
  const json& perfect = lease.at("perfect_provider");
  const double e = 3600.0 * 0.08 / 262.144;
  EXPECT_NEAR(perfect.at("expected_scheduled_epochs").get<double>(), e, 1e-9);
  EXPECT_NEAR(perfect.at("availability_bound").get<double>(), std::pow(0.05, 1 / e), 1e-9);
  EXPECT_LT(perfect.at("availability_bound").get<double>(), 0.1);
  EXPECT_FALSE(perfect.at("explanation").get<std::string>().empty());
}

// An audit share that expects fewer than one scheduled epoch over the lease makes a lease with no audit at all: it
// is refused (exit 2, nothing written) with the smallest share that gives one, which is then accepted.
TEST_F(ProtocolCli, LeaseNewRefusesAnAuditShareWithNoExpectedAudit) {
  // The default 2% over 1 h with a 262.144 s deadline expects 0.27 scheduled epochs; 262.144 / 3600 = 0.0728.
  const std::string args = LeaseArgs("vs", "lease.bin") + " --rate 1000 --slack 1 --hours 1";
  ExpectOneLineError(Vcp(args), 2,
                     {"audit share 0.02 gives 0.275 expected scheduled epochs", "at least one is needed",
                      "smallest share that gives one is 0.0729"});
  // The issue's share: it created a lease with zero audits and exited 0.
  ExpectOneLineError(Vcp(args + " --audit-share 1e-300"), 2, {"audit share 1e-300", "0.0729"});
  ExpectOneLineError(Vcp(args + " --audit-share 0"), 2, {"audit share 0", "allowed: above 0, up to 1"});
  ExpectOneLineError(Vcp(args + " --audit-share nan"), 2, {"audit share nan", "allowed: above 0, up to 1"});
  EXPECT_FALSE(fs::exists(P("lease.bin")));
  EXPECT_FALSE(fs::exists(P("vs") + "/verifier.log"));
  const Outcome ok = Vcp("--json " + args + " --audit-share 0.0729", false);
  ASSERT_EQ(ok.code, 0) << ok.output;
  EXPECT_GE(json::parse(ok.output).at("perfect_provider").at("expected_scheduled_epochs").get<double>(), 1.0);
}

// Terms under which a passing epoch could not prove the claimed rate are refused with the library's message,
// exit 2, and nothing is written.
TEST_F(ProtocolCli, LeaseNewRefusesTermsThatCannotProveTheRate) {
  // 131072 operations at 1e9 ops/s is 131 us: too short an epoch to time.
  ExpectOneLineError(Vcp(LeaseArgs("vs", "lease.bin") + " --rate 1e9"), 2, {"compute time", "1000 us", "raise R"});
  // A network allowance that does not fit in half the slack margin (32768 ms here).
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --allowance-ms 20000"), 2,
                     {"allowance", "half of the margin", "raise the slack (max 1.0)"});
  // A slack above 1.0 would prove less than half the claimed rate.
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --slack 1.5"), 2, {"slack", "maximum"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --slack -1"), 2, {"--slack", "allowed: 0 to 1.0"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --devices 17"), 2, {"16"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --devices 0"), 2, {"1"});
  // Protocol v1's --deadline-ms is refused with what replaced it.
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --deadline-ms 5000"), 2, {"--deadline-ms is gone", "--rate", "--slack"});
  EXPECT_FALSE(fs::exists(P("lease.bin")));
  EXPECT_FALSE(fs::exists(P("vs") + "/verifier.log"));
}

TEST_F(ProtocolCli, LeaseNewRateOutOfRangeSaysTheAllowedRange) {
  // 1e20 does not fit the lease's u64 rate: it used to wrap and be reported as "must be positive".
  ExpectOneLineError(Vcp(LeaseArgs("vs", "lease.bin") + " --rate 1e20"), 2,
                     {"--rate", "out of range", "allowed: 1 to 9e+18"});
  ExpectOneLineError(Vcp(LeaseArgs("vs", "lease.bin") + " --rate 0"), 2, {"--rate", "allowed: 1 to"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --hours 1e30"), 2, {"--hours", "allowed:"});
  // Every value the issue found reaching an undefined float-to-integer conversion is range-checked as a double
  // first, with the flag, the value and the allowed range (UBSan's float-cast-overflow runs these too).
  ExpectOneLineError(Vcp(LeaseArgs("vs", "lease.bin") + " --rate 1e300"), 2,
                     {"--rate 1e+300 is out of range", "allowed: 1 to 9e+18"});
  ExpectOneLineError(Vcp(LeaseArgs("vs", "lease.bin") + " --rate 9.1e18"), 2, {"--rate 9.1e+18", "allowed"});
  ExpectOneLineError(Vcp(LeaseArgs("vs", "lease.bin") + " --rate nan"), 2, {"--rate nan", "allowed: 1 to"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --hours inf"), 2, {"--hours inf is out of range", "allowed: 1e-06 to"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --hours -inf"), 2, {"--hours -inf", "allowed"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --allowance-ms 1e300"), 2,
                     {"--allowance-ms 1e+300 is out of range", "allowed: 0 to 1.1e+09"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --slack inf"), 2, {"--slack inf", "allowed: 0 to 1.0"});
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --slack nan"), 2, {"--slack nan", "allowed: 0 to 1.0"});
  // --deadline-ms is gone, whatever its value.
  ExpectOneLineError(Vcp(LeaseNewArgs() + " --deadline-ms 1e300"), 2, {"--deadline-ms is gone"});
  // The rate is a required term: the deadline follows from it.
  const Outcome missing = Vcp(LeaseArgs("vs", "lease.bin"));
  EXPECT_EQ(missing.code, 2) << missing.output;
  EXPECT_TRUE(Contains(missing.output, "--rate")) << missing.output;
  EXPECT_FALSE(fs::exists(P("lease.bin")));
  EXPECT_FALSE(fs::exists(P("vs") + "/verifier.log"));
}

TEST_F(ProtocolCli, LeaseNewPublicKeyAsKeyIsNamedWithoutChmodAdvice) {
  const Outcome o = Vcp("lease new --key " + P("vk/vcp.pub") + " --provider-key " + provider_hex_ + " --store " +
                        P("vs") + " --out " + P("lease.bin") + " --rate 1000");
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

// Without --wait an epoch is on demand, and says so: it proves throughput, not availability.
TEST_F(ProtocolCli, EpochStartIsOnDemandWithoutWait) {
  RunLeaseTo("accept");
  const Outcome o = Vcp("epoch start" + Verifier() + "--acceptance " + P("accept.bin") + " --out " + P("start.bin"));
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(fs::exists(P("start.bin")));
  EXPECT_TRUE(Contains(o.output, "schedule    on demand: it proves throughput but not availability")) << o.output;
  EXPECT_TRUE(Contains(o.output, "within 163840 ms")) << o.output;
  // The same open epoch handed out again keeps its schedule.
  const Outcome again = Vcp("--json epoch start" + Verifier() + "--out " + P("start2.bin"), false);
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(json::parse(again.output).at("schedule"), "on-demand");
  EXPECT_EQ(json::parse(again.output).at("epoch"), 0);
  ExpectOneLineError(Vcp("epoch start" + Verifier() + "--acceptance " + P("lease.bin") + " --out " + P("s2.bin")), 2,
                     {"--acceptance", "holds a lease", "vcp lease accept"});
}

// --wait sleeps until the next time of the secret audit schedule and starts a scheduled epoch, which the report
// counts apart from on-demand ones (whatever its verdict on a loaded machine). Terms that keep the wait short:
// 65536 ops/s per device makes the compute time 2 s, slack 1.0 the deadline 4 s, and an audit share of 1 a mean gap
// of one deadline between audit times.
TEST_F(ProtocolCli, EpochStartWaitStartsAScheduledEpoch) {
  ASSERT_EQ(Vcp(LeaseArgs("vs", "lease.bin") + " --rate 65536 --slack 1 --audit-share 1 --hours 1").code, 0);
  ASSERT_EQ(Vcp("lease accept --lease " + P("lease.bin") + " --key " + P("pk") + " --store " + P("ps") + " --out " +
                P("accept.bin"))
                .code,
            0);
  const Outcome start =
      Vcp("epoch start" + Verifier() + "--acceptance " + P("accept.bin") + " --wait --out " + P("start.bin"));
  ASSERT_EQ(start.code, 0) << start.output;
  EXPECT_TRUE(Contains(start.output, "schedule    scheduled: at a secret audit time")) << start.output;
  ASSERT_EQ(Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record.bin")).code,
            0);
  Vcp("challenge" + Verifier() + "--record " + P("record.bin") + " --out " + P("challenge.bin"));
  if (fs::exists(P("challenge.bin"))) {
    ASSERT_EQ(Vcp("respond" + Provider() + "--challenge " + P("challenge.bin") + " --out " + P("response.bin")).code,
              0);
    Vcp("verify" + Verifier() + "--response " + P("response.bin") + " --out " + P("verdict.bin"));
    const Outcome verdict = Vcp("inspect " + P("verdict.bin"), false);
    ASSERT_EQ(verdict.code, 0) << verdict.output;
    EXPECT_EQ(json::parse(verdict.output).at("schedule"), "scheduled");
  }
  // Either way (passed, or late on a loaded machine) the epoch is closed now or at the next start: close it with
  // an on-demand start, then the report counts one scheduled epoch and nothing else as scheduled.
  const Outcome next = Vcp("epoch start" + Verifier() + "--out " + P("start2.bin"));
  ASSERT_EQ(next.code, 0) << next.output;
  EXPECT_TRUE(Contains(next.output, "on demand")) << next.output;
  const Outcome report = Vcp("--json report --store " + P("vs"), false);
  ASSERT_EQ(report.code, 0) << report.output;
  const json r = json::parse(report.output);
  EXPECT_EQ(r.at("scheduled").at("closed"), 1) << report.output;
  EXPECT_EQ(r.at("on_demand").at("closed"), 0) << "epoch 1 is still open";
  EXPECT_EQ(r.at("availability").at("from_scheduled_epochs"), 1);
  // The verifier's log keeps each start's schedule (the provider's copy of the start cannot tell them apart).
  const Outcome log = Vcp("inspect " + P("vs") + "/verifier.log", false);
  ASSERT_EQ(log.code, 0) << log.output;
  const json entries = json::parse(log.output).at("entries");
  std::vector<std::string> schedules;
  for (const json& e : entries) {
    if (e.at("type") == "epoch-start") schedules.push_back(e.at("schedule"));
  }
  EXPECT_EQ(schedules, (std::vector<std::string>{"scheduled", "on-demand"})) << log.output;
}

// An epoch the verifier could not time is closed void: neither a pass nor the provider's failure, counted on its
// own line. Terms with a 12.5 ms deadline (compute time 10 ms) so that it passes at once.
TEST_F(ProtocolCli, EpochVoidClosesAnUntimedEpochOnItsOwnLine) {
  ASSERT_EQ(Vcp(LeaseArgs("vs", "lease.bin") + " --rate 13107200 --hours 1").code, 0);
  ASSERT_EQ(Vcp("lease accept --lease " + P("lease.bin") + " --key " + P("pk") + " --store " + P("ps") + " --out " +
                P("accept.bin"))
                .code,
            0);
  ASSERT_EQ(Vcp("epoch start" + Verifier() + "--acceptance " + P("accept.bin") + " --out " + P("start.bin")).code, 0);
  // Only the three void reasons.
  ExpectOneLineError(Vcp("epoch void" + Verifier() + "--reason late"), 2,
                     {"--reason 'late'", "verifier-down", "clock", "beacon-unavailable"});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const Outcome o = Vcp("epoch void" + Verifier() + "--reason verifier-down --detail 'restarted after a crash' --out " +
                        P("verdict.bin"));
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(Contains(o.output, "VOID")) << o.output;
  EXPECT_TRUE(Contains(o.output, "void-verifier-down")) << o.output;
  EXPECT_TRUE(Contains(o.output, "restarted after a crash")) << o.output;
  const Outcome verdict = Vcp("inspect " + P("verdict.bin"), false);
  ASSERT_EQ(verdict.code, 0) << verdict.output;
  EXPECT_EQ(json::parse(verdict.output).at("reason"), "void-verifier-down");
  EXPECT_EQ(json::parse(verdict.output).at("verdict"), "void");
  // No epoch is open now: a second void is refused.
  const Outcome again = Vcp("epoch void" + Verifier() + "--reason verifier-down");
  EXPECT_EQ(again.code, 2) << again.output;

  const Outcome text = Vcp("report --store " + P("vs"));
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_TRUE(Contains(text.output, "void epochs       1 (")) << text.output;
  EXPECT_TRUE(Contains(text.output, "on-demand epochs  0 passed, 0 failed, 0 missed")) << text.output;
  EXPECT_FALSE(Contains(text.output, "SOME EPOCHS FAILED")) << text.output;
  const json r = json::parse(Vcp("--json report --store " + P("vs"), false).output);
  EXPECT_EQ(r.at("void"), 1);
  EXPECT_EQ(r.at("passed"), 0);
  EXPECT_EQ(r.at("failed"), 0);
  EXPECT_EQ(r.at("missed"), 0);
}

// The verifier's own side cannot void an epoch it can still time: before the deadline the void is refused with
// the library's rule, and nothing is closed.
TEST_F(ProtocolCli, EpochVoidIsRefusedWhileTheDeadlineRuns) {
  RunLeaseTo("start");
  const Outcome o = Vcp("epoch void" + Verifier() + "--reason verifier-down");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_EQ(Lines(o.output), 1u) << o.output;
  EXPECT_TRUE(Contains(o.output, "deadline")) << o.output;
  // The epoch is still open and runs on.
  ASSERT_EQ(Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record.bin")).code,
            0);
  EXPECT_EQ(Vcp("challenge" + Verifier() + "--record " + P("record.bin") + " --out " + P("challenge.bin")).code, 0);
}

TEST_F(ProtocolCli, ProvePrintsEachDevicesEvidence) {
  RunLeaseTo("start");
  const Outcome o = Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record.bin"));
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(Contains(o.output, "2 rounds on its 1 device")) << o.output;
  const std::vector<std::string> devices = LinesWith(o.output, "device 0    cpu: ");
  EXPECT_EQ(devices.size(), 1u) << o.output;
  EXPECT_TRUE(LinesWith(o.output, "device 1 ").empty()) << o.output;
}

// A lease naming two devices, command by command: prove runs both at once and prints each one's evidence, the
// record carries both, and the epoch passes.
TEST_F(ProtocolCli, TwoDeviceLeaseCommandByCommand) {
  RunLeaseTo("prove", " --devices 2");
  const Outcome record = Vcp("inspect " + P("record.bin"), false);
  ASSERT_EQ(record.code, 0) << record.output;
  const json r = json::parse(record.output);
  ASSERT_EQ(r.at("devices").size(), 2u) << record.output;
  for (const json& d : r.at("devices")) EXPECT_EQ(d.at("backend"), "cpu") << record.output;
  EXPECT_EQ(r.at("operations"), 2 * 131072) << "D x R x 2MNK";
  // The record handed back again names both devices too.
  const Outcome again =
      Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record2.bin"));
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "2 rounds on each of 2 devices at once")) << again.output;
  EXPECT_EQ(LinesWith(again.output, "device 0    cpu: ").size(), 1u) << again.output;
  EXPECT_EQ(LinesWith(again.output, "device 1    cpu: ").size(), 1u) << again.output;
  ASSERT_EQ(Vcp("challenge" + Verifier() + "--record " + P("record.bin") + " --out " + P("challenge.bin")).code, 0);
  ASSERT_EQ(Vcp("respond" + Provider() + "--challenge " + P("challenge.bin") + " --out " + P("response.bin")).code, 0);
  const Outcome verify = Vcp("verify" + Verifier() + "--response " + P("response.bin"));
  EXPECT_EQ(verify.code, 0) << verify.output;
  EXPECT_TRUE(Contains(verify.output, "PASS")) << verify.output;
  const Outcome report = Vcp("report --store " + P("vs"));
  ASSERT_EQ(report.code, 0) << report.output;
  EXPECT_EQ(LinesWith(report.output, "    device 1  cpu: ").size(), 1u) << report.output;
  EXPECT_TRUE(Contains(report.output, "GPU-hours proven  0.00 = 2 devices x")) << report.output;
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
    beacon << "vcp-beacon-v2 test-beacon " << now_us << " 1000000\n";
    for (int round = 0; round < 400; ++round) {
      char value[65];
      std::snprintf(value, sizeof value, "%064x", round + 1);
      beacon << round << " " << value << "\n";
    }
  }
  const std::string beacon = " --beacon-file " + P("beacon.txt") + " ";
  ASSERT_EQ(Vcp("lease new --mode beacon" + beacon + "--key " + P("vk") + " --provider-key " + P("pk") + " --store " +
                P("vs") + " --out " + P("lease.bin") + " --m 32 --n 32 --k 32 --tile 16 --rounds 2 --rate 32768")
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

// The report after one passing on-demand epoch: counts per schedule kind, void on its own line, the proven rate
// as a fact of the epoch (never PASS beside "claimed rate NOT met"), the availability bound explained (none yet:
// no scheduled epoch), and every figure beside words.
TEST_F(ProtocolCli, ReportExplainsEveryFigure) {
  RunLeaseTo("verify");
  const Outcome text = Vcp("report --store " + P("vs"));
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_TRUE(Contains(text.output, "scheduled epochs  0 passed, 0 failed, 0 missed (")) << text.output;
  EXPECT_TRUE(Contains(text.output, "on-demand epochs  1 passed, 0 failed, 0 missed (")) << text.output;
  EXPECT_TRUE(Contains(text.output, "void epochs       0 (")) << text.output;
  const std::vector<std::string> rows = LinesWith(text.output, "  on-demand  PASS  ");
  ASSERT_EQ(rows.size(), 1u) << text.output;
  EXPECT_TRUE(std::regex_search(rows[0], std::regex("proven >= [0-9.e+]+ ops/s per device$"))) << rows[0];
  EXPECT_TRUE(Contains(text.output, "every passing epoch proved >= 800 ops/s per device")) << text.output;
  EXPECT_TRUE(Contains(text.output, "no scheduled epoch has closed yet")) << text.output;
  EXPECT_TRUE(Contains(text.output, "GPU-hours proven  0.00 = 1 device x")) << text.output;
  EXPECT_TRUE(Contains(text.output, "    device 0  cpu: ")) << text.output;
  EXPECT_FALSE(Contains(text.output, "NOT met")) << text.output;
  EXPECT_FALSE(Contains(text.output, "toward 0.99")) << "no scheduled epoch, nothing to count toward\n" << text.output;
  ExpectEveryFigureExplained(text.output);

  const Outcome j = Vcp("--json report --store " + P("vs"), false);
  ASSERT_EQ(j.code, 0) << j.output;
  const json report = json::parse(j.output);
  EXPECT_EQ(report.at("passed"), 1);
  EXPECT_EQ(report.at("on_demand").at("passed"), 1);
  EXPECT_EQ(report.at("scheduled").at("closed"), 0);
  EXPECT_EQ(report.at("void"), 0);
  EXPECT_EQ(report.at("availability").at("lower_bound"), 0.0) << "on-demand epochs do not move the bound";
  EXPECT_FALSE(report.at("availability").at("explanation").get<std::string>().empty());
  EXPECT_FALSE(report.at("sampling").at("explanation").get<std::string>().empty());
  EXPECT_EQ(report.at("throughput").at("guaranteed_ops_per_second_per_device"), 800.0);
  EXPECT_GE(report.at("throughput").at("min_proven_ops_per_second_per_device").get<double>(), 800.0);
  ASSERT_EQ(report.at("epoch_verdicts").size(), 1u);
  const json& epoch = report.at("epoch_verdicts")[0];
  EXPECT_EQ(epoch.at("schedule"), "on-demand");
  EXPECT_EQ(epoch.at("devices").size(), 1u);
  EXPECT_GE(epoch.at("proven_ops_per_second_per_device").get<double>(), 800.0);
  EXPECT_EQ(epoch.at("deadline_ms"), 163840.0);
  ExpectOneLineError(Vcp("report --store " + P("vs") + " --confidence 2"), 2, {"--confidence", "between 0 and 1"});
}

TEST_F(ProtocolCli, InspectMessagesAndStoreLogs) {
  RunLeaseTo("prove");
  const Outcome record = Vcp("inspect " + P("record.bin"), false);
  ASSERT_EQ(record.code, 0) << record.output;
  const json r = json::parse(record.output);
  EXPECT_EQ(r.at("epoch"), 0);
  EXPECT_EQ(r.at("file"), P("record.bin"));
  ASSERT_EQ(r.at("devices").size(), 1u) << record.output;
  EXPECT_EQ(r.at("devices")[0].at("backend"), "cpu");
  // The lease's v2 terms and what follows from them.
  const Outcome lease = Vcp("inspect " + P("lease.bin"), false);
  ASSERT_EQ(lease.code, 0) << lease.output;
  const json l2 = json::parse(lease.output);
  EXPECT_EQ(l2.at("devices"), 1);
  EXPECT_EQ(l2.at("claimed_ops_per_second_per_device"), 1000);
  EXPECT_EQ(l2.at("slack_ppm"), 250000);
  EXPECT_EQ(l2.at("network_allowance_us"), 0);
  EXPECT_EQ(l2.at("deadline_us"), 163840000);
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

// calibrate suggests per-device terms that `vcp lease new` accepts as they are: the allowance it was asked to fit
// (1 s) needs a slack margin of 2 s, so for this tiny workload R is raised until the compute time allows it.
TEST_F(ProtocolCli, CalibrateSuggestsTermsLeaseNewAccepts) {
  const Outcome o =
      Vcp("--json calibrate --backend cpu --m 32 --n 32 --k 32 --tile 16 --repeats 1 --target-seconds 1 --devices 2",
          false);
  ASSERT_EQ(o.code, 0) << o.output;
  const json j = json::parse(o.output);
  const uint32_t rounds = j.at("suggested_rounds").get<uint32_t>();
  const uint64_t rate = j.at("suggested_claimed_rate_per_device").get<uint64_t>();
  const double slack = j.at("suggested_slack").get<double>();
  EXPECT_GE(rounds, 1u);
  EXPECT_GE(rate, 1u);
  EXPECT_GT(slack, 0.0);
  EXPECT_LE(slack, 1.0);
  EXPECT_EQ(j.at("suggested_allowance_ms"), 1000.0);
  EXPECT_EQ(j.at("devices"), 2);
  EXPECT_GE(j.at("deadline_ms").get<double>() - j.at("compute_time_ms").get<double>(), 2000.0)
      << "the allowance fits in half the slack margin";
  const Outcome lease =
      Vcp("lease new --key " + P("vk") + " --provider-key " + provider_hex_ + " --store " + P("vs") + " --out " +
          P("lease.bin") + " --m 32 --n 32 --k 32 --tile 16 --devices 2 --rounds " + std::to_string(rounds) +
          " --rate " + std::to_string(rate) + " --slack " + std::to_string(slack) + " --allowance-ms 1000");
  EXPECT_EQ(lease.code, 0) << lease.output;
  // The text names every suggested term.
  const Outcome text = Vcp("calibrate --backend cpu --m 32 --n 32 --k 32 --tile 16 --repeats 1 --target-seconds 1");
  ASSERT_EQ(text.code, 0) << text.output;
  for (const char* part : {"ops/s per device", "slack ", "allowance ", "--rate ", "--slack ", "--allowance-ms 1000"}) {
    EXPECT_TRUE(Contains(text.output, part)) << part << "\n" << text.output;
  }
  ExpectEveryFigureExplained(text.output);
  ExpectOneLineError(Vcp("calibrate --backend cpu --m 32 --n 32 --k 32 --tile 16 --repeats 0"), 2, {"--repeats"});
}

// vcp devices: what a record would sign for each device the backend sees; the CPU is one entry.
TEST_F(ProtocolCli, DevicesListsTheEvidenceARecordWouldSign) {
  const Outcome o = Vcp("--json devices --backend cpu", false);
  ASSERT_EQ(o.code, 0) << o.output;
  const json j = json::parse(o.output);
  ASSERT_EQ(j.at("devices").size(), 1u) << o.output;
  EXPECT_EQ(j.at("devices")[0].at("backend"), "cpu");
  EXPECT_EQ(j.at("devices")[0].at("evidence").get<std::string>().rfind("cpu: ", 0), 0u) << o.output;
  const Outcome text = Vcp("devices --backend cpu");
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_EQ(LinesWith(text.output, "device 0  cpu: ").size(), 1u) << text.output;
  ExpectOneLineError(Vcp("devices --backend tpu"), 2, {"tpu"});
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
  const Outcome o = Vcp("demo --n 64 --rounds 2 --epochs 2 --on-demand --rate 1e6 --backend cpu");
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(Contains(o.output, "40 samples per epoch")) << o.output;
  EXPECT_TRUE(Contains(o.output, "on-demand epochs  2 passed, 0 failed, 0 missed")) << o.output;
  ExpectEveryFigureExplained(o.output);
  size_t rows = 0;
  for (size_t at = o.output.find("  PASS  "); at != std::string::npos; at = o.output.find("  PASS  ", at + 1)) ++rows;
  EXPECT_EQ(rows, 2u) << o.output;
  EXPECT_TRUE(Contains(o.output, "every epoch passed")) << o.output;
  ExpectOneLineError(Vcp("demo --cheat 2"), 2, {"--cheat", "allowed: 0"});
}

// `vcp demo --cheat F` says what the lazy provider really skips: a whole number of the epoch's D x R x L positions.
// Here D x R x L = 1 x 2 x 4 = 8 (n 64, T 32): --cheat 0.2 skips round(1.6) = 2 tiles, 25%, not 20%.
TEST_F(ProtocolCli, DemoCheatSaysWhatItReallySkips) {
  const std::string args = "demo --n 64 --rounds 2 --epochs 1 --on-demand --rate 1e6 --backend cpu --cheat 0.2";
  const Outcome o = Vcp(args);
  EXPECT_TRUE(o.code == 0 || o.code == 1) << o.output;
  EXPECT_TRUE(Contains(o.output, "skipping 2 of its 8 tiles (25.0%) per epoch")) << o.output;
  EXPECT_TRUE(Contains(o.output, "provider skipping 2 of its 8 tiles (25.0%) per epoch with probability")) << o.output;
  EXPECT_TRUE(Contains(o.output, "= (1 - 0.25)^40")) << o.output;
  const Outcome j = Vcp("--json " + args, false);
  ASSERT_TRUE(j.code == 0 || j.code == 1) << j.output;
  const json r = json::parse(j.output);
  EXPECT_EQ(r.at("skipped_per_epoch"), 2);
  EXPECT_EQ(r.at("positions_per_epoch"), 8);
  EXPECT_EQ(r.at("skipped_fraction"), 0.25);
  EXPECT_EQ(r.at("cheat_fraction"), 0.2);
  // --cheat 0.03 is 0.24 of the 8 tiles: it would skip none while saying 3%, so it is refused before any store.
  ExpectOneLineError(Vcp("demo --n 64 --rounds 2 --epochs 1 --on-demand --rate 1e6 --backend cpu --cheat 0.03"), 2,
                     {"skip fraction 0.03 skips no tile at all", "8 positions per epoch", "= 0.24, which rounds to 0",
                      "skip at least 0.0625"});
}

// `vcp demo --devices 2`: a lease naming two devices end to end; every record carries both devices' evidence.
TEST_F(ProtocolCli, DemoOnTwoDevices) {
  // 1e6 ops/s per device: a 1.3 s deadline a loaded machine meets; an audit share of 1 keeps the waits short.
  const std::string args = "demo --devices 2 --n 64 --rounds 2 --epochs 2 --rate 1e6 --audit-share 1 --backend cpu";
  const Outcome o = Vcp("--json " + args, false);
  ASSERT_EQ(o.code, 0) << o.output;
  const json j = json::parse(o.output);
  EXPECT_EQ(j.at("devices"), 2);
  EXPECT_EQ(j.at("passed"), 2);
  EXPECT_EQ(j.at("scheduled").at("passed"), 2) << "the demo's epochs run at the (compressed) audit times";
  EXPECT_EQ(j.at("run_devices").size(), 2u);
  for (const json& v : j.at("epoch_verdicts")) EXPECT_EQ(v.at("devices").size(), 2u) << v.dump();
  EXPECT_TRUE(j.at("devices_changed_at").empty());
  const Outcome text = Vcp(args);
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_TRUE(Contains(text.output, "D = 2 devices")) << text.output;
  EXPECT_TRUE(Contains(text.output, "2 devices at once")) << text.output;
  EXPECT_EQ(LinesWith(text.output, "    device 1  cpu: ").size(), 1u) << text.output;
  EXPECT_TRUE(Contains(text.output, "scheduled epochs  2 passed, 0 failed, 0 missed")) << text.output;
  EXPECT_TRUE(Contains(text.output, "more passing scheduled epochs (and no failures) would raise the bound to 0.99"))
      << text.output;
  ExpectEveryFigureExplained(text.output);
  ExpectOneLineError(Vcp("demo --devices 17"), 2, {"--devices", "allowed: 1 to 16"});
}

TEST_F(ProtocolCli, DemoBeaconMode) {
  const Outcome o =
      Vcp("--json demo --mode beacon --n 64 --rounds 2 --epochs 2 --on-demand --rate 1e6 --backend cpu", false);
  ASSERT_EQ(o.code, 0) << o.output;
  const json j = json::parse(o.output);
  EXPECT_EQ(j.at("mode"), "beacon");
  EXPECT_EQ(j.at("passed"), 2);
  // The sampling figures come with their explanation, which in beacon mode names the early-beacon caveat.
  EXPECT_TRUE(Contains(j.at("sampling").at("explanation").get<std::string>(), "beacon")) << o.output;
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
  // runs overlap; at 1e7 ops/s per device the deadline is over an hour (72 min), so the 24 h lease takes an audit
  // share of 0.1 to expect at least one scheduled epoch (2 here).
  ASSERT_EQ(Vcp("lease new --key " + P("vk") + " --provider-key " + P("pk") + " --store " + P("vs") + " --out " +
                P("lease.bin") + " --m 1024 --n 1024 --k 1024 --rounds 16 --rate 1e7 --audit-share 0.1")
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
