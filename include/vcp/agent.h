// vcp/agent.h: the provider's daemon (`vcp agent run`): serves the lease protocol over HTTP/1.1 (TLS unless the
// listen address is loopback or plain HTTP is allowed explicitly), one ProviderSession per lease, each in its own
// crash-safe store under state_dir/leases/<lease id hex>/. docs/API.md section 2 lists every endpoint, status code
// and error body; docs/PROTOCOL.md defines the messages the bodies carry.
//
//   verifier                                         agent
//   POST /v1/leases            Lease          ---->  authorized key? terms? -> ProviderSession::Accept
//                                             <----  LeaseAcceptance
//   POST /v1/leases/ID/epochs  EpochStart     ---->  signature, rate limit, one epoch at a time -> Prove
//                                             <----  EpochRecord (the moment it is signed: long poll)
//   POST /v1/leases/ID/challenges Challenge   ---->  Respond
//                                             <----  EpochResponse
//   GET  /v1/leases/ID/epochs/N/response      ---->  beacon mode: RespondBeacon (503 until the round is out)
//
// What protects the devices from a hostile or buggy verifier: only keys in the authorized-keys file may open a
// lease, and every later message must carry that lease's verifier signature, checked before any work; a lease
// runs at most one epoch at a time (the same start again joins the running one, another start is refused);
// epoch starts are rate limited per lease by a token bucket that lets epochs take at most max_audit_share of wall
// time, with bursts of burst_epochs; bodies, headers, connections and request times are bounded.
//
// Crash safety is the sessions': every ProviderSession call logs before it returns, so whatever the agent answered
// survives a kill, and Start reopens every store (an epoch interrupted before its record runs again when the
// verifier sends its start again).
//
// Ownership: Start returns the only owner of the agent; it owns its sessions, keys, server and threads. Thread
// safety: port() from any thread; Shutdown from one thread (a signal-handling thread), once; the destructor shuts
// down with no grace. Errors: Start and LoadAgentConfig return Status (a bad key or authorized-keys file, a config
// or option out of range, a TLS file missing or needed, a store that will not open, a port in use); requests
// are answered with HTTP errors and never stop the agent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "vcp/engine.h"
#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

struct VCP_EXPORT AgentOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8443;  // 0 = any free port (tests); port() tells which
  // Both or neither. Without them the agent serves plain HTTP, which Start allows only on a loopback address
  // (127.0.0.0/8, ::1, localhost) or with allow_plain_http.
  std::string tls_cert_file, tls_key_file;
  bool allow_plain_http = false;
  std::filesystem::path state_dir;        // leases/<lease id hex>/: one provider store per lease (created)
  std::filesystem::path provider_key;     // vcp.key, or the directory holding it (ResolveSecretKey)
  std::filesystem::path authorized_keys;  // verifier public keys allowed to offer leases (format: docs/API.md 2.1)
  BackendChoice backend = BackendChoice::kAuto;
  int threads = 0;         // CPU engine threads; 0 = all hardware threads
  bool keep_leaves = true;  // ProverOptions::keep_leaves
  // Epoch starts of one lease are rate limited by a token bucket in microseconds of epoch time: it holds at most
  // burst_epochs x D (D = the lease's epoch deadline), refills at max_audit_share microseconds per microsecond of
  // wall time, starts full, and a start that will run costs D. A start without enough is answered 429 with
  // Retry-After. 0 < max_audit_share <= 1; 1 <= burst_epochs <= 1000.
  double max_audit_share = 0.5;
  uint32_t burst_epochs = 16;  // docs/API.md 2.3: why 16 keeps an honest verifier's random schedule inside it
  size_t max_body_bytes = 1 << 20;  // larger request bodies: 413, not read
  size_t max_connections = 32;      // HTTP workers; must exceed the leases running epochs at once
  int request_timeout_s = 30;       // socket read / write timeout (an epoch's own run is not bounded by it)
  std::filesystem::path beacon_file;  // beacon-mode leases answer from this FileBeaconSource; "" = none accepted
  uint32_t readiness_cache_s = 30;    // /readyz reruns its device check at most this often
  // Shutdown's wait for challenges still due: an interactive epoch whose record was sent is answered only if its
  // challenge arrives, which an honest verifier sends within milliseconds of the record. After the last running
  // epoch ends, Shutdown waits at most this long (and never past its grace) for those challenges. 0 = no wait;
  // at most 60000.
  uint32_t challenge_wait_ms = 2000;
  // TESTS ONLY: skip this fraction of every epoch's tiles (SimulateLazyLeaves), to show the verifier catches it;
  // 0 = honest. Logged as a warning at start.
  double simulate_lazy_fraction = 0;
  std::string log_level = "info";  // debug | info | warn | error
};

// Reads a JSON object whose keys are the option names above ("listen_host", "listen_port", "tls_cert_file", ...,
// backend as "auto" | "cpu" | "cuda"); keys not given keep their defaults, and the required paths (state_dir,
// provider_key, authorized_keys) may be left to flags: Start refuses options without them. Relative paths are taken
// relative to the config file's directory. kInvalidArgument for an unknown key (naming the allowed keys), a wrong
// type or a value out of range; kIoError when the file cannot be read; kCorrupt when it is not JSON.
VCP_EXPORT Result<AgentOptions> LoadAgentConfig(const std::filesystem::path& file);
// The same over the file's text, already read (LoadAgentConfig reads at most 1 MiB and calls this): `file` names it
// in errors and its directory anchors relative paths; nothing is read.
VCP_EXPORT Result<AgentOptions> ParseAgentConfig(std::string_view text, const std::filesystem::path& file);

class VCP_EXPORT Agent {
 public:
  // Checks the options, loads the provider key and the authorized keys, lists the backend's devices, reopens
  // every lease under state_dir/leases, and starts serving. Logs "started" and then {"event":"listening",
  // "port":N} (JSON lines on stderr) once the server accepts connections.
  static Result<std::unique_ptr<Agent>> Start(AgentOptions options);

  uint16_t port() const;

  // Graceful stop: new leases and epoch starts are refused with 503 from now on (challenges and beacon responses
  // for epochs already proven are still answered), epochs running now get up to grace_s seconds to finish and
  // answer, interactive epochs whose records were sent get up to challenge_wait_ms more (within the grace) for
  // their challenges, then the server stops. Returns the number of epochs still running after the grace, which are
  // abandoned: their starts are logged but not their records, so the verifier's resent start runs them again
  // after a restart. With a nonzero return the server is stopped only when those runs end (the destructor waits for
  // them); a process that must exit now may do so without losing anything acknowledged. Later calls return 0.
  size_t Shutdown(uint32_t grace_s);

  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

 private:
  struct Impl;  // lib/service/agent.cpp
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vcp
