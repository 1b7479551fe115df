// vcp/verifierd.h: the renter's audit service (`vcp verifierd run`, docs/API.md section 3). It holds many leases
// with many providers, each offered to the provider's agent (vcp/agent.h) over HTTPS, and runs every lease's
// secret audit schedule on its own: epoch start, the record timed on the service's clock at receipt, the
// challenge, the response checked on a pool of worker threads, the signed verdict.
//
// Storage: one SQLite database (lib/service/verifier_db.h) holds every lease's entry log, and each lease runs the
// library's VerifierSession over it, so the protocol's rule holds in the database: every message is committed
// before it is sent. A restart after kill -9 resumes every active lease from the database: an open epoch whose
// start may not have reached the agent is sent again while its deadline lasts (the agent answers the same start
// with the same record), an issued challenge is sent again (the same response), an epoch whose deadline passed
// while the service was down is voided void-verifier-down (nobody timed it: neither a pass nor the provider's
// failure). Nothing acknowledged is lost and nothing is counted twice.
//
// Network faults are not provider faults, but they do not stop the clock: an agent that cannot be reached is
// retried with backoff while the epoch's deadline lasts, each attempt recorded as a network event; the epoch's
// signed verdict still says missed (voiding it would let a provider dodge audits by dropping connections) and the
// report separates unreachable from late and failed epochs.
//
// Ownership: VerifierService owns its database, its lease runner threads, its verification pool and its HTTP
// server; options' clock is borrowed and must outlive it. Thread safety: AddLease, port() and Shutdown() may be
// called from any thread; Shutdown is idempotent and the destructor calls it. Errors: Status / Result; Start
// names what could not be opened (database, key, TLS files, beacon file, listen address), AddLease the term or
// the agent's refusal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "vcp/beacon.h"
#include "vcp/hash.h"
#include "vcp/keys.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/workload.h"
#include "vcp/export.h"

namespace vcp {

struct VCP_EXPORT VerifierServiceOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8444;              // 0 = any free port (tests); port() tells which
  std::string tls_cert_file, tls_key_file;  // both or neither; required unless the host is loopback or ...
  bool allow_plain_http = false;            // ... plain HTTP is allowed explicitly
  std::filesystem::path database;           // SQLite file, created with its parent's permissions
  std::filesystem::path verifier_key;       // vcp.key file or the directory vcp keygen wrote (ResolveSecretKey)
  std::string agent_ca_file;                // CA the agents' certificates chain to ("" = the system's bundle)
  bool allow_plain_agents = false;          // http:// agent URLs off loopback (on loopback they are always allowed)
  uint32_t verify_threads = 1;              // worker pool that checks responses (recomputes the sampled tiles)
  uint32_t retry_initial_ms = 200, retry_max_ms = 5000;  // backoff for unreachable agents (doubling, jitter)
  uint32_t response_wait_ms = 30000;  // after the record: how long the response may take before no-response
  std::filesystem::path beacon_file;  // beacon-mode leases: the beacon (vcp/beacon.h FileBeaconSource)
  double confidence = 0.95;           // of the availability bound in reports and metrics
  std::string log_level = "info";     // debug | info | warn | error (JSON lines on stderr)
  const Clock* clock = &SystemClock();
};

// Reads a JSON object whose keys are the option names above ("listen_host", "listen_port", "tls_cert_file",
// "tls_key_file", "allow_plain_http", "database", "verifier_key", "agent_ca_file", "allow_plain_agents",
// "verify_threads", "retry_initial_ms", "retry_max_ms", "response_wait_ms", "beacon_file", "confidence",
// "log_level"; not the clock); keys not given keep their defaults. Relative paths are taken from the config file's
// directory. kInvalidArgument for an unknown key (naming the allowed ones) or a wrong type; kIoError when the file
// cannot be read; kCorrupt when it is not JSON. Ranges are checked by Start.
VCP_EXPORT Result<VerifierServiceOptions> LoadVerifierServiceConfig(const std::filesystem::path& file);
// The same over the file's text, already read: `file` names it in errors and its directory anchors relative paths;
// nothing is read.
VCP_EXPORT Result<VerifierServiceOptions> ParseVerifierServiceConfig(std::string_view text,
                                                                      const std::filesystem::path& file);

// The terms of a new lease; the service adds its key, a fresh nonce and the signature (VerifierSession::Create).
struct VCP_EXPORT LeaseRequest {
  std::string agent_url;  // "https://host:port" of the provider's agent
  PublicKey provider_key{};
  LeaseMode mode = LeaseMode::kInteractive;  // beacon mode takes the beacon from the options' beacon_file
  WorkloadParams workload;                   // kind, m, n, k, tile (the seed is not a lease term)
  uint8_t devices = 1;
  uint32_t rounds = 8;
  uint32_t samples = 0;  // 0 = MinSamples(mode)
  uint64_t claimed_ops_per_second_per_device = 0;
  uint32_t slack_ppm = kDefaultSlackPpm;
  uint64_t network_allowance_us = 0;
  uint64_t start_us = 0;  // 0 = now (the service's clock)
  uint64_t duration_us = 0;
  double audit_share = 0.02;  // same default as `vcp lease new`
};

class VCP_EXPORT VerifierService {
 public:
  // Opens (or creates) the database, loads the key, resumes every active lease, then serves the API. The JSON log
  // line {"event":"listening","port":N} is written once the server accepts connections.
  static Result<std::unique_ptr<VerifierService>> Start(VerifierServiceOptions options);
  uint16_t port() const;
  // Creates the lease (database), offers it to the agent and records its signed acceptance, then runs it. An agent
  // that cannot be reached now is offered the lease again with backoff by the lease's runner (the lease id is
  // returned, not yet accepted). An agent that answers the offer with an error refuses the lease: kRejected with
  // the agent's HTTP status and error text, and the lease is ended. Terms the library refuses: kInvalidArgument,
  // nothing stored.
  Result<Hash32> AddLease(const LeaseRequest& request);
  // Stops every lease runner at a safe point (an exchange in flight with an agent is finished first; what it
  // returns is committed or, if the runner stops before, asked for again on the next start), then the server.
  void Shutdown();
  ~VerifierService();

  VerifierService(const VerifierService&) = delete;
  VerifierService& operator=(const VerifierService&) = delete;

  struct Impl;

 private:
  explicit VerifierService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vcp
