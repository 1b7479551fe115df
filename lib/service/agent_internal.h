// lib/service/agent_internal.h: the parts of the agent (vcp/agent.h) that are worth testing on their own: option
// checks shared by the config loader and Start, and the per-lease token bucket that rate limits epoch starts.
//
// Ownership: values. Thread safety: TokenBucket is not synchronised (the agent holds the lease's mutex around it).
// Errors: Status naming the option and the allowed range.
#pragma once

#include <cstdint>
#include <optional>

#include "vcp/agent.h"
#include "vcp/status.h"

namespace vcp::service {

// What Start needs of AgentOptions (vcp/agent.h), without touching any file: the required paths, TLS files in
// pairs, and CheckAgentRanges.
[[nodiscard]] Status ValidateAgentOptions(const AgentOptions& options);
// Every value in its allowed range (what LoadAgentConfig checks: a config may leave the paths to flags).
[[nodiscard]] Status CheckAgentRanges(const AgentOptions& options);

// A token bucket in microseconds of epoch time: at most capacity_us, refilled at refill_per_us per microsecond of
// wall time, full at creation. Time is whatever monotonic microsecond count the caller passes (never decreasing).
class TokenBucket {
 public:
  TokenBucket(double capacity_us, double refill_per_us, uint64_t now_us);
  // Takes `cost` and returns nullopt, or takes nothing and returns the microseconds until `cost` is available
  // (never more than capacity / refill, since cost <= capacity is the caller's rule).
  std::optional<uint64_t> Take(double cost, uint64_t now_us);
  // Gives back a cost taken for a start that did not run (refused by the session).
  void Refund(double cost, uint64_t now_us);
  double Available(uint64_t now_us);
  double capacity_us() const { return capacity_us_; }
  double refill_per_us() const { return refill_per_us_; }

 private:
  void Refill(uint64_t now_us);
  double capacity_us_, refill_per_us_, tokens_;
  uint64_t last_us_;
};

}  // namespace vcp::service
