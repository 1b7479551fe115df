// Fuzz target agent_http: every HTTP handler of the agent (vcp/agent.h, docs/API.md section 2), through the server's
// own routing in-process (fuzz/http_property.h), on a real Agent: CPU backend, one thread, a state directory in
// the scratch directory, the golden provider key, the golden verifier as its one authorized key. It starts once per
// process and holds the golden lease (64 x 64 x 64, R = 4), so the golden epoch start runs a real epoch in
// milliseconds.
// "{challenge}" as a body stands for a challenge the target signs for the agent's own record of the golden epoch.
// Properties: fuzz/http_property.h; no handler throws (a 500 naming a failed handler).
#include <fstream>

#include "http_property.h"
#include "vcp/agent.h"
#include "vcp/bytes.h"

using namespace vcp;
using namespace vcp::fuzz;

namespace {

uint16_t AgentPort() {
  static const std::unique_ptr<Agent> agent = [] {
    const std::filesystem::path dir = ScratchDir() / "agent";
    std::filesystem::create_directories(dir);
    MustOk(SaveKeyPair(ProviderKey(), dir / "provider"), "agent key");
    std::ofstream(dir / "authorized_keys") << ToHex(VerifierKey().public_key()) << " fuzz verifier\n";
    AgentOptions options;
    options.listen_port = 0;
    options.state_dir = dir / "state";
    options.provider_key = dir / "provider";
    options.authorized_keys = dir / "authorized_keys";
    options.backend = BackendChoice::kCpu;
    options.threads = 1;
    options.log_level = "error";
    std::unique_ptr<Agent> started = MustValue(Agent::Start(options), "agent Start");
    const std::vector<uint8_t> lease = Serialize(GetGolden().lease);
    const service::HttpResponse offered = MustValue(
        service::HttpServer::HandleLocal(
            started->port(), service::MakeHttpRequest("POST", "/v1/leases", service::kMessageMediaType, "",
                                                      std::string(lease.begin(), lease.end()), "127.0.0.1")),
        "agent offer");
    if (offered.status != 200) MustOk(Status::Internal("golden lease offer: " + offered.body), "agent offer");
    return started;
  }();
  return agent->port();
}

// The agent's record carries its own device evidence and clock, so the golden challenge names another record: the
// target runs the golden epoch once and signs a challenge for the record it got, which "{challenge}" in an input's
// body stands for.
const std::string& ChallengeBytes(uint16_t port) {
  static const std::string bytes = [port] {
    const Golden& g = GetGolden();
    const std::vector<uint8_t> start = Serialize(g.start);
    const service::HttpResponse answer = MustValue(
        service::HttpServer::HandleLocal(
            port, service::MakeHttpRequest("POST", "/v1/leases/" + ToHex(LeaseId(g.lease)) + "/epochs",
                                           service::kMessageMediaType, "", std::string(start.begin(), start.end()),
                                           "127.0.0.1")),
        "agent epoch");
    const EpochRecord record = MustValue(
        ParseEpochRecord(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(answer.body.data()),
                                                  answer.body.size())),
        "agent record");
    Challenge challenge = g.challenge;
    challenge.record_hash = RecordHash(record);
    MustOk(Sign(challenge, VerifierKey()), "agent challenge");
    const std::vector<uint8_t> signed_bytes = Serialize(challenge);
    return std::string(signed_bytes.begin(), signed_bytes.end());
  }();
  return bytes;
}

}  // namespace

VCP_FUZZ_TARGET(agent_http) {
  const uint16_t port = AgentPort();
  std::optional<service::HttpRequest> request = ParseRawRequest(AsText(data));
  if (!request) return;
  if (request->body == "{challenge}") request->body = ChallengeBytes(port);
  Result<service::HttpResponse> response = service::HttpServer::HandleLocal(port, std::move(*request));
  VCP_FUZZ_CHECK(response.ok(), response.status().ToString());
  CheckAnswer(*response, {200, 400, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503});
  VCP_FUZZ_CHECK(response->status != 500 || response->body.find("the handler of") == std::string::npos,
                 "a handler threw: " + response->body);
}
