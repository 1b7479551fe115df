// The golden protocol run and the seed inputs of every fuzz target (fuzz/fuzz_support.h).
#include "fuzz_support.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "fileio.h"
#include "fuzz_target.h"
#include "seeded_random.h"
#include "vcp/beacon.h"
#include "vcp/bytes.h"
#include "vcp/epoch.h"
#include "vcp/hash.h"
#include "vcp/lease_session.h"
#include "vcp/store_log.h"

namespace vcp::fuzz {

// ---------------------------------------------------------------------------------------------------------------
// Target table and property failures.

namespace {

std::vector<Target>& Table() {
  static std::vector<Target> table;
  return table;
}

std::string& CurrentTarget() {
  static std::string name;
  return name;
}
std::string& CurrentInput() {
  static std::string name;
  return name;
}

}  // namespace

TargetRegistration::TargetRegistration(const char* name, TargetFunction run) { Table().push_back({name, run}); }

std::span<const Target> RegisteredTargets() { return Table(); }

void SetCurrentInput(const char* target, const std::string& input) {
  CurrentTarget() = target;
  CurrentInput() = input;
}

void PropertyFailed(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "vcp fuzz: PROPERTY FAILED in target %s on %s\n  %s:%d: %s\n", CurrentTarget().c_str(),
               CurrentInput().c_str(), file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

void MustOk(const Status& status, std::string_view what) {
  if (status.ok()) return;
  std::fprintf(stderr, "vcp fuzz: set-up step failed: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               status.ToString().c_str());
  std::abort();
}

std::string_view AsText(std::span<const uint8_t> data) {
  return std::string_view(reinterpret_cast<const char*>(data.data()), data.size());
}

std::vector<uint8_t> AsBytes(std::string_view text) { return std::vector<uint8_t>(text.begin(), text.end()); }

// ---------------------------------------------------------------------------------------------------------------
// Keys, scratch directory, memory log.

namespace {

std::array<uint8_t, 32> FilledSeed(uint8_t byte) {
  std::array<uint8_t, 32> seed{};
  seed.fill(byte);
  return seed;
}

const std::array<uint8_t, 32> kVerifierSeed = FilledSeed(0x31);
const std::array<uint8_t, 32> kProviderSeed = FilledSeed(0x32);

class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vcp-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("vcp fuzz: mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};


class FixedClock final : public Clock {
 public:
  explicit FixedClock(uint64_t now_us) : now_(now_us) {}
  uint64_t NowMicros() const override { return now_; }
  void Advance(uint64_t us) { now_ += us; }

 private:
  uint64_t now_;
};

}  // namespace

const SecretKey& VerifierKey() {
  static const SecretKey key = MustValue(SecretKey::FromSeed(kVerifierSeed), "verifier key");
  return key;
}

const SecretKey& ProviderKey() {
  static const SecretKey key = MustValue(SecretKey::FromSeed(kProviderSeed), "provider key");
  return key;
}

std::span<const uint8_t, 32> VerifierSeed() { return kVerifierSeed; }

const std::filesystem::path& ScratchDir() {
  static const ScratchDirectory dir;
  return dir.path();
}

Status MemoryLog::Append(uint8_t type, std::span<const uint8_t> payload) {
  uint64_t offset = EncodeLogHeader(StoreRole::kVerifier).size();
  for (const LogEntry& e : entries_) offset += EncodeLogFrame(e.type, e.payload).size();
  entries_.push_back(LogEntry{type, std::vector<uint8_t>(payload.begin(), payload.end()), offset});
  return Status::Ok();
}

std::vector<uint8_t> MemoryLog::Image(StoreRole role) const {
  std::vector<uint8_t> image = EncodeLogHeader(role);
  for (const LogEntry& e : entries_) {
    const std::vector<uint8_t> frame = EncodeLogFrame(e.type, e.payload);
    image.insert(image.end(), frame.begin(), frame.end());
  }
  return image;
}

// ---------------------------------------------------------------------------------------------------------------
// The golden run: one interactive epoch, both roles, everything fixed.

namespace {

Lease GoldenTerms(LeaseMode mode) {
  Lease lease;
  lease.mode = mode;
  lease.workload.kind = WorkloadKind::kInt8;
  lease.workload.m = lease.workload.n = lease.workload.k = 64;
  lease.workload.tile = 8;
  lease.devices = 1;
  lease.rounds_per_epoch = 4;
  lease.samples_per_epoch = MinSamples(mode);
  // R x 2 x 64^3 operations in 8 s: a 10 s deadline with the default slack.
  lease.claimed_ops_per_second_per_device = 4 * 2 * 64 * 64 * 64 / 8;
  lease.provider_key = ProviderKey().public_key();
  lease.start_us = kGoldenT0;
  // Long enough that a service fuzzed today still takes it (the agent refuses ended leases).
  lease.end_us = kGoldenT0 + uint64_t{50} * 365 * 24 * 3'600'000'000ull;
  if (mode == LeaseMode::kBeacon) {
    lease.beacon_name = "fuzz-beacon";
    lease.beacon_genesis_us = kGoldenT0;
    lease.beacon_period_us = 1'000'000;
  }
  return lease;
}

Golden BuildGolden() {
  Golden g;
  FixedClock clock(kGoldenT0 + 1000);
  VerifierOptions voptions;
  voptions.clock = &clock;
  voptions.random = testing::SeededRandom(7);
  voptions.threads = 1;
  auto owned_log = std::make_unique<MemoryLog>();
  const MemoryLog* vlog = owned_log.get();
  // One audit expected every 10^6 deadlines: a few hundred audit times over the 50 years.
  VerifierSession v = MustValue(
      VerifierSession::Create(std::move(owned_log), GoldenTerms(LeaseMode::kInteractive), VerifierKey(), 1e-6,
                              voptions),
      "golden verifier Create");
  g.lease = v.lease();

  const std::filesystem::path pdir = ScratchDir() / "golden-provider";
  {
    ProviderSession p = MustValue(ProviderSession::Accept(pdir, g.lease, ProviderKey(), clock), "golden Accept");
    g.acceptance = p.acceptance();
    MustOk(v.AddAcceptance(g.acceptance), "golden AddAcceptance");
    g.start = MustValue(v.StartEpoch(VerifierKey(), EpochSchedule::kOnDemand), "golden StartEpoch");

    RunOptions run;
    run.backend = BackendChoice::kCpu;
    run.threads = 1;
    EpochRun rounds = MustValue(RunEpochRounds(g.lease, g.start, run), "golden RunEpochRounds");
    DeviceEvidence device;
    device.name = "fuzz";
    device.compute_units = 1;
    const EpochLeaves leaves = rounds.leaves;
    g.record = MustValue(p.ProveFromLeaves(g.start, std::move(rounds.leaves), {device}, kGoldenT0 + 2000,
                                           kGoldenT0 + 3000, ProviderKey(), /*keep_leaves=*/true),
                         "golden ProveFromLeaves")
                   .record;
    clock.Advance(5000);
    RecordOutcome received =
        MustValue(v.ReceiveRecord(Serialize(g.record), VerifierKey()), "golden ReceiveRecord");
    if (!received.challenge) MustOk(Status::Internal("the golden record got no challenge"), "golden ReceiveRecord");
    g.challenge = *received.challenge;
    ProverOptions poptions;
    poptions.run = run;
    poptions.clock = &clock;
    g.response = MustValue(p.Respond(g.challenge, ProviderKey(), poptions), "golden Respond").response;
    ResponseOutcome closed =
        MustValue(v.ReceiveResponse(Serialize(g.response), VerifierKey()), "golden ReceiveResponse");
    if (!closed.verdict || closed.verdict->reason != Reason::kPass) {
      MustOk(Status::Internal("the golden epoch did not pass"), "golden ReceiveResponse");
    }
    g.verdict = *closed.verdict;

    const std::filesystem::path leaves_path = ScratchDir() / "golden.leaves";
    MustOk(WriteLeavesFile(leaves_path, LeaseId(g.lease), 0, leaves), "golden WriteLeavesFile");
    g.leaves_file = MustValue(ReadFileBytes(leaves_path), "golden leaves file");
  }
  g.provider_log = MustValue(ReadFileBytes(pdir / "provider.log"), "golden provider.log");
  g.verifier_log = vlog->Image(StoreRole::kVerifier);

  Lease beacon = GoldenTerms(LeaseMode::kBeacon);
  beacon.verifier_key = VerifierKey().public_key();
  beacon.nonce = TaggedHash("vcp.fuzz.nonce", std::span<const uint8_t>());
  MustOk(Sign(beacon, VerifierKey()), "golden beacon lease");
  g.beacon_lease = beacon;

  std::vector<Hash32> leaf_hashes;
  for (uint8_t i = 0; i < 37; ++i) leaf_hashes.push_back(MerkleLeafHash(std::vector<uint8_t>(i, i)));
  g.proof_tree = MerkleTree::Build(std::move(leaf_hashes), 1);
  for (const std::vector<uint64_t>& indices :
       {std::vector<uint64_t>{0}, std::vector<uint64_t>{5, 6, 20}, std::vector<uint64_t>{36},
        std::vector<uint64_t>{1, 2, 3, 4, 31, 32, 33}}) {
    g.multiproofs.push_back(MustValue(ProveMulti(g.proof_tree, indices), "golden ProveMulti"));
  }
  return g;
}

std::string HttpRequestText(std::string_view method, std::string_view target, std::string_view content_type,
                            std::string_view accept, std::string_view body) {
  std::string text = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!content_type.empty()) text += "Content-Type: " + std::string(content_type) + "\r\n";
  if (!accept.empty()) text += "Accept: " + std::string(accept) + "\r\n";
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  text += body;
  return text;
}

std::string BytesText(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

}  // namespace

const Golden& GetGolden() {
  static const Golden golden = BuildGolden();
  return golden;
}

// ---------------------------------------------------------------------------------------------------------------
// Seeds.

std::vector<std::pair<std::string, std::vector<uint8_t>>> SeedInputs(std::string_view target) {
  const Golden& g = GetGolden();
  std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds;
  const auto add = [&](std::string name, std::vector<uint8_t> bytes) {
    seeds.emplace_back(std::move(name), std::move(bytes));
  };
  const auto text = [&](std::string name, std::string_view t) { add(std::move(name), AsBytes(t)); };
  const auto torn = [](std::vector<uint8_t> bytes, size_t cut) {
    bytes.resize(bytes.size() > cut ? bytes.size() - cut : 0);
    return bytes;
  };
  const std::string lease_id = ToHex(LeaseId(g.lease));
  const std::string message_type = "application/vnd.vcp.v2";

  if (target == "lease") {
    add("interactive.bin", Serialize(g.lease));
    add("beacon.bin", Serialize(g.beacon_lease));
  } else if (target == "acceptance") {
    add("acceptance.bin", Serialize(g.acceptance));
  } else if (target == "epoch_start") {
    add("start.bin", Serialize(g.start));
  } else if (target == "record") {
    add("record.bin", Serialize(g.record));
  } else if (target == "challenge") {
    add("challenge.bin", Serialize(g.challenge));
  } else if (target == "response") {
    add("response.bin", Serialize(g.response));
  } else if (target == "verdict") {
    add("verdict.bin", Serialize(g.verdict));
  } else if (target == "multiproof") {
    for (size_t i = 0; i < g.multiproofs.size(); ++i) {
      add("proof-" + std::to_string(i) + ".bin", SerializeMultiProof(g.multiproofs[i]));
    }
  } else if (target == "provider_log") {
    add("provider.log", g.provider_log);
    add("provider-torn.log", torn(g.provider_log, 7));
  } else if (target == "verifier_log") {
    add("verifier.log", g.verifier_log);
    add("verifier-torn.log", torn(g.verifier_log, 40));
  } else if (target == "leaves_file") {
    add("epoch-0.leaves", g.leaves_file);
  } else if (target == "beacon_file") {
    const std::string header = "vcp-beacon-v2 fuzz-beacon " + std::to_string(kGoldenT0) + " 1000000\n";
    text("header-only.txt", header);
    text("rounds.txt", header + "0 " + ToHex(TaggedHash("vcp.fuzz.beacon", std::span<const uint8_t>())) + "\n\n" +
                           "7\t" + ToHex(LeaseId(g.lease)) + "\r\n");
  } else if (target == "secret_key") {
    text("vcp.key", "vcp-ed25519-secret-v1 " + ToHex(VerifierSeed()) + "\n");
    text("no-newline.key", "vcp-ed25519-secret-v1 " + ToHex(VerifierSeed()));
  } else if (target == "public_key") {
    text("vcp.pub", "vcp-ed25519-public-v1 " + ToHex(VerifierKey().public_key()) + "\n");
  } else if (target == "authorized_keys") {
    text("authorized_keys", "# verifiers allowed to offer leases\n\n" + ToHex(VerifierKey().public_key()) +
                                " renter-a (first)\nvcp-ed25519-public-v1 " + ToHex(ProviderKey().public_key()) +
                                " renter-b\n");
  } else if (target == "merkle_leaves") {
    text("leaves.txt", "00\n-\n0102ff\r\nABCDEF0123\n");
    text("one.txt", "-");
  } else if (target == "agent_config") {
    text("agent.json", R"({"listen_host": "127.0.0.1", "listen_port": 8443, "tls_cert_file": "tls/agent.pem",
 "tls_key_file": "/etc/vcp/tls/agent.key", "allow_plain_http": false, "state_dir": "state",
 "provider_key": "/etc/vcp/provider", "authorized_keys": "authorized_keys", "backend": "cpu", "threads": 2,
 "keep_leaves": true, "max_audit_share": 0.5, "burst_epochs": 16, "max_body_bytes": 1048576,
 "max_connections": 32, "request_timeout_s": 30, "beacon_file": "", "readiness_cache_s": 30,
 "simulate_lazy_fraction": 0, "log_level": "info"})");
    text("minimal.json", "{}");
  } else if (target == "verifierd_config") {
    text("verifierd.json", R"({"listen_host": "127.0.0.1", "listen_port": 8444, "tls_cert_file": "tls/v.pem",
 "tls_key_file": "/etc/vcp/tls/v.key", "allow_plain_http": false, "database": "verifierd.sqlite",
 "verifier_key": "/etc/vcp/verifier", "agent_ca_file": "ca.pem", "allow_plain_agents": false,
 "verify_threads": 2, "retry_initial_ms": 200, "retry_max_ms": 5000, "response_wait_ms": 30000,
 "beacon_file": "", "confidence": 0.95, "log_level": "info"})");
  } else if (target == "agent_http") {
    const std::string lease = "/v1/leases/" + lease_id;
    text("healthz.http", HttpRequestText("GET", "/healthz", "", "", ""));
    text("readyz.http", HttpRequestText("GET", "/readyz", "", "application/json", ""));
    text("metrics.http", HttpRequestText("GET", "/metrics", "", "", ""));
    text("info.http", HttpRequestText("GET", "/v1/info?verbose=1", "", "application/json", ""));
    text("list.http", HttpRequestText("GET", "/v1/leases", "", "application/json", ""));
    text("1-offer.http", HttpRequestText("POST", "/v1/leases", message_type, message_type, BytesText(Serialize(g.lease))));
    text("1-offer-beacon.http", HttpRequestText("POST", "/v1/leases", message_type, "application/json",
                                            BytesText(Serialize(g.beacon_lease))));
    text("lease.http", HttpRequestText("GET", lease, "", "application/json", ""));
    text("2-start.http", HttpRequestText("POST", lease + "/epochs", message_type, message_type,
                                       BytesText(Serialize(g.start))));
    text("3-challenge.http", HttpRequestText("POST", lease + "/challenges", message_type, message_type,
                                             BytesText(Serialize(g.challenge))));
    // {challenge}: signed by fuzz/agent_http.cpp for the record the agent made.
    text("3-challenge-own.http", HttpRequestText("POST", lease + "/challenges", message_type, "application/json",
                                                 "{challenge}"));
    text("3-beacon-response.http", HttpRequestText("GET", lease + "/epochs/0/response", "", "application/json", ""));
    text("wrong-method.http", HttpRequestText("DELETE", "/v1/leases", "", "", ""));
    text("unknown.http", HttpRequestText("GET", "/v2/nothing", "", "", ""));
  } else if (target == "verifierd_http") {
    // {lease} stands for the id of the lease the target adds when it starts (fuzz/verifierd_http.cpp).
    nlohmann::json request = {{"agent_url", "http://127.0.0.1:1"},
                              {"provider_key", ToHex(ProviderKey().public_key())},
                              {"mode", "interactive"},
                              {"workload", {{"kind", "int8"}, {"m", 64}, {"n", 64}, {"k", 64}, {"tile", 8}}},
                              {"devices", 1},
                              {"rounds", 4},
                              {"rate_per_device", 4 * 2 * 64 * 64 * 64 / 8},
                              {"slack", 0.25},
                              {"allowance_ms", 0},
                              {"duration_s", 3600},
                              {"audit_share", 0.2}};
    text("healthz.http", HttpRequestText("GET", "/healthz", "", "", ""));
    text("metrics.http", HttpRequestText("GET", "/metrics", "", "", ""));
    text("list.http", HttpRequestText("GET", "/v1/leases", "", "application/json", ""));
    text("1-add.http", HttpRequestText("POST", "/v1/leases", "application/json", "application/json", request.dump()));
    text("lease.http", HttpRequestText("GET", "/v1/leases/{lease}", "", "application/json", ""));
    text("report.http", HttpRequestText("GET", "/v1/leases/{lease}/report", "", "application/json", ""));
    text("evidence.http", HttpRequestText("GET", "/v1/leases/{lease}/evidence", "", "", ""));
    text("unknown-lease.http", HttpRequestText("GET", "/v1/leases/" + lease_id + "/report", "", "", ""));
    text("wrong-type.http", HttpRequestText("POST", "/v1/leases", "text/plain", "", "{}"));
  }
  return seeds;
}

}  // namespace vcp::fuzz
