// Fuzz target verifier_log: a verifier.log image (ScanLog, then VerifierSession::Open over its entries in memory).
// Properties: fuzz/log_property.h; an opened session reports only closed epochs' verdicts.
#include "log_property.h"
#include "vcp/beacon.h"
#include "vcp/lease_session.h"

using namespace vcp;
using namespace vcp::fuzz;

namespace {

class StillClock final : public Clock {
 public:
  uint64_t NowMicros() const override { return kGoldenT0 + 60'000'000; }
};

}  // namespace

VCP_FUZZ_TARGET(verifier_log) {
  const std::optional<LogScan> scan = CheckLogFraming(data);
  if (!scan || scan->role != StoreRole::kVerifier) return;
  static const StillClock clock;
  VerifierOptions options;
  options.clock = &clock;
  options.random = [](std::span<uint8_t> out) { std::fill(out.begin(), out.end(), uint8_t{0x5a}); };
  options.threads = 1;
  Result<VerifierSession> session = VerifierSession::Open(std::make_unique<MemoryLog>(scan->entries), options);
  if (!session.ok()) {
    VCP_FUZZ_CHECK(!session.status().message().empty(), "a refused log says why");
    return;
  }
  size_t closed = 0;
  for (const VerifierEpoch& e : session->epochs()) closed += e.verdict ? 1 : 0;
  VCP_FUZZ_CHECK(session->verdicts().size() == closed, "verdicts() lists exactly the closed epochs");
  VCP_FUZZ_CHECK(session->lease_id() == LeaseId(session->lease()), "the session's lease id is its lease's");
  (void)session->ScheduledStartUs();
}
