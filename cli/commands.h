// The vcp command line: main.cpp builds the CLI11 app and each cmd_*.cpp registers its subcommands here.
// Exit codes everywhere: 0 success / accepted, 1 rejected (a proof or signature checked and found wrong),
// 2 usage or input error (bad flags, unreadable files, malformed hex, impossible shapes). Errors are one line on
// stderr ("vcp: <what was wrong>; <what is allowed>"), or a JSON object with "error" under --json.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "vcp/status.h"

namespace vcp::cli {

constexpr int kExitOk = 0;
constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;

struct CliState {
  bool json = false;  // --json: machine-readable output on stdout
  int exit_code = 0;
};

// Prints an error for `status` (stderr, or JSON on stdout under --json) and returns the matching exit code:
// kRejected -> 1, anything else -> 2.
int ReportError(const CliState& state, const Status& status);
// Prints a JSON object, pretty, on stdout.
void PrintJson(const nlohmann::json& value);

void RegisterWorkloadCommands(CLI::App& app, CliState& state);  // run, open, check   (cmd_workload.cpp)
void RegisterMerkleCommands(CLI::App& app, CliState& state);    // merkle root|prove|verify (cmd_merkle.cpp)
void RegisterKeyCommands(CLI::App& app, CliState& state);       // keygen             (cmd_keys.cpp)
// lease new|accept, epoch start, prove, challenge, respond, verify, report, inspect, calibrate, demo
void RegisterProtocolCommands(CLI::App& app, CliState& state);  // (cmd_protocol.cpp)

}  // namespace vcp::cli
