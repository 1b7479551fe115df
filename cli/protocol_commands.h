// cli/protocol_commands.h: the lease protocol on the command line (docs/PROTOCOL.md section 12), one file per
// command group behind RegisterProtocolCommands (cli/commands.h). File-based, so the verifier and the provider can
// run on different machines and exchange message files by any channel.
//
//   verifier: vcp lease new     -> lease.bin             provider: vcp lease accept -> accept.bin
//             vcp epoch start   -> start.bin                       vcp prove        -> record.bin
//               (--wait: scheduled; else on demand)                  (every device the lease names)
//             vcp challenge     -> challenge.bin                   vcp respond      -> response.bin
//             vcp verify        -> verdict (exit 0 pass, 1 fail)
//             vcp epoch void    -> a void verdict (the verifier could not time the epoch)
//             vcp report        -> the lease verdict
//   anyone:   vcp inspect FILE, vcp calibrate, vcp demo [--devices N] [--cheat F]
//
// The commands parse flags, call the library (vcp/lease_session.h and friends) and format its results; what they
// share for that lives here. Everything a protocol step decides is the library's. Key flags go through
// ResolveSecretKey / ResolvePublicKey (vcp/keys.h), so --provider-key also takes the hex key vcp keygen printed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "commands.h"
#include "protocol/report_json.h"
#include "vcp/bytes.h"
#include "vcp/lease_session.h"
#include "vcp/message_json.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/store.h"
#include "vcp/verdict.h"

namespace vcp::cli {

// One registration per command group, each in its own file.
void RegisterLeaseCommands(CLI::App& app, CliState& state);      // cmd_lease.cpp: lease new, lease accept
void RegisterEpochCommands(CLI::App& app, CliState& state);      // cmd_epoch.cpp: epoch start, epoch void, prove,
                                                                 //   challenge, respond, verify
void RegisterReportCommand(CLI::App& app, CliState& state);      // cmd_report.cpp: report
void RegisterInspectCommand(CLI::App& app, CliState& state);     // cmd_inspect.cpp: inspect
void RegisterCalibrateCommand(CLI::App& app, CliState& state);   // cmd_calibrate.cpp: calibrate
void RegisterDemoCommand(CLI::App& app, CliState& state);        // cmd_demo.cpp: demo

// Reads the message file given to `flag` and checks that it holds a message of type `expected`, so that a wrong
// file (a record given to --response) is named as such instead of failing a protocol check further on.
Result<std::vector<uint8_t>> ReadMessageFile(const std::string& path, MessageType expected, std::string_view flag);
// Writes a message file atomically (never a partial file).
[[nodiscard]] Status WriteMessageFile(const std::string& path, const std::vector<uint8_t>& bytes);

// A flag given as a double (so that "1e12" is accepted) converted to an integer count of `scale` units, refusing
// values outside [min, max] with the allowed range, instead of letting an out-of-range conversion wrap.
Result<uint64_t> ScaledFlag(std::string_view flag, double value, double scale, double min, double max,
                            std::string_view unit);

// Tells the user (stderr, text mode only) that the store's log had a torn tail: cut off by a writer's Open, left in
// place by a reader (`cut` false).
void PrintRecovery(const CliState& state, const LogRecovery& recovery, std::string_view role, bool cut = true);

// --response-wait-s on the verifier commands that close an overdue epoch and on `vcp report` (docs/PROTOCOL.md
// 10.5): how long a valid response may take after the record's arrival; the library's default
// (kDefaultResponseWaitUs) unless given.
void AddResponseWaitOption(CLI::App* command, double& seconds);
Result<uint64_t> ResponseWaitUs(double seconds);
// Tells the user (stderr, every mode: stdout keeps the command's own output) that an overdue epoch was closed.
void PrintOverdueClosed(const Verdict& verdict);

}  // namespace vcp::cli
