// lib/service/verifierd.cpp: the verifier service (vcp/verifierd.h): lease runners, the verification pool, the
// HTTP API and the metrics. Every protocol decision is VerifierSession's; this file decides when to call it and
// what to send, and keeps the network's faults apart from the provider's.
#include "vcp/verifierd.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "protocol/report_json.h"
#include "service/agent_client.h"
#include "service/http.h"
#include "service/json_log.h"
#include "service/metrics.h"
#include "service/verifier_db.h"
#include "service/verifierd_api.h"
#include "vcp/bytes.h"
#include "vcp/lease_session.h"
#include "vcp/verdict.h"

namespace vcp {

namespace {

using json = nlohmann::json;
using service::AgentAnswer;
using service::AgentClient;
using service::HttpRequest;
using service::HttpResponse;
using service::JsonLog;
using service::LogLevel;

constexpr size_t kReportEvents = 50;        // network events the report lists (the latest)
constexpr uint64_t kReadMarginMs = 5000;    // HTTP read timeout beyond the time the protocol still allows
constexpr uint64_t kPastDeadlineUs = 1000;  // wait this far past a deadline before closing the epoch

std::string ShortId(const Hash32& id) { return ToHex(id).substr(0, 16); }

// The verifier's clock for one lease, which the runner pins to the moment a record came off the wire while it
// hands the record to ReceiveRecord: the arrival the session logs is the receipt, not the moment the lease's lock
// was free. Only the runner pins it, and only while it holds the lease's lock, which every session call takes.
class ReceiptClock final : public Clock {
 public:
  explicit ReceiptClock(const Clock& base) : base_(base) {}
  uint64_t NowMicros() const override {
    const uint64_t pinned = pinned_.load();
    return pinned != 0 ? pinned : base_.NowMicros();
  }
  void Pin(uint64_t us) { pinned_.store(us); }
  void Unpin() { pinned_.store(0); }

 private:
  const Clock& base_;
  std::atomic<uint64_t> pinned_{0};
};

// Response checks (tile recomputation) run here, so a few workers bound the CPU the service uses however many
// leases it holds; a runner hands its check over and waits for it.
class VerifyPool {
 public:
  VerifyPool(uint32_t threads, service::Metrics& metrics) : metrics_(metrics) {
    for (uint32_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~VerifyPool() { Stop(); }

  // Runs `task` on a worker and returns when it finished.
  void Run(std::function<void()> task) {
    std::packaged_task<void()> job(std::move(task));
    std::future<void> done = job.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(job));
      metrics_.Set("vcp_verifierd_verify_queue_depth", double(queue_.size()));
    }
    cv_.notify_one();
    done.wait();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Work() {
    for (;;) {
      std::packaged_task<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        // Queued checks are finished even when stopping: their runners wait for them.
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        metrics_.Set("vcp_verifierd_verify_queue_depth", double(queue_.size()));
      }
      const auto t0 = std::chrono::steady_clock::now();
      job();
      metrics_.Observe("vcp_verifierd_verify_seconds",
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }

  service::Metrics& metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// One lease: its session over the database's entry log, its agent, its runner thread.
struct LeaseState {
  Hash32 id{};
  std::string short_id, agent_url;
  double audit_share = 0;
  uint64_t created_us = 0;
  std::unique_ptr<ReceiptClock> clock;
  std::unique_ptr<AgentClient> agent;
  std::mutex mu;  // every session call
  std::optional<VerifierSession> session;
  std::atomic<bool> ended{false};   // written under mu; read without it for the lease counts
  uint64_t counted_operations = 0;  // what vcp_verifierd_lease_proven_operations_total already holds
  std::thread runner;
};

}  // namespace

struct VerifierService::Impl {
  VerifierServiceOptions options;
  std::optional<SecretKey> key;
  std::unique_ptr<service::VerifierDatabase> db;
  std::optional<FileBeaconSource> beacon;
  service::Metrics metrics;
  std::unique_ptr<JsonLog> log;
  std::unique_ptr<VerifyPool> pool;
  std::unique_ptr<service::HttpServer> server;

  std::mutex leases_mu;  // the map; each LeaseState has its own lock for its session
  std::map<Hash32, std::unique_ptr<LeaseState>> leases;

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::once_flag shutdown_once;

  // ---- set-up ----
  Status Init();
  void DeclareMetrics();
  Result<std::unique_ptr<LeaseState>> LoadLease(const service::LeaseRow& row);
  VerifierOptions SessionOptions(const ReceiptClock& clock) const;
  Result<std::unique_ptr<AgentClient>> MakeAgent(const std::string& url) const;
  std::vector<service::Route> Routes();
  void StartRunner(LeaseState& s);

  // ---- the runner ----
  bool Stopping();
  bool WaitUntil(uint64_t us);  // false when stopping
  bool WaitMs(uint64_t ms) { return WaitUntil(options.clock->NowMicros() + ms * 1000); }
  uint64_t Backoff(uint64_t& next_ms, std::minstd_rand& rng) const;
  void RunLease(LeaseState& s);
  bool OfferUntilAccepted(LeaseState& s, std::minstd_rand& rng);
  void SendStart(LeaseState& s, const EpochStart& start, std::minstd_rand& rng);
  void SendChallenge(LeaseState& s, const Challenge& challenge, uint64_t answer_by_us, std::minstd_rand& rng);
  void FetchBeaconResponse(LeaseState& s, uint64_t epoch, uint64_t answer_by_us, std::minstd_rand& rng);
  // Checks a response on the pool; kUnavailable when the beacon round is not yet in the service's beacon file.
  Status Verify(LeaseState& s, const std::vector<uint8_t>& response);
  void NetworkEvent(LeaseState& s, uint64_t epoch, std::string_view step, const Status& unreachable);
  void NetworkEvent(LeaseState& s, uint64_t epoch, std::string_view step, const AgentAnswer& answer);
  void EndLease(LeaseState& s);  // s.mu held; takes leases_mu

  // ---- bookkeeping (s.mu held) ----
  void CountVerdict(LeaseState& s, const Verdict& verdict);
  void UpdateLeaseGauges(LeaseState& s);
  void LogVerdict(LeaseState& s, const Verdict& verdict);
  void UpdateLeaseCounts();

  // ---- the API ----
  Result<Hash32> AddLease(const LeaseRequest& request);
  LeaseState* Find(const Hash32& id);
  json Summary(LeaseState& s);  // s.mu held
  json NetworkJson(LeaseState& s, const std::vector<Verdict>& verdicts);
  HttpResponse HandleAddLease(const HttpRequest& request);
  HttpResponse HandleList();
  HttpResponse HandleLease(const HttpRequest& request);
  HttpResponse HandleReport(const HttpRequest& request);
  HttpResponse HandleEvidence(const HttpRequest& request);

  void Shutdown();
};

// =============================================================================================================
// Set-up.

Status VerifierService::Impl::Init() {
  const VerifierServiceOptions& o = options;
  if (o.clock == nullptr) return Status::InvalidArgument("verifierd needs a clock");
  if (o.verify_threads < 1 || o.verify_threads > 256) {
    return Status::InvalidArgument("verify_threads " + std::to_string(o.verify_threads) +
                                   " is out of range; allowed: 1 to 256");
  }
  if (o.retry_initial_ms < 1 || o.retry_max_ms < o.retry_initial_ms) {
    return Status::InvalidArgument("retry_initial_ms " + std::to_string(o.retry_initial_ms) + " / retry_max_ms " +
                                   std::to_string(o.retry_max_ms) +
                                   " are out of range; allowed: 1 <= retry_initial_ms <= retry_max_ms");
  }
  if (o.response_wait_ms < 1) return Status::InvalidArgument("response_wait_ms must be at least 1");
  if (!(o.confidence > 0 && o.confidence < 1)) {
    return Status::InvalidArgument("confidence must be between 0 and 1 (exclusive), e.g. 0.95");
  }
  if (o.database.empty()) return Status::InvalidArgument("verifierd needs a database file (\"database\", --database)");
  if (o.verifier_key.empty()) return Status::InvalidArgument("verifierd needs the verifier's key (\"key\", --key)");
  VCP_ASSIGN_OR_RETURN(const LogLevel level, service::ParseLogLevel(o.log_level));
  log = std::make_unique<JsonLog>("verifierd", level);
  {
    Result<SecretKey> k = ResolveSecretKey(o.verifier_key.string());
    if (!k.ok()) return k.status().WithContext("verifier key");
    key.emplace(std::move(*k));
  }
  if (!o.beacon_file.empty()) {
    VCP_ASSIGN_OR_RETURN(FileBeaconSource b, FileBeaconSource::Open(o.beacon_file));
    beacon.emplace(std::move(b));
  }
  VCP_ASSIGN_OR_RETURN(db, service::VerifierDatabase::Open(o.database));
  DeclareMetrics();
  pool = std::make_unique<VerifyPool>(o.verify_threads, metrics);

  VCP_ASSIGN_OR_RETURN(const std::vector<service::LeaseRow> rows, db->ListLeases());
  for (const service::LeaseRow& row : rows) {
    VCP_ASSIGN_OR_RETURN(std::unique_ptr<LeaseState> s, LoadLease(row));
    leases.emplace(s->id, std::move(s));
  }
  UpdateLeaseCounts();

  service::HttpServerOptions http;
  http.host = o.listen_host;
  http.port = o.listen_port;
  http.tls_cert_file = o.tls_cert_file;
  http.tls_key_file = o.tls_key_file;
  http.allow_plain_http = o.allow_plain_http;
  http.on_request = [this](const HttpRequest& request, const HttpResponse& response, double seconds) {
    log->Write(response.status >= 500 ? LogLevel::kWarn : LogLevel::kDebug, "request",
               {{"method", request.method},
                {"path", request.path},
                {"status", response.status},
                {"seconds", seconds},
                {"remote", request.remote_addr}});
  };
  VCP_ASSIGN_OR_RETURN(server, service::HttpServer::Start(std::move(http), Routes()));
  log->Write(LogLevel::kInfo, "listening",
             {{"port", server->port()},
              {"host", o.listen_host},
              {"tls", server->tls()},
              {"database", o.database.string()},
              {"leases", leases.size()}});
  std::lock_guard<std::mutex> map_lock(leases_mu);  // the server already takes new leases
  for (auto& [id, s] : leases) {
    if (!s->ended) StartRunner(*s);
  }
  return Status::Ok();
}

void VerifierService::Impl::DeclareMetrics() {
  service::DeclareBuildInfo(metrics, "verifierd");
  metrics.DeclareGauge("vcp_verifierd_leases", "Leases the service holds, by state (active, ended).", {"state"});
  metrics.DeclareCounter("vcp_verifierd_lease_proven_operations_total",
                         "Operations proven by passing epochs of the lease (first 16 hex digits of its id).",
                         {"lease"});
  metrics.DeclareGauge("vcp_verifierd_lease_median_proven_rate",
                       "Median proven rate over the lease's passing epochs, operations per second per device.",
                       {"lease"});
  metrics.DeclareGauge("vcp_verifierd_lease_availability_lower_bound",
                       "Lower confidence bound on the fraction of lease time the provider delivered (scheduled "
                       "epochs).",
                       {"lease"});
  metrics.DeclareCounter("vcp_verifierd_lease_epochs_total",
                         "Closed epochs of the lease by outcome (pass, fail, void).", {"lease", "outcome"});
  metrics.DeclareCounter("vcp_verifierd_lease_failures_total", "Failed epochs of the lease by reason.",
                         {"lease", "reason"});
  metrics.DeclareCounter("vcp_verifierd_agent_unreachable_total",
                         "Attempts to reach the lease's agent that got no HTTP answer, by protocol step.",
                         {"lease", "step"});
  metrics.DeclareGauge("vcp_verifierd_verify_queue_depth", "Responses waiting for a verification worker.");
  metrics.DeclareHistogram("vcp_verifierd_verify_seconds", "Time to check one response (sampled tiles recomputed).",
                           {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60});
  metrics.Set("vcp_verifierd_verify_queue_depth", 0);
}

VerifierOptions VerifierService::Impl::SessionOptions(const ReceiptClock& clock) const {
  VerifierOptions v;
  v.clock = &clock;
  v.beacon = beacon ? &*beacon : nullptr;
  v.threads = 1;  // the pool's workers are the parallelism
  // The report's provisional count of an overdue epoch uses the same wait the runner closes it with.
  v.response_wait_us = uint64_t{options.response_wait_ms} * 1000;
  return v;
}

Result<std::unique_ptr<AgentClient>> VerifierService::Impl::MakeAgent(const std::string& url) const {
  service::HttpClientOptions http;
  http.ca_file = options.agent_ca_file;
  http.allow_plain_http = options.allow_plain_agents;
  return AgentClient::Create(url, std::move(http));
}

Result<std::unique_ptr<LeaseState>> VerifierService::Impl::LoadLease(const service::LeaseRow& row) {
  auto s = std::make_unique<LeaseState>();
  s->id = row.lease_id;
  s->short_id = ShortId(row.lease_id);
  s->agent_url = row.agent_url;
  s->audit_share = row.audit_share;
  s->created_us = row.created_us;
  s->ended = row.state == "ended";
  s->clock = std::make_unique<ReceiptClock>(*options.clock);
  VCP_ASSIGN_OR_RETURN(s->agent, MakeAgent(row.agent_url));
  VCP_ASSIGN_OR_RETURN(std::unique_ptr<EntryLog> entries, db->OpenLeaseLog(row.lease_id));
  VCP_ASSIGN_OR_RETURN(VerifierSession session, VerifierSession::Open(std::move(entries), SessionOptions(*s->clock)));
  s->session.emplace(std::move(session));
  for (const Verdict& v : s->session->verdicts()) CountVerdict(*s, v);
  UpdateLeaseGauges(*s);
  return s;
}

void VerifierService::Impl::StartRunner(LeaseState& s) {
  s.runner = std::thread([this, &s] { RunLease(s); });
}

// =============================================================================================================
// The runner: one thread per lease, walking the protocol from whatever state the database holds.

bool VerifierService::Impl::Stopping() {
  std::lock_guard<std::mutex> lock(stop_mu);
  return stopping;
}

bool VerifierService::Impl::WaitUntil(uint64_t us) {
  std::unique_lock<std::mutex> lock(stop_mu);
  for (;;) {
    if (stopping) return false;
    const uint64_t now = options.clock->NowMicros();
    if (now >= us) return true;
    // At most a second at a time, so a clock other than the steady one (tests) is read again.
    stop_cv.wait_for(lock, std::chrono::microseconds(std::min<uint64_t>(us - now, 1'000'000)));
  }
}

uint64_t VerifierService::Impl::Backoff(uint64_t& next_ms, std::minstd_rand& rng) const {
  // Doubling with +-25% jitter, so leases whose agent went down together do not retry in lockstep.
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  const uint64_t wait = std::max<uint64_t>(1, uint64_t(double(next_ms) * jitter(rng)));
  next_ms = std::min<uint64_t>(next_ms * 2, options.retry_max_ms);
  return wait;
}

void VerifierService::Impl::NetworkEvent(LeaseState& s, uint64_t epoch, std::string_view step,
                                         const Status& unreachable) {
  metrics.Add("vcp_verifierd_agent_unreachable_total", 1, {{"lease", s.short_id}, {"step", std::string(step)}});
  service::NetworkEvent e{
      s.id, epoch, options.clock->NowMicros(), std::string(step), "unreachable", std::string(unreachable.message())};
  if (Status st = db->RecordNetworkEvent(e); !st.ok()) {
    log->Write(LogLevel::kError, "database-error", {{"lease", s.short_id}, {"error", st.ToString()}});
  }
  log->Write(LogLevel::kWarn, "agent-unreachable",
             {{"lease", s.short_id}, {"epoch", epoch}, {"step", step}, {"detail", unreachable.message()}});
}

void VerifierService::Impl::NetworkEvent(LeaseState& s, uint64_t epoch, std::string_view step,
                                         const AgentAnswer& answer) {
  service::NetworkEvent e{
      s.id,        epoch, options.clock->NowMicros(), std::string(step), "http-" + std::to_string(answer.status),
      answer.error};
  if (Status st = db->RecordNetworkEvent(e); !st.ok()) {
    log->Write(LogLevel::kError, "database-error", {{"lease", s.short_id}, {"error", st.ToString()}});
  }
  log->Write(
      LogLevel::kWarn, "agent-error",
      {{"lease", s.short_id}, {"epoch", epoch}, {"step", step}, {"status", answer.status}, {"detail", answer.error}});
}

void VerifierService::Impl::RunLease(LeaseState& s) {
  std::minstd_rand rng(static_cast<uint32_t>(s.id[0] | s.id[1] << 8 | s.id[2] << 16) ^
                       static_cast<uint32_t>(options.clock->NowMicros()));
  bool resuming = true;  // the first pass after Start: an epoch the service was down for is voided
  {
    std::unique_lock<std::mutex> lock(s.mu);
    const bool accepted = s.session->accepted();
    lock.unlock();
    if (!accepted && !OfferUntilAccepted(s, rng)) return;
  }
  const uint64_t deadline = EpochDeadlineUs(s.session->lease());  // lease terms never change
  const uint64_t wait_us = uint64_t{options.response_wait_ms} * 1000;
  while (!Stopping()) {
    enum class Next { kSleep, kSendStart, kSendChallenge, kFetchBeacon, kDone } next = Next::kSleep;
    uint64_t sleep_until = 0, answer_by = 0, epoch = 0;
    EpochStart start;
    Challenge challenge;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      VerifierSession& v = *s.session;
      const Lease& lease = v.lease();
      const uint64_t now = options.clock->NowMicros();
      const VerifierEpoch* open = v.epochs().empty() || v.epochs().back().verdict ? nullptr : &v.epochs().back();
      Status failed = Status::Ok();
      if (resuming && open != nullptr && !open->record && now > open->start.start_us + deadline) {
        // The deadline passed while the service was down: nobody timed this epoch, so it is neither the
        // provider's pass nor its failure.
        Result<Verdict> verdict =
            v.VoidEpoch(Reason::kVoidVerifierDown, "verifierd restarted after the deadline", *key);
        if (verdict.ok()) {
          CountVerdict(s, *verdict);
          LogVerdict(s, *verdict);
          open = nullptr;
        } else {
          failed = verdict.status();
        }
      }
      // A record that arrived before a restart was timed already; only its response is outstanding, and the
      // response's timing proves nothing, so the challenge gets a fresh wait instead of a no-response verdict for
      // the time the service was down.
      const bool fresh_wait = resuming && open != nullptr && open->record;
      resuming = false;
      if (failed.ok() && !fresh_wait) {
        Result<std::optional<Verdict>> overdue = v.CloseOverdueEpoch(*key, wait_us);
        if (!overdue.ok()) {
          failed = overdue.status();
        } else if (*overdue) {
          CountVerdict(s, **overdue);
          LogVerdict(s, **overdue);
          open = nullptr;
        }
      }
      if (failed.ok() && open != nullptr) {
        epoch = open->start.epoch;
        if (!open->record) {
          next = Next::kSendStart;
          start = open->start;
        } else {
          answer_by = open->arrival_us + wait_us;
          if (lease.mode == LeaseMode::kBeacon) {
            const uint64_t round = BeaconRoundFor(lease, open->start.start_us);
            answer_by = std::max(open->arrival_us, lease.beacon_genesis_us + round * lease.beacon_period_us) + wait_us;
          }
          if (fresh_wait) answer_by = std::max(answer_by, now + wait_us);
          if (lease.mode == LeaseMode::kBeacon) {
            next = Next::kFetchBeacon;
          } else if (open->challenge) {
            next = Next::kSendChallenge;
            challenge = *open->challenge;
          } else {
            // The record's arrival was logged but not its challenge (a crash between the two): receiving the same
            // record again issues it.
            Result<RecordOutcome> again = v.ReceiveRecord(Serialize(*open->record), *key);
            if (again.ok() && again->challenge) {
              next = Next::kSendChallenge;
              challenge = *again->challenge;
            } else {
              failed = again.ok() ? Status::Internal("the logged record got no challenge") : again.status();
            }
          }
        }
      } else if (failed.ok()) {
        const uint64_t due = v.ScheduledStartUs();
        if (now >= lease.end_us) {
          EndLease(s);
          next = Next::kDone;
        } else if (due == 0 || due > now) {
          next = Next::kSleep;
          sleep_until = due == 0 ? lease.end_us : std::min(due, lease.end_us);
        } else {
          Result<EpochStart> started = v.StartEpoch(*key, EpochSchedule::kScheduled);
          if (started.ok()) {
            next = Next::kSendStart;
            start = *started;
            epoch = start.epoch;
            log->Write(LogLevel::kInfo, "epoch-started",
                       {{"lease", s.short_id}, {"epoch", start.epoch}, {"deadline_ms", deadline / 1000}});
          } else {
            failed = started.status();
          }
        }
      }
      if (!failed.ok()) {
        // A session or database failure: logged, and tried again later, never in a tight loop.
        log->Write(LogLevel::kError, "lease-error", {{"lease", s.short_id}, {"error", failed.ToString()}});
        next = Next::kSleep;
        sleep_until = now + uint64_t{options.retry_max_ms} * 1000;
      }
    }
    switch (next) {
      case Next::kDone:
        return;
      case Next::kSleep:
        if (!WaitUntil(sleep_until)) return;
        break;
      case Next::kSendStart:
        SendStart(s, start, rng);
        break;
      case Next::kSendChallenge:
        SendChallenge(s, challenge, answer_by, rng);
        break;
      case Next::kFetchBeacon:
        FetchBeaconResponse(s, epoch, answer_by, rng);
        break;
    }
  }
}

void VerifierService::Impl::EndLease(LeaseState& s) {
  if (Status st = db->SetLeaseState(s.id, "ended"); !st.ok()) {
    log->Write(LogLevel::kError, "database-error", {{"lease", s.short_id}, {"error", st.ToString()}});
  }
  s.ended = true;
  log->Write(LogLevel::kInfo, "lease-ended", {{"lease", s.short_id}, {"epochs", s.session->verdicts().size()}});
  UpdateLeaseCounts();
}

bool VerifierService::Impl::OfferUntilAccepted(LeaseState& s, std::minstd_rand& rng) {
  uint64_t backoff_ms = options.retry_initial_ms;
  const Lease lease = s.session->lease();  // immutable once created
  while (!Stopping()) {
    if (options.clock->NowMicros() >= lease.end_us) {
      std::lock_guard<std::mutex> lock(s.mu);
      EndLease(s);
      return false;
    }
    Result<AgentAnswer> answer = s.agent->OfferLease(lease);
    uint64_t wait_ms = options.retry_max_ms;
    if (!answer.ok()) {
      NetworkEvent(s, 0, "offer", answer.status());
      wait_ms = Backoff(backoff_ms, rng);
    } else if (!answer->ok()) {
      NetworkEvent(s, 0, "offer", *answer);
      if (answer->retry_after_s) wait_ms = std::max<uint64_t>(wait_ms, *answer->retry_after_s * 1000);
    } else {
      Result<LeaseAcceptance> acceptance = ParseLeaseAcceptance(answer->body);
      std::lock_guard<std::mutex> lock(s.mu);
      Status st = acceptance.ok() ? s.session->AddAcceptance(*acceptance) : acceptance.status();
      if (st.ok()) {
        log->Write(LogLevel::kInfo, "lease-accepted", {{"lease", s.short_id}, {"agent", s.agent_url}});
        return true;
      }
      log->Write(LogLevel::kError, "acceptance-refused", {{"lease", s.short_id}, {"error", st.ToString()}});
    }
    if (!WaitMs(wait_ms)) return false;
  }
  return false;
}

void VerifierService::Impl::SendStart(LeaseState& s, const EpochStart& start, std::minstd_rand& rng) {
  uint64_t backoff_ms = options.retry_initial_ms;
  const uint64_t deadline_end = start.start_us + EpochDeadlineUs(s.session->lease());
  while (!Stopping()) {
    const uint64_t now = options.clock->NowMicros();
    if (now > deadline_end) return;  // the runner closes it missed
    const int timeout_ms = int(std::min<uint64_t>((deadline_end - now) / 1000 + kReadMarginMs, INT32_MAX));
    Result<AgentAnswer> answer = s.agent->StartEpoch(start, timeout_ms);
    const uint64_t receipt_us = options.clock->NowMicros();
    if (!answer.ok()) {
      NetworkEvent(s, start.epoch, "epoch-start", answer.status());
      const uint64_t left_ms = (deadline_end - std::min(deadline_end, options.clock->NowMicros())) / 1000;
      if (!WaitMs(std::min(Backoff(backoff_ms, rng), left_ms + 1))) return;
      continue;
    }
    if (!answer->ok()) {
      NetworkEvent(s, start.epoch, "epoch-start", *answer);
      // Busy or rate-limited: asked again after the agent's Retry-After while the deadline lasts. Any other
      // refusal stands: the epoch is left to close by the protocol (missed), never retried in a loop.
      if ((answer->status == 429 || answer->status == 503) && answer->retry_after_s) {
        const uint64_t wait_ms = std::max(*answer->retry_after_s * 1000, Backoff(backoff_ms, rng));
        if (!WaitUntil(std::min(options.clock->NowMicros() + wait_ms * 1000, deadline_end + kPastDeadlineUs))) return;
        continue;
      }
      WaitUntil(deadline_end + kPastDeadlineUs);
      return;
    }
    std::lock_guard<std::mutex> lock(s.mu);
    s.clock->Pin(receipt_us);
    Result<RecordOutcome> outcome = s.session->ReceiveRecord(answer->body, *key);
    s.clock->Unpin();
    if (!outcome.ok()) {
      log->Write(LogLevel::kError, "record-error",
                 {{"lease", s.short_id}, {"epoch", start.epoch}, {"error", outcome.status().ToString()}});
    } else if (outcome->verdict) {
      CountVerdict(s, *outcome->verdict);
      LogVerdict(s, *outcome->verdict);
      return;
    } else if (outcome->finding.ok()) {
      log->Write(LogLevel::kInfo, "record-received",
                 {{"lease", s.short_id},
                  {"epoch", start.epoch},
                  {"window_ms", double(receipt_us - std::min(receipt_us, start.start_us)) / 1000}});
      return;  // the runner sends the challenge (or waits for the beacon)
    } else {
      // Refused without closing the epoch (not the provider's signature, or another epoch's record).
      log->Write(LogLevel::kWarn, "record-refused",
                 {{"lease", s.short_id},
                  {"epoch", start.epoch},
                  {"reason", ReasonName(outcome->finding.reason)},
                  {"detail", outcome->finding.detail}});
    }
    break;
  }
  WaitUntil(deadline_end + kPastDeadlineUs);
}

Status VerifierService::Impl::Verify(LeaseState& s, const std::vector<uint8_t>& response) {
  Status status = Status::Ok();
  pool->Run([&] {
    std::lock_guard<std::mutex> lock(s.mu);
    Result<ResponseOutcome> outcome = s.session->ReceiveResponse(response, *key);
    if (!outcome.ok()) {
      status = outcome.status();
    } else if (outcome->verdict) {
      if (!outcome->already_given) {
        CountVerdict(s, *outcome->verdict);
        LogVerdict(s, *outcome->verdict);
      }
    } else {
      status = Status::Rejected("response refused: " + std::string(ReasonName(outcome->finding.reason)) + ": " +
                                outcome->finding.detail);
    }
  });
  return status;
}

void VerifierService::Impl::SendChallenge(LeaseState& s, const Challenge& challenge, uint64_t answer_by_us,
                                          std::minstd_rand& rng) {
  uint64_t backoff_ms = options.retry_initial_ms;
  while (!Stopping()) {
    const uint64_t now = options.clock->NowMicros();
    if (now > answer_by_us) return;  // the runner closes it no-response
    const int timeout_ms = int(std::min<uint64_t>((answer_by_us - now) / 1000 + kReadMarginMs, INT32_MAX));
    Result<AgentAnswer> answer = s.agent->SendChallenge(challenge, timeout_ms);
    if (!answer.ok()) {
      NetworkEvent(s, challenge.epoch, "challenge", answer.status());
      if (!WaitMs(Backoff(backoff_ms, rng))) return;
      continue;
    }
    if (!answer->ok()) {
      NetworkEvent(s, challenge.epoch, "challenge", *answer);
      if ((answer->status == 429 || answer->status == 503) && answer->retry_after_s) {
        if (!WaitMs(std::max(*answer->retry_after_s * 1000, Backoff(backoff_ms, rng)))) return;
        continue;
      }
      break;
    }
    const Status verified = Verify(s, answer->body);
    if (verified.ok()) return;
    log->Write(LogLevel::kWarn, "response-error",
               {{"lease", s.short_id}, {"epoch", challenge.epoch}, {"error", verified.ToString()}});
    break;
  }
  WaitUntil(answer_by_us + kPastDeadlineUs);
}

void VerifierService::Impl::FetchBeaconResponse(LeaseState& s, uint64_t epoch, uint64_t answer_by_us,
                                                std::minstd_rand& rng) {
  uint64_t backoff_ms = options.retry_initial_ms;
  const Hash32 lease_id = s.id;
  while (!Stopping()) {
    const uint64_t now = options.clock->NowMicros();
    if (now > answer_by_us) return;
    const int timeout_ms = int(std::min<uint64_t>((answer_by_us - now) / 1000 + kReadMarginMs, INT32_MAX));
    Result<AgentAnswer> answer = s.agent->FetchBeaconResponse(lease_id, epoch, timeout_ms);
    if (!answer.ok()) {
      NetworkEvent(s, epoch, "beacon-response", answer.status());
      if (!WaitMs(Backoff(backoff_ms, rng))) return;
      continue;
    }
    if (answer->status == 503) {
      // The beacon round is not published yet: expected, not a network fault.
      if (!WaitMs(answer->retry_after_s ? *answer->retry_after_s * 1000 : Backoff(backoff_ms, rng))) return;
      continue;
    }
    if (!answer->ok()) {
      NetworkEvent(s, epoch, "beacon-response", *answer);
      break;
    }
    const Status verified = Verify(s, answer->body);
    if (verified.ok()) return;
    if (verified.code() == StatusCode::kUnavailable) {
      // The agent saw the round before the service's copy of the beacon did.
      if (!WaitMs(Backoff(backoff_ms, rng))) return;
      continue;
    }
    log->Write(LogLevel::kWarn, "response-error",
               {{"lease", s.short_id}, {"epoch", epoch}, {"error", verified.ToString()}});
    break;
  }
  WaitUntil(answer_by_us + kPastDeadlineUs);
}

// =============================================================================================================
// Bookkeeping.

void VerifierService::Impl::CountVerdict(LeaseState& s, const Verdict& verdict) {
  const VerdictOutcome outcome = OutcomeOf(verdict.reason);
  metrics.Add("vcp_verifierd_lease_epochs_total", 1,
              {{"lease", s.short_id}, {"outcome", std::string(VerdictOutcomeName(outcome))}});
  if (outcome == VerdictOutcome::kFail) {
    metrics.Add("vcp_verifierd_lease_failures_total", 1,
                {{"lease", s.short_id}, {"reason", std::string(ReasonName(verdict.reason))}});
  }
  UpdateLeaseGauges(s);
}

void VerifierService::Impl::UpdateLeaseGauges(LeaseState& s) {
  const LeaseReport report = s.session->Report(options.clock->NowMicros(), options.confidence);
  const service::Labels lease = {{"lease", s.short_id}};
  metrics.Add("vcp_verifierd_lease_proven_operations_total",
              double(report.proven_operations - std::min(report.proven_operations, s.counted_operations)), lease);
  s.counted_operations = std::max(s.counted_operations, report.proven_operations);
  metrics.Set("vcp_verifierd_lease_median_proven_rate", report.median_rate_per_device, lease);
  metrics.Set("vcp_verifierd_lease_availability_lower_bound", report.availability_lower_bound, lease);
}

void VerifierService::Impl::LogVerdict(LeaseState& s, const Verdict& verdict) {
  const VerdictOutcome outcome = OutcomeOf(verdict.reason);
  log->Write(outcome == VerdictOutcome::kFail ? LogLevel::kWarn : LogLevel::kInfo, "epoch-closed",
             {{"lease", s.short_id},
              {"epoch", verdict.epoch},
              {"outcome", VerdictOutcomeName(outcome)},
              {"reason", ReasonName(verdict.reason)},
              {"detail", verdict.detail}});
}

void VerifierService::Impl::UpdateLeaseCounts() {
  std::lock_guard<std::mutex> lock(leases_mu);
  double active = 0, ended = 0;
  for (const auto& [id, s] : leases) (s->ended ? ended : active) += 1;
  metrics.Set("vcp_verifierd_leases", active, {{"state", "active"}});
  metrics.Set("vcp_verifierd_leases", ended, {{"state", "ended"}});
}

// =============================================================================================================
// The API.

namespace {

// The secret schedule's random bursts must fit in the agent's rate limit, or an honest provider gets refused starts
// (429) that the verdicts count as missed: at most half the agent's max_audit_share (docs/API.md 2.3 computes the
// refusal probability). An agent that cannot be asked now is not held against the lease: its runner offers it later.
Status CheckAuditShareFits(service::AgentClient& agent, double audit_share) {
  Result<service::AgentAnswer> info = agent.Info();
  if (!info.ok() || !info->ok()) return Status::Ok();
  const nlohmann::json j = nlohmann::json::parse(info->body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("max_audit_share") || !j["max_audit_share"].is_number()) return Status::Ok();
  const double agent_max = j["max_audit_share"].get<double>();
  if (audit_share <= agent_max / 2) return Status::Ok();
  return Status::InvalidArgument(
      "audit share " + std::to_string(audit_share) + " is more than half the agent's max_audit_share " +
      std::to_string(agent_max) + ": the secret schedule's random bursts would run into the agent's rate limit and "
      "count as missed epochs; allowed: at most " + std::to_string(agent_max / 2) +
      " (or raise the agent's max_audit_share)");
}

}  // namespace

Result<Hash32> VerifierService::Impl::AddLease(const LeaseRequest& r) {
  if (Stopping()) return Status::Unavailable("verifierd is shutting down; add the lease after it restarts");
  Lease terms;
  terms.mode = r.mode;
  terms.provider_key = r.provider_key;
  terms.workload = r.workload;
  terms.workload.seed = {};
  terms.devices = r.devices;
  terms.rounds_per_epoch = r.rounds;
  terms.samples_per_epoch = r.samples ? r.samples : MinSamples(r.mode);
  terms.claimed_ops_per_second_per_device = r.claimed_ops_per_second_per_device;
  terms.slack_ppm = r.slack_ppm;
  terms.network_allowance_us = r.network_allowance_us;
  terms.start_us = r.start_us ? r.start_us : options.clock->NowMicros();
  if (r.duration_us == 0) return Status::InvalidArgument("the lease needs a duration (duration_s > 0)");
  terms.end_us = terms.start_us + r.duration_us;
  if (r.mode == LeaseMode::kBeacon) {
    if (!beacon) {
      return Status::InvalidArgument(
          "a beacon-mode lease needs the service's beacon file (\"beacon_file\" in the "
          "config); this service has none");
    }
    terms.beacon_name = beacon->name();
    terms.beacon_genesis_us = beacon->genesis_us();
    terms.beacon_period_us = beacon->period_us();
  }
  auto s = std::make_unique<LeaseState>();
  VCP_ASSIGN_OR_RETURN(s->agent, MakeAgent(r.agent_url));
  VCP_RETURN_IF_ERROR(CheckAuditShareFits(*s->agent, r.audit_share));
  s->agent_url = r.agent_url;
  s->audit_share = r.audit_share;
  s->created_us = options.clock->NowMicros();
  s->clock = std::make_unique<ReceiptClock>(*options.clock);
  VCP_ASSIGN_OR_RETURN(std::unique_ptr<EntryLog> entries, db->CreateLeaseLog(r.agent_url, r.audit_share));
  VCP_ASSIGN_OR_RETURN(VerifierSession session, VerifierSession::Create(std::move(entries), terms, *key, r.audit_share,
                                                                        SessionOptions(*s->clock)));
  s->session.emplace(std::move(session));
  s->id = s->session->lease_id();
  s->short_id = ShortId(s->id);
  log->Write(LogLevel::kInfo, "lease-added",
             {{"lease", s->short_id}, {"agent", r.agent_url}, {"deadline_ms", EpochDeadlineUs(terms) / 1000}});

  // One offer now, so that a refusal reaches the caller; an agent that cannot be reached is offered the lease
  // again by the runner.
  Status refused = Status::Ok();
  Result<AgentAnswer> answer = s->agent->OfferLease(s->session->lease());
  if (!answer.ok()) {
    NetworkEvent(*s, 0, "offer", answer.status());
  } else if (!answer->ok()) {
    NetworkEvent(*s, 0, "offer", *answer);
    refused = Status::Rejected("the agent at " + r.agent_url + " refused the lease: " + answer->Describe());
  } else {
    Result<LeaseAcceptance> acceptance = ParseLeaseAcceptance(answer->body);
    refused = acceptance.ok() ? s->session->AddAcceptance(*acceptance) : acceptance.status();
    if (!refused.ok()) {
      refused = Status::Rejected("the agent at " + r.agent_url +
                                 " answered the offer with a bad acceptance: " + refused.ToString());
    } else {
      log->Write(LogLevel::kInfo, "lease-accepted", {{"lease", s->short_id}, {"agent", r.agent_url}});
    }
  }
  const Hash32 id = s->id;
  LeaseState& state = *s;
  {
    std::lock_guard<std::mutex> lock(state.mu);
    if (refused.ok()) {
      UpdateLeaseGauges(state);
    } else {
      EndLease(state);
    }
  }
  {
    // The runner starts under the map's lock, so Shutdown (which sets `stopping` and then collects the runners
    // under that lock) either sees this runner or this call sees `stopping`.
    std::lock_guard<std::mutex> lock(leases_mu);
    leases.emplace(id, std::move(s));
    if (refused.ok() && !Stopping()) StartRunner(state);
  }
  UpdateLeaseCounts();
  if (!refused.ok()) return refused;
  return id;
}

LeaseState* VerifierService::Impl::Find(const Hash32& id) {
  std::lock_guard<std::mutex> lock(leases_mu);
  auto it = leases.find(id);
  return it == leases.end() ? nullptr : it->second.get();
}

json VerifierService::Impl::Summary(LeaseState& s) {
  const VerifierSession& v = *s.session;
  const LeaseReport report = v.Report(options.clock->NowMicros(), options.confidence);
  const bool open = !v.epochs().empty() && !v.epochs().back().verdict;
  return {{"lease_id", ToHex(s.id)},
          {"agent_url", s.agent_url},
          {"state", s.ended ? "ended" : "active"},
          {"accepted", v.accepted()},
          {"mode", LeaseModeName(v.lease().mode)},
          {"devices", v.lease().devices},
          {"start_us", v.lease().start_us},
          {"end_us", v.lease().end_us},
          {"deadline_ms", double(EpochDeadlineUs(v.lease())) / 1000},
          {"epochs", report.epochs},
          {"passed", report.scheduled.passed + report.on_demand.passed},
          {"failed", report.scheduled.failed + report.on_demand.failed},
          {"missed", report.scheduled.missed + report.on_demand.missed},
          {"void", report.void_epochs},
          {"open_epoch", open ? json(v.epochs().back().start.epoch) : json(nullptr)},
          {"availability_lower_bound", report.availability_lower_bound}};
}

json VerifierService::Impl::NetworkJson(LeaseState& s, const std::vector<Verdict>& verdicts) {
  Result<std::vector<service::NetworkEvent>> events = db->NetworkEvents(s.id);
  std::vector<service::NetworkEvent> list = events.ok() ? std::move(*events) : std::vector<service::NetworkEvent>{};
  // Per epoch: whether every recorded attempt to deliver its start got no HTTP answer.
  std::map<uint64_t, bool> start_unreachable;
  for (const service::NetworkEvent& e : list) {
    if (e.step != "epoch-start") continue;
    auto [it, fresh] = start_unreachable.emplace(e.epoch, true);
    it->second = it->second && e.outcome == "unreachable";
  }
  uint64_t unreachable = 0, late = 0, failed = 0, missed_reachable = 0;
  for (const Verdict& v : verdicts) {
    if (v.reason == Reason::kMissed) {
      auto it = start_unreachable.find(v.epoch);
      (it != start_unreachable.end() && it->second ? unreachable : missed_reachable) += 1;
    } else if (v.reason == Reason::kLate) {
      ++late;
    } else if (OutcomeOf(v.reason) == VerdictOutcome::kFail) {
      ++failed;
    }
  }
  json recent = json::array();
  for (size_t i = list.size() > kReportEvents ? list.size() - kReportEvents : 0; i < list.size(); ++i) {
    recent.push_back({{"epoch", list[i].epoch},
                      {"at_us", list[i].at_us},
                      {"step", list[i].step},
                      {"outcome", list[i].outcome},
                      {"detail", list[i].detail}});
  }
  json j = {{"unreachable_epochs", unreachable},
            {"late", late},
            {"failed", failed},
            {"missed_reachable", missed_reachable},
            {"events_total", list.size()},
            {"events", recent},
            {"explanation",
             "unreachable epochs: the service never got an HTTP answer to any attempt to deliver the epoch's start "
             "within its deadline; their signed verdicts still say missed, because voiding them would let a "
             "provider dodge audits by dropping connections. late: the record arrived after the deadline; failed: "
             "every other failing reason; missed_reachable: missed with the agent answering (an error or nothing "
             "in time)."}};
  if (!events.ok()) j["error"] = events.status().ToString();
  return j;
}

namespace {

HttpResponse Error(int http_status, const Status& status) { return service::ErrorResponse(http_status, status); }

Result<Hash32> LeaseIdFromPath(const HttpRequest& request) {
  if (request.captures.empty()) return Status::InvalidArgument("no lease id in the path");
  return FixedFromHex<32>(request.captures[0], "lease id");
}

}  // namespace

HttpResponse VerifierService::Impl::HandleAddLease(const HttpRequest& request) {
  if (request.content_type != service::kJsonMediaType) {
    return Error(415, Status::InvalidArgument("POST /v1/leases takes a JSON body (Content-Type application/json), "
                                              "not \"" +
                                              request.content_type + "\""));
  }
  const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Error(400, Status::Corrupt("the body is not valid JSON"));
  Result<LeaseRequest> parsed = service::ParseLeaseRequestJson(body);
  if (!parsed.ok()) return Error(400, parsed.status());
  Result<Hash32> id = AddLease(*parsed);
  if (!id.ok()) {
    const int http_status = id.status().code() == StatusCode::kRejected ? 502 : service::HttpStatusFor(id.status());
    return Error(http_status, id.status());
  }
  LeaseState* s = Find(*id);
  std::lock_guard<std::mutex> lock(s->mu);
  const Lease& lease = s->session->lease();
  const LeasePlan plan = PlanLease(lease, s->audit_share, options.confidence);
  return service::JsonResponse(201, {{"lease_id", ToHex(*id)},
                                     {"accepted", s->session->accepted()},
                                     {"deadline_ms", double(EpochDeadlineUs(lease)) / 1000},
                                     {"terms", LeaseTermsJson(lease)},
                                     {"plan",
                                      {{"lease_hours", plan.lease_hours},
                                       {"audit_share", plan.audit_share},
                                       {"confidence", plan.confidence},
                                       {"expected_scheduled_epochs", plan.expected_scheduled_epochs},
                                       {"availability_bound", plan.perfect_bound},
                                       {"gpu_hours", plan.perfect_gpu_hours},
                                       {"explanation", plan.explanation}}}});
}

HttpResponse VerifierService::Impl::HandleList() {
  std::vector<LeaseState*> all;
  {
    std::lock_guard<std::mutex> lock(leases_mu);
    for (auto& [id, s] : leases) all.push_back(s.get());
  }
  std::sort(all.begin(), all.end(),
            [](const LeaseState* a, const LeaseState* b) { return a->created_us < b->created_us; });
  json list = json::array();
  for (LeaseState* s : all) {
    std::lock_guard<std::mutex> lock(s->mu);
    list.push_back(Summary(*s));
  }
  return service::JsonResponse(200, {{"leases", list}});
}

HttpResponse VerifierService::Impl::HandleLease(const HttpRequest& request) {
  Result<Hash32> id = LeaseIdFromPath(request);
  if (!id.ok()) return Error(400, id.status());
  LeaseState* s = Find(*id);
  if (s == nullptr) return Error(404, Status::InvalidArgument("no lease " + ToHex(*id) + " in this verifierd"));
  std::lock_guard<std::mutex> lock(s->mu);
  json j = Summary(*s);
  j["lease"] = MessageObject(s->session->lease());
  j["terms"] = LeaseTermsJson(s->session->lease());
  j["audit_share"] = s->audit_share;
  j["created_us"] = s->created_us;
  return service::JsonResponse(200, j);
}

HttpResponse VerifierService::Impl::HandleReport(const HttpRequest& request) {
  Result<Hash32> id = LeaseIdFromPath(request);
  if (!id.ok()) return Error(400, id.status());
  LeaseState* s = Find(*id);
  if (s == nullptr) return Error(404, Status::InvalidArgument("no lease " + ToHex(*id) + " in this verifierd"));
  std::unique_lock<std::mutex> lock(s->mu);
  const uint64_t now = options.clock->NowMicros();
  const LeaseReport report = s->session->Report(now, options.confidence);
  std::vector<Verdict> verdicts = s->session->verdicts();
  // Report() counts an overdue open epoch as what the runner will sign at its next tick; list it too, marked unsigned
  // by ReportJson, so the counts and the rows agree.
  const std::optional<Verdict> overdue = s->session->OverdueVerdict(now, s->session->options().response_wait_us);
  if (overdue) verdicts.push_back(*overdue);
  json j = ReportJson(s->session->lease(), report, verdicts);
  j["state"] = s->ended ? "ended" : "active";
  j["accepted"] = s->session->accepted();
  lock.unlock();
  j["network"] = NetworkJson(*s, verdicts);
  return service::JsonResponse(200, j);
}

HttpResponse VerifierService::Impl::HandleEvidence(const HttpRequest& request) {
  Result<Hash32> id = LeaseIdFromPath(request);
  if (!id.ok()) return Error(400, id.status());
  if (Find(*id) == nullptr) return Error(404, Status::InvalidArgument("no lease " + ToHex(*id) + " in this verifierd"));
  Result<std::vector<uint8_t>> image = db->ExportVerifierLog(*id);
  if (!image.ok()) return Error(service::HttpStatusFor(image.status()), image.status());
  HttpResponse response;
  response.status = 200;
  response.content_type = "application/octet-stream";
  response.body.assign(image->begin(), image->end());
  response.headers.push_back({"Content-Disposition", "attachment; filename=\"verifier.log\""});
  return response;
}

std::vector<service::Route> VerifierService::Impl::Routes() {
  const std::string lease = "/v1/leases/([0-9a-fA-F]{64})";
  return {
      {"GET", "/healthz",
       [](const HttpRequest&) {
         HttpResponse r;
         r.content_type = "text/plain";
         r.body = "ok\n";
         return r;
       }},
      {"GET", "/metrics",
       [this](const HttpRequest&) {
         HttpResponse r;
         r.content_type = std::string(service::kMetricsMediaType);
         r.body = metrics.Render();
         return r;
       }},
      {"POST", "/v1/leases", [this](const HttpRequest& r) { return HandleAddLease(r); }},
      {"GET", "/v1/leases", [this](const HttpRequest&) { return HandleList(); }},
      {"GET", lease, [this](const HttpRequest& r) { return HandleLease(r); }},
      {"GET", lease + "/report", [this](const HttpRequest& r) { return HandleReport(r); }},
      {"GET", lease + "/evidence", [this](const HttpRequest& r) { return HandleEvidence(r); }},
  };
}

void VerifierService::Impl::Shutdown() {
  std::call_once(shutdown_once, [this] {
    {
      std::lock_guard<std::mutex> lock(stop_mu);
      stopping = true;
    }
    stop_cv.notify_all();
    // Runners first (each finishes the exchange in flight and commits what it got), then the pool they may wait
    // on, then the server, whose handlers read the sessions.
    std::vector<std::thread*> runners;
    {
      std::lock_guard<std::mutex> lock(leases_mu);
      for (auto& [id, s] : leases) runners.push_back(&s->runner);
    }
    for (std::thread* t : runners) {
      if (t->joinable()) t->join();
    }
    if (pool) pool->Stop();
    if (server) {
      server->Stop();
      log->Write(LogLevel::kInfo, "shutdown", {{"leases", runners.size()}});
    }
  });
}

// =============================================================================================================

VerifierService::VerifierService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VerifierService::~VerifierService() {
  if (impl_) impl_->Shutdown();
}

Result<std::unique_ptr<VerifierService>> VerifierService::Start(VerifierServiceOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (Status st = impl->Init(); !st.ok()) {
    impl->Shutdown();
    return st;
  }
  return std::unique_ptr<VerifierService>(new VerifierService(std::move(impl)));
}

uint16_t VerifierService::port() const { return impl_->server ? impl_->server->port() : 0; }

Result<Hash32> VerifierService::AddLease(const LeaseRequest& request) { return impl_->AddLease(request); }

void VerifierService::Shutdown() { impl_->Shutdown(); }

}  // namespace vcp
