// The services' costs (docs/PERFORMANCE.md, "Services"): what a whole epoch costs over HTTPS to a `vcp agent`
// against the same epoch between in-process sessions (the agent's added latency), and what the verifier spends
// per epoch, over the file store and over the verifier service's SQLite database, which says how many leases one
// verifier core keeps up with at an audit share.
//
// Shapes are small (int8 64 x 64 x 64, T = 32, D = 1, R = 2, k = 40: 8 tiles, so every draw opens one of them) so
// that protocol, storage and network costs are what is measured, not the GEMM. Epochs are started on demand, back to
// back; the agent's rate limit is opened wide (share 1, burst 1000 epochs) so it never refuses one.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "service/http.h"
#include "service/tls_fixture.h"
#include "service/verifier_db.h"
#include "vcp/agent.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/protocol.h"

namespace vcp {
namespace {

namespace fs = std::filesystem;
using service::HttpClient;
using service::HttpClientOptions;
using service::kMessageMediaType;

constexpr double kAuditShare = 0.02;  // `vcp lease new`'s default

std::string ToString(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }
std::vector<uint8_t> ToBytes(const std::string& body) { return std::vector<uint8_t>(body.begin(), body.end()); }

SecretKey Key(uint8_t byte) {
  std::array<uint8_t, 32> seed{};
  seed.fill(byte);
  return std::move(SecretKey::FromSeed(seed)).value();
}

// 2 rounds of 2 x 64^3 claimed in 400 ms: deadline 500 ms, long enough for an HTTPS round trip on a loaded machine.
Lease Terms(const PublicKey& provider) {
  Lease lease;
  lease.workload = WorkloadParams{.kind = WorkloadKind::kInt8, .m = 64, .n = 64, .k = 64, .tile = 32};
  lease.devices = 1;
  lease.rounds_per_epoch = 2;
  lease.samples_per_epoch = kMinSamplesInteractive;
  lease.claimed_ops_per_second_per_device = 2'621'440;
  lease.provider_key = provider;
  lease.start_us = SystemClock().NowMicros();
  lease.end_us = lease.start_us + 24ull * 3600 * 1'000'000;
  return lease;
}

RunOptions OneThread() {
  RunOptions run;
  run.backend = BackendChoice::kCpu;
  run.threads = 1;
  return run;
}

VerifierOptions VerifierOneThread() {
  VerifierOptions options;
  options.threads = 1;
  return options;
}

struct TempDir {
  fs::path path = testing::MakeTempDir("vcp-service-bench-");
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

bool Check(benchmark::State& state, const Status& status, const char* what) {
  if (status.ok()) return true;
  state.SkipWithError((std::string(what) + ": " + status.ToString()).c_str());
  return false;
}

// Sets the counters every benchmark here reports: the verifier's share of the time per epoch and the leases
// one verifier core keeps up with at the default audit share, deadline / (share x verifier time per epoch).
void ReportLeasesPerCore(benchmark::State& state, const Lease& lease, double verifier_seconds, int64_t epochs) {
  if (epochs == 0) return;
  const double per_epoch = verifier_seconds / double(epochs);
  const double deadline_s = double(EpochDeadlineUs(lease)) / 1e6;
  state.counters["verifier_ms_per_epoch"] = per_epoch * 1e3;
  state.counters["leases_per_core_at_0.02"] = deadline_s / (kAuditShare * per_epoch);
}

// One whole epoch between in-process sessions over file stores: the baseline the agent is compared with.
void BM_EpochInProcess(benchmark::State& state) {
  TempDir dir;
  const SecretKey verifier = Key(0x41), provider = Key(0x42);
  auto v = VerifierSession::Create(dir.path / "v", Terms(provider.public_key()), verifier, kAuditShare,
                                   VerifierOneThread());
  if (!Check(state, v.status(), "verifier")) return;
  auto p = ProviderSession::Accept(dir.path / "p", v->lease(), provider);
  if (!Check(state, p.status(), "provider") || !Check(state, v->AddAcceptance(p->acceptance()), "acceptance")) return;
  ProverOptions prover;
  prover.run = OneThread();
  double verifier_seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto start = v->StartEpoch(verifier, EpochSchedule::kOnDemand);
    if (!Check(state, start.status(), "start")) return;
    const auto t1 = std::chrono::steady_clock::now();
    auto proved = p->Prove(*start, provider, prover);
    if (!Check(state, proved.status(), "prove")) return;
    const auto t2 = std::chrono::steady_clock::now();
    auto checked = v->ReceiveRecord(Serialize(proved->record), verifier);
    if (!Check(state, checked.status(), "record") || !checked->challenge) {
      state.SkipWithError("the record was not accepted");
      return;
    }
    const auto t3 = std::chrono::steady_clock::now();
    auto response = p->Respond(*checked->challenge, provider, prover);
    if (!Check(state, response.status(), "respond")) return;
    const auto t4 = std::chrono::steady_clock::now();
    auto verdict = v->ReceiveResponse(Serialize(response->response), verifier);
    if (!Check(state, verdict.status(), "verify") || !verdict->verdict || verdict->verdict->reason != Reason::kPass) {
      state.SkipWithError("the epoch did not pass");
      return;
    }
    const auto t5 = std::chrono::steady_clock::now();
    verifier_seconds += std::chrono::duration<double>((t1 - t0) + (t3 - t2) + (t5 - t4)).count();
  }
  ReportLeasesPerCore(state, v->lease(), verifier_seconds, state.iterations());
}
BENCHMARK(BM_EpochInProcess)->Unit(benchmark::kMillisecond)->Iterations(100);

// The same epoch with the provider behind a `vcp agent` over HTTPS on loopback (TLS 1.3, the test CA): the start
// is a long request answered with the record, then the challenge with the response; the verifier keeps its
// entries in the verifier service's database (arg 1) or in a file store (arg 0).
void BM_EpochOverHttps(benchmark::State& state) {
  const bool database = state.range(0) == 1;
  TempDir dir;
  auto tls = testing::MakeTestTls(dir.path);
  if (!Check(state, tls.status(), "openssl")) return;
  const SecretKey verifier = Key(0x51), provider = Key(0x52);
  if (!Check(state, SaveKeyPair(provider, dir.path / "pkey"), "key")) return;
  {
    std::FILE* keys = std::fopen((dir.path / "authorized_keys").c_str(), "w");
    if (keys == nullptr) return state.SkipWithError("authorized_keys");
    std::fprintf(keys, "%s bench verifier\n", ToHex(verifier.public_key()).c_str());
    std::fclose(keys);
  }
  AgentOptions agent_options;
  agent_options.listen_port = 0;
  agent_options.tls_cert_file = tls->server_cert.string();
  agent_options.tls_key_file = tls->server_key.string();
  agent_options.state_dir = dir.path / "agent";
  agent_options.provider_key = dir.path / "pkey";
  agent_options.authorized_keys = dir.path / "authorized_keys";
  agent_options.backend = BackendChoice::kCpu;
  agent_options.threads = 1;
  agent_options.max_audit_share = 1;
  agent_options.burst_epochs = 1000;
  agent_options.log_level = "warn";
  auto agent = Agent::Start(agent_options);
  if (!Check(state, agent.status(), "agent")) return;
  const std::string url = "https://127.0.0.1:" + std::to_string((*agent)->port());
  HttpClientOptions client_options;
  client_options.ca_file = tls->ca_cert.string();
  auto client = HttpClient::Create(url, client_options);
  if (!Check(state, client.status(), "client")) return;

  std::unique_ptr<service::VerifierDatabase> db;
  std::optional<VerifierSession> v;
  if (database) {
    auto opened = service::VerifierDatabase::Open(dir.path / "verifierd.db");
    if (!Check(state, opened.status(), "database")) return;
    db = std::move(*opened);
    auto log = db->CreateLeaseLog(url, kAuditShare);
    if (!Check(state, log.status(), "lease log")) return;
    auto created = VerifierSession::Create(std::move(*log), Terms(provider.public_key()), verifier, kAuditShare,
                                           VerifierOneThread());
    if (!Check(state, created.status(), "verifier")) return;
    v.emplace(std::move(*created));
  } else {
    auto created = VerifierSession::Create(dir.path / "v", Terms(provider.public_key()), verifier, kAuditShare,
                                           VerifierOneThread());
    if (!Check(state, created.status(), "verifier")) return;
    v.emplace(std::move(*created));
  }
  const std::string id = ToHex(v->lease_id());
  auto offered = (*client)->Post("/v1/leases", kMessageMediaType, ToString(Serialize(v->lease())), kMessageMediaType);
  if (!Check(state, offered.status(), "offer") || offered->status != 200) {
    return state.SkipWithError(("offer refused: " + (offered.ok() ? offered->body : "")).c_str());
  }
  auto acceptance = ParseLeaseAcceptance(ToBytes(offered->body));
  if (!Check(state, acceptance.status(), "acceptance") || !Check(state, v->AddAcceptance(*acceptance), "add")) return;

  double verifier_seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto start = v->StartEpoch(verifier, EpochSchedule::kOnDemand);
    if (!Check(state, start.status(), "start")) return;
    const auto t1 = std::chrono::steady_clock::now();
    auto record = (*client)->Post("/v1/leases/" + id + "/epochs", kMessageMediaType, ToString(Serialize(*start)),
                                  kMessageMediaType);
    if (!Check(state, record.status(), "epoch") || record->status != 200) {
      return state.SkipWithError(("epoch refused: " + (record.ok() ? record->body : "")).c_str());
    }
    const auto t2 = std::chrono::steady_clock::now();
    auto checked = v->ReceiveRecord(ToBytes(record->body), verifier);
    if (!Check(state, checked.status(), "record") || !checked->challenge) {
      return state.SkipWithError("the record was not accepted (late?)");
    }
    const auto t3 = std::chrono::steady_clock::now();
    auto response = (*client)->Post("/v1/leases/" + id + "/challenges", kMessageMediaType,
                                    ToString(Serialize(*checked->challenge)), kMessageMediaType);
    if (!Check(state, response.status(), "challenge") || response->status != 200) {
      return state.SkipWithError(("challenge refused: " + (response.ok() ? response->body : "")).c_str());
    }
    const auto t4 = std::chrono::steady_clock::now();
    auto verdict = v->ReceiveResponse(ToBytes(response->body), verifier);
    if (!Check(state, verdict.status(), "verify") || !verdict->verdict || verdict->verdict->reason != Reason::kPass) {
      return state.SkipWithError("the epoch did not pass");
    }
    const auto t5 = std::chrono::steady_clock::now();
    verifier_seconds += std::chrono::duration<double>((t1 - t0) + (t3 - t2) + (t5 - t4)).count();
  }
  ReportLeasesPerCore(state, v->lease(), verifier_seconds, state.iterations());
  v.reset();
  (*agent)->Shutdown(5);
}
BENCHMARK(BM_EpochOverHttps)->ArgName("database")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(100);

}  // namespace
}  // namespace vcp
