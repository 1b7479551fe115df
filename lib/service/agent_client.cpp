// lib/service/agent_client.cpp: see agent_client.h.
#include "service/agent_client.h"

#include <strings.h>

#include <cstdlib>

#include "vcp/bytes.h"

namespace vcp::service {

std::string AgentAnswer::Describe() const {
  return "HTTP " + std::to_string(status) + (error.empty() ? "" : ": " + error);
}

AgentAnswer ToAgentAnswer(const HttpResponse& response) {
  AgentAnswer answer;
  answer.status = response.status;
  if (response.status == 200) {
    answer.body.assign(response.body.begin(), response.body.end());
  } else {
    // The agent's errors are JSON ({"error": ...}); anything else (a proxy's page) is passed on cut short.
    const nlohmann::json j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      answer.error = j["error"].get<std::string>();
    } else {
      answer.error = response.body.substr(0, 200);
    }
  }
  for (const auto& [name, value] : response.headers) {
    if (name.size() == 11 && strncasecmp(name.c_str(), "Retry-After", 11) == 0) {
      char* end = nullptr;
      const unsigned long long seconds = std::strtoull(value.c_str(), &end, 10);
      if (end != value.c_str()) answer.retry_after_s = seconds;
    }
  }
  return answer;
}

Result<std::unique_ptr<AgentClient>> AgentClient::Create(std::string_view agent_url, HttpClientOptions options) {
  VCP_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(agent_url, std::move(options)));
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(http)));
}

namespace {

std::string Body(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

std::string LeasePath(const Hash32& lease_id) { return "/v1/leases/" + ToHex(lease_id); }

Result<AgentAnswer> Answer(Result<HttpResponse> response) {
  if (!response.ok()) return response.status();
  return ToAgentAnswer(*response);
}

}  // namespace

Result<AgentAnswer> AgentClient::OfferLease(const Lease& lease) {
  return Answer(http_->Post("/v1/leases", kMessageMediaType, Body(Serialize(lease)), kMessageMediaType));
}

Result<AgentAnswer> AgentClient::StartEpoch(const EpochStart& start, int read_timeout_ms) {
  return Answer(http_->Post(LeasePath(start.lease_id) + "/epochs", kMessageMediaType, Body(Serialize(start)),
                            kMessageMediaType, read_timeout_ms));
}

Result<AgentAnswer> AgentClient::SendChallenge(const Challenge& challenge, int read_timeout_ms) {
  return Answer(http_->Post(LeasePath(challenge.lease_id) + "/challenges", kMessageMediaType,
                            Body(Serialize(challenge)), kMessageMediaType, read_timeout_ms));
}

Result<AgentAnswer> AgentClient::FetchBeaconResponse(const Hash32& lease_id, uint64_t epoch, int read_timeout_ms) {
  return Answer(http_->Get(LeasePath(lease_id) + "/epochs/" + std::to_string(epoch) + "/response", kMessageMediaType,
                           read_timeout_ms));
}

Result<AgentAnswer> AgentClient::Info() { return Answer(http_->Get("/v1/info", kJsonMediaType)); }

}  // namespace vcp::service
