// fuzz/log_property.h: the property both store-log targets (provider_log, verifier_log) check.
//
//   - ScanLog either refuses the image (kCorrupt) or splits it into kept frames and a dropped tail: kept + dropped
//     is the whole image, and re-encoding the kept frames (EncodeLogHeader, EncodeLogFrame) gives exactly the kept
//     prefix, each entry at the offset it reports;
//   - every kept entry's message view (LogEntryMessage) is computed without a crash;
//   - replaying the image into the session of its role never crashes: it opens or is refused with a Status.
//
// Ownership, thread safety: stateless. Errors: a failed property aborts (fuzz_target.h).
#pragma once

#include <algorithm>
#include <span>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/store.h"
#include "vcp/store_log.h"

namespace vcp::fuzz {

// The scan, or nullopt when ScanLog refused the image (after checking the refusal).
inline std::optional<LogScan> CheckLogFraming(std::span<const uint8_t> data) {
  Result<LogScan> scan = ScanLog(data);
  if (!scan.ok()) {
    VCP_FUZZ_CHECK(scan.status().code() == StatusCode::kCorrupt, scan.status().ToString());
    VCP_FUZZ_CHECK(!scan.status().message().empty(), "a refusal says what was wrong");
    return std::nullopt;
  }
  const LogRecovery& r = scan->recovery;
  if (r.no_header) {
    // Shorter than the header (a crash while the log was created): no entries, nothing to re-encode.
    VCP_FUZZ_CHECK(data.size() < EncodeLogHeader(StoreRole::kProvider).size() && scan->entries.empty(),
                   "no_header is reported only for an image shorter than the header, with no entries");
    return std::move(scan).value();
  }
  VCP_FUZZ_CHECK(r.kept_bytes + r.dropped_bytes == data.size(),
                 "kept " + std::to_string(r.kept_bytes) + " + dropped " + std::to_string(r.dropped_bytes) +
                     " != " + std::to_string(data.size()) + " bytes");
  VCP_FUZZ_CHECK(r.torn_tail == (r.dropped_bytes > 0), "torn_tail is set exactly when bytes are dropped");
  VCP_FUZZ_CHECK(!r.torn_tail || !r.note.empty(), "a dropped tail comes with a note");
  std::vector<uint8_t> image = EncodeLogHeader(scan->role);
  for (const LogEntry& e : scan->entries) {
    VCP_FUZZ_CHECK(e.offset == image.size(), "entry offset " + std::to_string(e.offset) + " is not where its frame "
                                             "starts (" + std::to_string(image.size()) + ")");
    const std::vector<uint8_t> frame = EncodeLogFrame(e.type, e.payload);
    image.insert(image.end(), frame.begin(), frame.end());
    (void)LogEntryMessage(scan->role, e);
    (void)LogEntryName(scan->role, e.type);
  }
  VCP_FUZZ_CHECK(image.size() == r.kept_bytes && std::equal(image.begin(), image.end(), data.begin()),
                 "re-encoding the kept frames does not give the kept prefix");
  return std::move(scan).value();
}

}  // namespace vcp::fuzz
