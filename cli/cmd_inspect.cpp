// vcp inspect FILE: any file vcp writes (protocol message, store log, leaves file, multiproof) as JSON, decoded
// by the library (vcp/inspect.h); the CLI adds the file name.
#include <iostream>
#include <memory>

#include "fileio.h"
#include "protocol_commands.h"
#include "vcp/inspect.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

// Store logs and leaves files grow with the lease; 4 GiB is far beyond any real one and still fits in memory.
constexpr uint64_t kMaxInspectBytes = uint64_t{4} << 30;

int DoInspect(const CliState& state, const std::string& path) {
  auto bytes = ReadFileBytes(path, kMaxInspectBytes);
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto text = InspectJson(*bytes);
  if (!text.ok()) {
    return ReportError(state, text.status().WithContext(path + " (vcp inspect reads protocol messages, store logs, "
                                                               "leaves files and multiproofs)"));
  }
  json j = json::parse(*text);
  j["file"] = path;
  PrintJson(j);
  return kExitOk;
}

}  // namespace

void RegisterInspectCommand(CLI::App& app, CliState& state) {
  auto file = std::make_shared<std::string>();
  CLI::App* inspect = app.add_subcommand(
      "inspect", "print any protocol message, store log, leaves file or multiproof as JSON (always JSON)");
  inspect->add_option("FILE", *file, "the file")->required();
  inspect->callback([&state, file] { state.exit_code = DoInspect(state, *file); });
}

}  // namespace vcp::cli
