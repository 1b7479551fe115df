// vcp agent run: the provider's daemon (vcp/agent.h). The agent's logic is the library's; this file reads the config
// file, lets flags override it, and turns SIGTERM / SIGINT into a graceful Shutdown. Exit 0 after a signal (also
// when epochs still running after the grace were abandoned: nothing acknowledged is lost), 2 for a bad config or
// flag, 3 when the agent cannot start (a key, a store, the port).
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "service/http.h"
#include "vcp/agent.h"

namespace vcp::cli {

namespace {

struct AgentFlags {
  std::string config, listen, state_dir, key, authorized_keys, tls_cert, tls_key, backend, beacon_file, log_level;
  bool allow_plain_http = false;
  int threads = -1;             // -1: the config's
  double max_audit_share = -1;  // -1: the config's
  int burst_epochs = -1;        // -1: the config's
  double simulate_lazy = -1;    // -1: the config's
  uint32_t grace_s = 30;
};

// HOST:PORT, with an IPv6 host in brackets ("[::1]:8443").
Result<AgentOptions> OptionsFrom(const AgentFlags& f) {
  AgentOptions options;
  if (!f.config.empty()) {
    Result<AgentOptions> loaded = LoadAgentConfig(f.config);
    if (!loaded.ok()) return loaded.status().WithContext("--config");
    options = std::move(*loaded);
  }
  if (!f.listen.empty()) {
    Result<service::HostPort> listen = service::ParseHostPort(f.listen);
    if (!listen.ok()) return listen.status().WithContext("--listen");
    options.listen_host = listen->host;
    options.listen_port = listen->port;
  }
  if (!f.state_dir.empty()) options.state_dir = f.state_dir;
  if (!f.key.empty()) options.provider_key = f.key;
  if (!f.authorized_keys.empty()) options.authorized_keys = f.authorized_keys;
  if (!f.tls_cert.empty()) options.tls_cert_file = f.tls_cert;
  if (!f.tls_key.empty()) options.tls_key_file = f.tls_key;
  if (f.allow_plain_http) options.allow_plain_http = true;
  if (!f.backend.empty()) {
    Result<BackendChoice> backend = ParseBackendChoice(f.backend);
    if (!backend.ok()) return backend.status().WithContext("--backend");
    options.backend = *backend;
  }
  if (f.threads >= 0) options.threads = f.threads;
  if (f.max_audit_share >= 0) options.max_audit_share = f.max_audit_share;
  if (f.burst_epochs >= 0) options.burst_epochs = static_cast<uint32_t>(f.burst_epochs);
  if (!f.beacon_file.empty()) options.beacon_file = f.beacon_file;
  if (f.simulate_lazy >= 0) options.simulate_lazy_fraction = f.simulate_lazy;
  if (!f.log_level.empty()) options.log_level = f.log_level;
  return options;
}

int DoRun(const CliState& state, const AgentFlags& f) {
  Result<AgentOptions> options = OptionsFrom(f);
  if (!options.ok()) return ReportError(state, options.status());
  // SIGTERM and SIGINT are blocked in every thread (the agent's threads inherit this mask) and taken below by
  // sigwait, so a signal never lands in the middle of a log append. A peer that closes its connection must not
  // kill the process through SIGPIPE while a response is written.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Result<std::unique_ptr<Agent>> agent = Agent::Start(std::move(*options));
  if (!agent.ok()) return ReportError(state, agent.status());
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  if ((*agent)->Shutdown(f.grace_s) > 0) {
    // Epochs still running past the grace: their starts are logged and their records are not, so nothing the
    // verifier was told is lost; the runs cannot be interrupted, so leave without waiting for them.
    std::cout.flush();
    std::_Exit(kExitOk);
  }
  return kExitOk;
}

}  // namespace

void RegisterAgentCommand(CLI::App& app, CliState& state) {
  CLI::App* agent = app.add_subcommand("agent", "the provider's daemon: serve the lease protocol over HTTPS");
  agent->require_subcommand(1);
  auto f = std::make_shared<AgentFlags>();
  CLI::App* run = agent->add_subcommand(
      "run",
      "serve leases from authorized verifiers until SIGTERM / SIGINT (docs/API.md section 2); logs JSON lines on "
      "stderr, among them {\"event\":\"listening\",\"port\":N} once it accepts connections");
  run->add_option("--config", f->config, "JSON config file (deploy/agent.example.json lists every key)");
  run->add_option("--listen", f->listen, "HOST:PORT to listen on (config listen_host / listen_port; port 0 = any)");
  run->add_option("--state", f->state_dir, "state directory: one provider store per lease under leases/");
  run->add_option("--key", f->key, "the provider's vcp.key, or the directory holding it");
  run->add_option("--authorized-keys", f->authorized_keys,
                  "file of verifier public keys allowed to offer leases, one per line");
  run->add_option("--tls-cert", f->tls_cert, "PEM certificate chain (with --tls-key; required off loopback)");
  run->add_option("--tls-key", f->tls_key, "PEM private key of the certificate");
  run->add_flag("--allow-plain-http", f->allow_plain_http,
                "serve plain HTTP on a non-loopback address (only behind a TLS proxy)");
  run->add_option("--backend", f->backend, "auto, cpu or cuda");
  run->add_option("--threads", f->threads, "CPU engine threads, 0 = all");
  run->add_option("--max-audit-share", f->max_audit_share,
                  "share of wall time one lease's epochs may take (rate limit), above 0 up to 1");
  run->add_option("--burst-epochs", f->burst_epochs, "epochs a lease may start back to back (1 to 1000)");
  run->add_option("--beacon-file", f->beacon_file, "beacon file for beacon-mode leases");
  run->add_option("--simulate-lazy", f->simulate_lazy,
                  "TESTS ONLY: skip this fraction of every epoch's tiles, so that verifiers catch it");
  run->add_option("--log-level", f->log_level, "debug, info, warn or error");
  run->add_option("--grace", f->grace_s, "seconds running epochs get to finish after SIGTERM")->capture_default_str();
  run->callback([&state, f] { state.exit_code = DoRun(state, *f); });
}

}  // namespace vcp::cli
