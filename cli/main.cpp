// vcp: the command-line front end. Each cmd_*.cpp registers its subcommands; this file owns the app, the global
// --json flag, and the mapping of errors to exit codes (cli/commands.h).
#include <algorithm>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "vcp/protocol.h"
#include "vcp/version.h"
#include "vcp/workload.h"

namespace vcp::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kRejected: return kExitRejected;
    case StatusCode::kInvalidArgument:
    case StatusCode::kCorrupt: return kExitUsage;
    case StatusCode::kOk:  // reporting success as an error is a bug in the caller
    case StatusCode::kIoError:
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kInternal: return kExitError;
  }
  return kExitError;
}

int ReportError(const CliState& state, const Status& status) {
  const int code = ExitCodeFor(status);
  if (state.json) {
    PrintJson({{"ok", false},
               {"error", std::string(status.message())},
               {"kind", std::string(StatusCodeName(status.code()))},
               {"exit_code", code}});
  } else {
    const char* prefix = status.code() == StatusCode::kRejected   ? "rejected: "
                         : status.code() == StatusCode::kInternal ? "internal error: "
                                                                  : "";
    std::cerr << "vcp: " << prefix << status.message() << "\n";
  }
  return code;
}

// dump() throws type_error 316 on invalid UTF-8, which a file name or other user text in a message can hold.
void PrintJson(const nlohmann::json& value) {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace vcp::cli


namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions): "kegen" -> "keygen" is 1,
// "--sede" -> "--seed" is 1.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The candidate closest to `word`, if it is close enough to be the likely intent: at most 2 edits, and at most
// half the longer word ("nw" -> "new", but "ab" suggests nothing).
std::optional<std::string> Closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 3;
  for (const std::string& c : candidates) {
    const size_t distance = EditDistance(word, c);
    if (distance < best_distance && 2 * distance <= std::max(word.size(), c.size())) {
      best = c;
      best_distance = distance;
    }
  }
  return best;
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::vector<std::string> SubcommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return names;
}

// "vcp merkle root" for the app at `app` (CLI11 names the top-level app after argv[0]; this says "vcp").
std::string CommandPath(const CLI::App& app) {
  if (app.get_parent() == nullptr) return "vcp";
  return CommandPath(*app.get_parent()) + " " + app.get_name();
}

// The option `name` ("--seed", "-k") as CLI11 would find it from `app`: there, or in a parent the subcommand
// falls through to (how --json may follow the subcommand).
const CLI::Option* FindOption(const CLI::App& app, const std::string& name) {
  for (const CLI::App* a = &app; a != nullptr; a = a->get_fallthrough() ? a->get_parent() : nullptr) {
    if (const CLI::Option* opt = a->get_option_no_throw(name)) return opt;
  }
  return nullptr;
}

std::vector<std::string> FlagNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a != nullptr; a = a->get_fallthrough() ? a->get_parent() : nullptr) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
      for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
    }
  }
  return names;
}

struct UsageError {
  std::optional<std::string> unknown;  // the first word that could not be placed, with the closest valid word
  std::string command;                 // the deepest command named, e.g. "vcp merkle root", for the help hint
};

// CLI11 reports a mistyped command as "A subcommand is required" and a mistyped flag without a suggestion. This
// walks the command line as CLI11 does and names the first word it could not place, with the closest valid
// word; no `unknown` when every word is known (CLI11's own message is then the precise one).
UsageError DescribeUsageError(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  UsageError error;
  auto found = [&](std::string message) {
    error.unknown = std::move(message);
    error.command = CommandPath(*current);
    return error;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      const std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* opt = FindOption(*current, name);
      if (opt == nullptr) {
        std::string message = "unknown flag '" + name + "' for '" + CommandPath(*current) + "'";
        if (auto near = Closest(name, FlagNames(*current))) return found(message + "; did you mean '" + *near + "'?");
        return found(message);
      }
      if (opt->get_items_expected_max() > 0 && name.size() == arg.size()) ++i;  // its value is the next word
      continue;
    }
    const std::vector<std::string> commands = SubcommandNames(*current);
    if (commands.empty()) continue;  // a positional argument of a leaf command
    if (auto it = std::find(commands.begin(), commands.end(), arg); it != commands.end()) {
      current = current->get_subcommands([&arg](const CLI::App* sub) { return sub->get_name() == arg; }).front();
      continue;
    }
    if (!current->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) continue;
    // "merkle " for a word after `vcp merkle`, nothing at the top level.
    const std::string prefix = current->get_parent() ? CommandPath(*current).substr(4) + " " : "";
    std::string message = "unknown command '" + prefix + arg + "'";
    if (auto near = Closest(arg, commands)) return found(message + "; did you mean '" + prefix + *near + "'?");
    return found(message + "; the commands are: " + Join(commands));
  }
  if (!SubcommandNames(*current).empty() && current->get_require_subcommand_min() > 0) {
    return found("'" + CommandPath(*current) + "' needs a command: " + Join(SubcommandNames(*current)));
  }
  error.command = CommandPath(*current);
  return error;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vcp::cli;
  CliState state;
  CLI::App app{"vcp: verifiable compute proofs. Deterministic GPU matmul workloads, Merkle commitments over their\n"
               "output tiles, and spot-check verification on a CPU. docs/SPEC.md defines every byte."};
  app.set_version_flag("--version", "vcp " + std::string(vcp::kVersion) + " (spec version " + std::to_string(vcp::kSpecVersion) +
                                        ", protocol version " + std::to_string(vcp::kProtocolVersion) + ")");
  app.add_flag("--json", state.json, "print machine-readable JSON on stdout");
  app.require_subcommand(1);
  app.fallthrough();  // lets --json follow the subcommand
  app.footer(kExitCodeHelp);
  RegisterWorkloadCommands(app, state);
  RegisterMerkleCommands(app, state);
  RegisterKeyCommands(app, state);
  RegisterDevicesCommand(app, state);
  RegisterProtocolCommands(app, state);
  RegisterAgentCommand(app, state);
  RegisterVerifierdCommand(app, state);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const UsageError error = DescribeUsageError(app, argc, argv);
    std::cerr << "vcp: " << (error.unknown ? *error.unknown : std::string(e.what())) << " (run '" << error.command
              << " --help' for usage)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    // Commands run inside parse(); whatever they throw (std::filesystem, nlohmann::json, bad_alloc) must end
    // here as an error line, never as std::terminate.
    std::cerr << "vcp: internal error: " << e.what() << "\n";
    return kExitError;
  }
  return state.exit_code;
}
