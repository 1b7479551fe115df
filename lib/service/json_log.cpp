#include "service/json_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace vcp::service {
namespace {

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};

// UTC with milliseconds: 2026-12-02T01:02:03.456Z.
std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[40];
  const size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms));
  return std::string(buffer, n) + millis;
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (name == kLevelNames[i]) return static_cast<LogLevel>(i);
  }
  return Status::InvalidArgument("log level '" + std::string(name) + "' is unknown: use debug, info, warn or error");
}

JsonLog::JsonLog(std::string service, LogLevel min_level, std::ostream* out)
    : service_(std::move(service)), min_level_(min_level), out_(out) {}

void JsonLog::Write(LogLevel level, std::string_view event, nlohmann::json fields) {
  if (level < min_level_) return;
  // ordered_json keeps ts, level, service, event first, so lines read well by eye and sort by time.
  nlohmann::ordered_json line;
  line["ts"] = Timestamp();
  line["level"] = kLevelNames[static_cast<size_t>(level)];
  line["service"] = service_;
  line["event"] = std::string(event);
  if (fields.is_object()) {
    for (auto& item : fields.items()) {
      if (!line.contains(item.key())) line[item.key()] = std::move(item.value());
    }
  } else if (!fields.is_null()) {
    line["fields"] = std::move(fields);
  }
  // replace: a field may quote bytes from the network that are not UTF-8; logging must not throw on them.
  const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  *out_ << text << std::flush;
}

}  // namespace vcp::service
