// The vcp command line: main.cpp builds the CLI11 app and each cmd_*.cpp registers its subcommands here.
// Exit codes everywhere (docs/CLI.md, `vcp --help`): 0 success / accepted, 1 rejected (a proof, signature or
// record checked and found wrong, or a failed verdict), 2 usage or input error (bad flags, an invalid argument,
// malformed or corrupt input), 3 everything else that stopped the command (I/O, device, resource and internal
// errors). Errors are one line on stderr ("vcp: <what was wrong>; <what is allowed>"), or a JSON object with
// "error" under --json.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "vcp/status.h"

namespace vcp::cli {

constexpr int kExitOk = 0;
constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;
constexpr int kExitError = 3;

// The exit code for a failed Status: kRejected -> 1; kInvalidArgument, kCorrupt -> 2; kIoError, kUnavailable,
// kResourceExhausted, kInternal -> 3. An OK status here is a caller's bug and maps to 3.
int ExitCodeFor(const Status& status);
// The --help footer: the exit codes above, in words.
inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 ok (accepted); 1 rejected (a proof, signature or record checked and found wrong, or a failed\n"
    "verdict); 2 usage or input error (bad flags, an invalid argument, malformed or corrupt input); 3 I/O,\n"
    "device, resource or internal error. Errors are one line on stderr, or JSON with \"error\" under --json.\n"
    "docs/CLI.md describes every command.";

struct CliState {
  bool json = false;  // --json: machine-readable output on stdout
  int exit_code = 0;
};

// Prints an error for `status` (stderr, or JSON on stdout under --json) and returns ExitCodeFor(status).
// Text: "vcp: rejected: <message>" for kRejected, "vcp: internal error: <message>" for kInternal (a bug to
// report), "vcp: <message>" otherwise. JSON: {"ok": false, "error": <message>, "kind": StatusCodeName(code),
// "exit_code": <code>}.
int ReportError(const CliState& state, const Status& status);
// Prints a JSON object, pretty, on stdout.
void PrintJson(const nlohmann::json& value);

void RegisterWorkloadCommands(CLI::App& app, CliState& state);  // run, open, check   (cmd_workload.cpp)
void RegisterMerkleCommands(CLI::App& app, CliState& state);    // merkle root|prove|verify (cmd_merkle.cpp)
void RegisterKeyCommands(CLI::App& app, CliState& state);       // keygen             (cmd_keys.cpp)
void RegisterDevicesCommand(CLI::App& app, CliState& state);    // devices            (cmd_devices.cpp)
// lease new|accept, epoch start, prove, challenge, respond, verify, report, inspect, calibrate, demo
void RegisterProtocolCommands(CLI::App& app, CliState& state);  // (protocol_commands.cpp and its cmd_*.cpp)

// agent run: the provider's daemon (cmd_agent.cpp); verifierd run | lease add|list|report|export: the renter's audit
// service and its client (cmd_verifierd.cpp).
void RegisterAgentCommand(CLI::App& app, CliState& state);
void RegisterVerifierdCommand(CLI::App& app, CliState& state);

}  // namespace vcp::cli
