// vcp verifierd run (the renter's audit service, vcp/verifierd.h) and vcp verifierd lease add|list|report|export
// (its client, over the JSON API of docs/API.md section 3). The service's logic is the library's; this file parses
// flags, handles signals and prints.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include "fileio.h"
#include "format.h"
#include "protocol_commands.h"
#include "service/http.h"
#include "service/verifierd_api.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/verifierd.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------
// vcp verifierd run

struct RunFlags {
  std::string config, listen, database, key, agent_ca, tls_cert, tls_key, log_level;
  bool allow_plain_http = false, allow_plain_agents = false;
  uint32_t verify_threads = 0;  // 0: the config's (or the default)
};

int DoRun(const CliState& state, const RunFlags& f) {
  VerifierServiceOptions options;
  if (!f.config.empty()) {
    auto loaded = LoadVerifierServiceConfig(f.config);
    if (!loaded.ok()) return ReportError(state, loaded.status().WithContext("--config"));
    options = std::move(*loaded);
  }
  if (!f.listen.empty()) {
    Result<service::HostPort> listen = service::ParseHostPort(f.listen);
    if (!listen.ok()) return ReportError(state, listen.status().WithContext("--listen"));
    options.listen_host = listen->host;
    options.listen_port = listen->port;
  }
  if (!f.database.empty()) options.database = f.database;
  if (!f.key.empty()) options.verifier_key = f.key;
  if (!f.agent_ca.empty()) options.agent_ca_file = f.agent_ca;
  if (!f.tls_cert.empty()) options.tls_cert_file = f.tls_cert;
  if (!f.tls_key.empty()) options.tls_key_file = f.tls_key;
  if (!f.log_level.empty()) options.log_level = f.log_level;
  if (f.allow_plain_http) options.allow_plain_http = true;
  if (f.allow_plain_agents) options.allow_plain_agents = true;
  if (f.verify_threads != 0) options.verify_threads = f.verify_threads;

  // SIGTERM and SIGINT are blocked in every thread (the service's threads inherit this mask) and taken here by
  // sigwait, so a signal never interrupts a database commit or an exchange with an agent.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto service = VerifierService::Start(std::move(options));
  if (!service.ok()) return ReportError(state, service.status());
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  (*service)->Shutdown();
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// The client commands.

struct ApiFlags {
  std::string api, ca;
  bool allow_plain_http = false;
};

void AddApiFlags(CLI::App* app, ApiFlags& f) {
  app->add_option("--api", f.api, "the verifierd API, e.g. https://verifier:8444 (http:// on loopback)")->required();
  app->add_option("--ca", f.ca, "CA certificate the verifierd's certificate chains to (default: the system's)");
  app->add_flag("--allow-plain-http", f.allow_plain_http, "allow an http:// API off loopback (unencrypted)");
}

Result<std::unique_ptr<service::HttpClient>> ApiClient(const ApiFlags& f) {
  service::HttpClientOptions options;
  options.ca_file = f.ca;
  options.allow_plain_http = f.allow_plain_http;
  auto client = service::HttpClient::Create(f.api, std::move(options));
  if (!client.ok()) return client.status().WithContext("--api");
  return client;
}

// An error answer of the API as a Status whose kind gives the CLI's exit code: the agent's refusal (502) and a
// refused key are rejections (1), the caller's mistakes input errors (2), the rest service errors (3).
Status ApiError(const service::HttpResponse& response) {
  const json j = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  std::string message = j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
                                                                                       : response.body.substr(0, 200);
  message = "verifierd answered HTTP " + std::to_string(response.status) + ": " + message;
  switch (response.status) {
    case 403:
    case 502:
      return Status::Rejected(message);
    case 400:
    case 404:
    case 405:
    case 409:
    case 413:
    case 415:
    case 422:
      return Status::InvalidArgument(message);
    case 429:
    case 503:
      return Status::Unavailable(message);
    default:
      return Status::IoError(message);
  }
}

// GET or POST on the API, returning the JSON body of a 2xx answer.
Result<json> CallJson(const ApiFlags& f, std::string_view method, const std::string& path, const json* body) {
  Result<std::unique_ptr<service::HttpClient>> client = ApiClient(f);
  if (!client.ok()) return client.status();
  Result<service::HttpResponse> response =
      method == "POST" ? (*client)->Post(path, service::kJsonMediaType, body->dump(), service::kJsonMediaType)
                       : (*client)->Get(path, service::kJsonMediaType);
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status > 299) return ApiError(*response);
  json j = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corrupt("verifierd answered " + path + " with a body that is not JSON");
  return j;
}

Result<Hash32> LeaseIdFlag(const std::string& text) { return FixedFromHex<32>(text, "--lease"); }

// ---- lease add ----

struct AddFlags {
  ApiFlags api;
  std::string agent, provider_key, mode = "interactive", workload = "int8";
  uint32_t m = 4096, n = 4096, k = 4096, tile = kDefaultTile, devices = 1, rounds = 8, samples = 0;
  double rate = 0, slack = double(kDefaultSlackPpm) / 1e6, allowance_ms = 0, hours = 0, seconds = 0, audit_share = 0.02;
};

int DoAdd(const CliState& state, const AddFlags& f) {
  LeaseRequest r;
  r.agent_url = f.agent;
  auto provider = ResolvePublicKey(f.provider_key);
  if (!provider.ok()) return ReportError(state, provider.status().WithContext("--provider-key"));
  r.provider_key = *provider;
  auto mode = ParseLeaseMode(f.mode);
  if (!mode.ok()) return ReportError(state, mode.status().WithContext("--mode"));
  r.mode = *mode;
  auto kind = ParseWorkloadKind(f.workload);
  if (!kind.ok()) return ReportError(state, kind.status().WithContext("--workload"));
  r.workload.kind = *kind;
  r.workload.m = f.m;
  r.workload.n = f.n;
  r.workload.k = f.k;
  r.workload.tile = f.tile;
  if (f.devices < 1 || f.devices > kMaxDevices) {
    return ReportError(
        state, Status::InvalidArgument("--devices " + std::to_string(f.devices) + " is out of range; allowed: 1 to " +
                                       std::to_string(kMaxDevices)));
  }
  r.devices = static_cast<uint8_t>(f.devices);
  r.rounds = f.rounds;
  r.samples = f.samples;
  auto rate = ScaledFlag("--rate", f.rate, 1, 1, kMaxRateFlag, "operations per second per device");
  if (!rate.ok()) return ReportError(state, rate.status());
  r.claimed_ops_per_second_per_device = *rate;
  auto slack = ScaledFlag("--slack", f.slack, 1e6, 0, 4000, "(a fraction of the compute time)");
  if (!slack.ok()) return ReportError(state, slack.status());
  r.slack_ppm = static_cast<uint32_t>(*slack);
  auto allowance = ScaledFlag("--allowance-ms", f.allowance_ms, 1000, 0, 1e12, "milliseconds");
  if (!allowance.ok()) return ReportError(state, allowance.status());
  r.network_allowance_us = *allowance;
  if ((f.hours > 0) == (f.seconds > 0)) {
    return ReportError(state, Status::InvalidArgument("give the lease's length with exactly one of --hours and "
                                                      "--seconds (a positive number)"));
  }
  auto length = f.hours > 0 ? ScaledFlag("--hours", f.hours, 3.6e9, 1e-6, 1e6, "hours")
                            : ScaledFlag("--seconds", f.seconds, 1e6, 1e-3, 3.6e9, "seconds");
  if (!length.ok()) return ReportError(state, length.status());
  r.duration_us = *length;
  r.audit_share = f.audit_share;
  const json body = service::LeaseRequestJson(r);
  auto answer = CallJson(f.api, "POST", "/v1/leases", &body);
  if (!answer.ok()) return ReportError(state, answer.status());
  const json& a = *answer;
  if (state.json) {
    json j = a;
    j["ok"] = true;
    PrintJson(j);
    return kExitOk;
  }
  std::cout << "lease       " << a.value("lease_id", "") << "\n"
            << "agent       " << f.agent << ": "
            << (a.value("accepted", false) ? "accepted the lease"
                                           : "not reached yet; verifierd keeps offering the lease with backoff")
            << "\n"
            << "deadline    " << Fixed(a.value("deadline_ms", 0.0), 1) << " ms per epoch\n";
  if (a.contains("plan")) {
    const json& p = a["plan"];
    std::cout << "perfect     a provider passing every scheduled epoch reaches an availability bound of "
              << Fixed(p.value("availability_bound", 0.0), 3) << " at " << Fixed(100 * p.value("confidence", 0.0), 0)
              << "% confidence (" << Fixed(p.value("expected_scheduled_epochs", 0.0), 1)
              << " scheduled epochs expected)\n"
              << "            why: " << p.value("explanation", "") << "\n";
  }
  return kExitOk;
}

// ---- lease list ----

int DoList(const CliState& state, const ApiFlags& f) {
  auto answer = CallJson(f, "GET", "/v1/leases", nullptr);
  if (!answer.ok()) return ReportError(state, answer.status());
  if (state.json) {
    PrintJson(*answer);
    return kExitOk;
  }
  std::cout << "lease             state   accepted  epochs  passed  failed  missed  void  agent\n";
  for (const json& l : (*answer)["leases"]) {
    std::cout << Pad(l.value("lease_id", "").substr(0, 16), 18) << Pad(l.value("state", ""), 8)
              << Pad(l.value("accepted", false) ? "yes" : "no", 10) << Pad(std::to_string(l.value("epochs", 0)), 8)
              << Pad(std::to_string(l.value("passed", 0)), 8) << Pad(std::to_string(l.value("failed", 0)), 8)
              << Pad(std::to_string(l.value("missed", 0)), 8) << Pad(std::to_string(l.value("void", 0)), 6)
              << l.value("agent_url", "") << "\n";
  }
  return kExitOk;
}

// ---- lease export ----

// GET .../evidence, checked to be a verifier log image.
Result<std::vector<uint8_t>> FetchEvidence(const ApiFlags& f, const Hash32& lease_id) {
  VCP_ASSIGN_OR_RETURN(std::unique_ptr<service::HttpClient> client, ApiClient(f));
  VCP_ASSIGN_OR_RETURN(service::HttpResponse response,
                       client->Get("/v1/leases/" + ToHex(lease_id) + "/evidence", "application/octet-stream"));
  if (response.status != 200) return ApiError(response);
  std::vector<uint8_t> image(response.body.begin(), response.body.end());
  VCP_ASSIGN_OR_RETURN(const LogScan scan, ScanLog(image));
  if (scan.role != StoreRole::kVerifier || scan.recovery.torn_tail) {
    return Status::Corrupt("verifierd's evidence for lease " + ToHex(lease_id) + " is not a whole verifier log");
  }
  return image;
}

// Writes DIR/verifier.log (DIR created; an existing verifier.log is not overwritten).
Status WriteEvidence(const std::filesystem::path& dir, const std::vector<uint8_t>& image) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
  return WriteFileAtomic(dir / "verifier.log", image, 0644, /*overwrite=*/false);
}

struct LeaseFlags {
  ApiFlags api;
  std::string lease, out;
  double confidence = 0.95;
};

int DoExport(const CliState& state, const LeaseFlags& f) {
  auto id = LeaseIdFlag(f.lease);
  if (!id.ok()) return ReportError(state, id.status());
  auto image = FetchEvidence(f.api, *id);
  if (!image.ok()) return ReportError(state, image.status());
  if (Status s = WriteEvidence(f.out, *image); !s.ok()) return ReportError(state, s);
  const std::string file = (std::filesystem::path(f.out) / "verifier.log").string();
  if (state.json) {
    PrintJson({{"ok", true}, {"lease_id", ToHex(*id)}, {"out", file}, {"bytes", image->size()}});
  } else {
    std::cout << "evidence    " << file << " (" << image->size() << " bytes: every signed message of the lease)\n"
              << "check       vcp report --store " << f.out << "   (offline; vcp inspect " << file << ")\n";
  }
  return kExitOk;
}

// ---- lease report ----

// The text report: the lease verdict as `vcp report` prints it, from the lease's evidence opened offline (the
// same session code over the same entries), then the service's network section.
int PrintReportText(const LeaseFlags& f, const CliState& state, const Hash32& id, const json& report) {
  auto image = FetchEvidence(f.api, id);
  if (!image.ok()) return ReportError(state, image.status());
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("vcp-verifierd-report-" + std::to_string(::getpid()) + "-" + ToHex(id).substr(0, 8));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (Status s = WriteEvidence(dir, *image); !s.ok()) return ReportError(state, s);
  {
    auto session = VerifierSession::Open(dir);
    if (!session.ok()) {
      std::filesystem::remove_all(dir, ec);
      return ReportError(state, session.status());
    }
    const VerifierSession& v = *session;
    const LeaseReport r = v.Report(SystemClock().NowMicros(), f.confidence);
    std::cout << "lease " << ToHex(v.lease_id()) << ": " << LeaseModeName(v.lease().mode) << ", "
              << DescribeWorkload(v.lease().workload) << ", " << DescribeEpochShape(v.lease()) << "\n"
              << "state " << report.value("state", "") << ", agent " << report.value("agent_url", "") << "\n"
              << LeaseTermsText(v.lease()) << "\n"
              << EpochTableHeader();
    for (const Verdict& verdict : v.verdicts()) std::cout << EpochRow(v.lease(), verdict);
    std::cout << "\n" << DevicesText(r) << ReportText(r);
  }
  std::filesystem::remove_all(dir, ec);
  const json& n = report["network"];
  std::cout << "  network           " << n.value("unreachable_epochs", 0) << " unreachable, " << n.value("late", 0)
            << " late, " << n.value("failed", 0) << " failed, " << n.value("missed_reachable", 0)
            << " missed with the agent reachable; " << n.value("events_total", 0) << " network events\n"
            << "                    why: " << n.value("explanation", "") << "\n";
  return kExitOk;
}

int DoReport(const CliState& state, const LeaseFlags& f) {
  if (!(f.confidence > 0 && f.confidence < 1)) {
    return ReportError(state, Status::InvalidArgument("--confidence must be between 0 and 1, e.g. 0.95"));
  }
  auto id = LeaseIdFlag(f.lease);
  if (!id.ok()) return ReportError(state, id.status());
  auto report = CallJson(f.api, "GET", "/v1/leases/" + ToHex(*id) + "/report", nullptr);
  if (!report.ok()) return ReportError(state, report.status());
  auto lease = CallJson(f.api, "GET", "/v1/leases/" + ToHex(*id), nullptr);
  if (!lease.ok()) return ReportError(state, lease.status());
  (*report)["agent_url"] = lease->value("agent_url", "");
  if (state.json) {
    PrintJson(*report);
    return kExitOk;
  }
  return PrintReportText(f, state, *id, *report);
}

}  // namespace

void RegisterVerifierdCommand(CLI::App& app, CliState& state) {
  CLI::App* verifierd =
      app.add_subcommand("verifierd", "the renter's audit service (run) and its client (lease add|list|report|export)");
  verifierd->require_subcommand(1);

  auto rf = std::make_shared<RunFlags>();
  CLI::App* run = verifierd->add_subcommand("run", "run the audit service until SIGTERM (JSON log lines on stderr)");
  run->add_option("--config", rf->config, "JSON config file (deploy/verifierd.example.json); flags override it");
  run->add_option("--listen", rf->listen, "HOST:PORT to serve the API on (port 0: any free port)");
  run->add_option("--database", rf->database, "SQLite database file (created)");
  run->add_option("--key", rf->key, "verifier secret key (vcp.key, or the directory vcp keygen wrote)");
  run->add_option("--agent-ca", rf->agent_ca, "CA certificate the agents' certificates chain to");
  run->add_option("--tls-cert", rf->tls_cert, "TLS certificate (PEM) of the API");
  run->add_option("--tls-key", rf->tls_key, "TLS private key (PEM) of the API");
  run->add_flag("--allow-plain-http", rf->allow_plain_http, "serve plain HTTP off loopback (unencrypted)");
  run->add_flag("--allow-plain-agents", rf->allow_plain_agents, "allow http:// agent URLs off loopback");
  run->add_option("--verify-threads", rf->verify_threads, "workers that check responses (default 1)");
  run->add_option("--log-level", rf->log_level, "debug, info, warn or error");
  run->callback([&state, rf] { state.exit_code = DoRun(state, *rf); });

  CLI::App* lease = verifierd->add_subcommand("lease", "add, list, report or export the service's leases");
  lease->require_subcommand(1);

  auto af = std::make_shared<AddFlags>();
  CLI::App* add = lease->add_subcommand("add", "create a lease, offer it to the provider's agent and run it");
  AddApiFlags(add, af->api);
  add->add_option("--agent", af->agent, "the provider's agent, e.g. https://gpu1:8443")->required();
  add->add_option("--provider-key", af->provider_key,
                  "provider public key: the 64 hex digits vcp keygen printed, vcp.pub, or its directory")
      ->required();
  add->add_option("--mode", af->mode, "interactive or beacon (the service's beacon file)")->capture_default_str();
  add->add_option("--kind,--workload", af->workload, "int8 or fp32-ordered")->capture_default_str();
  add->add_option("--m", af->m, "rows M of A and C")->capture_default_str();
  add->add_option("--n", af->n, "columns N of B and C")->capture_default_str();
  add->add_option("--k", af->k, "inner dimension K (not the sample count, see --samples)")->capture_default_str();
  add->add_option("--tile", af->tile, "tile size T (power of two, 8 to 256)")->capture_default_str();
  add->add_option("--devices", af->devices, "D: devices the lease names (1 to 16)")->capture_default_str();
  add->add_option("--rounds", af->rounds, "R: rounds per device per epoch")->capture_default_str();
  add->add_option("--samples", af->samples, "sampled tiles per epoch (default and minimum: 40 interactive, 80 beacon)");
  add->add_option("--rate", af->rate, "claimed operations per second PER DEVICE; the deadline follows from it")
      ->required();
  add->add_option("--slack", af->slack, "deadline margin over the compute time, a fraction (0 to 1.0)")
      ->capture_default_str();
  add->add_option("--allowance-ms", af->allowance_ms, "part of the slack margin promised to the network, ms")
      ->capture_default_str();
  add->add_option("--hours", af->hours, "lease length in hours");
  add->add_option("--seconds", af->seconds, "lease length in seconds (short test leases)");
  add->add_option("--audit-share", af->audit_share, "share of the lease time spent in scheduled epochs (0 to 1]")
      ->capture_default_str();
  add->callback([&state, af] { state.exit_code = DoAdd(state, *af); });

  auto lf = std::make_shared<ApiFlags>();
  CLI::App* list = lease->add_subcommand("list", "the service's leases and their epoch counts");
  AddApiFlags(list, *lf);
  list->callback([&state, lf] { state.exit_code = DoList(state, *lf); });

  auto pf = std::make_shared<LeaseFlags>();
  CLI::App* report = lease->add_subcommand("report",
                                           "a lease's verdict so far, as vcp report prints it, plus the "
                                           "network faults");
  AddApiFlags(report, pf->api);
  report->add_option("--lease", pf->lease, "lease id (64 hex digits)")->required();
  report->add_option("--confidence", pf->confidence, "confidence of the availability bound in the text report")
      ->capture_default_str();
  report->callback([&state, pf] { state.exit_code = DoReport(state, *pf); });

  auto ef = std::make_shared<LeaseFlags>();
  CLI::App* exp = lease->add_subcommand("export", "write a lease's evidence to DIR/verifier.log for offline checks");
  AddApiFlags(exp, ef->api);
  exp->add_option("--lease", ef->lease, "lease id (64 hex digits)")->required();
  exp->add_option("--out", ef->out, "directory to write verifier.log into (created)")->required();
  exp->callback([&state, ef] { state.exit_code = DoExport(state, *ef); });
}

}  // namespace vcp::cli
