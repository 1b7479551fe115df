// lib/protocol/report_json.h (internal): the JSON of a lease verdict, shared by `vcp report`, `vcp demo` and the
// verifier service's report endpoint, so that every front end gives the same figures with the same explanations.
//
// Ownership: values. Thread safety: reentrant. Errors: none (total over valid values).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "vcp/message_json.h"
#include "vcp/protocol.h"
#include "vcp/verdict.h"

namespace vcp {

// The library's JSON of a message (vcp/message_json.h) as an object, so a caller can add members beside its fields.
template <typename Message>
nlohmann::json MessageObject(const Message& message) {
  return nlohmann::json::parse(ToJson(message));
}
// A verdict's JSON plus what follows from it and its lease: window_ms, deadline_ms and
// proven_ops_per_second_per_device (0 unless it passed).
nlohmann::json VerdictJson(const Lease& lease, const Verdict& verdict);
// The lease verdict: the LeaseReport's fields, grouped as `vcp report` groups them in text, each explanation beside
// its figures, and every epoch's VerdictJson with its devices.
nlohmann::json ReportJson(const Lease& lease, const LeaseReport& report, const std::vector<Verdict>& verdicts);
// The lease terms that bind the rate: claimed rate, compute time, deadline, slack, what a passing epoch proves,
// allowance.
nlohmann::json LeaseTermsJson(const Lease& lease);

}  // namespace vcp
