// lib/service/verifierd_api.h: the JSON body of POST /v1/leases on the verifier service (docs/API.md section 3),
// written by `vcp verifierd lease add` and read by the service, in one place so the two cannot drift.
//
//   {"agent_url": "https://gpu1:8443", "provider_key": "<64 hex>", "mode": "interactive",
//    "workload": {"kind": "int8", "m": 64, "n": 64, "k": 64, "tile": 32}, "devices": 1, "rounds": 2,
//    "samples": 0, "rate_per_device": 1e9, "slack": 0.25, "allowance_ms": 0, "duration_s": 3600,
//    "start_us": 0, "audit_share": 0.02}
//
// Required: agent_url, provider_key, workload.m/n/k, rate_per_device, duration_s; the rest default as in
// LeaseRequest (vcp/verifierd.h). Ownership: values. Thread safety: reentrant. Errors: kCorrupt (HTTP 400) naming
// the field and what is allowed, for an unknown field, a missing one or a value of the wrong type or range.
#pragma once

#include <nlohmann/json.hpp>

#include "vcp/status.h"
#include "vcp/verifierd.h"

namespace vcp::service {

nlohmann::json LeaseRequestJson(const LeaseRequest& request);
Result<LeaseRequest> ParseLeaseRequestJson(const nlohmann::json& body);

}  // namespace vcp::service
