// cli/protocol_commands.cpp: RegisterProtocolCommands and what the protocol command groups share (see
// protocol_commands.h).
#include "protocol_commands.h"

#include <cmath>
#include <iostream>

#include "fileio.h"
#include "format.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

// The command that writes each message, for telling a user which file a flag wanted.
std::string_view WrittenBy(MessageType type) {
  switch (type) {
    case MessageType::kLease:
      return "vcp lease new";
    case MessageType::kAcceptance:
      return "vcp lease accept";
    case MessageType::kEpochStart:
      return "vcp epoch start";
    case MessageType::kRecord:
      return "vcp prove";
    case MessageType::kChallenge:
      return "vcp challenge";
    case MessageType::kResponse:
      return "vcp respond";
    case MessageType::kVerdict:
      return "vcp verify --out";
  }
  return "vcp";
}

}  // namespace

void RegisterProtocolCommands(CLI::App& app, CliState& state) {
  RegisterLeaseCommands(app, state);
  RegisterEpochCommands(app, state);
  RegisterReportCommand(app, state);
  RegisterInspectCommand(app, state);
  RegisterCalibrateCommand(app, state);
  RegisterDemoCommand(app, state);
}

Result<std::vector<uint8_t>> ReadMessageFile(const std::string& path, MessageType expected, std::string_view flag) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, kMaxMessageBytes));
  auto type = IdentifyMessage(bytes);
  if (!type.ok()) return type.status().WithContext(std::string(flag) + " " + path);
  if (*type != expected) {
    const std::string found(MessageTypeName(*type));
    const char* article = found.find_first_of("aeiou") == 0 ? "an" : "a";
    return Status::InvalidArgument(std::string(flag) + " " + path + " holds " + article + " " + found +
                                   " message (written by " + std::string(WrittenBy(*type)) + "); " + std::string(flag) +
                                   " needs the " + std::string(MessageTypeName(expected)) + " that " +
                                   std::string(WrittenBy(expected)) + " wrote");
  }
  return bytes;
}

Status WriteMessageFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  return WriteFileAtomic(path, bytes);
}

Result<uint64_t> ScaledFlag(std::string_view flag, double value, double scale, double min, double max,
                            std::string_view unit) {
  // max is at most 2^64 / scale in practice; the comparison is on doubles so that NaN and infinities fail too.
  if (!(value >= min && value <= max)) {
    return Status::InvalidArgument(std::string(flag) + " " + Sci(value) + " is out of range; allowed: " + Sci(min) +
                                   " to " + Sci(max) + " " + std::string(unit));
  }
  // std::llround is a long long: out of range from 2^63 on. The double is checked against 2^64 first.
  const double scaled = std::round(value * scale);
  return scaled >= 0x1p64 ? UINT64_MAX : static_cast<uint64_t>(scaled);
}

void PrintRecovery(const CliState& state, const LogRecovery& recovery, std::string_view role, bool cut) {
  if (!recovery.torn_tail || state.json) return;
  if (cut) {
    std::cerr << "vcp: " << role << " store recovered: " << recovery.note << "\n";
  } else {
    std::cerr << "vcp: " << role << " store has an unfinished append (its writer is running, or crashed; the next "
              << "command that writes the store cuts it): " << recovery.note << "; read the intact entries before it\n";
  }
}

void AddResponseWaitOption(CLI::App* command, double& seconds) {
  seconds = double(kDefaultResponseWaitUs) / 1e6;
  command
      ->add_option("--response-wait-s", seconds,
                   "seconds a valid response may take after the record's arrival (beacon mode: after its round is "
                   "published) before an open epoch with no next start counts as no-response")
      ->capture_default_str();
}

Result<uint64_t> ResponseWaitUs(double seconds) {
  return ScaledFlag("--response-wait-s", seconds, 1e6, 0, 7 * 86400.0, "seconds (up to 7 days)");
}

void PrintOverdueClosed(const Verdict& verdict) {
  std::cerr << "vcp: epoch " << verdict.epoch << " was overdue and is now closed " << ReasonName(verdict.reason) << ": "
            << verdict.detail << "\n";
}

}  // namespace vcp::cli
