// lib/service/json_log.h: structured log lines, one JSON object per line, for both services:
//   {"ts":"2026-12-02T01:02:03.456Z","level":"info","service":"agent","event":"epoch-proven", ...fields}
//
// Ownership: a JsonLog borrows its stream, which must outlive it. Thread safety: Write may be called from any
// thread; each line is written and flushed whole under one mutex, so lines never interleave. Errors: none; a
// field named ts, level, service or event is ignored (those keys are the log's own), fields that are not a JSON
// object are logged under "fields".
#pragma once

#include <iostream>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vcp/status.h"

namespace vcp::service {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
// "debug" | "info" | "warn" | "error"; anything else: kInvalidArgument naming the allowed names.
Result<LogLevel> ParseLogLevel(std::string_view name);

class JsonLog {
 public:
  explicit JsonLog(std::string service, LogLevel min_level = LogLevel::kInfo, std::ostream* out = &std::cerr);
  // Lines below min_level are dropped.
  void Write(LogLevel level, std::string_view event, nlohmann::json fields = nlohmann::json::object());

 private:
  std::string service_;
  LogLevel min_level_;
  std::ostream* out_;
  std::mutex mu_;
};

}  // namespace vcp::service
