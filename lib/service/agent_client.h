// lib/service/agent_client.h: the verifier service's side of the agent's API (docs/API.md section 2): one call
// per protocol step, each posting the canonical signed message and handing back the agent's answer.
//
// Ownership: an AgentClient owns its HttpClient. Thread safety: every call may run on any thread (the HTTP
// client opens a connection per call). Errors: a call returns OK with an AgentAnswer for any HTTP answer (an
// error status included: the caller records it and lets the protocol close the epoch), and kUnavailable when no
// answer came (connection refused, timed out, TLS failure), which the caller retries with backoff.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/http.h"
#include "vcp/hash.h"
#include "vcp/protocol.h"
#include "vcp/status.h"

namespace vcp::service {

struct AgentAnswer {
  int status = 0;                         // HTTP status
  std::vector<uint8_t> body;              // 200: the message bytes
  std::string error;                      // otherwise: the agent's "error" text (or the body as it came)
  std::optional<uint64_t> retry_after_s;  // 429 / 503: the Retry-After header
  bool ok() const { return status == 200; }
  // "HTTP 403: verifier key ... is not authorized" for logs and network events.
  std::string Describe() const;
};

class AgentClient {
 public:
  // agent_url: "https://host[:port]" (or http:// where HttpClientOptions allow it).
  static Result<std::unique_ptr<AgentClient>> Create(std::string_view agent_url, HttpClientOptions options);

  Result<AgentAnswer> OfferLease(const Lease& lease);  // POST /v1/leases -> LeaseAcceptance
  // POST /v1/leases/{id}/epochs -> EpochRecord; a long request: the agent answers when the record is signed.
  Result<AgentAnswer> StartEpoch(const EpochStart& start, int read_timeout_ms);
  Result<AgentAnswer> SendChallenge(const Challenge& challenge, int read_timeout_ms);  // -> EpochResponse
  // Beacon mode: GET /v1/leases/{id}/epochs/{n}/response -> EpochResponse (503 until the round is published).
  Result<AgentAnswer> FetchBeaconResponse(const Hash32& lease_id, uint64_t epoch, int read_timeout_ms);
  // GET /v1/info -> the agent's JSON (its key, devices and rate limit).
  Result<AgentAnswer> Info();

  const std::string& url() const { return http_->base_url(); }

 private:
  explicit AgentClient(std::unique_ptr<HttpClient> http) : http_(std::move(http)) {}
  std::unique_ptr<HttpClient> http_;
};

// The agent's answer from an HTTP response: its error text from the JSON error body, its Retry-After.
AgentAnswer ToAgentAnswer(const HttpResponse& response);

}  // namespace vcp::service
