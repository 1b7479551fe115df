// The agent's configuration file (vcp/agent.h LoadAgentConfig) and the option checks Start shares with it.
#include <cmath>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "fileio.h"
#include "service/agent_internal.h"
#include "service/json_log.h"
#include "vcp/agent.h"
#include "vcp/protocol.h"

namespace vcp {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxConfigBytes = 1 << 20;

Status WrongType(const std::string& key, const char* wanted) {
  return Status::InvalidArgument("agent config key \"" + key + "\" must be " + wanted);
}

// One setter per key: the key's JSON value into the options, with the type it must have.
using Setter = std::function<Status(const json&, AgentOptions&, const fs::path& base)>;

Setter String(std::string AgentOptions::*field, std::string key) {
  return [field, key](const json& v, AgentOptions& o, const fs::path&) {
    if (!v.is_string()) return WrongType(key, "a string");
    o.*field = v.get<std::string>();
    return Status::Ok();
  };
}

// A path in the file is relative to the file's directory, so a config and its keys can move together.
Setter Path(fs::path AgentOptions::*field, std::string key) {
  return [field, key](const json& v, AgentOptions& o, const fs::path& base) {
    if (!v.is_string()) return WrongType(key, "a string (a path)");
    const fs::path p = v.get<std::string>();
    o.*field = p.empty() || p.is_absolute() ? p : base / p;
    return Status::Ok();
  };
}

// A TLS file is a path too, kept as a string because the HTTP layer takes strings.
Setter PathString(std::string AgentOptions::*field, std::string key) {
  return [field, key](const json& v, AgentOptions& o, const fs::path& base) {
    if (!v.is_string()) return WrongType(key, "a string (a path)");
    const fs::path p = v.get<std::string>();
    o.*field = (p.empty() || p.is_absolute() ? p : base / p).string();
    return Status::Ok();
  };
}

Setter Bool(bool AgentOptions::*field, std::string key) {
  return [field, key](const json& v, AgentOptions& o, const fs::path&) {
    if (!v.is_boolean()) return WrongType(key, "true or false");
    o.*field = v.get<bool>();
    return Status::Ok();
  };
}

Setter Number(double AgentOptions::*field, std::string key) {
  return [field, key](const json& v, AgentOptions& o, const fs::path&) {
    if (!v.is_number()) return WrongType(key, "a number");
    o.*field = v.get<double>();
    return Status::Ok();
  };
}

// Integers are range-checked here only for the type's width; ValidateAgentOptions checks the allowed range.
template <typename T>
Setter Integer(T AgentOptions::*field, std::string key) {
  return [field, key](const json& v, AgentOptions& o, const fs::path&) {
    if (!v.is_number_integer()) return WrongType(key, "an integer");
    const auto wide = v.get<int64_t>();
    if (wide < int64_t(std::numeric_limits<T>::min()) ||
        (wide > 0 && uint64_t(wide) > uint64_t(std::numeric_limits<T>::max()))) {
      return Status::InvalidArgument("agent config key \"" + key + "\" = " + std::to_string(wide) +
                                     " is out of range; allowed: " + std::to_string(std::numeric_limits<T>::min()) +
                                     " to " + std::to_string(std::numeric_limits<T>::max()));
    }
    o.*field = static_cast<T>(wide);
    return Status::Ok();
  };
}

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> setters = {
      {"listen_host", String(&AgentOptions::listen_host, "listen_host")},
      {"listen_port", Integer(&AgentOptions::listen_port, "listen_port")},
      {"tls_cert_file", PathString(&AgentOptions::tls_cert_file, "tls_cert_file")},
      {"tls_key_file", PathString(&AgentOptions::tls_key_file, "tls_key_file")},
      {"allow_plain_http", Bool(&AgentOptions::allow_plain_http, "allow_plain_http")},
      {"state_dir", Path(&AgentOptions::state_dir, "state_dir")},
      {"provider_key", Path(&AgentOptions::provider_key, "provider_key")},
      {"authorized_keys", Path(&AgentOptions::authorized_keys, "authorized_keys")},
      {"backend",
       [](const json& v, AgentOptions& o, const fs::path&) {
         if (!v.is_string()) return WrongType("backend", "\"auto\", \"cpu\" or \"cuda\"");
         Result<BackendChoice> b = ParseBackendChoice(v.get<std::string>());
         if (!b.ok()) return b.status().WithContext("agent config key \"backend\"");
         o.backend = *b;
         return Status::Ok();
       }},
      {"threads", Integer(&AgentOptions::threads, "threads")},
      {"keep_leaves", Bool(&AgentOptions::keep_leaves, "keep_leaves")},
      {"max_audit_share", Number(&AgentOptions::max_audit_share, "max_audit_share")},
      {"burst_epochs", Integer(&AgentOptions::burst_epochs, "burst_epochs")},
      {"max_body_bytes", Integer(&AgentOptions::max_body_bytes, "max_body_bytes")},
      {"max_connections", Integer(&AgentOptions::max_connections, "max_connections")},
      {"request_timeout_s", Integer(&AgentOptions::request_timeout_s, "request_timeout_s")},
      {"beacon_file", Path(&AgentOptions::beacon_file, "beacon_file")},
      {"readiness_cache_s", Integer(&AgentOptions::readiness_cache_s, "readiness_cache_s")},
      {"challenge_wait_ms", Integer(&AgentOptions::challenge_wait_ms, "challenge_wait_ms")},
      {"simulate_lazy_fraction", Number(&AgentOptions::simulate_lazy_fraction, "simulate_lazy_fraction")},
      {"log_level", String(&AgentOptions::log_level, "log_level")},
  };
  return setters;
}

std::string AllowedKeys() {
  std::string out;
  for (const auto& [key, setter] : Setters()) out += (out.empty() ? "" : ", ") + key;
  return out;
}

}  // namespace

Result<AgentOptions> LoadAgentConfig(const fs::path& file) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(file, kMaxConfigBytes));
  return ParseAgentConfig(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), file);
}

Result<AgentOptions> ParseAgentConfig(std::string_view text, const fs::path& file) {
  const json config = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) {
    return Status::Corrupt("agent config " + file.string() + " is not valid JSON; it must be one JSON object");
  }
  if (!config.is_object()) {
    return Status::InvalidArgument("agent config " + file.string() + " must be a JSON object of option keys");
  }
  AgentOptions options;
  const fs::path base = file.has_parent_path() ? file.parent_path() : fs::path(".");
  for (const auto& [key, value] : config.items()) {
    const auto setter = Setters().find(key);
    if (setter == Setters().end()) {
      return Status::InvalidArgument("agent config " + file.string() + ": unknown key \"" + key +
                                     "\"; allowed: " + AllowedKeys());
    }
    VCP_RETURN_IF_ERROR(setter->second(value, options, base).WithContext(file.string()));
  }
  // The paths a config may leave to flags are checked by Start; every value given must already be in range.
  VCP_RETURN_IF_ERROR(service::CheckAgentRanges(options).WithContext(file.string()));
  return options;
}

namespace service {

Status ValidateAgentOptions(const AgentOptions& o) {
  if (o.listen_host.empty()) return Status::InvalidArgument("listen_host is empty; give an address such as 127.0.0.1");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Status::InvalidArgument("tls_cert_file and tls_key_file go together: give both (TLS) or neither "
                                   "(plain HTTP, loopback only unless allow_plain_http)");
  }
  if (o.state_dir.empty()) {
    return Status::InvalidArgument("state_dir is not set (config key state_dir, or --state); it holds one store "
                                   "per lease");
  }
  if (o.provider_key.empty()) {
    return Status::InvalidArgument("provider_key is not set (config key provider_key, or --key); give the vcp.key "
                                   "file or its directory");
  }
  if (o.authorized_keys.empty()) {
    return Status::InvalidArgument("authorized_keys is not set (config key authorized_keys, or --authorized-keys); "
                                   "give the file of verifier keys allowed to offer leases");
  }
  return CheckAgentRanges(o);
}

Status CheckAgentRanges(const AgentOptions& o) {
  if (o.threads < 0) return Status::InvalidArgument("threads must be 0 (all hardware threads) or positive");
  if (!(o.max_audit_share > 0 && o.max_audit_share <= 1)) {
    return Status::InvalidArgument("max_audit_share " + std::to_string(o.max_audit_share) +
                                   " is out of range; allowed: above 0, up to 1 (the share of wall time one "
                                   "lease's epochs may take)");
  }
  if (o.burst_epochs < 1 || o.burst_epochs > 1000) {
    return Status::InvalidArgument("burst_epochs " + std::to_string(o.burst_epochs) +
                                   " is out of range; allowed: 1 to 1000");
  }
  if (o.max_body_bytes < 4096 || o.max_body_bytes > kMaxMessageBytes) {
    return Status::InvalidArgument("max_body_bytes " + std::to_string(o.max_body_bytes) +
                                   " is out of range; allowed: 4096 to " + std::to_string(kMaxMessageBytes) +
                                   " (the largest protocol message)");
  }
  if (o.max_connections < 4 || o.max_connections > 4096) {
    return Status::InvalidArgument("max_connections " + std::to_string(o.max_connections) +
                                   " is out of range; allowed: 4 to 4096");
  }
  if (o.request_timeout_s < 1 || o.request_timeout_s > 3600) {
    return Status::InvalidArgument("request_timeout_s " + std::to_string(o.request_timeout_s) +
                                   " is out of range; allowed: 1 to 3600");
  }
  if (o.readiness_cache_s > 86400) {
    return Status::InvalidArgument("readiness_cache_s " + std::to_string(o.readiness_cache_s) +
                                   " is out of range; allowed: 0 to 86400");
  }
  if (o.challenge_wait_ms > 60000) {
    return Status::InvalidArgument("challenge_wait_ms " + std::to_string(o.challenge_wait_ms) +
                                   " is out of range; allowed: 0 to 60000");
  }
  if (!(o.simulate_lazy_fraction >= 0 && o.simulate_lazy_fraction <= 1)) {
    return Status::InvalidArgument("simulate_lazy_fraction " + std::to_string(o.simulate_lazy_fraction) +
                                   " is out of range; allowed: 0 (honest) to 1 (tests only)");
  }
  return ParseLogLevel(o.log_level).status();
}

TokenBucket::TokenBucket(double capacity_us, double refill_per_us, uint64_t now_us)
    : capacity_us_(capacity_us), refill_per_us_(refill_per_us), tokens_(capacity_us), last_us_(now_us) {}

void TokenBucket::Refill(uint64_t now_us) {
  if (now_us > last_us_) {
    tokens_ = std::min(capacity_us_, tokens_ + double(now_us - last_us_) * refill_per_us_);
    last_us_ = now_us;
  }
}

std::optional<uint64_t> TokenBucket::Take(double cost, uint64_t now_us) {
  Refill(now_us);
  if (tokens_ >= cost) {
    tokens_ -= cost;
    return std::nullopt;
  }
  return static_cast<uint64_t>(std::ceil((cost - tokens_) / refill_per_us_));
}

void TokenBucket::Refund(double cost, uint64_t now_us) {
  Refill(now_us);
  tokens_ = std::min(capacity_us_, tokens_ + cost);
}

double TokenBucket::Available(uint64_t now_us) {
  Refill(now_us);
  return tokens_;
}

}  // namespace service
}  // namespace vcp
