// The store recovery rules (docs/PROTOCOL.md 10.5, 11.1) as a user meets them through the real vcp binary: a store
// a crash left without a lease is named as such and recreated by the command that makes it; an altered last frame
// is refused loudly and left in place; `vcp report` and `vcp inspect` read a store mid-append without changing a
// byte; and the last epoch of a lease is counted by `vcp report` once it is overdue ("overdue, not yet signed") and
// signed by the next verifier command with the key (`vcp epoch start` after the lease's end, `vcp verify`).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_util.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Outcome = vcp::testing::CliOutcome;

Outcome Vcp(const std::string& args, bool with_stderr = true) { return vcp::testing::RunCli(args, with_stderr); }
bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<char> ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void WriteAll(const fs::path& p, const std::vector<char>& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

class RecoveryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(vcp::testing::CliPath())) << "no vcp binary; build the vcp_cli target";
    dir_ = vcp::testing::MakeTempDir("vcp-cli-recovery-");
    ASSERT_FALSE(dir_.empty());
    ASSERT_EQ(Vcp("keygen --out " + P("vk")).code, 0);
    ASSERT_EQ(Vcp("keygen --out " + P("pk")).code, 0);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }
  std::string Verifier() const { return " --store " + P("vs") + " --key " + P("vk") + " "; }
  std::string Provider() const { return " --store " + P("ps") + " --key " + P("pk") + " "; }
  // 32 x 32 x 32, T = 16, R = 2, `hours` long. At 13107200 ops/s per device the deadline is 12.5 ms (missed by any
  // CLI round trip); at 1000 it is 163840 ms (met on a loaded machine).
  std::string LeaseNew(const std::string& hours = "1", const std::string& rate = "13107200") const {
    return "lease new --key " + P("vk") + " --provider-key " + P("pk") + "/vcp.pub --store " + P("vs") + " --out " +
           P("lease.bin") + " --m 32 --n 32 --k 32 --tile 16 --rounds 2 --rate " + rate + " --hours " + hours;
  }
  std::string Accept() const {
    return "lease accept --lease " + P("lease.bin") + Provider() + "--out " + P("accept.bin");
  }
  std::string Start(const std::string& out = "start.bin") const {
    return "epoch start" + Verifier() + "--acceptance " + P("accept.bin") + " --out " + P(out);
  }
  void Run(const std::string& args) {
    const Outcome o = Vcp(args);
    ASSERT_EQ(o.code, 0) << "vcp " << args << "\n" << o.output;
  }

  fs::path dir_;
};

// A crash during `vcp lease new` / `vcp lease accept` before their first entry: every command names the problem
// and the command to run, and that command recreates the store.
TEST_F(RecoveryCli, AStoreACrashLeftWithoutALeaseIsNamedAndRecreated) {
  Run(LeaseNew());
  fs::resize_file(P("vs") + "/verifier.log", 8);  // the header alone
  for (const std::string& args : {"report --store " + P("vs"), Start()}) {
    const Outcome o = Vcp(args);
    EXPECT_EQ(o.code, 2) << args << "\n" << o.output;
    EXPECT_TRUE(Contains(o.output, "holds no lease")) << o.output;
    EXPECT_TRUE(Contains(o.output, "run vcp lease new again with --store " + P("vs"))) << o.output;
  }
  const Outcome shown = Vcp("inspect " + P("vs") + "/verifier.log", false);
  ASSERT_EQ(shown.code, 0) << shown.output;
  EXPECT_FALSE(json::parse(shown.output).at("holds_lease").get<bool>()) << shown.output;
  Run(LeaseNew());

  Run(Accept());
  WriteAll(P("ps") + "/provider.log", {});  // empty: a crash before even the header
  Run(Start());
  const Outcome o = Vcp("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("r.bin"));
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_TRUE(Contains(o.output, "holds no lease")) << o.output;
  EXPECT_TRUE(Contains(o.output, "run vcp lease accept again")) << o.output;
  Run(Accept());
  Run("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("r.bin"));
}

// One flipped bit in the last frame (the attack run's silent drop): refused loudly, file left as it was.
TEST_F(RecoveryCli, AnAlteredLastFrameIsRefusedAndLeftInPlace) {
  Run(LeaseNew());
  Run(Accept());
  Run(Start());
  const fs::path log = P("vs") + "/verifier.log";
  std::vector<char> bytes = ReadAll(log);
  bytes[bytes.size() - 40] ^= 0x08;  // inside the last frame's payload
  WriteAll(log, bytes);
  for (const std::string& args : {"report --store " + P("vs"), Start("s2.bin"), "inspect " + log.string()}) {
    const Outcome o = Vcp(args);
    EXPECT_NE(o.code, 0) << args << "\n" << o.output;
    EXPECT_TRUE(Contains(o.output, "the last frame, at offset")) << o.output;
    EXPECT_TRUE(Contains(o.output, "restore the store directory from a backup")) << o.output;
    EXPECT_EQ(ReadAll(log), bytes) << args << " changed the log";
  }
}

// `vcp report` and `vcp inspect` during a writer's unfinished append: they read the intact prefix, say so, and
// change nothing; the next writer repairs.
TEST_F(RecoveryCli, ReadersLeaveATornTailAndOnlyTheWriterCutsIt) {
  Run(LeaseNew());
  Run(Accept());
  Run(Start());
  const fs::path log = P("vs") + "/verifier.log";
  std::vector<char> bytes = ReadAll(log);
  const size_t intact = bytes.size();
  for (const char c : std::string("VCPF\x40\x00\x00\x00\x05partial", 16)) bytes.push_back(c);
  WriteAll(log, bytes);
  std::ofstream(P("vs") + "/.verifier.log.tmp.Xy12Zw") << "a live writer's temporary file";
  const Outcome report = Vcp("report --store " + P("vs"));
  EXPECT_EQ(report.code, 0) << report.output;
  EXPECT_TRUE(Contains(report.output, "unfinished append")) << report.output;
  const Outcome shown = Vcp("inspect " + log.string(), false);
  ASSERT_EQ(shown.code, 0) << shown.output;
  EXPECT_TRUE(json::parse(shown.output).at("torn_tail").get<bool>());
  EXPECT_EQ(ReadAll(log), bytes) << "a reader cut the tail";
  EXPECT_TRUE(fs::exists(P("vs") + "/.verifier.log.tmp.Xy12Zw")) << "a reader removed a temporary file";
  const Outcome writer = Vcp(Start("again.bin"));
  EXPECT_EQ(writer.code, 0) << writer.output;
  EXPECT_TRUE(Contains(writer.output, "verifier store recovered")) << writer.output;
  const std::vector<char> repaired = ReadAll(log);
  ASSERT_GE(repaired.size(), intact);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.begin() + intact, repaired.begin())) << "the intact prefix is kept";
  EXPECT_FALSE(json::parse(Vcp("inspect " + log.string(), false).output).at("torn_tail").get<bool>());
  EXPECT_FALSE(fs::exists(P("vs") + "/.verifier.log.tmp.Xy12Zw"));
}

// The last epoch of a short lease never gets a record: `vcp report` counts it missed once its deadline has passed
// ("overdue, not yet signed", writing nothing), and `vcp epoch start` after the lease's end signs it before it
// refuses. The lease lasts 0.001 h = 3.6 s.
TEST_F(RecoveryCli, TheLastEpochIsReportedOverdueThenClosedByTheStartAfterTheLeasesEnd) {
  Run(LeaseNew("0.001"));
  Run(Accept());
  Run(Start());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // past the 12.5 ms deadline
  const fs::path log = P("vs") + "/verifier.log";
  const std::vector<char> before = ReadAll(log);
  const Outcome text = Vcp("report --store " + P("vs"));
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_TRUE(Contains(text.output, "epoch 0 is overdue, not yet signed: counted missed")) << text.output;
  EXPECT_TRUE(Contains(text.output, "0 passed, 0 failed, 1 missed")) << text.output;
  const Outcome j = Vcp("--json report --store " + P("vs"), false);
  ASSERT_EQ(j.code, 0) << j.output;
  const json r = json::parse(j.output);
  EXPECT_EQ(r.at("overdue").at("reason"), "missed");
  EXPECT_FALSE(r.at("overdue").at("signed").get<bool>());
  EXPECT_EQ(r.at("missed"), 1);
  EXPECT_EQ(ReadAll(log), before) << "the report wrote nothing";

  std::this_thread::sleep_for(std::chrono::milliseconds(3700));  // past the lease's end
  const Outcome refused = Vcp(Start("s2.bin"));
  EXPECT_EQ(refused.code, 2) << refused.output;
  EXPECT_TRUE(Contains(refused.output, "epoch 0 was overdue and is now closed missed")) << refused.output;
  EXPECT_TRUE(Contains(refused.output, "lease ended")) << refused.output;
  const json after = json::parse(Vcp("--json report --store " + P("vs"), false).output);
  EXPECT_EQ(after.at("missed"), 1) << "counted once, now signed";
  EXPECT_FALSE(after.contains("overdue"));
}

// A response that comes after the response wait: `vcp verify` closes the epoch no-response first and says the
// response came too late (exit 1), as the verifier service does.
TEST_F(RecoveryCli, VerifyAfterTheResponseWaitClosesTheEpochNoResponse) {
  Run(LeaseNew("1", "1000") + " --audit-share 0.1");
  Run(Accept());
  Run(Start());
  Run("prove" + Provider() + "--backend cpu --start " + P("start.bin") + " --out " + P("record.bin"));
  Run("challenge" + Verifier() + "--record " + P("record.bin") + " --out " + P("challenge.bin"));
  Run("respond" + Provider() + "--challenge " + P("challenge.bin") + " --out " + P("response.bin"));
  const Outcome range = Vcp("verify" + Verifier() + "--response " + P("response.bin") + " --response-wait-s -1");
  EXPECT_EQ(range.code, 2) << range.output;
  EXPECT_TRUE(Contains(range.output, "--response-wait-s")) << range.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const Outcome report = Vcp("report --store " + P("vs") + " --response-wait-s 0.2");
  EXPECT_TRUE(Contains(report.output, "overdue, not yet signed: counted no-response")) << report.output;
  const Outcome o = Vcp("verify" + Verifier() + "--response " + P("response.bin") + " --response-wait-s 0.2");
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_TRUE(Contains(o.output, "epoch 0 was overdue and is now closed no-response")) << o.output;
  EXPECT_TRUE(Contains(o.output, "came too late to count")) << o.output;
  const json r = json::parse(Vcp("--json report --store " + P("vs"), false).output);
  EXPECT_EQ(r.at("failed"), 1);
  EXPECT_EQ(r.at("passed"), 0);
}

}  // namespace
