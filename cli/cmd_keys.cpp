// vcp keygen: create an Ed25519 signing key pair (docs/SPEC.md section 8) in a directory.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"

namespace vcp::cli {

namespace {

int DoKeygen(const CliState& state, const std::string& out) {
  auto key = SecretKey::Generate();
  if (!key.ok()) return ReportError(state, key.status());
  if (Status s = SaveKeyPair(*key, out); !s.ok()) return ReportError(state, s);
  const std::string public_hex = ToHex(key->public_key());
  const std::string secret_file = (std::filesystem::path(out) / "vcp.key").string();
  const std::string public_file = (std::filesystem::path(out) / "vcp.pub").string();
  if (state.json) {
    PrintJson({{"ok", true}, {"public_key", public_hex}, {"secret_key_file", secret_file},
               {"public_key_file", public_file}});
  } else {
    std::cout << "public key       " << public_hex << "\n"
              << "secret key file  " << secret_file << " (mode 0600; keep it private)\n"
              << "public key file  " << public_file << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterKeyCommands(CLI::App& app, CliState& state) {
  auto out = std::make_shared<std::string>();
  CLI::App* keygen = app.add_subcommand(
      "keygen", "create an Ed25519 key pair: DIR/vcp.key (secret, mode 0600) and DIR/vcp.pub; never overwrites");
  keygen->add_option("--out", *out, "directory for the key pair (created with mode 0700 if missing)")->required();
  keygen->callback([&state, out] { state.exit_code = DoKeygen(state, *out); });
}

}  // namespace vcp::cli
