// verifierd and an agent with faults between them (docs/API.md sections 1 and 3.3): a loopback proxy in the test
// delays, stalls, cuts or loses the agent's answers, and verifierd's clock (VerifierServiceOptions::clock) jumps
// while a record is in flight. What must hold: every call ends within its stated timeout (the epoch start's read
// timeout is the time left to the deadline plus 5 s; connect 3 s), a call with no HTTP answer is a network event
// and is retried with doubling backoff while the deadline lasts, and the epoch ends as documented: missed and
// counted unreachable when no attempt got an answer, late when the record came after the deadline, void-clock when
// the clock read before the start at arrival, pass when a lost answer was asked for again in time. A slow client
// against the agent is cut at the agent's read timeout while the agent keeps serving others.
//
// Plain HTTP on 127.0.0.1 (allowed on loopback), so the proxy can see each request line and fault only the epoch
// starts; the TLS paths are the service suites'. Tiny shapes as there: int8 64^3, tile 32, R = 2, a 600 ms
// deadline, audit share 0.5 (a scheduled epoch every 1.2 s on average). Each test's waits add up to under 60 s.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fault_util.h"
#include "service/http.h"
#include "test_util.h"
#include "vcp/agent.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"
#include "vcp/protocol.h"
#include "vcp/store.h"
#include "vcp/verifierd.h"

namespace vcp {
namespace {

using json = nlohmann::json;
using service::HttpClient;
using service::HttpClientOptions;
using testing::JumpClock;
using testing::SecondsSince;
using testing::TcpProxy;

constexpr uint64_t kEpochOps = 2ull * 2 * 64 * 64 * 64;
constexpr uint64_t kRate = kEpochOps * 1000 / 300;  // 300 ms compute, slack 1.0: a 600 ms deadline
constexpr double kDeadlineS = 0.6;
constexpr double kReadMarginS = 5;  // docs/API.md 3.3: the start's read timeout is the time left plus 5 s

class ServiceFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("vcp-fault-service-");
    ASSERT_FALSE(dir_.empty());
    ASSERT_OK_AND_ASSIGN(SecretKey provider, SecretKey::Generate());
    ASSERT_OK_AND_ASSIGN(SecretKey verifier, SecretKey::Generate());
    provider_pub_ = provider.public_key();
    ASSERT_OK(SaveKeyPair(provider, dir_ / "provider"));
    ASSERT_OK(SaveKeyPair(verifier, dir_ / "verifier"));
    std::ofstream(dir_ / "authorized_keys") << ToHex(verifier.public_key()) << "\n";
  }
  void TearDown() override {
    if (proxy_) proxy_->Stop();  // first: a call stalled in the proxy ends now, not at its read timeout
    service_.reset();
    agent_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  AgentOptions AgentOpts() {
    AgentOptions o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    o.state_dir = dir_ / "agent";
    o.provider_key = dir_ / "provider";
    o.authorized_keys = dir_ / "authorized_keys";
    o.backend = BackendChoice::kCpu;
    o.threads = 1;
    o.max_audit_share = 1.0;
    o.log_level = "error";
    return o;
  }

  // An agent behind the proxy and a verifierd on `clock` holding one accepted lease.
  void StartAll(const Clock* clock = &SystemClock()) {
    ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(AgentOpts()));
    proxy_ = std::make_unique<TcpProxy>(agent_->port());
    ASSERT_TRUE(proxy_->ok());
    VerifierServiceOptions o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    o.database = dir_ / "verifierd.db";
    o.verifier_key = dir_ / "verifier";
    o.verify_threads = 1;
    o.retry_initial_ms = 50;
    o.retry_max_ms = 400;
    o.response_wait_ms = 3000;
    o.log_level = "error";
    o.clock = clock;
    ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(o));
    LeaseRequest r;
    r.agent_url = proxy_->url();
    r.provider_key = provider_pub_;
    r.workload.kind = WorkloadKind::kInt8;
    r.workload.m = r.workload.n = r.workload.k = 64;
    r.workload.tile = 32;
    r.rounds = 2;
    r.claimed_ops_per_second_per_device = kRate;
    r.slack_ppm = 1'000'000;
    r.duration_us = 300'000'000;
    r.audit_share = 0.5;
    ASSERT_OK_AND_ASSIGN(lease_, service_->AddLease(r));
    const json lease = Get("/v1/leases/" + ToHex(lease_));
    ASSERT_EQ(lease["accepted"], true) << lease.dump();
  }

  json Get(const std::string& path) {
    auto client = HttpClient::Create("http://127.0.0.1:" + std::to_string(service_->port()), HttpClientOptions{});
    if (!client.ok()) return json::object();
    auto response = (*client)->Get(path, service::kJsonMediaType);
    if (!response.ok() || response->status != 200) {
      ADD_FAILURE() << "GET " << path << ": "
                    << (response.ok() ? std::to_string(response->status) + " " + response->body
                                      : response.status().ToString());
      return json::object();
    }
    json parsed = json::parse(response->body, nullptr, false);
    return parsed.is_object() ? parsed : json::object();
  }
  json Report() { return Get("/v1/leases/" + ToHex(lease_) + "/report"); }

  // Polls the report until done(report) or `seconds` pass; returns the last report. Only a report whose verdicts
  // are all signed counts: an overdue epoch is listed (and counted) unsigned as what the runner would sign now,
  // which a record still in flight can turn from missed into late.
  static bool AllSigned(const json& report) {
    for (const json& e : report["epoch_verdicts"]) {
      if (e.contains("signed") && !e["signed"].get<bool>()) return false;
    }
    return true;
  }
  template <typename Done>
  json WaitFor(double seconds, Done done) {
    const auto t0 = std::chrono::steady_clock::now();
    json report;
    while (SecondsSince(t0) < seconds) {
      report = Report();
      if (report.is_object() && report.contains("epoch_verdicts") && AllSigned(report) && done(report)) return report;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return report;
  }
  static size_t CountReason(const json& report, const std::string& reason) {
    size_t n = 0;
    for (const json& e : report["epoch_verdicts"]) n += e["reason"] == reason;
    return n;
  }
  // Epochs 0, 1, 2, ... each closed once.
  static void ExpectConsecutive(const json& report) {
    uint64_t expected = 0;
    for (const json& e : report["epoch_verdicts"]) EXPECT_EQ(e["epoch"].get<uint64_t>(), expected++) << e.dump();
  }
  // The first closed epoch with `reason` at or after index `from`, or -1.
  static int64_t FirstWith(const json& report, const std::string& reason, size_t from = 0) {
    const json& verdicts = report["epoch_verdicts"];
    for (size_t i = from; i < verdicts.size(); ++i) {
      if (verdicts[i]["reason"] == reason) return int64_t(verdicts[i]["epoch"].get<uint64_t>());
    }
    return -1;
  }
  static std::vector<json> EventsOf(const json& report, uint64_t epoch, const std::string& step) {
    std::vector<json> out;
    for (const json& e : report["network"]["events"]) {
      if (e["epoch"] == epoch && e["step"] == step) out.push_back(e);
    }
    return out;
  }

  std::filesystem::path dir_;
  JumpClock clock_;  // verifierd's, when a test gives it: outlives the service (TearDown stops it)
  PublicKey provider_pub_{};
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<TcpProxy> proxy_;
  std::unique_ptr<VerifierService> service_;
  Hash32 lease_{};
};

// ---------------------------------------------------------------------------------------------------------------
// verifierd's clock jumping while a record is in flight (held by the proxy while the test moves the clock).

// Waits until the proxy holds an epoch start's answer (the record), moves the clock, releases it.
void JumpWhileARecordIsHeld(TcpProxy& proxy, JumpClock& clock, int64_t jump_us) {
  proxy.SetMode(TcpProxy::Mode::kForward, "/epochs", 1);
  proxy.SetHold(true);
  const auto t0 = std::chrono::steady_clock::now();
  while (proxy.held() == 0 && SecondsSince(t0) < 15) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(proxy.held(), 1) << "no epoch start was answered within 15 s";
  clock.Jump(jump_us);
  proxy.SetHold(false);
}

TEST_F(ServiceFaultTest, ClockForwardPastTheDeadlineWhileTheRecordIsInFlightIsLate) {
  StartAll(&clock_);
  ASSERT_NO_FATAL_FAILURE(JumpWhileARecordIsHeld(*proxy_, clock_, 5'000'000));
  // Signed verdicts, not "epochs": while the record is held the report already counts the open epoch as what it
  // would be closed as (overdue: missed), which the late record then replaces.
  json report = WaitFor(15, [](const json& r) { return !r["epoch_verdicts"].empty(); });
  ASSERT_GE(report["epoch_verdicts"].size(), 1u) << report.dump(1);
  const json first = report["epoch_verdicts"][0];
  EXPECT_EQ(first["reason"], "late") << first.dump();
  EXPECT_GE(first["window_ms"].get<double>(), 5000) << first.dump();
  EXPECT_EQ(report["network"]["late"], 1) << report["network"].dump();
  EXPECT_EQ(report["network"]["unreachable_epochs"], 0);
  EXPECT_TRUE(EventsOf(report, 0, "epoch-start").empty()) << "a late record is not a network fault";
  // The clock stays 5 s ahead: the next epochs are timed on it from their own starts, and pass.
  report = WaitFor(20, [](const json& r) { return r["passed"].get<uint64_t>() >= 1; });
  ASSERT_GE(report["passed"].get<uint64_t>(), 1u) << report.dump(1);
  EXPECT_EQ(CountReason(report, "late"), 1u);
  ExpectConsecutive(report);
}

TEST_F(ServiceFaultTest, ClockBackBeforeTheStartWhileTheRecordIsInFlightIsVoidClock) {
  StartAll(&clock_);
  ASSERT_NO_FATAL_FAILURE(JumpWhileARecordIsHeld(*proxy_, clock_, -5'000'000));
  // Signed verdicts, as above.
  json report = WaitFor(15, [](const json& r) { return !r["epoch_verdicts"].empty(); });
  EXPECT_EQ(report["epoch_verdicts"][0]["reason"], "void-clock") << report["epoch_verdicts"][0].dump();
  EXPECT_EQ(report["void"], 1);
  EXPECT_EQ(report["passed"], 0);
  EXPECT_EQ(report["failed"], 0) << "the verifier's clock is not the provider's failure";
  // The clock is corrected (stepped forward again): the lease goes on and passes.
  clock_.Jump(5'000'000);
  report = WaitFor(20, [](const json& r) { return r["passed"].get<uint64_t>() >= 1; });
  ASSERT_GE(report["passed"].get<uint64_t>(), 1u) << report.dump(1);
  EXPECT_EQ(CountReason(report, "void-clock"), 1u);
  ExpectConsecutive(report);
}

// ---------------------------------------------------------------------------------------------------------------
// Slow, stalled, cut and lost answers.

TEST_F(ServiceFaultTest, SlowAgentPastTheDeadlineIsLateNotUnreachable) {
  StartAll();
  json report = WaitFor(15, [](const json& r) { return r["passed"].get<uint64_t>() >= 1; });
  ASSERT_GE(report["passed"].get<uint64_t>(), 1u) << report.dump(1);
  // Every epoch start's answer now comes 1 s late: inside the read timeout, past the 600 ms deadline.
  proxy_->SetDelayMs(1000);
  proxy_->SetMode(TcpProxy::Mode::kForward, "/epochs");
  report = WaitFor(20, [](const json& r) { return r["network"]["late"].get<uint64_t>() >= 1; });
  ASSERT_GE(report["network"]["late"].get<uint64_t>(), 1u) << report.dump(1);
  const int64_t late = FirstWith(report, "late");
  ASSERT_GE(late, 0);
  const json& verdict = report["epoch_verdicts"][size_t(late)];
  EXPECT_GE(verdict["window_ms"].get<double>(), 1000) << verdict.dump();
  EXPECT_LT(verdict["window_ms"].get<double>(), 1000 + 1000 * kReadMarginS) << verdict.dump();
  EXPECT_EQ(report["network"]["unreachable_epochs"], 0);
  EXPECT_TRUE(EventsOf(report, uint64_t(late), "epoch-start").empty()) << "a slow answer is not a network fault";
  // Fast again: passes again.
  proxy_->SetDelayMs(0);
  const uint64_t passed = report["passed"].get<uint64_t>();
  report = WaitFor(20, [&](const json& r) { return r["passed"].get<uint64_t>() > passed; });
  ASSERT_GT(report["passed"].get<uint64_t>(), passed) << report.dump(1);
  ExpectConsecutive(report);
}

TEST_F(ServiceFaultTest, StalledAgentIsCutAtTheReadTimeoutAndTheEpochIsUnreachable) {
  StartAll();
  proxy_->SetMode(TcpProxy::Mode::kStall, "/epochs");
  json report = WaitFor(25, [](const json& r) { return r["network"]["unreachable_epochs"].get<uint64_t>() >= 1; });
  ASSERT_GE(report["network"]["unreachable_epochs"].get<uint64_t>(), 1u) << report.dump(1);
  proxy_->SetMode(TcpProxy::Mode::kForward);
  const int64_t missed = FirstWith(report, "missed");
  ASSERT_GE(missed, 0) << report.dump(1);
  const std::vector<json> events = EventsOf(report, uint64_t(missed), "epoch-start");
  ASSERT_FALSE(events.empty());
  for (const json& e : events) {
    EXPECT_EQ(e["outcome"], "unreachable") << e.dump();
    EXPECT_NE(e["detail"].get<std::string>().find("no answer"), std::string::npos) << e.dump();
  }
  // Each stalled call ended at its read timeout: the time left to the deadline plus 5 s, never more.
  size_t measured = 0;
  for (const TcpProxy::Connection& c : proxy_->connections()) {
    if (!c.faulted || c.closed == testing::SteadyTime{}) continue;
    const double held = std::chrono::duration<double>(c.closed - c.accepted).count();
    EXPECT_LE(held, kDeadlineS + kReadMarginS + 1.0) << c.request_line;
    EXPECT_GE(held, kReadMarginS - 0.5) << "cut before its read timeout: " << c.request_line;
    std::printf("[ figures  ] stalled epoch start ended by verifierd after %.3f s\n", held);
    ++measured;
  }
  EXPECT_GE(measured, 1u);
  // The agent answers again: the lease passes again.
  const uint64_t passed = report["passed"].get<uint64_t>();
  report = WaitFor(20, [&](const json& r) { return r["passed"].get<uint64_t>() > passed; });
  ASSERT_GT(report["passed"].get<uint64_t>(), passed) << report.dump(1);
  ExpectConsecutive(report);
}

TEST_F(ServiceFaultTest, CutConnectionsAreRetriedWithBackoffUntilTheDeadline) {
  StartAll();
  proxy_->SetMode(TcpProxy::Mode::kCut, "/epochs");
  json report = WaitFor(20, [](const json& r) { return r["network"]["unreachable_epochs"].get<uint64_t>() >= 1; });
  ASSERT_GE(report["network"]["unreachable_epochs"].get<uint64_t>(), 1u) << report.dump(1);
  proxy_->SetMode(TcpProxy::Mode::kForward);
  const int64_t missed = FirstWith(report, "missed");
  ASSERT_GE(missed, 0);
  const size_t events = EventsOf(report, uint64_t(missed), "epoch-start").size();

  // The attempts of the first cut epoch: the first faulted connections, one per network event.
  ASSERT_GE(events, 3u) << "retries within the 600 ms deadline";
  EXPECT_LE(events, 10u) << "retried in a tight loop";
  std::vector<testing::SteadyTime> attempts;
  for (const TcpProxy::Connection& c : proxy_->connections()) {
    if (c.faulted && attempts.size() < events) attempts.push_back(c.accepted);
  }
  ASSERT_EQ(attempts.size(), events) << "every attempt is one network event";
  std::vector<double> gaps;
  for (size_t i = 1; i < attempts.size(); ++i) {
    gaps.push_back(std::chrono::duration<double>(attempts[i] - attempts[i - 1]).count());
  }
  // retry_initial_ms 50, doubling, +-25% jitter, at most retry_max_ms 400 (x 1.25): waits of 37-63, 75-125,
  // 150-250 ms, the last one cut at the deadline. A loaded machine only lengthens the gaps, so the lower bounds
  // (which show the doubling) are exact and the upper ones get 100 ms of slack.
  const double kSlack = 0.1;
  const double lower[] = {0.0375, 0.075, 0.150};
  const double upper[] = {0.0625, 0.125, 0.250};
  for (size_t i = 0; i < gaps.size(); ++i) {
    std::printf("[ figures  ] retry gap %.3f s\n", gaps[i]);
    if (i < 3 && i + 2 < attempts.size()) {  // the last gap may be cut short by the deadline
      EXPECT_GE(gaps[i], lower[i] - 0.002) << "gap " << i;
      EXPECT_LE(gaps[i], upper[i] + kSlack) << "gap " << i;
    }
    EXPECT_LE(gaps[i], 0.4 * 1.25 + kSlack) << "gap " << i << " beyond retry_max_ms";
  }
  EXPECT_LE(std::chrono::duration<double>(attempts.back() - attempts.front()).count(), kDeadlineS + 0.1)
      << "an attempt after the deadline";

  const uint64_t passed = report["passed"].get<uint64_t>();
  report = WaitFor(20, [&](const json& r) { return r["passed"].get<uint64_t>() > passed; });
  ASSERT_GT(report["passed"].get<uint64_t>(), passed) << report.dump(1);
  ExpectConsecutive(report);
}

// The agent ran the epoch but its answer was lost on the way: verifierd asks again with the same start within the
// deadline and gets the same record (the agent's logged one, not a second run); the epoch passes.
TEST_F(ServiceFaultTest, LostAnswerIsAskedForAgainAndTheEpochPasses) {
  StartAll();
  proxy_->SetMode(TcpProxy::Mode::kDropAnswer, "/epochs", 1);
  json report = WaitFor(25, [](const json& r) {
    for (const json& e : r["network"]["events"]) {
      if (e["step"] == "epoch-start" && r["epoch_verdicts"].size() > e["epoch"].get<uint64_t>()) return true;
    }
    return false;
  });
  ASSERT_EQ(proxy_->faulted(), 1u);
  std::optional<uint64_t> lost;
  for (const json& e : report["network"]["events"]) {
    if (e["step"] == "epoch-start") lost = e["epoch"].get<uint64_t>();
  }
  ASSERT_TRUE(lost.has_value()) << report.dump(1);
  EXPECT_EQ(report["epoch_verdicts"][size_t(*lost)]["reason"], "pass") << report["epoch_verdicts"][size_t(*lost)];
  EXPECT_EQ(report["network"]["unreachable_epochs"], 0);
  ExpectConsecutive(report);
  // The agent ran that epoch once: its provider log holds one record for it, the one verifierd received again.
  const std::filesystem::path log = dir_ / "agent" / "leases" / ToHex(lease_) / "provider.log";
  const std::string image = testing::ReadText(log);
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(std::vector<uint8_t>(image.begin(), image.end())));
  size_t records = 0;
  for (const LogEntry& entry : scan.entries) {
    if (entry.type != 4 || entry.payload.size() < 4) continue;  // provider type 4: u32 length, record, roots
    const uint32_t length = uint32_t(entry.payload[0]) | uint32_t(entry.payload[1]) << 8 |
                            uint32_t(entry.payload[2]) << 16 | uint32_t(entry.payload[3]) << 24;
    ASSERT_LE(size_t(length) + 4, entry.payload.size());
    ASSERT_OK_AND_ASSIGN(const EpochRecord record,
                         ParseEpochRecord(std::span<const uint8_t>(entry.payload).subspan(4, length)));
    records += record.epoch == *lost;
  }
  EXPECT_EQ(records, 1u) << "epoch " << *lost << " was run " << records << " times";
}

// ---------------------------------------------------------------------------------------------------------------
// A slow client against the agent: a request that stops half-way is ended by the agent's read timeout
// (request_timeout_s), and the agent keeps serving others meanwhile.

TEST_F(ServiceFaultTest, AgentCutsStalledClientsAtItsReadTimeoutAndKeepsServing) {
  AgentOptions o = AgentOpts();
  o.request_timeout_s = 1;
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(o));
  const uint16_t port = agent_->port();
  auto send = [](int fd, const std::string& text) { return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL); };

  const int half_line = testing::ConnectLoopback(port);    // stops inside the request line
  const int half_body = testing::ConnectLoopback(port);    // headers, then 10 of 1000 body bytes
  const int trickler = testing::ConnectLoopback(port);     // a header byte every 300 ms for 3 s, then stops
  ASSERT_GE(half_line, 0);
  ASSERT_GE(half_body, 0);
  ASSERT_GE(trickler, 0);
  send(half_line, "POST /v1/le");
  send(half_body,
       "POST /v1/leases HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.vcp.v2\r\nContent-Length: 1000\r\n\r\n"
       "0123456789");
  std::thread trickle([&] {
    const std::string request = "GET /healthz HTTP/1.1\r\nX-Slow: ";
    for (size_t i = 0; i < 10; ++i) {
      if (send(trickler, request.substr(i, 1)) <= 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  // Meanwhile the agent answers others at once.
  auto client = HttpClient::Create("http://127.0.0.1:" + std::to_string(port), HttpClientOptions{});
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_OK_AND_ASSIGN(auto health, (*client)->Get("/healthz", "text/plain", 2000));
    EXPECT_EQ(health.status, 200);
    EXPECT_LT(SecondsSince(t0), 0.5) << "a slow client held up another";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double line_s = testing::SecondsUntilClosed(half_line, 5);
  const double body_s = testing::SecondsUntilClosed(half_body, 5);
  trickle.join();
  const double trickle_s = testing::SecondsUntilClosed(trickler, 5);
  std::printf("[ figures  ] agent cut: stalled request line after %.3f s, stalled body after %.3f s, trickler %.3f s "
              "after its last byte\n", line_s, body_s, trickle_s);
  // Opened about 0.6 s before the first measurement started: closed by ~1 s of silence, well within 3 s.
  EXPECT_GE(line_s, 0) << "a client stalled in the request line was never cut";
  EXPECT_LT(line_s, 3);
  EXPECT_GE(body_s, 0) << "a client stalled in the body was never cut";
  EXPECT_LT(body_s, 3);
  // The read timeout bounds each wait for bytes, not the whole request (lib/service/http.h): the trickler lives
  // while it trickles and is cut within the timeout once it stops.
  EXPECT_GE(trickle_s, 0) << "a client that stopped trickling was never cut";
  EXPECT_LT(trickle_s, 3);
  ::close(half_line);
  ::close(half_body);
  ::close(trickler);
  ASSERT_OK_AND_ASSIGN(auto info, (*client)->Get("/v1/info", service::kJsonMediaType, 2000));
  EXPECT_EQ(info.status, 200) << info.body;
}

}  // namespace
}  // namespace vcp
