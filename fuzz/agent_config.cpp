// Fuzz target agent_config: the agent's JSON configuration (ParseAgentConfig, vcp/agent.h).
// Properties: an accepted config passes the agent's range checks; every key given is read as the value written
// (paths resolved against the config's directory); writing the options back as a config and parsing that gives
// the same options.
#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "service/agent_internal.h"
#include "vcp/agent.h"

using namespace vcp;
using namespace vcp::fuzz;
using json = nlohmann::json;

namespace {

const char* BackendName(BackendChoice b) {
  switch (b) {
    case BackendChoice::kAuto: return "auto";
    case BackendChoice::kCpu: return "cpu";
    case BackendChoice::kCuda: return "cuda";
  }
  return "?";
}

json Write(const AgentOptions& o) {
  return {{"listen_host", o.listen_host},
          {"listen_port", o.listen_port},
          {"tls_cert_file", o.tls_cert_file},
          {"tls_key_file", o.tls_key_file},
          {"allow_plain_http", o.allow_plain_http},
          {"state_dir", o.state_dir.string()},
          {"provider_key", o.provider_key.string()},
          {"authorized_keys", o.authorized_keys.string()},
          {"backend", BackendName(o.backend)},
          {"threads", o.threads},
          {"keep_leaves", o.keep_leaves},
          {"max_audit_share", o.max_audit_share},
          {"burst_epochs", o.burst_epochs},
          {"max_body_bytes", o.max_body_bytes},
          {"max_connections", o.max_connections},
          {"request_timeout_s", o.request_timeout_s},
          {"beacon_file", o.beacon_file.string()},
          {"readiness_cache_s", o.readiness_cache_s},
          {"simulate_lazy_fraction", o.simulate_lazy_fraction},
          {"log_level", o.log_level}};
}

bool IsPathKey(const std::string& key) {
  return key == "tls_cert_file" || key == "tls_key_file" || key == "state_dir" || key == "provider_key" ||
         key == "authorized_keys" || key == "beacon_file";
}

}  // namespace

VCP_FUZZ_TARGET(agent_config) {
  const std::filesystem::path file = "/fuzz/config/agent.json";
  Result<AgentOptions> options = ParseAgentConfig(AsText(data), file);
  if (!options.ok()) {
    VCP_FUZZ_CHECK(options.status().code() != StatusCode::kOk && !options.status().message().empty(),
                   "a refusal says what was wrong");
    return;
  }
  VCP_FUZZ_CHECK(service::CheckAgentRanges(*options).ok(), "an accepted config is out of range");
  const json written = Write(*options);
  const json input = json::parse(AsText(data), nullptr, false);
  VCP_FUZZ_CHECK(input.is_object(), "an accepted config is a JSON object");
  for (const auto& [key, value] : input.items()) {
    if (IsPathKey(key)) continue;
    VCP_FUZZ_CHECK(written.contains(key) && written[key] == value,
                   "key \"" + key + "\" = " + value.dump() + " is read as " + written.value(key, json()).dump());
  }
  Result<AgentOptions> again = ParseAgentConfig(written.dump(), file);
  VCP_FUZZ_CHECK(again.ok(), "the written-back config is refused: " + again.status().ToString());
  VCP_FUZZ_CHECK(Write(*again) == written, "the written-back config parses to other options");
}
