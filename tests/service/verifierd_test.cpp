// The verifier service end to end in one process: VerifierService and in-process Agents on 127.0.0.1 over TLS
// (certificates from tls_fixture.h), CPU backend, tiny shapes (int8 64x64x64, tile 32, 2 rounds), deadlines under
// a second and a high audit share so several epochs close within seconds. Each test stops everything it starts
// and stays under 60 s.
#include "vcp/verifierd.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "service/agent_client.h"
#include "service/http.h"
#include "service/tls_fixture.h"
#include "service/verifier_db.h"
#include "test_util.h"
#include "vcp/agent.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/store.h"

namespace vcp {
namespace {

using json = nlohmann::json;
using service::HttpClient;
using service::HttpClientOptions;
using testing::MakeTempDir;
using testing::MakeTestTls;
using testing::TestTls;

// R x 2MNK operations per device per epoch for the tiny shape.
constexpr uint64_t kEpochOps = 2ull * 2 * 64 * 64 * 64;
// Compute time 300 ms at the claimed rate, slack 1.0: a 600 ms deadline, far more than the CPU needs.
constexpr uint64_t kRate = kEpochOps * 1000 / 300;

class VerifierdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("vcp-verifierd-test-");
    ASSERT_FALSE(dir_.empty());
    ASSERT_OK_AND_ASSIGN(tls_, MakeTestTls(dir_));
    ASSERT_OK_AND_ASSIGN(SecretKey provider, SecretKey::Generate());
    ASSERT_OK_AND_ASSIGN(SecretKey verifier, SecretKey::Generate());
    provider_pub_ = provider.public_key();
    ASSERT_OK(SaveKeyPair(provider, dir_ / "provider"));
    ASSERT_OK(SaveKeyPair(verifier, dir_ / "verifier"));
    std::ofstream(dir_ / "authorized_keys") << "# the test's verifier\n" << ToHex(verifier.public_key()) << "\n";
    std::ofstream(dir_ / "nobody_keys") << "# nobody\n";
  }
  void TearDown() override {
    service_.reset();
    agent_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  AgentOptions AgentOpts(const std::string& name, uint16_t port = 0) {
    AgentOptions o;
    o.listen_host = "127.0.0.1";
    o.listen_port = port;
    o.tls_cert_file = tls_.server_cert.string();
    o.tls_key_file = tls_.server_key.string();
    o.state_dir = dir_ / name;
    o.provider_key = dir_ / "provider";
    o.authorized_keys = dir_ / "authorized_keys";
    o.backend = BackendChoice::kCpu;
    o.threads = 1;
    o.max_audit_share = 1.0;
    o.log_level = "warn";
    return o;
  }

  VerifierServiceOptions ServiceOpts() {
    VerifierServiceOptions o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    o.tls_cert_file = tls_.server_cert.string();
    o.tls_key_file = tls_.server_key.string();
    o.database = dir_ / "verifierd.db";
    o.verifier_key = dir_ / "verifier";
    o.agent_ca_file = tls_.ca_cert.string();
    o.verify_threads = 2;
    o.retry_initial_ms = 50;
    o.retry_max_ms = 400;
    o.response_wait_ms = 3000;
    o.log_level = "warn";
    return o;
  }

  LeaseRequest Request(uint16_t agent_port) {
    LeaseRequest r;
    r.agent_url = "https://127.0.0.1:" + std::to_string(agent_port);
    r.provider_key = provider_pub_;
    r.workload.kind = WorkloadKind::kInt8;
    r.workload.m = r.workload.n = r.workload.k = 64;
    r.workload.tile = 32;
    r.devices = 1;
    r.rounds = 2;
    r.claimed_ops_per_second_per_device = kRate;
    r.slack_ppm = 1'000'000;
    r.duration_us = 120'000'000;
    r.audit_share = 0.5;  // at most half the agent's share (docs/API.md 2.3); mean gap 1.2 s
    return r;
  }

  std::unique_ptr<HttpClient> Api() {
    HttpClientOptions o;
    o.ca_file = tls_.ca_cert.string();
    auto client = HttpClient::Create("https://127.0.0.1:" + std::to_string(service_->port()), o);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  json GetJson(const std::string& path, int expect_status = 200) {
    auto client = Api();
    if (!client) return json();
    auto response = client->Get(path, service::kJsonMediaType);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return json();
    EXPECT_EQ(response->status, expect_status) << path << ": " << response->body;
    return json::parse(response->body, nullptr, false);
  }

  json Report(const Hash32& id) { return GetJson("/v1/leases/" + ToHex(id) + "/report"); }

  // Polls the report until `done` holds or `seconds` pass; returns the last report.
  template <typename Done>
  json WaitForReport(const Hash32& id, double seconds, Done done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    json report;
    while (std::chrono::steady_clock::now() < until) {
      report = Report(id);
      if (report.is_object() && done(report)) return report;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return report;
  }

  // Every closed epoch once, in order: epoch indices 0, 1, 2, ...
  static void ExpectConsecutiveEpochs(const json& report) {
    uint64_t expected = 0;
    for (const json& e : report["epoch_verdicts"]) EXPECT_EQ(e["epoch"].get<uint64_t>(), expected++) << e.dump();
  }

  std::filesystem::path dir_;
  TestTls tls_;
  PublicKey provider_pub_{};
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<VerifierService> service_;
};

TEST_F(VerifierdTest, LeaseRunsSeveralEpochsAndPasses) {
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(AgentOpts("agent")));
  ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(ServiceOpts()));
  ASSERT_OK_AND_ASSIGN(const Hash32 id, service_->AddLease(Request(agent_->port())));

  const json lease = GetJson("/v1/leases/" + ToHex(id));
  EXPECT_EQ(lease["accepted"], true) << lease.dump();
  EXPECT_EQ(lease["state"], "active");

  const json report = WaitForReport(id, 40, [](const json& r) { return r["epochs"].get<uint64_t>() >= 3; });
  ASSERT_GE(report["epochs"].get<uint64_t>(), 3u) << report.dump(1);
  EXPECT_EQ(report["passed"], report["epochs"]) << report.dump(1);
  EXPECT_EQ(report["scheduled"]["passed"], report["epochs"]);
  EXPECT_GT(report["proven_operations"].get<uint64_t>(), 0u);
  EXPECT_EQ(report["network"]["unreachable_epochs"], 0);
  ExpectConsecutiveEpochs(report);
  for (const json& e : report["epoch_verdicts"]) {
    EXPECT_LE(e["window_ms"].get<double>(), e["deadline_ms"].get<double>()) << e.dump();
  }

  // The list, the metrics and the evidence agree with the report.
  const json list = GetJson("/v1/leases");
  ASSERT_EQ(list["leases"].size(), 1u);
  EXPECT_EQ(list["leases"][0]["lease_id"], ToHex(id));
  auto client = Api();
  ASSERT_NE(client, nullptr);
  ASSERT_OK_AND_ASSIGN(auto metrics, client->Get("/metrics", "text/plain"));
  EXPECT_EQ(metrics.status, 200);
  const std::string lease_label = "lease=\"" + ToHex(id).substr(0, 16) + "\"";
  EXPECT_NE(metrics.body.find("vcp_verifierd_lease_proven_operations_total{" + lease_label + "}"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("vcp_verifierd_verify_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.body.find("vcp_verifierd_leases{state=\"active\"} 1"), std::string::npos) << metrics.body;
  if (testing::HavePromtool()) {
    EXPECT_EQ(testing::PromtoolCheck(metrics.body), "");
  }

  ASSERT_OK_AND_ASSIGN(auto evidence, client->Get("/v1/leases/" + ToHex(id) + "/evidence", "application/octet-stream"));
  ASSERT_EQ(evidence.status, 200);
  EXPECT_EQ(evidence.content_type.substr(0, 24), "application/octet-stream");
  std::vector<uint8_t> image(evidence.body.begin(), evidence.body.end());
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(image));
  EXPECT_EQ(scan.role, StoreRole::kVerifier);
  EXPECT_FALSE(scan.recovery.torn_tail);
  EXPECT_GE(scan.entries.size(), 3u + 3 * 4);  // lease, plan, acceptance, then start/arrival/challenge/... per epoch
}

TEST_F(VerifierdTest, LazyAgentFailsWithTileMismatch) {
  AgentOptions lazy = AgentOpts("lazy");
  lazy.simulate_lazy_fraction = 0.5;
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(lazy));
  ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(ServiceOpts()));
  ASSERT_OK_AND_ASSIGN(const Hash32 id, service_->AddLease(Request(agent_->port())));
  const json report = WaitForReport(id, 40, [](const json& r) { return r["epochs"].get<uint64_t>() >= 2; });
  ASSERT_GE(report["epochs"].get<uint64_t>(), 2u) << report.dump(1);
  EXPECT_EQ(report["passed"], 0) << report.dump(1);
  for (const json& e : report["epoch_verdicts"]) EXPECT_EQ(e["reason"], "tile-mismatch") << e.dump();
  EXPECT_EQ(report["network"]["failed"], report["epochs"]);
  EXPECT_EQ(report["network"]["unreachable_epochs"], 0);

  auto client = Api();
  ASSERT_NE(client, nullptr);
  ASSERT_OK_AND_ASSIGN(auto metrics, client->Get("/metrics", "text/plain"));
  EXPECT_NE(metrics.body.find("vcp_verifierd_lease_failures_total{lease=\"" + ToHex(id).substr(0, 16) +
                              "\",reason=\"tile-mismatch\"}"),
            std::string::npos)
      << metrics.body;
}

TEST_F(VerifierdTest, UnreachableAgentGetsMissedEpochsThenPassesAfterRestart) {
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(AgentOpts("agent")));
  const uint16_t agent_port = agent_->port();
  ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(ServiceOpts()));
  ASSERT_OK_AND_ASSIGN(const Hash32 id, service_->AddLease(Request(agent_port)));
  EXPECT_EQ(GetJson("/v1/leases/" + ToHex(id))["accepted"], true);
  agent_->Shutdown(0);
  agent_.reset();

  json report = WaitForReport(id, 40, [](const json& r) { return r["network"]["unreachable_epochs"] >= 2; });
  ASSERT_GE(report["network"]["unreachable_epochs"].get<uint64_t>(), 2u) << report.dump(1);
  EXPECT_EQ(report["passed"], 0);
  for (const json& e : report["epoch_verdicts"]) EXPECT_EQ(e["reason"], "missed") << e.dump();
  EXPECT_EQ(report["missed"], report["network"]["unreachable_epochs"]);
  ASSERT_FALSE(report["network"]["events"].empty());
  EXPECT_EQ(report["network"]["events"][0]["outcome"], "unreachable");
  EXPECT_EQ(report["network"]["events"][0]["step"], "epoch-start");

  // The agent comes back on the same port with the same store: the lease passes again.
  const uint64_t closed = report["epochs"].get<uint64_t>();
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(AgentOpts("agent", agent_port)));
  report = WaitForReport(id, 40, [](const json& r) { return r["passed"].get<uint64_t>() >= 2; });
  ASSERT_GE(report["passed"].get<uint64_t>(), 2u) << report.dump(1);
  EXPECT_GT(report["epochs"].get<uint64_t>(), closed);
  ExpectConsecutiveEpochs(report);
}

TEST_F(VerifierdTest, RestartResumesEveryLeaseWithNothingLostOrCountedTwice) {
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(AgentOpts("agent")));
  ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(ServiceOpts()));
  ASSERT_OK_AND_ASSIGN(const Hash32 id, service_->AddLease(Request(agent_->port())));
  json before = WaitForReport(id, 40, [](const json& r) { return r["epochs"].get<uint64_t>() >= 2; });
  ASSERT_GE(before["epochs"].get<uint64_t>(), 2u) << before.dump(1);
  service_->Shutdown();
  service_.reset();

  // The same database again: the lease resumes from where the runner stopped.
  ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(ServiceOpts()));
  const json resumed = Report(id);
  ASSERT_GE(resumed["epochs"].get<uint64_t>(), before["epochs"].get<uint64_t>());
  for (size_t i = 0; i < before["epoch_verdicts"].size(); ++i) {
    EXPECT_EQ(resumed["epoch_verdicts"][i], before["epoch_verdicts"][i]) << "epoch " << i << " changed on restart";
  }
  const uint64_t target = resumed["epochs"].get<uint64_t>() + 2;
  const json after = WaitForReport(id, 40, [&](const json& r) { return r["epochs"].get<uint64_t>() >= target; });
  ASSERT_GE(after["epochs"].get<uint64_t>(), target) << after.dump(1);
  ExpectConsecutiveEpochs(after);
  // A stop between two epochs or inside one leaves nothing for the provider to fail: every epoch passed or, if the
  // service was down over an epoch's deadline, was voided.
  for (const json& e : after["epoch_verdicts"]) {
    EXPECT_TRUE(e["reason"] == "pass" || e["reason"] == "void-verifier-down") << e.dump();
  }
  EXPECT_GE(after["passed"].get<uint64_t>(), target - 1);
}

// A crash leaves the database in whatever state the last commit made. Three leases are left as kill -9 would leave
// them: A logged its epoch start and died before sending it; B received the record and logged the challenge but
// never sent it, and the service stayed down longer than the response wait; C logged a start whose deadline passed
// while the service was down. On restart A's start is sent again and passes, B's challenge is sent again and
// passes, C is voided (nobody timed it), each as epoch 0, once.
TEST_F(VerifierdTest, RestartAfterCrashResumesOpenEpochs) {
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(AgentOpts("agent")));
  const std::string agent_url = "https://127.0.0.1:" + std::to_string(agent_->port());
  ASSERT_OK_AND_ASSIGN(SecretKey key, ResolveSecretKey((dir_ / "verifier").string()));
  HttpClientOptions http;
  http.ca_file = tls_.ca_cert.string();
  ASSERT_OK_AND_ASSIGN(auto agent, service::AgentClient::Create(agent_url, http));

  Hash32 a{}, b{}, c{};
  {
    ASSERT_OK_AND_ASSIGN(auto db, service::VerifierDatabase::Open(dir_ / "verifierd.db"));
    // An accepted lease whose epochs have the given compute time (slack 1.0: the deadline is twice it).
    auto accepted_lease = [&](uint64_t compute_ms) -> Result<VerifierSession> {
      Lease terms;
      terms.provider_key = provider_pub_;
      terms.workload = testing::MakeWorkload(WorkloadKind::kInt8, 64, 64, 64, 32);
      terms.workload.seed = {};
      terms.rounds_per_epoch = 2;
      terms.samples_per_epoch = MinSamples(LeaseMode::kInteractive);
      terms.claimed_ops_per_second_per_device = kEpochOps * 1000 / compute_ms;
      terms.slack_ppm = 1'000'000;
      terms.start_us = SystemClock().NowMicros();
      // 20 minutes: an audit share of 0.01 then expects at least one scheduled epoch (1.2 for the 10 s deadline)
      // while its audit times stay far apart, so only the on-demand epoch 0 runs before the checks.
      terms.end_us = terms.start_us + 1'200'000'000;
      VCP_ASSIGN_OR_RETURN(auto log, db->CreateLeaseLog(agent_url, 0.01));
      VCP_ASSIGN_OR_RETURN(VerifierSession session, VerifierSession::Create(std::move(log), terms, key, 0.01));
      VCP_ASSIGN_OR_RETURN(service::AgentAnswer offer, agent->OfferLease(session.lease()));
      if (!offer.ok()) return Status::Internal("offer refused: " + offer.Describe());
      VCP_ASSIGN_OR_RETURN(LeaseAcceptance acceptance, ParseLeaseAcceptance(offer.body));
      VCP_RETURN_IF_ERROR(session.AddAcceptance(acceptance));
      return session;
    };
    ASSERT_OK_AND_ASSIGN(VerifierSession la, accepted_lease(5000));
    ASSERT_OK(la.StartEpoch(key, EpochSchedule::kOnDemand));
    a = la.lease_id();

    ASSERT_OK_AND_ASSIGN(VerifierSession lb, accepted_lease(3000));
    ASSERT_OK_AND_ASSIGN(EpochStart start, lb.StartEpoch(key, EpochSchedule::kOnDemand));
    ASSERT_OK_AND_ASSIGN(service::AgentAnswer record, agent->StartEpoch(start, 10000));
    ASSERT_TRUE(record.ok()) << record.Describe();
    ASSERT_OK_AND_ASSIGN(RecordOutcome received, lb.ReceiveRecord(record.body, key));
    ASSERT_TRUE(received.challenge.has_value()) << received.finding.detail;
    b = lb.lease_id();

    ASSERT_OK_AND_ASSIGN(VerifierSession lc, accepted_lease(100));
    ASSERT_OK(lc.StartEpoch(key, EpochSchedule::kOnDemand));
    c = lc.lease_id();
    // Past C's 200 ms deadline, and past B's response wait: B's challenge gets a fresh wait on restart rather than
    // a no-response verdict for the time the service was down.
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  }

  VerifierServiceOptions options = ServiceOpts();
  options.response_wait_ms = 1000;
  ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(options));
  auto first_closed = [](const json& r) { return r["epochs"].get<uint64_t>() >= 1; };
  const std::vector<std::pair<Hash32, std::string>> expected = {{a, "pass"}, {b, "pass"}, {c, "void-verifier-down"}};
  for (const auto& [id, reason] : expected) {
    const json report = WaitForReport(id, 20, first_closed);
    ASSERT_GE(report["epochs"].get<uint64_t>(), 1u) << report.dump(1);
    EXPECT_EQ(report["epoch_verdicts"][0]["epoch"], 0);
    EXPECT_EQ(report["epoch_verdicts"][0]["schedule"], "on-demand");
    EXPECT_EQ(report["epoch_verdicts"][0]["reason"], reason) << report["epoch_verdicts"][0].dump();
    ExpectConsecutiveEpochs(report);
  }
}

TEST_F(VerifierdTest, ApiRefusesBadRequestsAndPassesOnAgentRefusal) {
  AgentOptions closed = AgentOpts("closed");
  closed.authorized_keys = dir_ / "nobody_keys";
  ASSERT_OK_AND_ASSIGN(agent_, Agent::Start(closed));
  ASSERT_OK_AND_ASSIGN(service_, VerifierService::Start(ServiceOpts()));
  auto client = Api();
  ASSERT_NE(client, nullptr);
  const std::string agent_url = "https://127.0.0.1:" + std::to_string(agent_->port());
  json body = {{"agent_url", agent_url},
               {"provider_key", ToHex(provider_pub_)},
               {"workload", {{"m", 64}, {"n", 64}, {"k", 64}, {"tile", 32}}},
               {"rounds", 2},
               {"rate_per_device", kRate},
               {"slack", 1.0},
               {"duration_s", 60},
               {"audit_share", 0.5}};

  ASSERT_OK_AND_ASSIGN(auto wrong_type, client->Post("/v1/leases", "text/plain", body.dump(), "application/json"));
  EXPECT_EQ(wrong_type.status, 415) << wrong_type.body;
  ASSERT_OK_AND_ASSIGN(auto not_json, client->Post("/v1/leases", "application/json", "{", "application/json"));
  EXPECT_EQ(not_json.status, 400) << not_json.body;
  json missing = body;
  missing.erase("rate_per_device");
  ASSERT_OK_AND_ASSIGN(auto no_rate,
                       client->Post("/v1/leases", "application/json", missing.dump(), "application/json"));
  EXPECT_EQ(no_rate.status, 400);
  EXPECT_NE(no_rate.body.find("rate_per_device"), std::string::npos) << no_rate.body;
  json bad_terms = body;
  bad_terms["slack"] = 2.0;  // beyond kMaxSlackPpm: the library refuses the terms
  ASSERT_OK_AND_ASSIGN(auto invalid,
                       client->Post("/v1/leases", "application/json", bad_terms.dump(), "application/json"));
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  json too_often = body;
  too_often["audit_share"] = 0.51;  // the agent allows 1.0: its random bursts need share <= 0.5 (docs/API.md 2.3)
  ASSERT_OK_AND_ASSIGN(auto bursts,
                       client->Post("/v1/leases", "application/json", too_often.dump(), "application/json"));
  EXPECT_EQ(bursts.status, 422) << bursts.body;
  EXPECT_NE(bursts.body.find("at most 0.5"), std::string::npos) << bursts.body;
  EXPECT_TRUE(GetJson("/v1/leases")["leases"].empty()) << "refused requests stored a lease";

  // Well-formed terms, but the agent does not authorize this verifier: 502 with the agent's error; the lease ends.
  ASSERT_OK_AND_ASSIGN(auto refused, client->Post("/v1/leases", "application/json", body.dump(), "application/json"));
  EXPECT_EQ(refused.status, 502) << refused.body;
  EXPECT_NE(refused.body.find("403"), std::string::npos) << refused.body;
  const json list = GetJson("/v1/leases");
  ASSERT_EQ(list["leases"].size(), 1u);
  EXPECT_EQ(list["leases"][0]["state"], "ended");
  EXPECT_EQ(list["leases"][0]["accepted"], false);

  GetJson("/v1/leases/" + std::string(64, 'a') + "/report", 404);
  GetJson("/v1/nothing", 404);
}

TEST(VerifierdConfigTest, ReadsOptionNamesAndRefusesUnknownKeys) {
  const std::filesystem::path dir = MakeTempDir("vcp-verifierd-config-");
  ASSERT_FALSE(dir.empty());
  std::ofstream(dir / "ok.json") << R"({"listen_host": "0.0.0.0", "listen_port": 9000, "database": "db.sqlite",
    "verifier_key": "/etc/vcp/verifier", "tls_cert_file": "tls/cert.pem", "verify_threads": 3,
    "allow_plain_agents": true, "response_wait_ms": 1500, "log_level": "debug"})";
  ASSERT_OK_AND_ASSIGN(const VerifierServiceOptions o, LoadVerifierServiceConfig(dir / "ok.json"));
  EXPECT_EQ(o.listen_host, "0.0.0.0");
  EXPECT_EQ(o.listen_port, 9000);
  EXPECT_EQ(o.database, dir / "db.sqlite");  // relative to the config file
  EXPECT_EQ(o.verifier_key, "/etc/vcp/verifier");
  EXPECT_EQ(o.tls_cert_file, (dir / "tls/cert.pem").string());
  EXPECT_EQ(o.verify_threads, 3u);
  EXPECT_TRUE(o.allow_plain_agents);
  EXPECT_EQ(o.response_wait_ms, 1500u);
  EXPECT_EQ(o.log_level, "debug");

  std::ofstream(dir / "unknown.json") << R"({"listen": "127.0.0.1:1"})";
  Result<VerifierServiceOptions> unknown = LoadVerifierServiceConfig(dir / "unknown.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("listen_host"), std::string::npos) << unknown.status().ToString();
  std::ofstream(dir / "type.json") << R"({"verify_threads": "two"})";
  EXPECT_EQ(LoadVerifierServiceConfig(dir / "type.json").status().code(), StatusCode::kInvalidArgument);
  std::ofstream(dir / "broken.json") << "{";
  EXPECT_EQ(LoadVerifierServiceConfig(dir / "broken.json").status().code(), StatusCode::kCorrupt);

  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vcp
