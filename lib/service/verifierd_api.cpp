// lib/service/verifierd_api.cpp: see verifierd_api.h.
#include "service/verifierd_api.h"

#include <cmath>
#include <set>
#include <string>

#include "vcp/bytes.h"

namespace vcp::service {

namespace {

using json = nlohmann::json;

constexpr const char* kFields =
    "agent_url, provider_key, mode, workload, devices, rounds, samples, rate_per_device, slack, allowance_ms, "
    "duration_s, start_us, audit_share";

Status Bad(const std::string& field, const std::string& allowed) {
  return Status::Corrupt("lease request: \"" + field + "\" " + allowed);
}

// A whole number in [min, max] (JSON numbers written as 1e9 are accepted when whole).
Result<uint64_t> WholeNumber(const json& v, const std::string& field, double min, double max) {
  if (!v.is_number()) return Bad(field, "must be a number from " + std::to_string(min) + " to " + std::to_string(max));
  const double d = v.get<double>();
  if (!(d >= min && d <= max) || d != std::floor(d)) {
    return Bad(field,
               "must be a whole number from " + std::to_string(uint64_t(min)) + " to " + std::to_string(uint64_t(max)));
  }
  return v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(d);
}

Result<double> Number(const json& v, const std::string& field, double min, double max) {
  if (!v.is_number() || !(v.get<double>() >= min && v.get<double>() <= max)) {
    return Bad(field, "must be a number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v.get<double>();
}

Result<std::string> Text(const json& v, const std::string& field) {
  if (!v.is_string()) return Bad(field, "must be a string");
  return v.get<std::string>();
}

Status ParseWorkload(const json& w, WorkloadParams& out) {
  if (!w.is_object()) return Bad("workload", "must be an object {kind, m, n, k, tile}");
  for (const char* required : {"m", "n", "k"}) {
    if (!w.contains(required)) return Bad(std::string("workload.") + required, "is required");
  }
  for (const auto& [key, v] : w.items()) {
    const std::string field = "workload." + key;
    if (key == "kind") {
      VCP_ASSIGN_OR_RETURN(const std::string kind, Text(v, field));
      Result<WorkloadKind> parsed = ParseWorkloadKind(kind);
      if (!parsed.ok())
        return Status::Corrupt("lease request: " + field + ": " + std::string(parsed.status().message()));
      out.kind = *parsed;
    } else if (key == "m" || key == "n" || key == "k" || key == "tile") {
      VCP_ASSIGN_OR_RETURN(const uint64_t n, WholeNumber(v, field, 1, 4294967295.0));
      (key == "m" ? out.m : key == "n" ? out.n : key == "k" ? out.k : out.tile) = static_cast<uint32_t>(n);
    } else {
      return Bad(field, "is not a workload field; allowed: kind, m, n, k, tile");
    }
  }
  return Status::Ok();
}

}  // namespace

json LeaseRequestJson(const LeaseRequest& r) {
  return {{"agent_url", r.agent_url},
          {"provider_key", ToHex(r.provider_key)},
          {"mode", LeaseModeName(r.mode)},
          {"workload",
           {{"kind", WorkloadName(r.workload.kind)},
            {"m", r.workload.m},
            {"n", r.workload.n},
            {"k", r.workload.k},
            {"tile", r.workload.tile}}},
          {"devices", r.devices},
          {"rounds", r.rounds},
          {"samples", r.samples},
          {"rate_per_device", r.claimed_ops_per_second_per_device},
          {"slack", double(r.slack_ppm) / 1e6},
          {"allowance_ms", double(r.network_allowance_us) / 1000},
          {"duration_s", double(r.duration_us) / 1e6},
          {"start_us", r.start_us},
          {"audit_share", r.audit_share}};
}

Result<LeaseRequest> ParseLeaseRequestJson(const json& body) {
  if (!body.is_object()) {
    return Status::Corrupt(std::string("lease request: the body must be a JSON object with ") + kFields);
  }
  for (const char* required : {"agent_url", "provider_key", "workload", "rate_per_device", "duration_s"}) {
    if (!body.contains(required)) return Bad(required, std::string("is required; the fields are ") + kFields);
  }
  LeaseRequest r;
  for (const auto& [key, v] : body.items()) {
    if (key == "agent_url") {
      VCP_ASSIGN_OR_RETURN(r.agent_url, Text(v, key));
    } else if (key == "provider_key") {
      VCP_ASSIGN_OR_RETURN(const std::string hex, Text(v, key));
      Result<PublicKey> k = FixedFromHex<kPublicKeyBytes>(hex, "provider_key");
      if (!k.ok()) return Status::Corrupt("lease request: " + std::string(k.status().message()));
      r.provider_key = *k;
    } else if (key == "mode") {
      VCP_ASSIGN_OR_RETURN(const std::string mode, Text(v, key));
      Result<LeaseMode> m = ParseLeaseMode(mode);
      if (!m.ok()) return Status::Corrupt("lease request: mode: " + std::string(m.status().message()));
      r.mode = *m;
    } else if (key == "workload") {
      VCP_RETURN_IF_ERROR(ParseWorkload(v, r.workload));
    } else if (key == "devices") {
      VCP_ASSIGN_OR_RETURN(const uint64_t n, WholeNumber(v, key, 1, 255));
      r.devices = static_cast<uint8_t>(n);
    } else if (key == "rounds" || key == "samples") {
      VCP_ASSIGN_OR_RETURN(const uint64_t n, WholeNumber(v, key, key == "rounds" ? 1 : 0, 4294967295.0));
      (key == "rounds" ? r.rounds : r.samples) = static_cast<uint32_t>(n);
    } else if (key == "rate_per_device") {
      // Below 2^63, so that llround converts in range (the CLI's --rate takes the same 9e18).
      VCP_ASSIGN_OR_RETURN(const double rate, Number(v, key, 1, 9e18));
      r.claimed_ops_per_second_per_device = static_cast<uint64_t>(std::llround(rate));
    } else if (key == "slack") {
      VCP_ASSIGN_OR_RETURN(const double slack, Number(v, key, 0, 4000));
      r.slack_ppm = static_cast<uint32_t>(std::llround(slack * 1e6));
    } else if (key == "allowance_ms") {
      // At most the longest epoch deadline (docs/PROTOCOL.md section 5.2), so the product stays in range.
      VCP_ASSIGN_OR_RETURN(const double ms, Number(v, key, 0, double(kMaxDeadlineUs) / 1000));
      r.network_allowance_us = static_cast<uint64_t>(std::llround(ms * 1000));
    } else if (key == "duration_s") {
      VCP_ASSIGN_OR_RETURN(const double s, Number(v, key, 1e-3, 3.6e9));
      r.duration_us = static_cast<uint64_t>(std::llround(s * 1e6));
    } else if (key == "start_us") {
      VCP_ASSIGN_OR_RETURN(r.start_us, WholeNumber(v, key, 0, double(kMaxTimeUs)));
    } else if (key == "audit_share") {
      VCP_ASSIGN_OR_RETURN(r.audit_share, Number(v, key, 0, 1));
    } else {
      return Bad(key, std::string("is not a lease request field; allowed: ") + kFields);
    }
  }
  return r;
}

}  // namespace vcp::service
