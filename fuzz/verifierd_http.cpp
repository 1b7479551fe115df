// Fuzz target verifierd_http: every HTTP handler of the verifier service (vcp/verifierd.h, docs/API.md section 3),
// through the server's own routing in-process (fuzz/http_property.h), on a real VerifierService with its database
// in the scratch directory. It starts once per process with one lease added (its agent, http://127.0.0.1:1, never
// answers, so the lease waits for its acceptance); "{lease}" in an input's path stands for that lease's id, which is
// random. Every lease an input adds starts a runner thread, so after kMaxAdded added leases the service is replaced
// by a fresh one over a fresh database: memory and threads stay bounded however long the target runs.
// Properties: fuzz/http_property.h; no handler throws (a 500 naming a failed handler).
#include "http_property.h"
#include "vcp/bytes.h"
#include "vcp/verifierd.h"

using namespace vcp;
using namespace vcp::fuzz;

namespace {

constexpr int kMaxAdded = 32;

struct Service {
  std::unique_ptr<VerifierService> service;
  std::string lease_id;
  int added = 0;
  int generation = 0;
};

void StartService(Service& s) {
  if (s.service) s.service->Shutdown();
  s.service.reset();
  const std::filesystem::path dir = ScratchDir() / ("verifierd-" + std::to_string(s.generation++));
  std::filesystem::create_directories(dir);
  MustOk(SaveKeyPair(VerifierKey(), dir / "verifier"), "verifierd key");
  VerifierServiceOptions options;
  options.listen_port = 0;
  options.database = dir / "verifierd.db";
  options.verifier_key = dir / "verifier";
  options.log_level = "error";
  s.service = MustValue(VerifierService::Start(options), "verifierd Start");
  LeaseRequest request;
  request.agent_url = "http://127.0.0.1:1";
  request.provider_key = ProviderKey().public_key();
  request.workload = GetGolden().lease.workload;
  request.rounds = 4;
  request.claimed_ops_per_second_per_device = GetGolden().lease.claimed_ops_per_second_per_device;
  request.duration_us = 3'600'000'000;
  request.audit_share = 0.2;
  s.lease_id = ToHex(MustValue(s.service->AddLease(request), "verifierd AddLease"));
  s.added = 0;
}

Service& GetService() {
  static Service s = [] {
    Service fresh;
    StartService(fresh);
    return fresh;
  }();
  return s;
}

}  // namespace

VCP_FUZZ_TARGET(verifierd_http) {
  Service& s = GetService();
  std::optional<service::HttpRequest> request = ParseRawRequest(AsText(data));
  if (!request) return;
  for (size_t at; (at = request->path.find("{lease}")) != std::string::npos;) {
    request->path.replace(at, 7, s.lease_id);
  }
  Result<service::HttpResponse> response = service::HttpServer::HandleLocal(s.service->port(), std::move(*request));
  VCP_FUZZ_CHECK(response.ok(), response.status().ToString());
  CheckAnswer(*response, {200, 201, 400, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503});
  VCP_FUZZ_CHECK(response->status != 500 || response->body.find("the handler of") == std::string::npos,
                 "a handler threw: " + response->body);
  if (response->status == 201 && ++s.added >= kMaxAdded) StartService(s);
}
