// Fuzz target verifierd_config: the verifier service's JSON configuration (ParseVerifierServiceConfig,
// vcp/verifierd.h).
// Properties: every key given is read as the value written (paths resolved against the config's directory);
// writing the options back as a config and parsing that gives the same options.
#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/verifierd.h"

using namespace vcp;
using namespace vcp::fuzz;
using json = nlohmann::json;

namespace {

json Write(const VerifierServiceOptions& o) {
  return {{"listen_host", o.listen_host},
          {"listen_port", o.listen_port},
          {"tls_cert_file", o.tls_cert_file},
          {"tls_key_file", o.tls_key_file},
          {"allow_plain_http", o.allow_plain_http},
          {"database", o.database.string()},
          {"verifier_key", o.verifier_key.string()},
          {"agent_ca_file", o.agent_ca_file},
          {"allow_plain_agents", o.allow_plain_agents},
          {"verify_threads", o.verify_threads},
          {"retry_initial_ms", o.retry_initial_ms},
          {"retry_max_ms", o.retry_max_ms},
          {"response_wait_ms", o.response_wait_ms},
          {"beacon_file", o.beacon_file.string()},
          {"confidence", o.confidence},
          {"log_level", o.log_level}};
}

bool IsPathKey(const std::string& key) {
  return key == "tls_cert_file" || key == "tls_key_file" || key == "database" || key == "verifier_key" ||
         key == "agent_ca_file" || key == "beacon_file";
}

}  // namespace

VCP_FUZZ_TARGET(verifierd_config) {
  const std::filesystem::path file = "/fuzz/config/verifierd.json";
  Result<VerifierServiceOptions> options = ParseVerifierServiceConfig(AsText(data), file);
  if (!options.ok()) {
    VCP_FUZZ_CHECK(!options.status().message().empty(), "a refusal says what was wrong");
    return;
  }
  const json written = Write(*options);
  const json input = json::parse(AsText(data), nullptr, false);
  VCP_FUZZ_CHECK(input.is_object(), "an accepted config is a JSON object");
  for (const auto& [key, value] : input.items()) {
    if (IsPathKey(key)) continue;
    VCP_FUZZ_CHECK(written.contains(key) && written[key] == value,
                   "key \"" + key + "\" = " + value.dump() + " is read as " + written.value(key, json()).dump());
  }
  Result<VerifierServiceOptions> again = ParseVerifierServiceConfig(written.dump(), file);
  VCP_FUZZ_CHECK(again.ok(), "the written-back config is refused: " + again.status().ToString());
  VCP_FUZZ_CHECK(Write(*again) == written, "the written-back config parses to other options");
}
