// Fuzz target provider_log: a provider.log image (ScanLog, then ProviderSession::Open over it).
// Properties: fuzz/log_property.h.
#include <fstream>

#include "log_property.h"
#include "vcp/lease_session.h"

using namespace vcp;
using namespace vcp::fuzz;

VCP_FUZZ_TARGET(provider_log) {
  const std::optional<LogScan> scan = CheckLogFraming(data);
  if (!scan || scan->role != StoreRole::kProvider) return;
  // ProviderSession keeps its log in a store directory: a fresh one per input.
  const std::filesystem::path dir = ScratchDir() / "provider-log";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "provider.log", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }
  Result<ProviderSession> session = ProviderSession::Open(dir);
  if (!session.ok()) {
    VCP_FUZZ_CHECK(!session.status().message().empty(), "a refused log says why");
    return;
  }
  // What a restarted provider asks of its state first.
  (void)session->epochs_started();
  (void)session->last_epoch();
  (void)ValidateLease(session->lease());
  VCP_FUZZ_CHECK(session->lease_id() == LeaseId(session->lease()), "the session's lease id is its lease's");
}
