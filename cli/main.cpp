// vcp: the command-line front end. Each cmd_*.cpp registers its subcommands; this file owns the app, the global
// --json flag, and the mapping of errors to exit codes (cli/commands.h).
#include <exception>
#include <iostream>

#include "commands.h"

namespace vcp::cli {

int ReportError(const CliState& state, const Status& status) {
  const int code = status.code() == StatusCode::kRejected ? kExitRejected : kExitUsage;
  if (state.json) {
    PrintJson({{"ok", false}, {"error", std::string(status.message())}, {"exit_code", code}});
  } else {
    std::cerr << "vcp: " << (code == kExitRejected ? "rejected: " : "") << status.message() << "\n";
  }
  return code;
}

// dump() throws type_error 316 on invalid UTF-8, which a file name or other user text in a message can hold.
void PrintJson(const nlohmann::json& value) {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace vcp::cli

int main(int argc, char** argv) {
  using namespace vcp::cli;
  CliState state;
  CLI::App app{"vcp: verifiable compute proofs. Deterministic GPU matmul workloads, Merkle commitments over their\n"
               "output tiles, and spot-check verification on a CPU. docs/SPEC.md defines every byte."};
  app.set_version_flag("--version", "vcp 0.1.0 (spec version 1)");
  app.add_flag("--json", state.json, "print machine-readable JSON on stdout");
  app.require_subcommand(1);
  app.fallthrough();  // lets --json follow the subcommand
  RegisterWorkloadCommands(app, state);
  RegisterMerkleCommands(app, state);
  RegisterKeyCommands(app, state);
  RegisterProtocolCommands(app, state);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "vcp: " << e.what() << " (run 'vcp --help' or 'vcp <command> --help' for usage)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    // Commands run inside parse(); whatever they throw (std::filesystem, nlohmann::json, bad_alloc) must end
    // here as an error line, never as std::terminate.
    std::cerr << "vcp: internal error: " << e.what() << "\n";
    return kExitUsage;
  }
  return state.exit_code;
}
