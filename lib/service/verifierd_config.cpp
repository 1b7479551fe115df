// lib/service/verifierd_config.cpp: the verifier service's config file and listen address (vcp/verifierd.h).
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "vcp/verifierd.h"

namespace vcp {

namespace {

using json = nlohmann::json;

constexpr const char* kConfigKeys =
    "listen_host, listen_port, tls_cert_file, tls_key_file, allow_plain_http, database, verifier_key, agent_ca_file, "
    "allow_plain_agents, verify_threads, retry_initial_ms, retry_max_ms, response_wait_ms, beacon_file, confidence, "
    "log_level";

Status WrongType(const std::filesystem::path& file, const std::string& key, const char* expected) {
  return Status::InvalidArgument(file.string() + ": \"" + key + "\" must be " + expected);
}

}  // namespace

Result<VerifierServiceOptions> LoadVerifierServiceConfig(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Status::IoError("cannot read the verifierd config " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return ParseVerifierServiceConfig(text.str(), file);
}

Result<VerifierServiceOptions> ParseVerifierServiceConfig(std::string_view text, const std::filesystem::path& file) {
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corrupt(file.string() + " is not valid JSON");
  if (!j.is_object()) {
    return Status::InvalidArgument(file.string() + " must hold one JSON object; allowed keys: " + kConfigKeys);
  }
  const std::filesystem::path base = file.parent_path();
  auto path_of = [&](const json& v) {
    const std::filesystem::path p = v.get<std::string>();
    return p.is_relative() && !p.empty() ? base / p : p;
  };
  VerifierServiceOptions o;
  for (const auto& [key, v] : j.items()) {
    if (key == "listen_host" || key == "log_level") {
      if (!v.is_string()) return WrongType(file, key, "a string");
      (key == "listen_host" ? o.listen_host : o.log_level) = v.get<std::string>();
    } else if (key == "listen_port") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 65535) {
        return WrongType(file, key, "a port number from 0 to 65535 (0: any free port)");
      }
      o.listen_port = v.get<uint16_t>();
    } else if (key == "tls_cert_file" || key == "tls_key_file" || key == "database" || key == "verifier_key" ||
               key == "agent_ca_file" || key == "beacon_file") {
      if (!v.is_string()) return WrongType(file, key, "a string (a path; relative to the config file's directory)");
      if (key == "tls_cert_file") o.tls_cert_file = path_of(v).string();
      if (key == "tls_key_file") o.tls_key_file = path_of(v).string();
      if (key == "database") o.database = path_of(v);
      if (key == "verifier_key") o.verifier_key = path_of(v);
      if (key == "agent_ca_file") o.agent_ca_file = path_of(v).string();
      if (key == "beacon_file") o.beacon_file = path_of(v);
    } else if (key == "allow_plain_http" || key == "allow_plain_agents") {
      if (!v.is_boolean()) return WrongType(file, key, "true or false");
      (key == "allow_plain_http" ? o.allow_plain_http : o.allow_plain_agents) = v.get<bool>();
    } else if (key == "verify_threads" || key == "retry_initial_ms" || key == "retry_max_ms" ||
               key == "response_wait_ms") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 0xffffffffu) {
        return WrongType(file, key, "a whole number from 0 to 4294967295");
      }
      const uint32_t n = v.get<uint32_t>();
      if (key == "verify_threads") o.verify_threads = n;
      if (key == "retry_initial_ms") o.retry_initial_ms = n;
      if (key == "retry_max_ms") o.retry_max_ms = n;
      if (key == "response_wait_ms") o.response_wait_ms = n;
    } else if (key == "confidence") {
      if (!v.is_number()) return WrongType(file, key, "a number between 0 and 1");
      o.confidence = v.get<double>();
    } else {
      return Status::InvalidArgument(file.string() + ": unknown key \"" + key + "\"; allowed: " + kConfigKeys);
    }
  }
  return o;
}

}  // namespace vcp
