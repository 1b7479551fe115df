// vcp/inspect.h: any file vcp writes, as JSON text (`vcp inspect`): protocol messages and proof files
// (MessageJson in vcp/message_json.h), store logs (each entry named and decoded with vcp/store_log.h, its message
// included), and leaves files (their header).
//
// Ownership: values. Thread safety: reentrant. Errors: kCorrupt naming what the bytes are not; a store log with a
// torn tail is not an error (the JSON reports it, as AppendLog::Open would).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

// Pretty-printed JSON (2-space indent), one object with a "type" member:
//   store log:   {"type": "store-log", "role": "provider"|"verifier", "entries": [{"offset", "type", "bytes",
//                 ...decoded fields ("arrival_us", "round_roots", "schedule_seed", "mean_gap_us", "schedule"),
//                 "message": {MessageJson of the carried message}}], "torn_tail": bool, "recovery": "..."}
//   leaves file: {"type": "leaves-file", "lease_id", "epoch", "rounds" (D x R), "leaves_per_round", "bytes"}
//   otherwise:   MessageJson(bytes)
// Text that is not valid UTF-8 (a device name) is replaced, never refused.
VCP_EXPORT Result<std::string> InspectJson(std::span<const uint8_t> bytes);

}  // namespace vcp
