// The provider agent (vcp/agent.h): HTTP handlers over one ProviderSession per lease.
//
// Locks, none ever held while taking another except leases_mu around a new lease's Accept:
//   leases_mu     the lease table.
//   LeaseSlot::mu a lease's in-flight claim, token bucket and status snapshot: bookkeeping only.
//   session_mu    every call into the lease's ProviderSession, Prove included (the epoch's whole run).
//   run_mu        the count of epochs running and of interactive challenges due, which Shutdown waits on.
// A request that starts an epoch first claims the lease (LeaseSlot::in_flight, under mu), so at most one start of
// a lease is being answered at any time and session_mu is contended only by short calls. A slow epoch therefore
// holds up only its own lease; status, metrics and other leases stay answerable.
#include "vcp/agent.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fileio.h"
#include "protocol/report_json.h"
#include "service/agent_internal.h"
#include "service/authorized_keys.h"
#include "service/http.h"
#include "service/json_log.h"
#include "service/metrics.h"
#include "vcp/beacon.h"
#include "vcp/bytes.h"
#include "vcp/epoch.h"
#include "vcp/lazy_provider.h"
#include "vcp/lease_session.h"
#include "vcp/message_json.h"
#include "vcp/protocol.h"
#include "vcp/version.h"

namespace vcp {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using service::ErrorResponse;
using service::HttpRequest;
using service::HttpResponse;
using service::LogLevel;

constexpr const char* kProviderLogName = "provider.log";  // ProviderSession's log in each lease store
constexpr const char* kLeaseIdPattern = "([0-9a-fA-F]{64})";

std::span<const uint8_t> BodyBytes(const HttpRequest& request) {
  return {reinterpret_cast<const uint8_t*>(request.body.data()), request.body.size()};
}

uint64_t SteadyMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

double SecondsSince(std::chrono::steady_clock::time_point began) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
}

uint64_t CeilSeconds(uint64_t micros) { return std::max<uint64_t>(1, (micros + 999999) / 1000000); }

// The epoch start a lease is busy with: the first request with a start claims the lease and answers it (from the
// log, by refusing it, or by running the epoch); the same start again meanwhile waits and gets the same answer.
struct InFlight {
  std::vector<uint8_t> start_bytes;
  uint64_t epoch = 0;
  bool done = false;
  std::optional<EpochRecord> record;  // proven (or logged before)
  HttpResponse refusal;               // otherwise: the refusal every waiter gets too
};

// The record in the form the request asked for, or the refusal.
HttpResponse AnswerOf(const HttpRequest& request, const InFlight& run) {
  return run.record ? service::MessageResponse(request, Serialize(*run.record), ToJson(*run.record)) : run.refusal;
}

struct LeaseSlot {
  LeaseSlot(ProviderSession s, uint64_t deadline, double capacity, double refill, uint64_t now_us)
      : session(std::move(s)), deadline_us(deadline), bucket(capacity, refill, now_us) {
    lease = session.lease();
    id = session.lease_id();
    id_hex = ToHex(id);
    lease_bytes = Serialize(lease);
    acceptance = session.acceptance();
  }
  // Immutable after construction.
  Lease lease;
  Hash32 id{};
  std::string id_hex;
  std::vector<uint8_t> lease_bytes;
  LeaseAcceptance acceptance;

  std::mutex session_mu;
  ProviderSession session;  // guarded by session_mu
  const uint64_t deadline_us;

  std::mutex mu;  // guards the members below
  std::condition_variable done_cv;
  std::shared_ptr<InFlight> in_flight;
  service::TokenBucket bucket;
  // The session's epochs_started() / last_epoch() after its last call, so that status requests need not wait
  // for the session lock while an epoch runs.
  size_t epochs_started = 0;
  std::optional<uint64_t> last_epoch;

  // The interactive epoch whose record was sent and whose challenge has not been answered yet; guarded by the
  // agent's run_mu (Impl::challenges_due counts the slots that hold one).
  std::optional<uint64_t> challenge_due;
};

struct Readiness {
  bool ready = false;
  json body;
  std::chrono::steady_clock::time_point checked;
};

}  // namespace

struct Agent::Impl {
  Impl(AgentOptions o, LogLevel level, SecretKey k, service::AuthorizedKeys a)
      : options(std::move(o)), log("agent", level), key(std::move(k)), authorized(std::move(a)) {}

  // --- handlers -------------------------------------------------------------------------------------------------
  HttpResponse Healthz(const HttpRequest&) { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}}; }
  HttpResponse Readyz(const HttpRequest& request);
  HttpResponse MetricsPage(const HttpRequest& request);
  HttpResponse Info(const HttpRequest& request);
  HttpResponse OfferLease(const HttpRequest& request);
  HttpResponse ListLeases(const HttpRequest& request);
  HttpResponse GetLease(const HttpRequest& request);
  HttpResponse StartEpoch(const HttpRequest& request);
  HttpResponse PostChallenge(const HttpRequest& request);
  HttpResponse BeaconResponse(const HttpRequest& request);

  // --- helpers --------------------------------------------------------------------------------------------------
  // Counts and logs a refused request and builds its error answer.
  HttpResponse Refuse(const HttpRequest& request, std::string_view reason, int http_status, const Status& status,
                      std::optional<uint64_t> retry_after_s = {});
  // nullopt when the request carries a message of type `expected`; otherwise the refusal.
  std::optional<HttpResponse> CheckMessageBody(const HttpRequest& request, MessageType expected);
  // The lease the path names, or the refusal (404 when unknown).
  std::shared_ptr<LeaseSlot> FindLease(const std::string& id_hex);
  HttpResponse UnknownLease(const HttpRequest& request);
  // 400 when a message names a lease other than the path's.
  std::optional<HttpResponse> CheckSameLease(const HttpRequest& request, const LeaseSlot& slot, const Hash32& named,
                                             std::string_view what);
  // A session refusal: kRejected is a conflict with the lease's state here (409), the rest as HttpStatusFor.
  HttpResponse SessionRefusal(const HttpRequest& request, const Status& status);
  // Runs the claimed epoch and answers it: the record, or the refusal for the session's error.
  void RunEpoch(const HttpRequest& request, LeaseSlot& slot, const EpochStart& start, InFlight& run, double cost);
  // Ends the claim on the lease: every waiter gets `run`'s answer.
  void Complete(LeaseSlot& slot, InFlight& run);
  Result<ProveOutcome> ProveLazy(LeaseSlot& slot, const EpochStart& start);
  json LeaseSummary(LeaseSlot& slot);
  // With run_mu held: `epoch` of an interactive lease now awaits its challenge (its record is on its way), or no
  // epoch of the lease does any more (nullopt: answered, or a new epoch started, which ends the old one's turn).
  void SetChallengeDue(LeaseSlot& slot, std::optional<uint64_t> epoch);
  std::shared_ptr<LeaseSlot> MakeSlot(ProviderSession session);
  json ReadinessCheck();
  void UpdateGauges();
  size_t ActiveLeases(uint64_t now_us);

  AgentOptions options;
  std::optional<StoreLock> state_lock;  // held for the agent's life: one agent per state directory
  service::JsonLog log;
  service::Metrics metrics;
  SecretKey key;
  service::AuthorizedKeys authorized;
  std::vector<DeviceInfo> devices;
  std::optional<FileBeaconSource> beacon;
  ProverOptions prover;

  std::mutex leases_mu;
  std::map<Hash32, std::shared_ptr<LeaseSlot>> leases;  // guarded by leases_mu

  std::atomic<bool> stopping{false};
  std::mutex run_mu;
  std::condition_variable run_cv;
  size_t running = 0;         // epochs running now; guarded by run_mu
  size_t challenges_due = 0;  // slots whose challenge_due is set; guarded by run_mu
  bool shut_down = false;  // guarded by run_mu

  std::mutex ready_mu;
  std::optional<Readiness> readiness;  // guarded by ready_mu
  std::optional<Hash32> reference_root;

  std::unique_ptr<service::HttpServer> server;  // last: stopped before the members its handlers use
};

namespace {

// The readiness workload: tiny, real, and the same on every device, so its root must equal the CPU engine's.
WorkloadParams ReadinessWorkload() {
  WorkloadParams p;
  p.kind = WorkloadKind::kInt8;
  p.m = p.n = p.k = 64;
  p.tile = 32;
  for (size_t i = 0; i < p.seed.size(); ++i) p.seed[i] = static_cast<uint8_t>(0xA5 ^ i);
  return p;
}

std::string DescribeInfo(const DeviceInfo& device) { return DescribeDevice(EvidenceOf(device)); }

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

HttpResponse Agent::Impl::Refuse(const HttpRequest& request, std::string_view reason, int http_status,
                                 const Status& status, std::optional<uint64_t> retry_after_s) {
  metrics.Add("vcp_agent_requests_refused_total", 1, {{"reason", std::string(reason)}});
  json fields = {{"reason", reason},
                 {"status", http_status},
                 {"detail", std::string(status.message())},
                 {"method", request.method},
                 {"path", request.path},
                 {"remote", request.remote_addr}};
  if (retry_after_s) fields["retry_after_s"] = *retry_after_s;
  log.Write(http_status == 403 ? LogLevel::kWarn : LogLevel::kInfo, "refused", std::move(fields));
  return ErrorResponse(http_status, status, retry_after_s);
}

std::optional<HttpResponse> Agent::Impl::CheckMessageBody(const HttpRequest& request, MessageType expected) {
  if (request.content_type != service::kMessageMediaType) {
    return Refuse(request, "unsupported-media-type", 415,
                  Status::InvalidArgument("Content-Type '" + request.content_type + "' is not accepted here; " +
                                          "allowed: " + std::string(service::kMessageMediaType) +
                                          " (the canonical bytes of a " + std::string(MessageTypeName(expected)) +
                                          " message, docs/PROTOCOL.md)"));
  }
  Result<MessageType> type = IdentifyMessage(BodyBytes(request));
  if (!type.ok()) return Refuse(request, "malformed", 400, type.status());
  if (*type != expected) {
    return Refuse(request, "malformed", 400,
                  Status::Corrupt("the body is a " + std::string(MessageTypeName(*type)) +
                                  " message; this endpoint takes a " + std::string(MessageTypeName(expected))));
  }
  return std::nullopt;
}

std::shared_ptr<LeaseSlot> Agent::Impl::FindLease(const std::string& id_hex) {
  Result<Hash32> id = FixedFromHex<32>(id_hex, "lease id");
  if (!id.ok()) return nullptr;
  std::lock_guard lock(leases_mu);
  auto it = leases.find(*id);
  return it == leases.end() ? nullptr : it->second;
}

HttpResponse Agent::Impl::UnknownLease(const HttpRequest& request) {
  const std::string id = request.captures.empty() ? "" : request.captures[0];
  return Refuse(request, "unknown-lease", 404,
                Status::InvalidArgument("no lease " + id + " on this agent; GET /v1/leases lists the leases it "
                                        "holds, POST /v1/leases offers one"));
}

std::optional<HttpResponse> Agent::Impl::CheckSameLease(const HttpRequest& request, const LeaseSlot& slot,
                                                        const Hash32& named, std::string_view what) {
  if (named == slot.id) return std::nullopt;
  return Refuse(request, "malformed", 400,
                Status::Corrupt("the " + std::string(what) + " is for lease " + ToHex(named) + "; the path names "
                                "lease " + slot.id_hex + ": post it under /v1/leases/<its lease id>"));
}

HttpResponse Agent::Impl::SessionRefusal(const HttpRequest& request, const Status& status) {
  if (status.code() == StatusCode::kRejected) return Refuse(request, "rejected", 409, status);
  const int http = service::HttpStatusFor(status);
  return Refuse(request, http >= 500 ? "internal" : "unacceptable", http, status);
}

size_t Agent::Impl::ActiveLeases(uint64_t now_us) {
  size_t active = 0;
  for (const auto& [id, slot] : leases) active += slot->lease.end_us > now_us ? 1 : 0;
  return active;
}

std::shared_ptr<LeaseSlot> Agent::Impl::MakeSlot(ProviderSession session) {
  const uint64_t deadline = EpochDeadlineUs(session.lease());
  const double capacity = double(options.burst_epochs) * double(deadline);
  auto slot = std::make_shared<LeaseSlot>(std::move(session), deadline, capacity, options.max_audit_share,
                                          SteadyMicros());
  slot->epochs_started = slot->session.epochs_started();
  slot->last_epoch = slot->session.last_epoch();
  return slot;
}

void Agent::Impl::UpdateGauges() {
  size_t count, active;
  {
    std::lock_guard lock(leases_mu);
    count = leases.size();
    active = ActiveLeases(SystemClock().NowMicros());
  }
  metrics.Set("vcp_agent_leases", double(active), {{"state", "active"}});
  metrics.Set("vcp_agent_leases", double(count - active), {{"state", "ended"}});
  metrics.Set("vcp_agent_devices", double(devices.size()));
  std::lock_guard lock(run_mu);
  metrics.Set("vcp_agent_epochs_running", double(running));
}

json Agent::Impl::LeaseSummary(LeaseSlot& slot) {
  std::lock_guard lock(slot.mu);
  json j = {{"lease_id", slot.id_hex},
            {"verifier_key", ToHex(slot.lease.verifier_key)},
            {"mode", LeaseModeName(slot.lease.mode)},
            {"devices", slot.lease.devices},
            {"start_us", slot.lease.start_us},
            {"end_us", slot.lease.end_us},
            {"deadline_us", slot.deadline_us},
            {"epochs", slot.epochs_started},
            {"last_epoch", slot.last_epoch ? json(*slot.last_epoch) : json(nullptr)},
            {"busy", slot.in_flight != nullptr}};
  if (slot.in_flight) j["running_epoch"] = slot.in_flight->epoch;
  return j;
}

// ---------------------------------------------------------------------------------------------------------------
// Status endpoints.

json Agent::Impl::ReadinessCheck() {
  const WorkloadParams params = ReadinessWorkload();
  json out = {{"ready", true}, {"devices", json::array()}};
  if (!reference_root) {
    RunOptions cpu;
    cpu.backend = BackendChoice::kCpu;
    cpu.threads = options.threads;
    Result<std::unique_ptr<Commitment>> reference = RunWorkload(params, cpu);
    if (!reference.ok()) {
      out["ready"] = false;
      out["error"] = "the CPU reference run failed: " + std::string(reference.status().message());
      return out;
    }
    reference_root = (*reference)->root();
  }
  std::vector<std::string> failures;
  for (const DeviceInfo& device : devices) {
    RunOptions run = prover.run;
    run.device = device.ordinal;
    json d = {{"ordinal", device.ordinal}, {"backend", device.backend}, {"name", device.name}};
    Result<std::unique_ptr<Commitment>> ran = RunWorkload(params, run);
    if (!ran.ok()) {
      d["ok"] = false;
      d["error"] = std::string(ran.status().message());
    } else if ((*ran)->root() != *reference_root) {
      d["ok"] = false;
      d["error"] = "the readiness workload's root " + ToHex((*ran)->root()) + " differs from the CPU engine's " +
                   ToHex(*reference_root) + ": this device computes wrong results";
    } else {
      d["ok"] = true;
    }
    if (!d["ok"].get<bool>()) {
      out["ready"] = false;
      failures.push_back("device " + std::to_string(device.ordinal) + ": " + d["error"].get<std::string>());
    }
    out["devices"].push_back(std::move(d));
  }
  if (!failures.empty()) {
    std::string error;
    for (const std::string& f : failures) error += (error.empty() ? "" : "; ") + f;
    out["error"] = error;
  }
  return out;
}

HttpResponse Agent::Impl::Readyz(const HttpRequest& request) {
  if (stopping) {
    return Refuse(request, "shutting-down", 503, Status::Unavailable("the agent is shutting down"));
  }
  json body;
  {
    // One check at a time; the others wait for it and answer from its result.
    std::lock_guard lock(ready_mu);
    const auto now = std::chrono::steady_clock::now();
    if (!readiness || now - readiness->checked >= std::chrono::seconds(options.readiness_cache_s)) {
      json checked = ReadinessCheck();
      readiness = Readiness{checked["ready"].get<bool>(), checked, now};
      metrics.Set("vcp_agent_ready", readiness->ready ? 1 : 0);
      if (!readiness->ready) log.Write(LogLevel::kError, "not-ready", checked);
    }
    body = readiness->body;
  }
  if (body["ready"].get<bool>()) return service::JsonResponse(200, body);
  // The error body of every refusal (docs/API.md section 1), with the per-device results beside it.
  body["kind"] = StatusCodeName(StatusCode::kUnavailable);
  body["status"] = 503;
  metrics.Add("vcp_agent_requests_refused_total", 1, {{"reason", "not-ready"}});
  return service::JsonResponse(503, body);
}

HttpResponse Agent::Impl::MetricsPage(const HttpRequest&) {
  UpdateGauges();
  return HttpResponse{200, std::string(service::kMetricsMediaType), metrics.Render(), {}};
}

HttpResponse Agent::Impl::Info(const HttpRequest&) {
  json names = json::array();
  for (const DeviceInfo& d : devices) names.push_back(DescribeInfo(d));
  return service::JsonResponse(200, {{"version", kVersion},
                                     {"spec_version", kSpecVersion},
                                     {"protocol_version", kProtocolVersion},
                                     {"provider_key", ToHex(key.public_key())},
                                     {"backend", devices.empty() ? "" : devices.front().backend},
                                     {"devices", names},
                                     {"max_audit_share", options.max_audit_share},
                                     {"burst_epochs", options.burst_epochs},
                                     {"max_body_bytes", options.max_body_bytes},
                                     {"beacon", beacon ? json(beacon->name()) : json(nullptr)}});
}

// ---------------------------------------------------------------------------------------------------------------
// Leases.

HttpResponse Agent::Impl::OfferLease(const HttpRequest& request) {
  if (auto refused = CheckMessageBody(request, MessageType::kLease)) return *refused;
  Result<Lease> parsed = ParseLease(BodyBytes(request));
  if (!parsed.ok()) return Refuse(request, "malformed", 400, parsed.status());
  const Lease& lease = *parsed;
  // Authorization first: nothing from a verifier this agent does not know is checked further or stored.
  if (!authorized.Contains(lease.verifier_key)) {
    return Refuse(request, "unauthorized", 403,
                  Status::Rejected("verifier key " + ToHex(lease.verifier_key) + " is not in the authorized keys "
                                   "file " + options.authorized_keys.string() + "; the provider adds a verifier's "
                                   "key there (one per line) to let it offer leases"));
  }
  if (Status s = CheckSignature(lease); !s.ok()) return Refuse(request, "bad-signature", 403, s);
  if (stopping) {
    return Refuse(request, "shutting-down", 503,
                  Status::Unavailable("the agent is shutting down; offer the lease again after it restarts"), 5);
  }
  if (Status s = ValidateLease(lease); !s.ok()) return Refuse(request, "unacceptable", 422, s);
  if (lease.provider_key != key.public_key()) {
    return Refuse(request, "unacceptable", 422,
                  Status::InvalidArgument("the lease names provider key " + ToHex(lease.provider_key) +
                                          "; this agent's key is " + ToHex(key.public_key()) +
                                          " (GET /v1/info)"));
  }
  if (lease.devices > devices.size()) {
    return Refuse(request, "unacceptable", 422,
                  Status::InvalidArgument("the lease names " + std::to_string(lease.devices) + " devices; this " +
                                          "agent has " + std::to_string(devices.size()) + " (" +
                                          (devices.empty() ? "" : devices.front().backend) + ", GET /v1/info)"));
  }
  const uint64_t now_us = SystemClock().NowMicros();
  if (lease.end_us <= now_us) {
    return Refuse(request, "unacceptable", 422,
                  Status::InvalidArgument("the lease ended at " + std::to_string(lease.end_us) +
                                          " us (Unix time); this agent's clock says " + std::to_string(now_us)));
  }
  if (lease.mode == LeaseMode::kBeacon) {
    if (!beacon) {
      return Refuse(request, "unacceptable", 422,
                    Status::InvalidArgument("a beacon-mode lease, but this agent has no beacon_file to answer "
                                            "from; offer an interactive lease or configure beacon_file"));
    }
    if (lease.beacon_name != beacon->name() || lease.beacon_genesis_us != beacon->genesis_us() ||
        lease.beacon_period_us != beacon->period_us()) {
      return Refuse(request, "unacceptable", 422,
                    Status::InvalidArgument("the lease's beacon '" + lease.beacon_name + "' (genesis " +
                                            std::to_string(lease.beacon_genesis_us) + ", period " +
                                            std::to_string(lease.beacon_period_us) + " us) is not this agent's '" +
                                            beacon->name() + "' (genesis " + std::to_string(beacon->genesis_us()) +
                                            ", period " + std::to_string(beacon->period_us()) + " us)"));
    }
  }
  const Hash32 id = LeaseId(lease);
  std::shared_ptr<LeaseSlot> slot;
  {
    std::lock_guard lock(leases_mu);
    if (auto it = leases.find(id); it != leases.end()) {
      if (it->second->lease_bytes != Serialize(lease)) {
        return Refuse(request, "conflict", 409,
                      Status::InvalidArgument("lease " + ToHex(id) + " is held here with other bytes (another "
                                              "signature over the same terms); the first one offered stands"));
      }
      return service::MessageResponse(request, Serialize(it->second->acceptance), ToJson(it->second->acceptance));
    }
    // Every lease may run an epoch at once, each holding an HTTP worker; keep workers for the rest.
    if (ActiveLeases(now_us) + 4 > options.max_connections) {
      return Refuse(request, "full", 503,
                    Status::Unavailable("this agent serves at most " + std::to_string(options.max_connections - 4) +
                                        " active leases (max_connections " + std::to_string(options.max_connections) +
                                        " minus 4 kept for status requests)"));
    }
    const fs::path dir = options.state_dir / "leases" / ToHex(id);
    std::error_code ec;
    const bool existed = fs::exists(dir, ec);
    Result<ProviderSession> accepted = ProviderSession::Accept(dir, lease, key);
    if (!accepted.ok()) {
      if (!existed) fs::remove_all(dir, ec);
      return SessionRefusal(request, accepted.status());
    }
    slot = MakeSlot(std::move(*accepted));
    leases.emplace(id, slot);
  }
  log.Write(LogLevel::kInfo, "lease-accepted",
            {{"lease", slot->id_hex},
             {"verifier_key", ToHex(lease.verifier_key)},
             {"mode", LeaseModeName(lease.mode)},
             {"devices", lease.devices},
             {"deadline_us", slot->deadline_us},
             {"end_us", lease.end_us},
             {"remote", request.remote_addr}});
  return service::MessageResponse(request, Serialize(slot->acceptance), ToJson(slot->acceptance));
}

HttpResponse Agent::Impl::ListLeases(const HttpRequest&) {
  std::vector<std::shared_ptr<LeaseSlot>> all;
  {
    std::lock_guard lock(leases_mu);
    for (const auto& [id, slot] : leases) all.push_back(slot);
  }
  json list = json::array();
  for (const auto& slot : all) list.push_back(LeaseSummary(*slot));
  return service::JsonResponse(200, {{"leases", list}});
}

HttpResponse Agent::Impl::GetLease(const HttpRequest& request) {
  std::shared_ptr<LeaseSlot> slot = FindLease(request.captures.at(0));
  if (!slot) return UnknownLease(request);
  json j = LeaseSummary(*slot);
  j["lease"] = MessageObject(slot->lease);
  j["acceptance"] = MessageObject(slot->acceptance);
  {
    std::lock_guard lock(slot->mu);
    j["budget"] = {{"epoch_cost_us", slot->deadline_us},
                   {"capacity_us", slot->bucket.capacity_us()},
                   {"available_us", std::floor(slot->bucket.Available(SteadyMicros()))},
                   {"refill_share", slot->bucket.refill_per_us()}};
  }
  return service::JsonResponse(200, j);
}

// ---------------------------------------------------------------------------------------------------------------
// Epochs.

Result<ProveOutcome> Agent::Impl::ProveLazy(LeaseSlot& slot, const EpochStart& start) {
  const uint64_t t0 = SystemClock().NowMicros();
  VCP_ASSIGN_OR_RETURN(EpochRun run, RunEpochRounds(slot.lease, start, prover.run));
  const uint64_t total = uint64_t(EpochRounds(slot.lease)) * LeavesPerRound(slot.lease);
  std::random_device random;
  const uint64_t seed = (uint64_t(random()) << 32) ^ random();
  EpochLeaves lazy = SimulateLazyLeaves(run.leaves, ComputedPositions(total, options.simulate_lazy_fraction), seed);
  return slot.session.ProveFromLeaves(start, std::move(lazy), std::move(run.devices), t0, SystemClock().NowMicros(),
                                      key, prover.keep_leaves);
}

void Agent::Impl::Complete(LeaseSlot& slot, InFlight& run) {
  {
    std::lock_guard lock(slot.mu);
    run.done = true;
    slot.in_flight.reset();
  }
  slot.done_cv.notify_all();
}

void Agent::Impl::SetChallengeDue(LeaseSlot& slot, std::optional<uint64_t> epoch) {
  if (slot.challenge_due.has_value() != epoch.has_value()) {
    if (epoch) {
      ++challenges_due;
    } else {
      --challenges_due;
    }
  }
  slot.challenge_due = epoch;
}

void Agent::Impl::RunEpoch(const HttpRequest& request, LeaseSlot& slot, const EpochStart& start, InFlight& run,
                           double cost) {
  const auto began = std::chrono::steady_clock::now();
  Result<ProveOutcome> proved = Status::Internal("the epoch did not run");
  size_t started = 0;
  std::optional<uint64_t> last;
  {
    std::lock_guard session_lock(slot.session_mu);
    proved = options.simulate_lazy_fraction > 0 ? ProveLazy(slot, start) : slot.session.Prove(start, key, prover);
    started = slot.session.epochs_started();
    last = slot.session.last_epoch();
  }
  const double seconds = SecondsSince(began);
  {
    std::lock_guard lock(slot.mu);
    slot.epochs_started = started;
    slot.last_epoch = last;
    // The session refused the start before any work: it costs the lease nothing.
    if (!proved.ok() && proved.status().code() == StatusCode::kRejected) slot.bucket.Refund(cost, SteadyMicros());
  }
  {
    std::lock_guard lock(run_mu);
    --running;
    // In the same step as the count, so that Shutdown never sees neither the run nor its challenge.
    if (proved.ok() && slot.lease.mode == LeaseMode::kInteractive) SetChallengeDue(slot, start.epoch);
  }
  run_cv.notify_all();
  if (proved.ok()) {
    run.record = proved->record;
    if (!proved->already_logged) {
      metrics.Add("vcp_agent_epochs_proven_total", 1);
      metrics.Observe("vcp_agent_epoch_duration_seconds", seconds);
    }
    log.Write(LogLevel::kInfo, "epoch-proven",
              {{"lease", slot.id_hex},
               {"epoch", start.epoch},
               {"seconds", seconds},
               {"already_logged", proved->already_logged},
               {"record_hash", ToHex(RecordHash(proved->record))}});
  } else if (proved.status().code() == StatusCode::kRejected) {
    run.refusal = Refuse(request, "rejected", 409, proved.status());
  } else {
    // The start is logged but no record (a device or store failure): the same start again runs it again.
    metrics.Add("vcp_agent_epoch_failures_total", 1, {{"kind", std::string(StatusCodeName(proved.status().code()))}});
    log.Write(LogLevel::kError, "epoch-failed",
              {{"lease", slot.id_hex}, {"epoch", start.epoch}, {"detail", std::string(proved.status().message())}});
    run.refusal = ErrorResponse(service::HttpStatusFor(proved.status()), proved.status());
  }
  Complete(slot, run);
}

HttpResponse Agent::Impl::StartEpoch(const HttpRequest& request) {
  if (auto refused = CheckMessageBody(request, MessageType::kEpochStart)) return *refused;
  Result<EpochStart> parsed = ParseEpochStart(BodyBytes(request));
  if (!parsed.ok()) return Refuse(request, "malformed", 400, parsed.status());
  const EpochStart& start = *parsed;
  std::shared_ptr<LeaseSlot> slot = FindLease(request.captures.at(0));
  if (!slot) return UnknownLease(request);
  if (auto refused = CheckSameLease(request, *slot, start.lease_id, "epoch start")) return *refused;
  // Authentic before anything else: only the lease's verifier may make this agent work.
  if (Status s = CheckSignature(start, slot->lease.verifier_key); !s.ok()) {
    return Refuse(request, "bad-signature", 403, s);
  }
  if (start.start_us > slot->lease.end_us) {
    return Refuse(request, "lease-ended", 422,
                  Status::InvalidArgument("epoch " + std::to_string(start.epoch) + " starts at " +
                                          std::to_string(start.start_us) + " us, after the lease ended at " +
                                          std::to_string(slot->lease.end_us) + " us"));
  }
  const std::vector<uint8_t> start_bytes(request.body.begin(), request.body.end());
  std::shared_ptr<InFlight> run;
  {
    std::unique_lock lock(slot->mu);
    if (slot->in_flight) {
      if (slot->in_flight->start_bytes != start_bytes) {
        return Refuse(request, "busy", 409,
                      Status::InvalidArgument("epoch " + std::to_string(slot->in_flight->epoch) + " of this lease "
                                              "is busy; a lease runs one epoch at a time (the same start again "
                                              "waits for it; send another one after it ends)"));
      }
      run = slot->in_flight;  // the same start: wait for its answer
      slot->done_cv.wait(lock, [&] { return run->done; });
      return AnswerOf(request, *run);
    }
    run = std::make_shared<InFlight>();
    run->start_bytes = start_bytes;
    run->epoch = start.epoch;
    slot->in_flight = run;  // claimed: from here every way out goes through Complete
  }
  std::optional<EpochRecord> logged;
  {
    std::lock_guard session_lock(slot->session_mu);
    logged = slot->session.LoggedRecord(start);
  }
  if (logged) {
    // Proven before (a retry after a lost answer): the logged record, at no cost.
    run->record = std::move(logged);
    if (slot->lease.mode == LeaseMode::kInteractive) {
      std::lock_guard run_lock(run_mu);
      SetChallengeDue(*slot, start.epoch);
    }
  } else if (stopping) {
    run->refusal = Refuse(request, "shutting-down", 503,
                          Status::Unavailable("the agent is shutting down; send the start again after it restarts"),
                          5);
  } else {
    const double cost = double(slot->deadline_us);
    std::optional<uint64_t> wait_us;
    {
      std::lock_guard lock(slot->mu);
      wait_us = slot->bucket.Take(cost, SteadyMicros());
    }
    bool counted = false;
    if (!wait_us) {
      std::lock_guard run_lock(run_mu);
      if (!stopping) {  // checked again under run_mu: Shutdown must see every run it waits for
        ++running;
        counted = true;
        SetChallengeDue(*slot, std::nullopt);
      }
    }
    if (wait_us) {
      run->refusal = Refuse(
          request, "rate-limited", 429,
          Status::ResourceExhausted("epoch starts of this lease come faster than this agent allows: epochs may take " +
                                    std::to_string(options.max_audit_share) + " of wall time, in bursts of " +
                                    std::to_string(options.burst_epochs) + " epochs of " +
                                    std::to_string(slot->deadline_us / 1000) + " ms (the deadline); enough budget in " +
                                    std::to_string(CeilSeconds(*wait_us)) + " s"),
          CeilSeconds(*wait_us));
    } else if (!counted) {
      {
        std::lock_guard lock(slot->mu);
        slot->bucket.Refund(cost, SteadyMicros());
      }
      run->refusal = Refuse(
          request, "shutting-down", 503,
          Status::Unavailable("the agent is shutting down; send the start again after it restarts"), 5);
    } else {
      RunEpoch(request, *slot, start, *run, cost);  // completes the claim
      return AnswerOf(request, *run);
    }
  }
  Complete(*slot, *run);
  return AnswerOf(request, *run);
}

HttpResponse Agent::Impl::PostChallenge(const HttpRequest& request) {
  if (auto refused = CheckMessageBody(request, MessageType::kChallenge)) return *refused;
  Result<Challenge> parsed = ParseChallenge(BodyBytes(request));
  if (!parsed.ok()) return Refuse(request, "malformed", 400, parsed.status());
  const Challenge& challenge = *parsed;
  std::shared_ptr<LeaseSlot> slot = FindLease(request.captures.at(0));
  if (!slot) return UnknownLease(request);
  if (auto refused = CheckSameLease(request, *slot, challenge.lease_id, "challenge")) return *refused;
  if (slot->lease.mode != LeaseMode::kInteractive) {
    return Refuse(request, "unacceptable", 422,
                  Status::InvalidArgument("this is a beacon-mode lease: its responses come from the beacon (GET "
                                          "/v1/leases/" + slot->id_hex + "/epochs/N/response), not a challenge"));
  }
  if (Status s = CheckSignature(challenge, slot->lease.verifier_key); !s.ok()) {
    return Refuse(request, "bad-signature", 403, s);
  }
  {
    std::lock_guard lock(slot->mu);
    if (slot->in_flight) {
      return Refuse(request, "busy", 409,
                    Status::InvalidArgument("epoch " + std::to_string(slot->in_flight->epoch) + " of this lease is "
                                            "running; a challenge is answered for the last proven epoch only "
                                            "while none runs"));
    }
  }
  Result<RespondOutcome> answered = Status::Internal("not answered");
  {
    std::lock_guard session_lock(slot->session_mu);
    answered = slot->session.Respond(challenge, key, prover);
  }
  if (!answered.ok()) return SessionRefusal(request, answered.status());
  {
    std::lock_guard run_lock(run_mu);
    if (slot->challenge_due == challenge.epoch) SetChallengeDue(*slot, std::nullopt);
  }
  run_cv.notify_all();
  if (!answered->already_logged) {
    metrics.Add("vcp_agent_challenges_answered_total", 1);
    log.Write(LogLevel::kInfo, "challenge-answered",
              {{"lease", slot->id_hex},
               {"epoch", challenge.epoch},
               {"leaf_source", LeafSourceName(answered->leaf_source)},
               {"leaf_note", answered->leaf_note}});
  }
  return service::MessageResponse(request, Serialize(answered->response), ToJson(answered->response));
}

HttpResponse Agent::Impl::BeaconResponse(const HttpRequest& request) {
  std::shared_ptr<LeaseSlot> slot = FindLease(request.captures.at(0));
  if (!slot) return UnknownLease(request);
  uint64_t epoch = 0;
  const std::string& text = request.captures.at(1);
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), epoch);
      ec != std::errc() || end != text.data() + text.size()) {
    return Refuse(request, "malformed", 400,
                  Status::Corrupt("epoch '" + text + "' is not a number; allowed: 0 to 2^64 - 1"));
  }
  if (slot->lease.mode != LeaseMode::kBeacon || !beacon) {
    return Refuse(request, "unacceptable", 422,
                  Status::InvalidArgument("this is an interactive lease: POST the verifier's challenge to "
                                          "/v1/leases/" + slot->id_hex + "/challenges"));
  }
  {
    std::lock_guard lock(slot->mu);
    if (slot->in_flight) {
      return Refuse(request, "busy", 409,
                    Status::InvalidArgument("epoch " + std::to_string(slot->in_flight->epoch) + " of this lease is "
                                            "busy; ask for a response once no epoch runs"));
    }
  }
  Result<RespondOutcome> answered = Status::Internal("not answered");
  {
    std::lock_guard session_lock(slot->session_mu);
    answered = slot->session.RespondBeacon(epoch, *beacon, key, prover);
  }
  if (!answered.ok()) {
    if (answered.status().code() == StatusCode::kUnavailable) {
      // The round that decides the sample is not out yet; rounds come one beacon period apart.
      return Refuse(request, "beacon-pending", 503,
                    Status::Unavailable("the beacon round that decides epoch " + std::to_string(epoch) +
                                        "'s sample is not published yet (" +
                                        std::string(answered.status().message()) + "); ask again later"),
                    CeilSeconds(slot->lease.beacon_period_us));
    }
    // No record for that epoch here: out of order, like a challenge before its record.
    if (answered.status().code() == StatusCode::kInvalidArgument) {
      return Refuse(request, "rejected", 409, answered.status());
    }
    return SessionRefusal(request, answered.status());
  }
  if (!answered->already_logged) {
    metrics.Add("vcp_agent_beacon_responses_total", 1);
    log.Write(LogLevel::kInfo, "beacon-response",
              {{"lease", slot->id_hex}, {"epoch", epoch}, {"beacon_round", answered->response.challenge.beacon_round}});
  }
  return service::MessageResponse(request, Serialize(answered->response), ToJson(answered->response));
}

// ---------------------------------------------------------------------------------------------------------------
// Start and stop.

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Agent>> Agent::Start(AgentOptions options) {
  VCP_RETURN_IF_ERROR(service::ValidateAgentOptions(options));
  VCP_ASSIGN_OR_RETURN(const LogLevel level, service::ParseLogLevel(options.log_level));
  if (options.tls_cert_file.empty() && !options.allow_plain_http && !service::IsLoopbackHost(options.listen_host)) {
    return Status::InvalidArgument("listen host " + options.listen_host + " is not a loopback address, so the agent "
                                   "needs TLS: give tls_cert_file and tls_key_file (or allow_plain_http behind a "
                                   "TLS proxy)");
  }
  Result<SecretKey> key = ResolveSecretKey(options.provider_key.string());
  if (!key.ok()) return key.status().WithContext("provider_key");
  VCP_ASSIGN_OR_RETURN(service::AuthorizedKeys authorized, service::AuthorizedKeys::Load(options.authorized_keys));
  auto impl = std::make_unique<Impl>(options, level, std::move(*key), std::move(authorized));
  Impl& m = *impl;
  m.prover.run.backend = options.backend;
  m.prover.run.threads = options.threads;
  m.prover.keep_leaves = options.keep_leaves;
  VCP_ASSIGN_OR_RETURN(m.devices, ListDevices(options.backend));
  if (!options.beacon_file.empty()) {
    Result<FileBeaconSource> beacon = FileBeaconSource::Open(options.beacon_file);
    if (!beacon.ok()) return beacon.status().WithContext("beacon_file");
    m.beacon.emplace(std::move(*beacon));
  }

  // Every lease store under state_dir/leases, reopened as it was left.
  const fs::path leases_dir = options.state_dir / "leases";
  std::error_code ec;
  fs::create_directories(leases_dir, ec);
  if (ec) return Status::IoError("cannot create " + leases_dir.string() + ": " + ec.message());
  // One agent per state directory: each lease store has its own lock, but two agents on a directory that holds no
  // lease yet would both accept the same offer into it.
  VCP_ASSIGN_OR_RETURN(m.state_lock,
                       StoreLock::AcquireFile(options.state_dir / "agent.lock", "agent state directory"));
  std::vector<fs::path> dirs;
  for (const fs::directory_entry& entry : fs::directory_iterator(leases_dir, ec)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  if (ec) return Status::IoError("cannot list " + leases_dir.string() + ": " + ec.message());
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    if (!fs::exists(dir / kProviderLogName, ec)) {
      // A crash between creating the directory and the log: nothing was acknowledged; the offer may come again.
      m.log.Write(LogLevel::kWarn, "lease-skipped", {{"dir", dir.string()}, {"detail", "no provider.log"}});
      continue;
    }
    Result<ProviderSession> session = ProviderSession::Open(dir);
    if (!session.ok()) return session.status().WithContext("reopening lease store " + dir.string());
    if (ToHex(session->lease_id()) != dir.filename().string()) {
      return Status::Corrupt("lease store " + dir.string() + " holds lease " + ToHex(session->lease_id()) +
                             "; each store's directory is named after its lease id");
    }
    if (session->recovery().torn_tail) {
      m.log.Write(LogLevel::kWarn, "store-recovered", {{"dir", dir.string()}, {"note", session->recovery().note}});
    }
    std::shared_ptr<LeaseSlot> slot = m.MakeSlot(std::move(*session));
    m.leases.emplace(slot->id, slot);
  }

  service::DeclareBuildInfo(m.metrics, "agent");
  m.metrics.DeclareGauge("vcp_agent_leases", "Leases held by the agent, by state (active until the lease end).",
                         {"state"});
  m.metrics.DeclareGauge("vcp_agent_devices", "Devices the agent runs epochs on.");
  m.metrics.DeclareGauge("vcp_agent_epochs_running", "Epochs running now, over all leases.");
  m.metrics.DeclareGauge("vcp_agent_ready", "1 when the last readiness check passed on every device, else 0.");
  m.metrics.DeclareCounter("vcp_agent_epochs_proven_total", "Epochs run and committed (signed records).");
  m.metrics.DeclareCounter("vcp_agent_epoch_failures_total",
                           "Epoch runs that failed on the agent (device or store errors), by status kind.", {"kind"});
  m.metrics.DeclareCounter("vcp_agent_challenges_answered_total", "Interactive challenges answered.");
  m.metrics.DeclareCounter("vcp_agent_beacon_responses_total", "Beacon-mode responses built.");
  m.metrics.DeclareCounter("vcp_agent_requests_refused_total", "Requests refused, by reason.", {"reason"});
  m.metrics.DeclareHistogram("vcp_agent_epoch_duration_seconds", "Wall time of one epoch run, start to signed record.",
                             {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600});
  m.metrics.DeclareCounter("vcp_agent_http_requests_total", "HTTP requests answered, by status code.", {"code"});
  m.metrics.Set("vcp_agent_ready", 0);
  m.UpdateGauges();

  service::HttpServerOptions http;
  http.host = options.listen_host;
  http.port = options.listen_port;
  http.tls_cert_file = options.tls_cert_file;
  http.tls_key_file = options.tls_key_file;
  http.allow_plain_http = options.allow_plain_http;
  http.max_body_bytes = options.max_body_bytes;
  http.max_connections = options.max_connections;
  http.read_timeout_s = http.write_timeout_s = options.request_timeout_s;
  http.on_request = [&m](const HttpRequest& request, const HttpResponse& response, double seconds) {
    m.metrics.Add("vcp_agent_http_requests_total", 1, {{"code", std::to_string(response.status)}});
    // Refusals the server makes itself, before any handler runs.
    if (response.status == 413) m.metrics.Add("vcp_agent_requests_refused_total", 1, {{"reason", "too-large"}});
    m.log.Write(LogLevel::kDebug, "request",
                {{"method", request.method},
                 {"path", request.path},
                 {"status", response.status},
                 {"seconds", seconds},
                 {"remote", request.remote_addr}});
  };
  const std::string lease = std::string("/v1/leases/") + kLeaseIdPattern;
  auto bind = [&m](HttpResponse (Impl::*handler)(const HttpRequest&)) {
    return [&m, handler](const HttpRequest& request) { return (m.*handler)(request); };
  };
  std::vector<service::Route> routes = {
      {"GET", "/healthz", bind(&Impl::Healthz)},
      {"GET", "/readyz", bind(&Impl::Readyz)},
      {"GET", "/metrics", bind(&Impl::MetricsPage)},
      {"GET", "/v1/info", bind(&Impl::Info)},
      {"POST", "/v1/leases", bind(&Impl::OfferLease)},
      {"GET", "/v1/leases", bind(&Impl::ListLeases)},
      {"GET", lease, bind(&Impl::GetLease)},
      {"POST", lease + "/epochs", bind(&Impl::StartEpoch)},
      {"POST", lease + "/challenges", bind(&Impl::PostChallenge)},
      {"GET", lease + "/epochs/([0-9]{1,20})/response", bind(&Impl::BeaconResponse)},
  };
  // Counted before the server starts: from then on handlers may add leases (under leases_mu).
  size_t resumed_leases = 0;
  {
    std::lock_guard<std::mutex> lock(m.leases_mu);
    resumed_leases = m.leases.size();
  }
  VCP_ASSIGN_OR_RETURN(m.server, service::HttpServer::Start(std::move(http), std::move(routes)));

  json device_names = json::array();
  for (const DeviceInfo& d : m.devices) device_names.push_back(DescribeInfo(d));
  if (options.simulate_lazy_fraction > 0) {
    m.log.Write(LogLevel::kWarn, "simulating-lazy-provider",
                {{"fraction", options.simulate_lazy_fraction},
                 {"detail", "TESTS ONLY: every epoch skips this fraction of its tiles; verifiers will fail it"}});
  }
  m.log.Write(LogLevel::kInfo, "started",
              {{"listen", options.listen_host + ":" + std::to_string(m.server->port())},
               {"tls", m.server->tls()},
               {"backend", m.devices.empty() ? "" : m.devices.front().backend},
               {"devices", device_names},
               {"leases", resumed_leases},
               {"authorized_keys", m.authorized.keys().size()},
               {"provider_key", ToHex(m.key.public_key())},
               {"state_dir", options.state_dir.string()}});
  m.log.Write(LogLevel::kInfo, "listening",
              {{"port", m.server->port()}, {"host", options.listen_host}, {"tls", m.server->tls()}});
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

uint16_t Agent::port() const { return impl_->server->port(); }

size_t Agent::Shutdown(uint32_t grace_s) {
  Impl& m = *impl_;
  std::unique_lock lock(m.run_mu);
  if (m.shut_down) return 0;
  m.shut_down = true;
  m.stopping = true;
  m.log.Write(LogLevel::kInfo, "shutdown",
              {{"grace_s", grace_s}, {"epochs_running", m.running}, {"challenges_due", m.challenges_due}});
  const auto grace_end = std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
  m.run_cv.wait_until(lock, grace_end, [&m] { return m.running == 0; });
  const size_t abandoned = m.running;
  if (abandoned == 0) {
    // The verifier challenges an interactive epoch right after its record: give those challenges a short wait
    // of their own, so that a stop landing between record and challenge does not cost the epoch its pass.
    const auto challenge_end =
        std::min(grace_end, std::chrono::steady_clock::now() + std::chrono::milliseconds(m.options.challenge_wait_ms));
    m.run_cv.wait_until(lock, challenge_end, [&m] { return m.challenges_due == 0; });
  }
  const size_t unanswered = m.challenges_due;
  lock.unlock();
  if (abandoned == 0) m.server->Stop();
  m.log.Write(abandoned == 0 && unanswered == 0 ? LogLevel::kInfo : LogLevel::kWarn, "stopped",
              {{"epochs_abandoned", abandoned},
               {"challenges_unanswered", unanswered},
               {"detail", abandoned > 0 ? "epochs still running after the grace: their starts are logged, their "
                                          "records not; the verifier's resent start runs them again"
                          : unanswered > 0 ? "records sent whose challenges did not come within challenge_wait_ms"
                                           : "every epoch answered"}});
  return abandoned;
}

Agent::~Agent() {
  if (!impl_) return;
  (void)Shutdown(0);
  impl_->server->Stop();  // waits for handlers still running (an abandoned epoch)
}

}  // namespace vcp
