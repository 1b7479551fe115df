// The provider agent in-process on 127.0.0.1 (port 0, TLS from a throw-away CA), driven over HTTPS by an
// in-process VerifierSession: whole epochs pass; every refusal has its status and changes nothing in the store;
// the rate limit, one-epoch-at-a-time, restart and beacon mode behave as docs/API.md section 2 says.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "service/agent_internal.h"
#include "service/authorized_keys.h"
#include "service/http.h"
#include "test_util.h"
#include "tls_fixture.h"
#include "vcp/agent.h"
#include "vcp/beacon.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/protocol.h"

namespace vcp {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using service::HttpClient;
using service::HttpResponse;
using service::kMessageMediaType;

SecretKey KeyFromByte(uint8_t b) {
  std::array<uint8_t, 32> seed{};
  seed.fill(b);
  auto key = SecretKey::FromSeed(seed);
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

std::string Body(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }
std::vector<uint8_t> Bytes(const std::string& body) { return std::vector<uint8_t>(body.begin(), body.end()); }

std::optional<std::string> Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return std::nullopt;
}

// The value of an unlabelled series in a Prometheus text page, or -1.
double MetricValue(const std::string& page, const std::string& series) {
  const std::string prefix = series + " ";
  size_t at = 0;
  while ((at = page.find(prefix, at)) != std::string::npos) {
    if (at == 0 || page[at - 1] == '\n') return std::stod(page.substr(at + prefix.size()));
    at += prefix.size();
  }
  return -1;
}

struct LeaseShape {
  LeaseMode mode = LeaseMode::kInteractive;
  uint32_t n = 64, rounds = 2;
  uint64_t rate = 1 << 20;  // ops/s per device: 64^3 x 2 x 2 rounds = 2^20 ops, a 1 s compute time
};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("vcp-agent-test-");
    ASSERT_FALSE(dir_.empty());
    ASSERT_OK_AND_ASSIGN(tls_, testing::MakeTestTls(dir_));
    ASSERT_OK(SaveKeyPair(provider_, dir_ / "provider"));
    std::ofstream keys(dir_ / "authorized_keys");
    keys << "# verifiers allowed to offer leases\n\n"
         << ToHex(verifier_.public_key()) << " renter-a\n";
    keys.close();
    options_.listen_port = 0;
    options_.tls_cert_file = tls_.server_cert.string();
    options_.tls_key_file = tls_.server_key.string();
    options_.state_dir = dir_ / "state";
    options_.provider_key = dir_ / "provider";
    options_.authorized_keys = dir_ / "authorized_keys";
    options_.backend = BackendChoice::kCpu;
    options_.threads = 1;
    options_.readiness_cache_s = 0;
    options_.log_level = "warn";
  }
  void TearDown() override {
    agent_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void StartAgent() {
    ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(options_));
    service::HttpClientOptions client;
    client.ca_file = tls_.ca_cert.string();
    client.read_timeout_ms = 60000;
    ASSERT_OK_AND_ASSIGN(client_, HttpClient::Create("https://127.0.0.1:" + std::to_string(agent_->port()), client));
  }

  // A verifier session (store dir_/name) holding a new lease for this agent's provider key.
  std::optional<VerifierSession> NewVerifier(const std::string& name, const SecretKey& verifier, LeaseShape shape = {},
                                             const BeaconSource* beacon = nullptr) {
    Lease lease;
    lease.mode = shape.mode;
    lease.provider_key = provider_.public_key();
    lease.workload.kind = WorkloadKind::kInt8;
    lease.workload.m = lease.workload.n = lease.workload.k = shape.n;
    lease.workload.tile = 32;
    lease.devices = 1;
    lease.rounds_per_epoch = shape.rounds;
    lease.samples_per_epoch = MinSamples(shape.mode);
    lease.claimed_ops_per_second_per_device = shape.rate;
    lease.start_us = SystemClock().NowMicros();
    lease.end_us = lease.start_us + 3600'000'000ull;
    VerifierOptions vo;
    if (beacon) {
      lease.beacon_name = beacon->name();
      lease.beacon_genesis_us = beacon->genesis_us();
      lease.beacon_period_us = beacon->period_us();
      vo.beacon = beacon;
    }
    auto session = VerifierSession::Create(dir_ / name, lease, verifier, 0.5, vo);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    if (!session.ok()) return std::nullopt;
    return std::move(session).value();
  }

  HttpResponse Post(const std::string& path, const std::vector<uint8_t>& bytes,
                    std::string_view content_type = kMessageMediaType, std::string_view accept = kMessageMediaType) {
    auto r = client_->Post(path, content_type, Body(bytes), accept);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpResponse{0, "", "", {}};
  }
  HttpResponse Get(const std::string& path, std::string_view accept = service::kJsonMediaType) {
    auto r = client_->Get(path, accept);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpResponse{0, "", "", {}};
  }

  // Offers the verifier's lease and records the acceptance (whose bytes are kept in acceptance_).
  void Offer(VerifierSession& v) {
    HttpResponse r = Post("/v1/leases", Serialize(v.lease()));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, kMessageMediaType);
    ASSERT_OK_AND_ASSIGN(LeaseAcceptance acceptance, ParseLeaseAcceptance(Bytes(r.body)));
    ASSERT_OK(v.AddAcceptance(acceptance));
    acceptance_ = r.body;
  }

  std::string LeasePath(const VerifierSession& v) { return "/v1/leases/" + ToHex(v.lease_id()); }

  // One whole interactive epoch over HTTP; returns the verdict's reason.
  Reason RunEpoch(VerifierSession& v, const SecretKey& verifier) {
    auto start = v.StartEpoch(verifier, EpochSchedule::kOnDemand);
    EXPECT_TRUE(start.ok()) << start.status().ToString();
    HttpResponse r = Post(LeasePath(v) + "/epochs", Serialize(*start));
    EXPECT_EQ(r.status, 200) << r.body;
    auto checked = v.ReceiveRecord(Bytes(r.body), verifier);
    EXPECT_TRUE(checked.ok()) << checked.status().ToString();
    EXPECT_TRUE(checked->finding.ok()) << checked->finding.detail;
    if (!checked->challenge) return checked->finding.reason;
    r = Post(LeasePath(v) + "/challenges", Serialize(*checked->challenge));
    EXPECT_EQ(r.status, 200) << r.body;
    auto verdict = v.ReceiveResponse(Bytes(r.body), verifier);
    EXPECT_TRUE(verdict.ok()) << verdict.status().ToString();
    EXPECT_TRUE(verdict->verdict.has_value());
    return verdict->verdict ? verdict->verdict->reason : verdict->finding.reason;
  }

  fs::path ProviderLog(const VerifierSession& v) {
    return options_.state_dir / "leases" / ToHex(v.lease_id()) / "provider.log";
  }
  uintmax_t LogSize(const VerifierSession& v) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(ProviderLog(v), ec);
    return ec ? 0 : size;
  }

  fs::path dir_;
  testing::TestTls tls_;
  SecretKey provider_ = KeyFromByte(1);
  SecretKey verifier_ = KeyFromByte(2);
  AgentOptions options_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<HttpClient> client_;
  std::string acceptance_;
};

// ---------------------------------------------------------------------------------------------------------------

TEST_F(AgentTest, WholeEpochsOverHttpsPass) {
  StartAgent();
  auto v = NewVerifier("verifier", verifier_);
  ASSERT_TRUE(v);
  Offer(*v);
  // The same lease again: the same acceptance (idempotent), nothing new stored.
  const uintmax_t size = LogSize(*v);
  HttpResponse again = Post("/v1/leases", Serialize(v->lease()));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, acceptance_);
  EXPECT_EQ(LogSize(*v), size);
  EXPECT_EQ(RunEpoch(*v, verifier_), Reason::kPass);
  EXPECT_EQ(RunEpoch(*v, verifier_), Reason::kPass);

  HttpResponse list = Get("/v1/leases");
  ASSERT_EQ(list.status, 200);
  const json leases = json::parse(list.body)["leases"];
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0]["lease_id"], ToHex(v->lease_id()));
  EXPECT_EQ(leases[0]["epochs"], 2);
  EXPECT_EQ(leases[0]["last_epoch"], 1);
  EXPECT_EQ(leases[0]["busy"], false);
  HttpResponse one = Get(LeasePath(*v));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(json::parse(one.body)["lease"]["lease_id"], ToHex(v->lease_id()));
}

TEST_F(AgentTest, SameStartTwiceGetsTheSameRecordAndRunsOnce) {
  StartAgent();
  auto v = NewVerifier("verifier", verifier_, LeaseShape{LeaseMode::kInteractive, 256, 4, 1ull << 30});
  ASSERT_TRUE(v);
  Offer(*v);
  ASSERT_OK_AND_ASSIGN(EpochStart start, v->StartEpoch(verifier_, EpochSchedule::kOnDemand));
  // Both at once: one runs the epoch, the other waits for it (or, if it comes late, gets the logged record).
  HttpResponse a, b;
  std::thread other([&] { a = Post(LeasePath(*v) + "/epochs", Serialize(start)); });
  b = Post(LeasePath(*v) + "/epochs", Serialize(start));
  other.join();
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(a.body, b.body);
  // And once more, later: still the same record, at no rate cost.
  HttpResponse c = Post(LeasePath(*v) + "/epochs", Serialize(start));
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.body, a.body);
  // As JSON when asked.
  HttpResponse j = Post(LeasePath(*v) + "/epochs", Serialize(start), kMessageMediaType, service::kJsonMediaType);
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_EQ(j.content_type, service::kJsonMediaType);
  EXPECT_EQ(json::parse(j.body)["type"], "epoch-record");
  HttpResponse metrics = Get("/metrics", "text/plain");
  EXPECT_EQ(MetricValue(metrics.body, "vcp_agent_epochs_proven_total"), 1) << metrics.body;
}

TEST_F(AgentTest, UnauthorizedVerifierIsRefusedAndNothingIsStored) {
  StartAgent();
  const SecretKey stranger = KeyFromByte(9);
  auto v = NewVerifier("stranger", stranger);
  ASSERT_TRUE(v);
  HttpResponse r = Post("/v1/leases", Serialize(v->lease()));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.content_type, service::kJsonMediaType);
  const json error = json::parse(r.body);
  EXPECT_EQ(error["status"], 403);
  EXPECT_NE(error["error"].get<std::string>().find("not in the authorized keys"), std::string::npos) << r.body;
  EXPECT_TRUE(fs::is_empty(options_.state_dir / "leases"));
}

TEST_F(AgentTest, UnacceptableLeasesAre422) {
  StartAgent();
  // Signed by an authorized verifier, but for another provider.
  Lease lease = NewVerifier("verifier", verifier_)->lease();
  lease.provider_key = KeyFromByte(7).public_key();
  ASSERT_OK(Sign(lease, verifier_));
  HttpResponse r = Post("/v1/leases", Serialize(lease));
  EXPECT_EQ(r.status, 422) << r.body;
  // More devices than the agent has (the CPU backend is one device).
  lease.provider_key = provider_.public_key();
  lease.devices = 2;
  ASSERT_OK(Sign(lease, verifier_));
  r = Post("/v1/leases", Serialize(lease));
  EXPECT_EQ(r.status, 422) << r.body;
  // A changed lease with the old signature.
  lease.devices = 1;
  r = Post("/v1/leases", Serialize(lease));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_TRUE(fs::is_empty(options_.state_dir / "leases"));
}

TEST_F(AgentTest, BadRequestsAre4xxAndChangeNothing) {
  options_.max_body_bytes = 4096;
  StartAgent();
  auto v = NewVerifier("verifier", verifier_);
  ASSERT_TRUE(v);
  Offer(*v);
  const std::string epochs = LeasePath(*v) + "/epochs";
  const uintmax_t size = LogSize(*v);
  ASSERT_GT(size, 0u);
  ASSERT_OK_AND_ASSIGN(EpochStart start, v->StartEpoch(verifier_, EpochSchedule::kOnDemand));
  const std::vector<uint8_t> start_bytes = Serialize(start);

  auto expect = [&](const HttpResponse& r, int status, const char* what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body;
    EXPECT_EQ(r.content_type, service::kJsonMediaType) << what;
    if (r.content_type == service::kJsonMediaType) {
      const json e = json::parse(r.body);
      EXPECT_EQ(e["status"], status) << what;
      EXPECT_FALSE(e["error"].get<std::string>().empty()) << what;
    }
    EXPECT_EQ(LogSize(*v), size) << what << " changed the provider store";
  };
  expect(Post(epochs, {1, 2, 3, 4, 5, 6, 7, 8}), 400, "garbage");
  std::vector<uint8_t> cut = start_bytes;
  cut.pop_back();
  expect(Post(epochs, cut), 400, "a start cut short");
  expect(Post(epochs, std::vector<uint8_t>(8192, 'x')), 413, "a body over max_body_bytes");
  expect(Post(epochs, start_bytes, "application/octet-stream"), 415, "wrong content type");
  expect(Post(epochs, Serialize(v->lease())), 400, "a lease posted as an epoch start");
  std::vector<uint8_t> forged = start_bytes;
  forged[forged.size() - 1] ^= 1;
  expect(Post(epochs, forged), 403, "a start whose signature is broken");
  expect(Post("/v1/leases/" + std::string(64, 'a') + "/epochs", start_bytes), 404, "an unknown lease");

  // Out of order: a challenge before any record, and a start for epoch 5 chained to a record never made.
  Challenge early;
  early.lease_id = v->lease_id();
  early.epoch = 0;
  early.record_hash.fill(3);
  early.randomness.fill(4);
  ASSERT_OK(Sign(early, verifier_));
  expect(Post(LeasePath(*v) + "/challenges", Serialize(early)), 409, "a challenge before any record");
  EpochStart five = start;
  five.epoch = 5;
  five.prev_record.fill(5);
  ASSERT_OK(Sign(five, verifier_));
  expect(Post(epochs, Serialize(five)), 409, "a start for epoch 5 chained to an unknown record");
  // The path names one lease, the start another.
  auto other = NewVerifier("other", verifier_);
  ASSERT_TRUE(other);
  Offer(*other);
  ASSERT_OK_AND_ASSIGN(EpochStart foreign, other->StartEpoch(verifier_, EpochSchedule::kOnDemand));
  expect(Post(epochs, Serialize(foreign)), 400, "a start for another lease");
  expect(Get(LeasePath(*v) + "/epochs/0/response"), 422, "a beacon response for an interactive lease");
  expect(Post("/v1/nothing", start_bytes), 404, "an unknown route");
  expect(Get("/v1/leases/" + ToHex(v->lease_id()) + "/epochs"), 405, "GET on a POST route");

  // After all that, the real start still runs and passes.
  HttpResponse r = Post(epochs, start_bytes);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK_AND_ASSIGN(RecordOutcome checked, v->ReceiveRecord(Bytes(r.body), verifier_));
  ASSERT_TRUE(checked.challenge);
  r = Post(LeasePath(*v) + "/challenges", Serialize(*checked.challenge));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK_AND_ASSIGN(ResponseOutcome verdict, v->ReceiveResponse(Bytes(r.body), verifier_));
  ASSERT_TRUE(verdict.verdict);
  EXPECT_EQ(verdict.verdict->reason, Reason::kPass) << verdict.finding.detail;
}

TEST_F(AgentTest, EpochStartsFasterThanTheShareAllowsAre429) {
  options_.max_audit_share = 0.01;
  options_.burst_epochs = 1;
  StartAgent();
  auto v = NewVerifier("verifier", verifier_);
  ASSERT_TRUE(v);
  Offer(*v);
  EXPECT_EQ(RunEpoch(*v, verifier_), Reason::kPass);
  const uintmax_t size = LogSize(*v);
  ASSERT_OK_AND_ASSIGN(EpochStart next, v->StartEpoch(verifier_, EpochSchedule::kOnDemand));
  HttpResponse r = Post(LeasePath(*v) + "/epochs", Serialize(next));
  ASSERT_EQ(r.status, 429) << r.body;
  // The bucket refills at 0.01 us per us: one 1.25 s epoch needs 125 s.
  const std::optional<std::string> retry = Header(r, "Retry-After");
  ASSERT_TRUE(retry);
  EXPECT_GE(std::stoi(*retry), 100);
  EXPECT_LE(std::stoi(*retry), 126);
  EXPECT_EQ(json::parse(r.body)["retry_after_s"], std::stoi(*retry));
  EXPECT_EQ(LogSize(*v), size);
}

TEST_F(AgentTest, HealthReadyInfoAndMetrics) {
  StartAgent();
  HttpResponse health = Get("/healthz", "text/plain");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  HttpResponse ready = Get("/readyz");
  ASSERT_EQ(ready.status, 200) << ready.body;
  const json r = json::parse(ready.body);
  EXPECT_EQ(r["ready"], true);
  ASSERT_EQ(r["devices"].size(), 1u);
  EXPECT_EQ(r["devices"][0]["ok"], true);
  HttpResponse info = Get("/v1/info");
  ASSERT_EQ(info.status, 200);
  const json i = json::parse(info.body);
  EXPECT_EQ(i["provider_key"], ToHex(provider_.public_key()));
  EXPECT_EQ(i["backend"], "cpu");
  EXPECT_EQ(i["protocol_version"], kProtocolVersion);

  auto v = NewVerifier("verifier", verifier_);
  ASSERT_TRUE(v);
  Offer(*v);
  EXPECT_EQ(RunEpoch(*v, verifier_), Reason::kPass);
  (void)Post("/v1/leases/" + ToHex(v->lease_id()) + "/epochs", {1, 2, 3});
  HttpResponse metrics = Get("/metrics", "text/plain");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type.rfind("text/plain", 0), 0u) << metrics.content_type;
  EXPECT_EQ(MetricValue(metrics.body, "vcp_agent_epochs_proven_total"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "vcp_agent_challenges_answered_total"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "vcp_agent_devices"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "vcp_agent_leases{state=\"active\"}"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "vcp_agent_requests_refused_total{reason=\"malformed\"}"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "vcp_agent_epoch_duration_seconds_count"), 1);
  EXPECT_NE(metrics.body.find("vcp_build_info{"), std::string::npos);
  if (!testing::HavePromtool()) GTEST_SKIP() << "promtool not installed (Debian: prometheus)";
  EXPECT_EQ(testing::PromtoolCheck(metrics.body), "");
}

TEST_F(AgentTest, RestartResumesEveryLease) {
  // The stop below leaves the second epoch's challenge due on purpose (it is answered after the restart); a short
  // challenge wait keeps the stop quick.
  options_.challenge_wait_ms = 100;
  StartAgent();
  auto v = NewVerifier("verifier", verifier_);
  ASSERT_TRUE(v);
  Offer(*v);
  EXPECT_EQ(RunEpoch(*v, verifier_), Reason::kPass);
  ASSERT_OK_AND_ASSIGN(EpochStart start, v->StartEpoch(verifier_, EpochSchedule::kOnDemand));
  HttpResponse first = Post(LeasePath(*v) + "/epochs", Serialize(start));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(agent_->Shutdown(5), 0u);
  agent_.reset();

  StartAgent();
  HttpResponse list = Get("/v1/leases");
  ASSERT_EQ(list.status, 200);
  const json leases = json::parse(list.body)["leases"];
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0]["epochs"], 2);
  // The record the verifier never got (say): the same start gets the logged record, then the epoch goes on.
  HttpResponse again = Post(LeasePath(*v) + "/epochs", Serialize(start));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, first.body);
  ASSERT_OK_AND_ASSIGN(RecordOutcome checked, v->ReceiveRecord(Bytes(again.body), verifier_));
  ASSERT_TRUE(checked.challenge);
  HttpResponse response = Post(LeasePath(*v) + "/challenges", Serialize(*checked.challenge));
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_OK_AND_ASSIGN(ResponseOutcome verdict, v->ReceiveResponse(Bytes(response.body), verifier_));
  ASSERT_TRUE(verdict.verdict);
  EXPECT_EQ(verdict.verdict->reason, Reason::kPass);
  EXPECT_EQ(RunEpoch(*v, verifier_), Reason::kPass);
}

// Two agents on one state directory would both accept the same offer into it, even before it holds a lease.
TEST_F(AgentTest, ASecondAgentOnTheSameStateDirectoryIsRefused) {
  StartAgent();
  AgentOptions second = options_;
  const Result<std::unique_ptr<Agent>> refused = Agent::Start(second);
  ASSERT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("agent state directory " + options_.state_dir.string() + " is in use by pid"),
            std::string::npos)
      << refused.status().message();
  EXPECT_EQ(agent_->Shutdown(5), 0u);
  agent_.reset();
  StartAgent();  // released with its holder
}

TEST_F(AgentTest, ShutdownLetsTheRunningEpochAnswerAndRefusesNewWork) {
  StartAgent();
  // A long epoch (17 G operations: about a second on one CPU thread), so that Shutdown finds it running.
  auto v = NewVerifier("verifier", verifier_, LeaseShape{LeaseMode::kInteractive, 1024, 8, 1ull << 32});
  ASSERT_TRUE(v);
  Offer(*v);
  auto late = NewVerifier("late", verifier_);
  ASSERT_TRUE(late);
  ASSERT_OK_AND_ASSIGN(EpochStart start, v->StartEpoch(verifier_, EpochSchedule::kOnDemand));
  // The verifier's side of the epoch: its record, then, after a pause far longer than the few milliseconds a stop
  // used to leave, its challenge, which the stopping agent must still answer (it waits challenge_wait_ms, 2 s).
  HttpResponse proven, answered;
  std::optional<Reason> reason;
  std::thread epoch([&] {
    proven = Post(LeasePath(*v) + "/epochs", Serialize(start));
    auto checked = v->ReceiveRecord(Bytes(proven.body), verifier_);
    if (!checked.ok() || !checked->challenge) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    answered = Post(LeasePath(*v) + "/challenges", Serialize(*checked->challenge));
    auto verdict = v->ReceiveResponse(Bytes(answered.body), verifier_);
    if (verdict.ok() && verdict->verdict) reason = verdict->verdict->reason;
  });
  bool busy = false;
  for (int i = 0; i < 2000 && !busy; ++i) {
    HttpResponse list = Get("/v1/leases");
    busy = json::parse(list.body)["leases"][0]["busy"].get<bool>();
    if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(busy) << "the epoch ended before the test saw it running";
  size_t abandoned = 99;
  std::thread stop([&] { abandoned = agent_->Shutdown(30); });
  // While it drains: a new lease is refused with 503 (the server still answers until the epoch is done).
  HttpResponse refused;
  for (int i = 0; i < 200; ++i) {
    refused = Post("/v1/leases", Serialize(late->lease()));
    if (refused.status != 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.join();
  epoch.join();
  EXPECT_EQ(abandoned, 0u);
  EXPECT_EQ(proven.status, 200) << proven.body;
  EXPECT_EQ(answered.status, 200) << answered.body;
  EXPECT_EQ(reason, Reason::kPass);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["kind"], "unavailable") << refused.body;
}

// The wait for a due challenge has its own bound, the grace bounds it too, and with every challenge answered
// there is no wait at all.
TEST_F(AgentTest, ShutdownWaitsForADueChallengeOnlyBriefly) {
  const auto stop_seconds = [&](uint32_t challenge_wait_ms, uint32_t grace_s, bool answer_last) {
    options_.challenge_wait_ms = challenge_wait_ms;
    StartAgent();
    auto v = NewVerifier("verifier-" + std::to_string(challenge_wait_ms) + "-" + std::to_string(grace_s), verifier_);
    EXPECT_TRUE(v);
    if (!v) return -1.0;
    Offer(*v);
    EXPECT_EQ(RunEpoch(*v, verifier_), Reason::kPass);
    if (!answer_last) {  // a record whose challenge never comes
      auto start = v->StartEpoch(verifier_, EpochSchedule::kOnDemand);
      EXPECT_TRUE(start.ok());
      EXPECT_EQ(Post(LeasePath(*v) + "/epochs", Serialize(*start)).status, 200);
    }
    const auto began = std::chrono::steady_clock::now();
    EXPECT_EQ(agent_->Shutdown(grace_s), 0u);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    agent_.reset();
    return seconds;
  };
  const double answered = stop_seconds(60000, 30, true);
  EXPECT_LT(answered, 10.0) << "nothing was due, yet the stop waited";
  const double bounded_by_wait = stop_seconds(300, 30, false);
  EXPECT_GE(bounded_by_wait, 0.3);
  EXPECT_LT(bounded_by_wait, 10.0) << "the stop waited past challenge_wait_ms";
  const double bounded_by_grace = stop_seconds(60000, 1, false);
  EXPECT_GE(bounded_by_grace, 1.0);
  EXPECT_LT(bounded_by_grace, 10.0) << "the stop waited past its grace";
}

TEST_F(AgentTest, BeaconModeResponseAfterTheRoundIsPublished) {
  const fs::path beacon_file = dir_ / "beacon.txt";
  const uint64_t now = SystemClock().NowMicros();
  ASSERT_OK(FileBeaconSource::Create(beacon_file, "test-beacon", now - 10'000'000, 1'000'000));
  ASSERT_OK_AND_ASSIGN(FileBeaconSource beacon, FileBeaconSource::Open(beacon_file));
  options_.beacon_file = beacon_file;
  StartAgent();
  auto v = NewVerifier("verifier", verifier_, LeaseShape{LeaseMode::kBeacon, 64, 2, 1 << 20}, &beacon);
  ASSERT_TRUE(v);
  Offer(*v);
  ASSERT_OK_AND_ASSIGN(EpochStart start, v->StartEpoch(verifier_, EpochSchedule::kOnDemand));
  HttpResponse r = Post(LeasePath(*v) + "/epochs", Serialize(start));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK_AND_ASSIGN(RecordOutcome checked, v->ReceiveRecord(Bytes(r.body), verifier_));
  ASSERT_TRUE(checked.beacon_round);
  const std::string response_path = LeasePath(*v) + "/epochs/" + std::to_string(start.epoch) + "/response";
  HttpResponse pending = Get(response_path, kMessageMediaType);
  EXPECT_EQ(pending.status, 503) << pending.body;
  EXPECT_TRUE(Header(pending, "Retry-After"));
  Hash32 value{};
  value.fill(0x42);
  ASSERT_OK(FileBeaconSource::Publish(beacon_file, *checked.beacon_round, value));
  HttpResponse answered = Get(response_path, kMessageMediaType);
  ASSERT_EQ(answered.status, 200) << answered.body;
  ASSERT_OK_AND_ASSIGN(ResponseOutcome verdict, v->ReceiveResponse(Bytes(answered.body), verifier_));
  ASSERT_TRUE(verdict.verdict) << verdict.finding.detail;
  EXPECT_EQ(verdict.verdict->reason, Reason::kPass);
  // An interactive challenge on a beacon lease is refused.
  Challenge c;
  c.lease_id = v->lease_id();
  ASSERT_OK(Sign(c, verifier_));
  EXPECT_EQ(Post(LeasePath(*v) + "/challenges", Serialize(c)).status, 422);
}

TEST_F(AgentTest, SimulatedLazyAgentIsCaught) {
  // Half the tiles skipped: 40 samples all land on computed tiles with probability 2^-40.
  options_.simulate_lazy_fraction = 0.5;
  StartAgent();
  auto v = NewVerifier("verifier", verifier_);
  ASSERT_TRUE(v);
  Offer(*v);
  const Reason reason = RunEpoch(*v, verifier_);
  EXPECT_EQ(OutcomeOf(reason), VerdictOutcome::kFail) << ReasonName(reason);
  EXPECT_EQ(reason, Reason::kTileMismatch) << ReasonName(reason);
}

TEST_F(AgentTest, StartRefusesPlainHttpOffLoopbackAndBadFiles) {
  AgentOptions o = options_;
  o.tls_cert_file.clear();
  o.tls_key_file.clear();
  o.listen_host = "0.0.0.0";
  auto refused = Agent::Start(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("TLS"), std::string_view::npos) << refused.status().ToString();
  std::ofstream(dir_ / "bad_keys") << "ssh-ed25519 AAAA whatever\n";
  o = options_;
  o.authorized_keys = dir_ / "bad_keys";
  refused = Agent::Start(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("line 1"), std::string_view::npos) << refused.status().ToString();
}

// ---------------------------------------------------------------------------------------------------------------

TEST(AgentAuthorizedKeys, ParsesBothFormsCommentsAndRefusesOtherLines) {
  const std::string hex = ToHex(KeyFromByte(2).public_key());
  ASSERT_OK_AND_ASSIGN(service::AuthorizedKeys keys,
                       service::AuthorizedKeys::Parse("# renters\n\n  " + hex + "  renter a\r\n"
                                                      "vcp-ed25519-public-v1 " + ToHex(KeyFromByte(3).public_key()) +
                                                      "\n",
                                                      "test"));
  ASSERT_EQ(keys.keys().size(), 2u);
  EXPECT_EQ(keys.keys()[0].comment, "renter a");
  EXPECT_EQ(keys.keys()[0].line, 3u);
  EXPECT_TRUE(keys.Contains(KeyFromByte(2).public_key()));
  EXPECT_TRUE(keys.Contains(KeyFromByte(3).public_key()));
  EXPECT_FALSE(keys.Contains(KeyFromByte(4).public_key()));
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  ASSERT_OK_AND_ASSIGN(service::AuthorizedKeys upper_keys, service::AuthorizedKeys::Parse(upper, "test"));
  EXPECT_TRUE(upper_keys.Contains(KeyFromByte(2).public_key()));
  for (const std::string& bad : std::vector<std::string>{hex.substr(1), hex + "0", "vcp-ed25519-public-v1",
                                                          "vcp-ed25519-secret-v1 " + hex, "ssh-ed25519 AAAAC3Nza"}) {
    auto parsed = service::AuthorizedKeys::Parse("# ok\n" + bad + "\n", "test");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("line 2"), std::string_view::npos) << parsed.status().ToString();
  }
}

TEST(AgentConfig, LoadsKeysResolvesPathsAndRefusesUnknownKeys) {
  const fs::path dir = testing::MakeTempDir("vcp-agent-config-");
  ASSERT_FALSE(dir.empty());
  std::ofstream(dir / "agent.json") << R"({"listen_host": "0.0.0.0", "listen_port": 9443, "state_dir": "state",
    "provider_key": "/etc/vcp/provider", "authorized_keys": "keys", "backend": "cpu", "max_audit_share": 0.25,
    "burst_epochs": 2, "tls_cert_file": "cert.pem", "tls_key_file": "key.pem", "challenge_wait_ms": 1500})";
  ASSERT_OK_AND_ASSIGN(AgentOptions o, LoadAgentConfig(dir / "agent.json"));
  EXPECT_EQ(o.listen_host, "0.0.0.0");
  EXPECT_EQ(o.listen_port, 9443);
  EXPECT_EQ(o.state_dir, dir / "state");
  EXPECT_EQ(o.provider_key, fs::path("/etc/vcp/provider"));
  EXPECT_EQ(o.tls_cert_file, (dir / "cert.pem").string());
  EXPECT_EQ(o.backend, BackendChoice::kCpu);
  EXPECT_EQ(o.max_audit_share, 0.25);
  EXPECT_EQ(o.burst_epochs, 2u);
  EXPECT_EQ(o.challenge_wait_ms, 1500u);

  std::ofstream(dir / "typo.json") << R"({"state_dir": "s", "provider_key": "k", "authorized_keys": "a",
    "max_audit_shares": 0.1})";
  auto typo = LoadAgentConfig(dir / "typo.json");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("unknown key \"max_audit_shares\""), std::string_view::npos);
  EXPECT_NE(typo.status().message().find("max_audit_share"), std::string_view::npos);
  for (const char* bad : {R"({"state_dir": "s", "provider_key": "k", "authorized_keys": "a", "listen_port": 70000})",
                          R"({"state_dir": "s", "provider_key": "k", "authorized_keys": "a", "max_audit_share": 0})",
                          R"({"state_dir": "s", "provider_key": "k", "authorized_keys": "a", "threads": "4"})",
                          R"({"state_dir": "s", "provider_key": "k", "authorized_keys": "a", "challenge_wait_ms": 60001})",
                          R"([1, 2])", R"({not json)"}) {
    std::ofstream(dir / "bad.json", std::ios::trunc) << bad;
    EXPECT_FALSE(LoadAgentConfig(dir / "bad.json").ok()) << bad;
  }
  // A config may leave the required paths to flags; Start (ValidateAgentOptions) names what is missing.
  std::ofstream(dir / "partial.json") << R"({"burst_epochs": 1})";
  ASSERT_OK_AND_ASSIGN(AgentOptions partial, LoadAgentConfig(dir / "partial.json"));
  const Status missing = service::ValidateAgentOptions(partial);
  EXPECT_NE(missing.message().find("state_dir is not set"), std::string_view::npos) << missing.ToString();
  partial.state_dir = dir / "state";
  partial.provider_key = dir / "key";
  partial.authorized_keys = dir / "keys";
  EXPECT_TRUE(service::ValidateAgentOptions(partial).ok());
  fs::remove_all(dir);
}

TEST(AgentTokenBucket, StartsFullRefillsAtTheShareAndRefunds) {
  service::TokenBucket bucket(/*capacity_us=*/2000, /*refill_per_us=*/0.5, /*now_us=*/0);
  EXPECT_FALSE(bucket.Take(1000, 0));
  EXPECT_FALSE(bucket.Take(1000, 0));
  const std::optional<uint64_t> wait = bucket.Take(1000, 0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 2000u);  // 1000 us of epoch time at 0.5 us per us
  EXPECT_TRUE(bucket.Take(1000, 1999));
  EXPECT_FALSE(bucket.Take(1000, 2000));
  bucket.Refund(1000, 2000);
  EXPECT_EQ(bucket.Available(2000), 1000);
  EXPECT_EQ(bucket.Available(1'000'000), 2000);  // never above capacity
}

}  // namespace
}  // namespace vcp
