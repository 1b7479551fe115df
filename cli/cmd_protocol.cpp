// The lease protocol on the command line (docs/PROTOCOL.md section 12): file-based, so the verifier and the
// provider can run on different machines and exchange message files by any channel.
//
//   verifier: vcp lease new     -> lease.bin             provider: vcp lease accept -> accept.bin
//             vcp epoch start   -> start.bin                       vcp prove        -> record.bin
//             vcp challenge     -> challenge.bin                   vcp respond      -> response.bin
//             vcp verify        -> verdict (exit 0 pass, 1 fail)
//             vcp report        -> the lease verdict
//   anyone:   vcp inspect FILE, vcp calibrate, vcp demo [--cheat F]
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "commands.h"
#include "fileio.h"
#include "vcp/beacon.h"
#include "vcp/bytes.h"
#include "vcp/epoch.h"
#include "vcp/lease_session.h"
#include "vcp/merkle.h"
#include "vcp/protocol.h"
#include "vcp/store.h"
#include "vcp/verdict.h"

namespace vcp::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------
// Formatting.

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// A probability near 1 is shown through its complement ("1 - 2.2e-15"), which a double keeps exactly.
std::string FromComplement(double complement) {
  if (complement <= 0) return "1";
  if (complement < 1e-4) return "1 - " + Sci(complement);
  return Fixed(1 - complement, 4);
}

std::string Pad(std::string s, size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string DescribeWorkload(const WorkloadParams& p) {
  return std::string(WorkloadName(p.kind)) + " " + std::to_string(p.m) + "x" + std::to_string(p.n) + "x" +
         std::to_string(p.k) + " T=" + std::to_string(p.tile);
}

json LeaseJson(const Lease& l) {
  json j = {{"type", "lease"},
            {"lease_id", ToHex(LeaseId(l))},
            {"mode", LeaseModeName(l.mode)},
            {"nonce", ToHex(l.nonce)},
            {"verifier_key", ToHex(l.verifier_key)},
            {"provider_key", ToHex(l.provider_key)},
            {"workload",
             {{"kind", WorkloadName(l.workload.kind)},
              {"m", l.workload.m},
              {"n", l.workload.n},
              {"k", l.workload.k},
              {"tile", l.workload.tile}}},
            {"rounds_per_epoch", l.rounds_per_epoch},
            {"samples_per_epoch", l.samples_per_epoch},
            {"epoch_deadline_us", l.epoch_deadline_us},
            {"claimed_ops_per_second", l.claimed_ops_per_second},
            {"start_us", l.start_us},
            {"end_us", l.end_us},
            {"operations_per_epoch", EpochOperations(l)},
            {"verifier_signature", ToHex(l.verifier_signature)}};
  if (l.mode == LeaseMode::kBeacon) {
    j["beacon"] = {{"name", l.beacon_name}, {"genesis_us", l.beacon_genesis_us}, {"period_us", l.beacon_period_us}};
  }
  return j;
}

json VerdictJson(const Lease& lease, const Verdict& v) {
  const uint64_t window = v.arrival_us > v.start_us ? v.arrival_us - v.start_us : 0;
  return {{"type", "verdict"},
          {"lease_id", ToHex(v.lease_id)},
          {"epoch", v.epoch},
          {"verdict", v.reason == Reason::kPass ? "pass" : "fail"},
          {"reason", ReasonName(v.reason)},
          {"detail", v.detail},
          {"record_hash", ToHex(v.record_hash)},
          {"start_us", v.start_us},
          {"arrival_us", v.arrival_us},
          {"window_ms", v.arrival_us ? double(window) / 1000 : 0.0},
          {"deadline_ms", double(lease.epoch_deadline_us) / 1000},
          {"operations", v.operations},
          {"rate_ops_per_second", EpochRate(v)},
          {"verifier_signature", ToHex(v.verifier_signature)}};
}

json ReportJson(const Lease& lease, const LeaseReport& r, const std::vector<Verdict>& verdicts) {
  json epochs = json::array();
  for (const Verdict& v : verdicts) epochs.push_back(VerdictJson(lease, v));
  json j = {{"lease_id", ToHex(LeaseId(lease))},
            {"mode", LeaseModeName(lease.mode)},
            {"epochs", r.epochs},
            {"passed", r.passed},
            {"failed", r.failed},
            {"missed", r.missed},
            {"all_passed", r.epochs > 0 && r.passed == r.epochs},
            {"proven_operations", r.proven_operations},
            {"throughput_ops_per_second",
             {{"median", r.median_rate},
              {"min", r.min_rate},
              {"claimed", lease.claimed_ops_per_second},
              {"meets_claim", r.meets_claimed_rate}}},
            {"catch_probability",
             {{"skip_1pct", 1 - r.escape_skip_1pct},
              {"skip_10pct", 1 - r.escape_skip_10pct},
              {"escape_skip_1pct", r.escape_skip_1pct},
              {"escape_skip_10pct", r.escape_skip_10pct}}},
            {"gpu_hours",
             {{"lease_hours_elapsed", r.lease_hours},
              {"proven", r.gpu_hours_proven},
              {"availability_lower_bound", r.availability_lower_bound},
              {"confidence", r.confidence}}},
            {"epoch_verdicts", epochs}};
  if (lease.mode == LeaseMode::kBeacon) {
    j["catch_probability"]["grinding_budget_log2"] = kGrindingBudgetBits;
    j["catch_probability"]["skip_1pct_grinding"] = 1 - r.escape_skip_1pct_grinding;
    j["catch_probability"]["skip_10pct_grinding"] = 1 - r.escape_skip_10pct_grinding;
  }
  return j;
}

std::string EpochTableHeader() {
  return "epoch  verdict  reason             window ms  deadline ms   operations  rate ops/s\n";
}

std::string EpochRow(const Lease& lease, const Verdict& v) {
  const bool pass = v.reason == Reason::kPass;
  const uint64_t window = v.arrival_us > v.start_us ? v.arrival_us - v.start_us : 0;
  return Pad(std::to_string(v.epoch), 5, true) + "  " + Pad(pass ? "PASS" : "FAIL", 7) + "  " +
         Pad(pass ? "-" : std::string(ReasonName(v.reason)), 17) + "  " +
         Pad(v.arrival_us ? Fixed(double(window) / 1000, 1) : "-", 9, true) + "  " +
         Pad(Fixed(double(lease.epoch_deadline_us) / 1000, 0), 11, true) + "  " +
         Pad(pass ? Sci(double(v.operations)) : "-", 11, true) + "  " + Pad(pass ? Sci(EpochRate(v)) : "-", 10, true) +
         "\n";
}

std::string ReportText(const Lease& lease, const LeaseReport& r) {
  std::ostringstream s;
  s << "lease verdict\n"
    << "  epochs            " << r.passed << " passed, " << r.failed << " failed, " << r.missed << " missed\n"
    << "  proven            " << Sci(double(r.proven_operations)) << " operations";
  if (r.passed > 0) {
    s << "; throughput median " << Sci(r.median_rate) << " ops/s, min " << Sci(r.min_rate) << " ops/s (claimed "
      << Sci(double(lease.claimed_ops_per_second)) << ": " << (r.meets_claimed_rate ? "met" : "NOT met") << ")";
  }
  s << "\n  would catch       a provider skipping 1% of its tiles with probability "
    << FromComplement(r.escape_skip_1pct) << "; skipping 10%: " << FromComplement(r.escape_skip_10pct) << "\n";
  if (lease.mode == LeaseMode::kBeacon) {
    s << "  if beacons leak   against 2^" << kGrindingBudgetBits
      << " re-rolls per epoch: 1%: " << FromComplement(r.escape_skip_1pct_grinding)
      << ", 10%: " << FromComplement(r.escape_skip_10pct_grinding) << "\n";
  }
  s << "  GPU-hours proven  " << Sci(r.gpu_hours_proven) << " of " << Sci(r.lease_hours)
    << " lease hours elapsed (availability >= " << Fixed(r.availability_lower_bound, 3) << " at "
    << Fixed(100 * r.confidence, 0) << "% confidence, from " << r.passed << " of " << r.epochs
    << " epochs at random times)\n"
    << "  result            "
    << (r.epochs == 0          ? "no epochs yet"
        : r.passed == r.epochs ? "every epoch passed"
                               : "SOME EPOCHS FAILED")
    << "\n";
  return s.str();
}

// ---------------------------------------------------------------------------------------------------------------
// Files and keys.

Result<std::vector<uint8_t>> ReadMessage(const std::string& path) { return ReadFileBytes(path, kMaxMessageBytes); }

Status WriteMessage(const std::string& path, const std::vector<uint8_t>& bytes) { return WriteFileAtomic(path, bytes); }

// A key flag names the key file, or the directory vcp keygen wrote (DIR/vcp.key, DIR/vcp.pub).
fs::path KeyFile(const std::string& flag, const char* name) {
  std::error_code ec;  // on error, treat the flag as a file: loading it then reports the reason
  return fs::is_directory(flag, ec) ? fs::path(flag) / name : fs::path(flag);
}

Result<SecretKey> LoadSecret(const std::string& flag) { return LoadSecretKey(KeyFile(flag, "vcp.key")); }

Result<PublicKey> LoadPublic(const std::string& flag) { return LoadPublicKey(KeyFile(flag, "vcp.pub")); }

void PrintRecovery(const CliState& state, const LogRecovery& recovery, const std::string& role) {
  if (recovery.torn_tail && !state.json) std::cerr << "vcp: " << role << " store recovered: " << recovery.note << "\n";
}

std::string TimeText(uint64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---------------------------------------------------------------------------------------------------------------
// lease new | lease accept

struct LeaseNewFlags {
  std::string key, provider_key, store, out, mode = "interactive", beacon_file;
  std::string workload = "int8";
  uint32_t m = 4096, n = 4096, k = 4096, tile = kDefaultTile;
  uint32_t rounds = 8, samples = 0;
  double deadline_ms = 60000, rate = 1e12, hours = 24, audit_share = 0.02;
};

int DoLeaseNew(const CliState& state, const LeaseNewFlags& f) {
  auto key = LoadSecret(f.key);
  if (!key.ok()) return ReportError(state, key.status());
  auto provider = LoadPublic(f.provider_key);
  if (!provider.ok()) return ReportError(state, provider.status());
  Lease terms;
  auto mode = ParseLeaseMode(f.mode);
  if (!mode.ok()) return ReportError(state, mode.status());
  terms.mode = *mode;
  auto kind = ParseWorkloadKind(f.workload);
  if (!kind.ok()) return ReportError(state, kind.status());
  terms.workload.kind = *kind;
  terms.workload.m = f.m;
  terms.workload.n = f.n;
  terms.workload.k = f.k;
  terms.workload.tile = f.tile;
  terms.provider_key = *provider;
  terms.rounds_per_epoch = f.rounds;
  terms.samples_per_epoch = f.samples ? f.samples : MinSamples(terms.mode);
  if (!(f.deadline_ms > 0) || !(f.rate >= 1) || !(f.hours > 0)) {
    return ReportError(state, Status::InvalidArgument("--deadline-ms, --rate and --hours must be positive"));
  }
  terms.epoch_deadline_us = static_cast<uint64_t>(f.deadline_ms * 1000);
  terms.claimed_ops_per_second = static_cast<uint64_t>(f.rate);
  terms.start_us = SystemClock().NowMicros();
  terms.end_us = terms.start_us + static_cast<uint64_t>(f.hours * 3.6e9);
  if (terms.mode == LeaseMode::kBeacon) {
    if (f.beacon_file.empty()) {
      return ReportError(state, Status::InvalidArgument("--mode beacon needs --beacon-file (the beacon's header names "
                                                        "its source, genesis and period)"));
    }
    auto beacon = FileBeaconSource::Open(f.beacon_file);
    if (!beacon.ok()) return ReportError(state, beacon.status());
    terms.beacon_name = beacon->name();
    terms.beacon_genesis_us = beacon->genesis_us();
    terms.beacon_period_us = beacon->period_us();
  }
  auto session = VerifierSession::Create(f.store, terms, *key, f.audit_share);
  if (!session.ok()) return ReportError(state, session.status());
  const Lease& lease = session->lease();
  if (Status s = WriteMessage(f.out, Serialize(lease)); !s.ok()) return ReportError(state, s);
  const uint64_t next = session->NextAuditUs(lease.start_us);
  if (state.json) {
    json j = LeaseJson(lease);
    j["ok"] = true;
    j["out"] = f.out;
    j["store"] = f.store;
    j["scheduled_audits"] = session->AuditTimes().size();
    j["next_audit_us"] = next;
    PrintJson(j);
  } else {
    std::cout << "lease       " << ToHex(LeaseId(lease)) << " (" << f.out << ")\n"
              << "mode        " << LeaseModeName(lease.mode) << ", " << DescribeWorkload(lease.workload)
              << ", R = " << lease.rounds_per_epoch << " rounds, k = " << lease.samples_per_epoch
              << " samples per epoch\n"
              << "deadline    " << Fixed(double(lease.epoch_deadline_us) / 1000, 0) << " ms per epoch; claimed "
              << Sci(double(lease.claimed_ops_per_second)) << " ops/s\n"
              << "period      " << TimeText(lease.start_us) << " to " << TimeText(lease.end_us) << "\n"
              << "audits      " << session->AuditTimes().size() << " epochs at secret random times ("
              << Fixed(100 * f.audit_share, 1) << "% of the lease); next " << (next ? TimeText(next) : "none") << "\n"
              << "next        send " << f.out << " to the provider: vcp lease accept --lease " << f.out << "\n";
  }
  return kExitOk;
}

int DoLeaseAccept(const CliState& state, const std::string& lease_path, const std::string& key_flag,
                  const std::string& store, const std::string& out) {
  auto bytes = ReadMessage(lease_path);
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto lease = ParseLease(*bytes);
  if (!lease.ok()) return ReportError(state, lease.status().WithContext(lease_path));
  auto key = LoadSecret(key_flag);
  if (!key.ok()) return ReportError(state, key.status());
  auto session = ProviderSession::Accept(store, *lease, *key);
  if (!session.ok()) return ReportError(state, session.status());
  if (Status s = WriteMessage(out, Serialize(session->acceptance())); !s.ok()) return ReportError(state, s);
  if (state.json) {
    json j = LeaseJson(*lease);
    j["ok"] = true;
    j["acceptance"] = out;
    PrintJson(j);
  } else {
    std::cout << "accepted    lease " << ToHex(LeaseId(*lease)) << "\n"
              << "terms       " << LeaseModeName(lease->mode) << ", " << DescribeWorkload(lease->workload)
              << ", R = " << lease->rounds_per_epoch << ", k = " << lease->samples_per_epoch << ", deadline "
              << Fixed(double(lease->epoch_deadline_us) / 1000, 0) << " ms\n"
              << "next        send " << out << " to the verifier (vcp epoch start --acceptance " << out << ")\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// epoch start | prove | challenge | respond | verify | report

struct VerifierFlags {
  std::string store, key, beacon_file;
  int threads = 0;
};

struct VerifierContext {
  std::optional<FileBeaconSource> beacon;
  std::optional<VerifierSession> session;
  std::optional<SecretKey> key;
};

Status OpenVerifier(const CliState& state, const VerifierFlags& f, VerifierContext& ctx, bool need_key) {
  VerifierOptions options;
  options.threads = f.threads;
  if (!f.beacon_file.empty()) {
    VCP_ASSIGN_OR_RETURN(FileBeaconSource beacon, FileBeaconSource::Open(f.beacon_file));
    ctx.beacon.emplace(std::move(beacon));
    options.beacon = &*ctx.beacon;
  }
  VCP_ASSIGN_OR_RETURN(VerifierSession session, VerifierSession::Open(f.store, options));
  PrintRecovery(state, session.recovery(), "verifier");
  ctx.session.emplace(std::move(session));
  if (need_key) {
    VCP_ASSIGN_OR_RETURN(SecretKey key, LoadSecret(f.key));
    ctx.key.emplace(std::move(key));
  }
  return Status::Ok();
}

int DoEpochStart(const CliState& state, const VerifierFlags& f, const std::string& acceptance_path,
                 const std::string& out, bool wait) {
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f, ctx, true); !s.ok()) return ReportError(state, s);
  VerifierSession& v = *ctx.session;
  if (!acceptance_path.empty()) {
    auto bytes = ReadMessage(acceptance_path);
    if (!bytes.ok()) return ReportError(state, bytes.status());
    auto acceptance = ParseLeaseAcceptance(*bytes);
    if (!acceptance.ok()) return ReportError(state, acceptance.status().WithContext(acceptance_path));
    if (Status s = v.AddAcceptance(*acceptance); !s.ok()) return ReportError(state, s);
  }
  if (wait) {
    // The audit schedule decides when epochs run; sleep until the next scheduled time.
    const uint64_t next = v.NextAuditUs(SystemClock().NowMicros());
    if (next == 0) return ReportError(state, Status::InvalidArgument("no scheduled audit is left in this lease"));
    if (!state.json) std::cerr << "vcp: waiting for the next scheduled audit at " << TimeText(next) << "\n";
    std::this_thread::sleep_for(std::chrono::microseconds(next - std::min(next, SystemClock().NowMicros())));
  }
  auto start = v.StartEpoch(*ctx.key);
  if (!start.ok()) return ReportError(state, start.status());
  if (Status s = WriteMessage(out, Serialize(*start)); !s.ok()) return ReportError(state, s);
  const Lease& lease = v.lease();
  if (state.json) {
    PrintJson({{"ok", true},
               {"epoch", start->epoch},
               {"beacon", ToHex(start->beacon)},
               {"prev_record", ToHex(start->prev_record)},
               {"start_us", start->start_us},
               {"deadline_us", start->start_us + lease.epoch_deadline_us},
               {"out", out}});
  } else {
    std::cout << "epoch       " << start->epoch << " started " << TimeText(start->start_us) << " (" << out << ")\n"
              << "deadline    the record must arrive within " << Fixed(double(lease.epoch_deadline_us) / 1000, 0)
              << " ms\n"
              << "next        provider: vcp prove --start " << out << "\n";
  }
  return kExitOk;
}

struct ProverFlags {
  std::string store, key, backend = "auto";
  int threads = 0;
  bool recompute = false;
};

Result<ProverOptions> ProverOptionsFrom(const ProverFlags& f) {
  ProverOptions options;
  VCP_ASSIGN_OR_RETURN(options.run.backend, ParseBackendChoice(f.backend));
  if (f.threads < 0) return Status::InvalidArgument("--threads must be 0 (all) or positive");
  options.run.threads = f.threads;
  options.keep_leaves = !f.recompute;
  return options;
}

int DoProve(const CliState& state, const ProverFlags& f, const std::string& start_path, const std::string& out) {
  auto options = ProverOptionsFrom(f);
  if (!options.ok()) return ReportError(state, options.status());
  auto bytes = ReadMessage(start_path);
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto start = ParseEpochStart(*bytes);
  if (!start.ok()) return ReportError(state, start.status().WithContext(start_path));
  auto key = LoadSecret(f.key);
  if (!key.ok()) return ReportError(state, key.status());
  auto session = ProviderSession::Open(f.store);
  if (!session.ok()) return ReportError(state, session.status());
  PrintRecovery(state, session->recovery(), "provider");
  const auto t0 = std::chrono::steady_clock::now();
  auto record = session->Prove(*start, *key, *options);
  if (!record.ok()) return ReportError(state, record.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (Status s = WriteMessage(out, Serialize(*record)); !s.ok()) return ReportError(state, s);
  if (state.json) {
    PrintJson({{"ok", true},
               {"epoch", record->epoch},
               {"record_hash", ToHex(RecordHash(*record))},
               {"epoch_root", ToHex(record->epoch_root)},
               {"rounds", record->rounds},
               {"operations", record->operations},
               {"seconds", seconds},
               {"device", record->device},
               {"out", out}});
  } else {
    std::cout << "epoch       " << record->epoch << ": " << record->rounds << " rounds, "
              << Sci(double(record->operations)) << " operations in " << Fixed(seconds, 3) << " s on " << record->device
              << "\n"
              << "record      " << ToHex(RecordHash(*record)) << " (" << out << ")\n"
              << "next        send " << out << " to the verifier now: the deadline runs until it arrives\n";
  }
  return kExitOk;
}

int DoChallenge(const CliState& state, const VerifierFlags& f, const std::string& record_path, const std::string& out) {
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f, ctx, true); !s.ok()) return ReportError(state, s);
  auto bytes = ReadMessage(record_path);
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto outcome = ctx.session->ReceiveRecord(*bytes, *ctx.key);
  if (!outcome.ok()) return ReportError(state, outcome.status());
  const Lease& lease = ctx.session->lease();
  if (outcome->verdict) {
    if (state.json) {
      json j = VerdictJson(lease, *outcome->verdict);
      j["ok"] = false;
      PrintJson(j);
    } else {
      std::cerr << "vcp: rejected: epoch " << outcome->verdict->epoch << " FAILED ("
                << ReasonName(outcome->verdict->reason) << "): " << outcome->verdict->detail << "\n";
    }
    return kExitRejected;
  }
  if (!outcome->finding.ok()) {
    return ReportError(state, Status::Rejected(std::string(ReasonName(outcome->finding.reason)) + ": " +
                                               outcome->finding.detail + " (the epoch stays open)"));
  }
  if (outcome->beacon_round) {
    if (state.json) {
      PrintJson({{"ok", true},
                 {"mode", "beacon"},
                 {"beacon_round", *outcome->beacon_round},
                 {"beacon_due_us", lease.beacon_genesis_us + *outcome->beacon_round * lease.beacon_period_us}});
    } else {
      std::cout << "record      accepted on time; no challenge is sent in beacon mode\n"
                << "beacon      the provider answers from round " << *outcome->beacon_round << " of "
                << lease.beacon_name << " (due "
                << TimeText(lease.beacon_genesis_us + *outcome->beacon_round * lease.beacon_period_us) << ")\n";
    }
    return kExitOk;
  }
  if (out.empty())
    return ReportError(state, Status::InvalidArgument("interactive leases need --out for the challenge"));
  if (Status s = WriteMessage(out, Serialize(*outcome->challenge)); !s.ok()) return ReportError(state, s);
  if (state.json) {
    PrintJson({{"ok", true},
               {"mode", "interactive"},
               {"epoch", outcome->challenge->epoch},
               {"randomness", ToHex(outcome->challenge->randomness)},
               {"out", out}});
  } else {
    std::cout << "record      accepted on time for epoch " << outcome->challenge->epoch << "\n"
              << "challenge   " << out << " (" << lease.samples_per_epoch << " positions follow from it)\n"
              << "next        provider: vcp respond --challenge " << out << "\n";
  }
  return kExitOk;
}

int DoRespond(const CliState& state, const ProverFlags& f, const std::string& challenge_path,
              const std::string& beacon_file, int64_t epoch, const std::string& out) {
  auto options = ProverOptionsFrom(f);
  if (!options.ok()) return ReportError(state, options.status());
  auto key = LoadSecret(f.key);
  if (!key.ok()) return ReportError(state, key.status());
  auto session = ProviderSession::Open(f.store);
  if (!session.ok()) return ReportError(state, session.status());
  PrintRecovery(state, session->recovery(), "provider");
  Result<EpochResponse> response = Status::InvalidArgument("give --challenge (interactive) or --beacon-file (beacon)");
  if (!challenge_path.empty()) {
    auto bytes = ReadMessage(challenge_path);
    if (!bytes.ok()) return ReportError(state, bytes.status());
    auto challenge = ParseChallenge(*bytes);
    if (!challenge.ok()) return ReportError(state, challenge.status().WithContext(challenge_path));
    response = session->Respond(*challenge, *key, *options);
  } else if (!beacon_file.empty()) {
    if (epoch < 0) return ReportError(state, Status::InvalidArgument("beacon mode needs --epoch N"));
    auto beacon = FileBeaconSource::Open(beacon_file);
    if (!beacon.ok()) return ReportError(state, beacon.status());
    response = session->RespondBeacon(static_cast<uint64_t>(epoch), *beacon, *key, *options);
  }
  if (!response.ok()) return ReportError(state, response.status());
  const std::vector<uint8_t> bytes = Serialize(*response);
  if (Status s = WriteMessage(out, bytes); !s.ok()) return ReportError(state, s);
  if (state.json) {
    PrintJson({{"ok", true},
               {"epoch", response->epoch},
               {"opened_rounds", response->rounds.size()},
               {"bytes", bytes.size()},
               {"leaf_source", session->last_leaf_source()},
               {"out", out}});
  } else {
    std::cout << "response    epoch " << response->epoch << ": " << response->rounds.size() << " rounds opened, "
              << bytes.size() << " bytes (" << out << "; leaves from " << session->last_leaf_source() << ")\n"
              << "next        send " << out << " to the verifier: vcp verify --response " << out << "\n";
  }
  return kExitOk;
}

int DoVerify(const CliState& state, const VerifierFlags& f, const std::string& response_path, const std::string& out) {
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f, ctx, true); !s.ok()) return ReportError(state, s);
  auto bytes = ReadMessage(response_path);
  if (!bytes.ok()) return ReportError(state, bytes.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto verdict = ctx.session->ReceiveResponse(*bytes, *ctx.key);
  if (!verdict.ok()) return ReportError(state, verdict.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!out.empty()) {
    if (Status s = WriteMessage(out, Serialize(*verdict)); !s.ok()) return ReportError(state, s);
  }
  const bool pass = verdict->reason == Reason::kPass;
  if (state.json) {
    json j = VerdictJson(ctx.session->lease(), *verdict);
    j["ok"] = pass;
    j["verify_seconds"] = seconds;
    PrintJson(j);
  } else {
    std::cout << EpochTableHeader() << EpochRow(ctx.session->lease(), *verdict) << "detail: " << verdict->detail
              << "\n";
  }
  return pass ? kExitOk : kExitRejected;
}

int DoReport(const CliState& state, const VerifierFlags& f, double confidence) {
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f, ctx, false); !s.ok()) return ReportError(state, s);
  if (!(confidence > 0 && confidence < 1)) {
    return ReportError(state, Status::InvalidArgument("--confidence must be between 0 and 1, e.g. 0.95"));
  }
  const VerifierSession& v = *ctx.session;
  const uint64_t now = SystemClock().NowMicros();
  const LeaseReport report = v.Report(now, confidence);
  const std::vector<Verdict> verdicts = v.verdicts();
  if (state.json) {
    json j = ReportJson(v.lease(), report, verdicts);
    j["next_audit_us"] = v.NextAuditUs(now);
    PrintJson(j);
  } else {
    std::cout << "lease " << ToHex(v.lease_id()) << ": " << LeaseModeName(v.lease().mode) << ", "
              << DescribeWorkload(v.lease().workload) << ", R = " << v.lease().rounds_per_epoch
              << ", k = " << v.lease().samples_per_epoch << "\n\n"
              << EpochTableHeader();
    for (const Verdict& verdict : verdicts) std::cout << EpochRow(v.lease(), verdict);
    std::cout << "\n" << ReportText(v.lease(), report);
    const uint64_t next = v.NextAuditUs(now);
    std::cout << "  next audit        " << (next ? TimeText(next) : "none left") << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// inspect

Result<json> MessageJson(std::span<const uint8_t> bytes);
Result<json> MessageFields(MessageType type, std::span<const uint8_t> bytes);

json LogJson(const LogScan& scan) {
  static const char* provider_types[] = {"?", "lease", "acceptance", "epoch-start", "record", "response"};
  static const char* verifier_types[] = {
      "?", "lease", "audit-plan", "acceptance", "epoch-start", "record-arrival", "challenge", "verdict", "response"};
  json entries = json::array();
  for (const LogEntry& e : scan.entries) {
    const bool provider = scan.role == StoreRole::kProvider;
    const char* name = "?";
    if (provider && e.type < 6) name = provider_types[e.type];
    if (!provider && e.type < 9) name = verifier_types[e.type];
    json j = {{"offset", e.offset}, {"type", name}, {"bytes", e.payload.size()}};
    std::span<const uint8_t> message(e.payload);
    if (!provider && e.type == 5 && message.size() >= 8) {
      uint64_t arrival = 0;
      for (int i = 7; i >= 0; --i) arrival = (arrival << 8) | message[i];
      j["arrival_us"] = arrival;
      message = message.subspan(8);
    }
    if (provider && e.type == 4 && message.size() >= 4) {
      const uint32_t n =
          uint32_t(message[0]) | uint32_t(message[1]) << 8 | uint32_t(message[2]) << 16 | uint32_t(message[3]) << 24;
      if (n <= message.size() - 4) message = message.subspan(4, n);
    }
    if (auto m = MessageJson(message); m.ok()) j["message"] = *m;
    entries.push_back(j);
  }
  return {{"type", "store-log"},
          {"role", scan.role == StoreRole::kProvider ? "provider" : "verifier"},
          {"entries", entries},
          {"torn_tail", scan.recovery.torn_tail},
          {"recovery", scan.recovery.note}};
}

Result<json> MessageJson(std::span<const uint8_t> bytes) {
  VCP_ASSIGN_OR_RETURN(MessageType type, IdentifyMessage(bytes));
  VCP_ASSIGN_OR_RETURN(json j, MessageFields(type, bytes));
  j["type"] = MessageTypeName(type);
  return j;
}

Result<json> MessageFields(MessageType type, std::span<const uint8_t> bytes) {
  switch (type) {
    case MessageType::kLease: {
      VCP_ASSIGN_OR_RETURN(Lease m, ParseLease(bytes));
      json j = LeaseJson(m);
      j["signature_valid"] = CheckSignature(m).ok();
      j["parameters_valid"] = ValidateLease(m).ok();
      return j;
    }
    case MessageType::kAcceptance: {
      VCP_ASSIGN_OR_RETURN(LeaseAcceptance m, ParseLeaseAcceptance(bytes));
      return json{{"lease_id", ToHex(m.lease_id)},
                  {"accepted_us", m.accepted_us},
                  {"provider_signature", ToHex(m.provider_signature)}};
    }
    case MessageType::kEpochStart: {
      VCP_ASSIGN_OR_RETURN(EpochStart m, ParseEpochStart(bytes));
      return json{{"lease_id", ToHex(m.lease_id)},
                  {"epoch", m.epoch},
                  {"beacon", ToHex(m.beacon)},
                  {"prev_record", ToHex(m.prev_record)},
                  {"start_us", m.start_us},
                  {"epoch_seed", ToHex(EpochSeed(m.lease_id, m.epoch, m.beacon, m.prev_record))},
                  {"verifier_signature", ToHex(m.verifier_signature)}};
    }
    case MessageType::kRecord: {
      VCP_ASSIGN_OR_RETURN(EpochRecord m, ParseEpochRecord(bytes));
      return json{{"record_hash", ToHex(RecordHash(m))},
                  {"lease_id", ToHex(m.lease_id)},
                  {"epoch", m.epoch},
                  {"beacon", ToHex(m.beacon)},
                  {"prev_record", ToHex(m.prev_record)},
                  {"rounds", m.rounds},
                  {"epoch_root", ToHex(m.epoch_root)},
                  {"operations", m.operations},
                  {"provider_start_us", m.provider_start_us},
                  {"provider_end_us", m.provider_end_us},
                  {"device", m.device},
                  {"provider_signature", ToHex(m.provider_signature)}};
    }
    case MessageType::kChallenge: {
      VCP_ASSIGN_OR_RETURN(Challenge m, ParseChallenge(bytes));
      return json{{"lease_id", ToHex(m.lease_id)},
                  {"epoch", m.epoch},
                  {"record_hash", ToHex(m.record_hash)},
                  {"randomness", ToHex(m.randomness)},
                  {"verifier_signature", ToHex(m.verifier_signature)}};
    }
    case MessageType::kResponse: {
      VCP_ASSIGN_OR_RETURN(EpochResponse m, ParseEpochResponse(bytes));
      json rounds = json::array();
      for (const RoundOpening& r : m.rounds) {
        json hashes = json::array();
        for (const Hash32& h : r.hashes) hashes.push_back(ToHex(h));
        rounds.push_back({{"round", r.round}, {"root", ToHex(r.root)}, {"hashes", hashes}});
      }
      json epoch_hashes = json::array();
      for (const Hash32& h : m.epoch_hashes) epoch_hashes.push_back(ToHex(h));
      return json{{"lease_id", ToHex(m.lease_id)},
                  {"epoch", m.epoch},
                  {"record_hash", ToHex(m.record_hash)},
                  {"challenge",
                   {{"kind", m.challenge.kind == ChallengeKind::kBeacon ? "beacon" : "verifier"},
                    {"beacon_round", m.challenge.beacon_round},
                    {"value", ToHex(m.challenge.value)}}},
                  {"rounds", rounds},
                  {"epoch_hashes", epoch_hashes},
                  {"bytes", bytes.size()},
                  {"provider_signature", ToHex(m.provider_signature)}};
    }
    case MessageType::kVerdict: {
      VCP_ASSIGN_OR_RETURN(Verdict m, ParseVerdict(bytes));
      return json{{"lease_id", ToHex(m.lease_id)},
                  {"epoch", m.epoch},
                  {"record_hash", ToHex(m.record_hash)},
                  {"verdict", m.reason == Reason::kPass ? "pass" : "fail"},
                  {"reason", ReasonName(m.reason)},
                  {"start_us", m.start_us},
                  {"arrival_us", m.arrival_us},
                  {"operations", m.operations},
                  {"detail", m.detail},
                  {"verifier_signature", ToHex(m.verifier_signature)}};
    }
  }
  return Status::Internal("unreachable message type");
}

int DoInspect(const CliState& state, const std::string& path) {
  auto bytes = ReadFileBytes(path, uint64_t{4} << 30);
  if (!bytes.ok()) return ReportError(state, bytes.status());
  const std::string_view magic(reinterpret_cast<const char*>(bytes->data()), std::min<size_t>(4, bytes->size()));
  Result<json> out = Status::Corrupt("");
  if (magic == "VCPG") {
    auto scan = ScanLog(*bytes);
    if (!scan.ok()) return ReportError(state, scan.status().WithContext(path));
    out = LogJson(*scan);
  } else if (magic == "VCPM") {
    auto proof = ParseMultiProof(*bytes);
    if (!proof.ok()) return ReportError(state, proof.status().WithContext(path));
    json hashes = json::array();
    for (const Hash32& h : proof->hashes) hashes.push_back(ToHex(h));
    out =
        json{{"type", "multiproof"}, {"tree_size", proof->tree_size}, {"indices", proof->indices}, {"hashes", hashes}};
  } else if (magic == "VCPH") {
    out = json{{"type", "leaves-file"},
               {"bytes", bytes->size()},
               {"note", "per-epoch leaf hashes kept by the provider; vcp respond reads and checks it"}};
  } else {
    out = MessageJson(*bytes);
    if (!out.ok()) {
      return ReportError(state, out.status().WithContext(path + " (vcp inspect reads protocol messages, store logs, "
                                                                "leaves files and multiproofs)"));
    }
  }
  json j = *out;
  j["file"] = path;
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// calibrate

struct CalibrateFlags {
  std::string workload = "int8", backend = "auto";
  uint32_t m = 1024, n = 1024, k = 1024, tile = kDefaultTile;
  int threads = 0, repeats = 3;
  double target_seconds = 1.0;
};

int DoCalibrate(const CliState& state, const CalibrateFlags& f) {
  WorkloadParams p;
  auto kind = ParseWorkloadKind(f.workload);
  if (!kind.ok()) return ReportError(state, kind.status());
  p.kind = *kind;
  p.m = f.m;
  p.n = f.n;
  p.k = f.k;
  p.tile = f.tile;
  if (Status s = ValidateWorkload(p); !s.ok()) return ReportError(state, s);
  if (f.repeats < 1 || !(f.target_seconds > 0)) {
    return ReportError(state, Status::InvalidArgument("--repeats must be >= 1 and --target-seconds positive"));
  }
  RunOptions options;
  auto backend = ParseBackendChoice(f.backend);
  if (!backend.ok()) return ReportError(state, backend.status());
  options.backend = *backend;
  options.threads = f.threads;
  std::vector<double> seconds;
  DeviceInfo device;
  for (int i = 0; i < f.repeats; ++i) {
    SystemRandom()(p.seed);
    const auto t0 = std::chrono::steady_clock::now();
    auto run = RunWorkload(p, options);
    if (!run.ok()) return ReportError(state, run.status());
    // A round as the provider runs it: compute, commit, and copy the leaf hashes out for the leaves file.
    auto leaves = (*run)->LeafHashes();
    if (!leaves.ok()) return ReportError(state, leaves.status());
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    device = (*run)->device();
  }
  std::sort(seconds.begin(), seconds.end());
  const double round_s = seconds[seconds.size() / 2];
  const double ops = double(OperationCount(p));
  const uint32_t rounds =
      static_cast<uint32_t>(std::clamp(std::floor(f.target_seconds / round_s), 1.0, double(kMaxRounds)));
  const double epoch_s = rounds * round_s;
  // The deadline leaves half again the measured epoch plus a second for the record's trip; the claimed rate is
  // what that deadline proves.
  const double deadline_ms = std::ceil((1.5 * epoch_s + 1.0) * 1000);
  const double claimed = std::floor(ops * rounds / (deadline_ms / 1000));
  if (state.json) {
    PrintJson({{"ok", true},
               {"backend", device.backend},
               {"device", device.name},
               {"workload", WorkloadName(p.kind)},
               {"m", p.m},
               {"n", p.n},
               {"k", p.k},
               {"tile", p.tile},
               {"round_seconds", round_s},
               {"round_seconds_all", seconds},
               {"ops_per_second", ops / round_s},
               {"target_epoch_seconds", f.target_seconds},
               {"suggested_rounds", rounds},
               {"suggested_deadline_ms", deadline_ms},
               {"suggested_claimed_rate", claimed}});
  } else {
    std::cout << "device      " << device.backend << ": " << device.name << "\n"
              << "workload    " << DescribeWorkload(p) << "\n"
              << "round       " << Fixed(round_s * 1000, 1) << " ms median of " << f.repeats << " (compute + commit), "
              << Sci(ops / round_s) << " ops/s\n"
              << "suggest     R = " << rounds << " rounds for a " << f.target_seconds << " s epoch; deadline "
              << deadline_ms << " ms; claimed rate " << Sci(claimed) << " ops/s\n"
              << "lease new   --workload " << WorkloadName(p.kind) << " --m " << p.m << " --n " << p.n << " --k " << p.k
              << " --tile " << p.tile << " --rounds " << rounds << " --deadline-ms " << deadline_ms << " --rate "
              << claimed << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// demo

struct DemoFlags {
  double cheat = 0;
  std::string mode = "interactive", backend = "auto", keep;
  uint32_t n = 256, rounds = 8, samples = 0, epochs = 6;
  int threads = 0;
  double deadline_ms = 0;
};

// The demo's beacon: a public value per round, published on this process's clock (a stand-in for a randomness
// beacon such as drand; FileBeaconSource is the file-backed one the CLI uses).
class DemoBeacon final : public BeaconSource {
 public:
  DemoBeacon(uint64_t genesis_us, uint64_t period_us) : genesis_(genesis_us), period_(period_us) {
    SystemRandom()(secret_);
  }
  std::string name() const override { return "vcp-demo-beacon"; }
  uint64_t genesis_us() const override { return genesis_; }
  uint64_t period_us() const override { return period_; }
  Result<Hash32> Value(uint64_t round) const override {
    if (SteadyClock().NowMicros() < genesis_ + round * period_) {
      return Status::Unavailable("demo beacon round " + std::to_string(round) + " not published yet");
    }
    ByteWriter w;
    w.Bytes(secret_);
    w.U64(round);
    return TaggedHash("vcp.demo.beacon", w.bytes());
  }

 private:
  uint64_t genesis_, period_;
  Hash32 secret_{};
};

// The one deliberate cheat in the code base: replace exactly round(fraction x positions) leaf hashes, chosen at
// random, with hashes of garbage tiles, as a provider that skipped that share of the work would have to.
EpochLeaves SkipTiles(EpochLeaves leaves, double fraction, std::mt19937_64& rng) {
  const uint64_t per_round = leaves.empty() ? 0 : leaves[0].size();
  const uint64_t total = leaves.size() * per_round;
  std::vector<uint64_t> order(total);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  const auto skipped = static_cast<uint64_t>(std::llround(fraction * double(total)));
  for (uint64_t i = 0; i < skipped; ++i) {
    Hash32 garbage{};
    SystemRandom()(garbage);
    leaves[order[i] / per_round][order[i] % per_round] = MerkleLeafHash(garbage);
  }
  return leaves;
}

int DoDemo(const CliState& state, const DemoFlags& f) {
  if (!(f.cheat >= 0 && f.cheat <= 1)) {
    return ReportError(state, Status::InvalidArgument("--cheat is the fraction of tiles skipped, 0 to 1"));
  }
  auto mode = ParseLeaseMode(f.mode);
  if (!mode.ok()) return ReportError(state, mode.status());
  auto backend = ParseBackendChoice(f.backend);
  if (!backend.ok()) return ReportError(state, backend.status());
  if (f.epochs < 1 || f.epochs > 1000) return ReportError(state, Status::InvalidArgument("--epochs must be 1..1000"));

  std::error_code ec;
  const fs::path tmp = f.keep.empty() ? fs::temp_directory_path(ec) : fs::path();
  if (ec) return ReportError(state, Status::IoError("no temporary directory for the demo: " + ec.message()));
  const fs::path root = f.keep.empty() ? tmp / ("vcp-demo-" + std::to_string(::getpid())) : fs::path(f.keep);
  if (f.keep.empty()) fs::remove_all(root, ec);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      if (!dir.empty()) fs::remove_all(dir, ignored);
    }
  } cleanup{f.keep.empty() ? root : fs::path()};

  auto verifier_key = SecretKey::Generate();
  auto provider_key = SecretKey::Generate();
  if (!verifier_key.ok() || !provider_key.ok()) return ReportError(state, Status::Internal("key generation failed"));

  ProverOptions prover;
  prover.run.backend = *backend;
  prover.run.threads = f.threads;
  prover.clock = &SteadyClock();
  auto device = SelectBackend(prover.run);
  if (!device.ok()) return ReportError(state, device.status());

  const uint64_t now = SteadyClock().NowMicros();
  Lease terms;
  terms.mode = *mode;
  terms.workload.kind = WorkloadKind::kInt8;
  terms.workload.m = terms.workload.n = terms.workload.k = f.n;
  terms.workload.tile =
      std::min<uint32_t>(kDefaultTile, std::max<uint32_t>(kMinTile, std::bit_floor(std::max(f.n, 1u))));
  terms.provider_key = (*provider_key).public_key();
  terms.rounds_per_epoch = f.rounds;
  terms.samples_per_epoch = f.samples ? f.samples : MinSamples(*mode);
  // Generous on a shared CPU; beacon mode waits out the deadline every epoch, so it is kept short there.
  const double deadline_ms = f.deadline_ms > 0 ? f.deadline_ms : (*mode == LeaseMode::kBeacon ? 2000 : 10000);
  terms.epoch_deadline_us = static_cast<uint64_t>(deadline_ms * 1000);
  terms.claimed_ops_per_second =
      std::max<uint64_t>(1, EpochOperations(terms) / std::max<uint64_t>(1, terms.epoch_deadline_us / 1000000));
  terms.start_us = now;
  terms.end_us = now + 3'600'000'000ull;
  std::optional<DemoBeacon> beacon;
  if (*mode == LeaseMode::kBeacon) {
    beacon.emplace(now, 250'000);
    terms.beacon_name = beacon->name();
    terms.beacon_genesis_us = beacon->genesis_us();
    terms.beacon_period_us = beacon->period_us();
  }
  VerifierOptions voptions;
  voptions.clock = &SteadyClock();
  voptions.beacon = beacon ? &*beacon : nullptr;
  voptions.threads = f.threads;
  auto verifier = VerifierSession::Create(root / "verifier", terms, *verifier_key, 0.02, voptions);
  if (!verifier.ok()) return ReportError(state, verifier.status());
  const Lease& lease = verifier->lease();
  auto provider = ProviderSession::Accept(root / "provider", lease, *provider_key, SteadyClock());
  if (!provider.ok()) return ReportError(state, provider.status());
  if (Status s = verifier->AddAcceptance(provider->acceptance()); !s.ok()) return ReportError(state, s);

  if (!state.json) {
    std::cout << "vcp demo: " << (lease.mode == LeaseMode::kBeacon ? "a beacon" : "an interactive") << " lease, "
              << DescribeWorkload(lease.workload) << ", R = " << lease.rounds_per_epoch
              << " rounds and k = " << lease.samples_per_epoch << " samples per epoch, " << f.epochs << " epochs\n"
              << "provider: " << device->backend << " (" << device->name << "), skipping " << Fixed(100 * f.cheat, 1)
              << "% of its tiles" << (f.cheat > 0 ? " (simulated: garbage leaf hashes in place of those tiles)" : "")
              << "\n"
              << "verifier: recomputes the sampled tiles on the CPU; deadline " << deadline_ms << " ms on its clock\n\n"
              << EpochTableHeader() << std::flush;
  }
  std::mt19937_64 rng(std::random_device{}());
  // Epochs at Poisson times, as a real lease schedules them, compressed to a mean gap of 300 ms.
  Hash32 schedule_seed{};
  SystemRandom()(schedule_seed);
  const std::vector<uint64_t> times = AuditSchedule(schedule_seed, now, lease.end_us, 300'000);
  for (uint32_t e = 0; e < f.epochs; ++e) {
    const uint64_t at = SteadyClock().NowMicros();
    if (e < times.size() && times[e] > at) std::this_thread::sleep_for(std::chrono::microseconds(times[e] - at));
    auto start = verifier->StartEpoch(*verifier_key);
    if (!start.ok()) return ReportError(state, start.status());
    Result<EpochRecord> record = Status::Internal("unset");
    if (f.cheat > 0) {
      const uint64_t t0 = SteadyClock().NowMicros();
      auto run = RunEpochRounds(lease, *start, prover.run);
      if (!run.ok()) return ReportError(state, run.status());
      record = provider->ProveFromLeaves(*start, SkipTiles(std::move(run->leaves), f.cheat, rng),
                                         run->device.backend + ": " + run->device.name, t0, SteadyClock().NowMicros(),
                                         *provider_key, true);
    } else {
      record = provider->Prove(*start, *provider_key, prover);
    }
    if (!record.ok()) return ReportError(state, record.status());
    auto outcome = verifier->ReceiveRecord(Serialize(*record), *verifier_key);
    if (!outcome.ok()) return ReportError(state, outcome.status());
    std::optional<Verdict> verdict = outcome->verdict;
    if (!verdict) {
      Result<EpochResponse> response = Status::Internal("unset");
      if (outcome->challenge) {
        response = provider->Respond(*outcome->challenge, *provider_key, prover);
      } else {
        // Beacon mode: nothing to do but wait for the round after the deadline.
        do {
          response = provider->RespondBeacon(start->epoch, *beacon, *provider_key, prover);
          if (response.status().code() == StatusCode::kUnavailable) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        } while (response.status().code() == StatusCode::kUnavailable);
      }
      if (!response.ok()) return ReportError(state, response.status());
      auto closed = verifier->ReceiveResponse(Serialize(*response), *verifier_key);
      if (!closed.ok()) return ReportError(state, closed.status());
      verdict = *closed;
    }
    if (!state.json) std::cout << EpochRow(lease, *verdict) << std::flush;
  }
  const LeaseReport report = verifier->Report(SteadyClock().NowMicros());
  if (state.json) {
    json j = ReportJson(lease, report, verifier->verdicts());
    j["cheat_fraction"] = f.cheat;
    j["backend"] = device->backend;
    PrintJson(j);
  } else {
    std::cout << "\n" << ReportText(lease, report);
    if (f.cheat > 0) {
      std::cout << "  expected          each epoch passes a provider skipping " << Fixed(100 * f.cheat, 1)
                << "% with probability " << Sci(EpochPassProbability(1 - f.cheat, lease.samples_per_epoch))
                << " = (1 - " << f.cheat << ")^" << lease.samples_per_epoch << "\n";
    }
    if (!f.keep.empty()) std::cout << "stores kept in " << root.string() << "\n";
  }
  return kExitOk;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

void RegisterProtocolCommands(CLI::App& app, CliState& state) {
  // lease new | accept
  CLI::App* lease = app.add_subcommand("lease", "create (verifier) or accept (provider) a lease");
  lease->require_subcommand(1);
  auto ln = std::make_shared<LeaseNewFlags>();
  CLI::App* lnew = lease->add_subcommand("new", "verifier: create a signed lease and its store");
  lnew->add_option("--key", ln->key, "verifier secret key (vcp.key, or the directory vcp keygen wrote)")->required();
  lnew->add_option("--provider-key", ln->provider_key, "provider public key (vcp.pub, or its directory)")->required();
  lnew->add_option("--store", ln->store, "verifier store directory to create")->required();
  lnew->add_option("--out", ln->out, "lease file to write (send it to the provider)")->required();
  lnew->add_option("--mode", ln->mode, "interactive (challenge after each record) or beacon (public beacon)")
      ->capture_default_str();
  lnew->add_option("--beacon-file", ln->beacon_file, "beacon mode: the beacon file (its header names the source)");
  lnew->add_option("--workload", ln->workload, "int8 or fp32-ordered")->capture_default_str();
  lnew->add_option("--m", ln->m, "rows of A and C")->capture_default_str();
  lnew->add_option("--n", ln->n, "columns of B and C")->capture_default_str();
  lnew->add_option("--k", ln->k, "inner dimension")->capture_default_str();
  lnew->add_option("--tile", ln->tile, "tile size T (power of two, 8..256)")->capture_default_str();
  lnew->add_option("--rounds", ln->rounds, "R: workload rounds per epoch (vcp calibrate suggests one)")
      ->capture_default_str();
  lnew->add_option("--samples", ln->samples,
                   "k: sampled tiles per epoch (default and minimum: 40 interactive, 80 beacon)");
  lnew->add_option("--deadline-ms", ln->deadline_ms, "epoch start to record arrival, on the verifier's clock")
      ->capture_default_str();
  lnew->add_option("--rate", ln->rate, "claimed throughput class, operations per second")->capture_default_str();
  lnew->add_option("--hours", ln->hours, "lease length from now")->capture_default_str();
  lnew->add_option("--audit-share", ln->audit_share, "fraction of the lease spent in epochs, at random times")
      ->capture_default_str();
  lnew->callback([&state, ln] { state.exit_code = DoLeaseNew(state, *ln); });

  auto la = std::make_shared<std::array<std::string, 4>>();
  CLI::App* accept = lease->add_subcommand("accept", "provider: check a lease, create the provider store, sign");
  accept->add_option("--lease", (*la)[0], "lease file from the verifier")->required();
  accept->add_option("--key", (*la)[1], "provider secret key (vcp.key or its directory)")->required();
  accept->add_option("--store", (*la)[2], "provider store directory to create")->required();
  accept->add_option("--out", (*la)[3], "acceptance file to write (send it to the verifier)")->required();
  accept->callback([&state, la] { state.exit_code = DoLeaseAccept(state, (*la)[0], (*la)[1], (*la)[2], (*la)[3]); });

  // epoch start
  CLI::App* epoch = app.add_subcommand("epoch", "verifier: start an epoch");
  epoch->require_subcommand(1);
  auto es = std::make_shared<VerifierFlags>();
  auto es_accept = std::make_shared<std::string>();
  auto es_out = std::make_shared<std::string>();
  auto es_wait = std::make_shared<bool>(false);
  CLI::App* estart = epoch->add_subcommand("start", "issue the next epoch with a fresh beacon");
  estart->add_option("--store", es->store, "verifier store")->required();
  estart->add_option("--key", es->key, "verifier secret key")->required();
  estart->add_option("--acceptance", *es_accept, "the provider's acceptance (needed once, before the first epoch)");
  estart->add_option("--out", *es_out, "epoch start file to write")->required();
  estart->add_flag("--wait", *es_wait, "sleep until the next time on the lease's secret audit schedule");
  estart->callback([&state, es, es_accept, es_out, es_wait] {
    state.exit_code = DoEpochStart(state, *es, *es_accept, *es_out, *es_wait);
  });

  // prove
  auto pf = std::make_shared<ProverFlags>();
  auto p_start = std::make_shared<std::string>();
  auto p_out = std::make_shared<std::string>();
  CLI::App* prove = app.add_subcommand("prove", "provider: run an epoch's rounds and write its signed record");
  prove->add_option("--store", pf->store, "provider store")->required();
  prove->add_option("--key", pf->key, "provider secret key")->required();
  prove->add_option("--start", *p_start, "epoch start file from the verifier")->required();
  prove->add_option("--out", *p_out, "record file to write")->required();
  prove->add_option("--backend", pf->backend, "auto, cpu or cuda")->capture_default_str();
  prove->add_option("--threads", pf->threads, "CPU threads, 0 = all")->capture_default_str();
  prove->add_flag("--recompute", pf->recompute, "keep no leaves file; recompute the sampled rounds when challenged");
  prove->callback([&state, pf, p_start, p_out] { state.exit_code = DoProve(state, *pf, *p_start, *p_out); });

  // challenge
  auto cf = std::make_shared<VerifierFlags>();
  auto c_record = std::make_shared<std::string>();
  auto c_out = std::make_shared<std::string>();
  CLI::App* challenge = app.add_subcommand(
      "challenge", "verifier: receive a record (its arrival time counts) and issue the challenge; exit 1 if it fails");
  challenge->add_option("--store", cf->store, "verifier store")->required();
  challenge->add_option("--key", cf->key, "verifier secret key")->required();
  challenge->add_option("--record", *c_record, "record file from the provider")->required();
  challenge->add_option("--out", *c_out, "challenge file to write (interactive leases)");
  challenge->callback([&state, cf, c_record, c_out] { state.exit_code = DoChallenge(state, *cf, *c_record, *c_out); });

  // respond
  auto rf = std::make_shared<ProverFlags>();
  auto r_challenge = std::make_shared<std::string>();
  auto r_beacon = std::make_shared<std::string>();
  auto r_epoch = std::make_shared<int64_t>(-1);
  auto r_out = std::make_shared<std::string>();
  CLI::App* respond = app.add_subcommand("respond", "provider: answer a challenge (or the beacon) with the proof");
  respond->add_option("--store", rf->store, "provider store")->required();
  respond->add_option("--key", rf->key, "provider secret key")->required();
  respond->add_option("--challenge", *r_challenge, "challenge file (interactive leases)");
  respond->add_option("--beacon-file", *r_beacon, "beacon file (beacon leases)");
  respond->add_option("--epoch", *r_epoch, "beacon leases: the epoch to answer");
  respond->add_option("--out", *r_out, "response file to write")->required();
  respond->add_option("--backend", rf->backend, "for recomputing rounds: auto, cpu or cuda")->capture_default_str();
  respond->add_option("--threads", rf->threads, "CPU threads, 0 = all")->capture_default_str();
  respond->callback([&state, rf, r_challenge, r_beacon, r_epoch, r_out] {
    state.exit_code = DoRespond(state, *rf, *r_challenge, *r_beacon, *r_epoch, *r_out);
  });

  // verify
  auto vf = std::make_shared<VerifierFlags>();
  auto v_response = std::make_shared<std::string>();
  auto v_out = std::make_shared<std::string>();
  CLI::App* verify = app.add_subcommand(
      "verify", "verifier: check a response, recomputing the sampled tiles; exit 0 pass, 1 fail, 2 usage error");
  verify->add_option("--store", vf->store, "verifier store")->required();
  verify->add_option("--key", vf->key, "verifier secret key (signs the verdict)")->required();
  verify->add_option("--response", *v_response, "response file from the provider")->required();
  verify->add_option("--beacon-file", vf->beacon_file, "beacon file (beacon leases)");
  verify->add_option("--out", *v_out, "signed verdict file to write");
  verify->add_option("--threads", vf->threads, "CPU threads for recomputation, 0 = all")->capture_default_str();
  verify->callback([&state, vf, v_response, v_out] { state.exit_code = DoVerify(state, *vf, *v_response, *v_out); });

  // report
  auto rpf = std::make_shared<VerifierFlags>();
  auto confidence = std::make_shared<double>(0.95);
  CLI::App* report = app.add_subcommand("report", "verifier: the lease verdict so far (table, or JSON with --json)");
  report->add_option("--store", rpf->store, "verifier store")->required();
  report->add_option("--confidence", *confidence, "confidence level of the GPU-hours bound")->capture_default_str();
  report->callback([&state, rpf, confidence] { state.exit_code = DoReport(state, *rpf, *confidence); });

  // inspect
  auto file = std::make_shared<std::string>();
  CLI::App* inspect = app.add_subcommand("inspect", "print any protocol message, store log or proof file as JSON");
  inspect->add_option("FILE", *file, "the file")->required();
  inspect->callback([&state, file] { state.exit_code = DoInspect(state, *file); });

  // calibrate
  auto cal = std::make_shared<CalibrateFlags>();
  CLI::App* calibrate = app.add_subcommand("calibrate", "measure this device and suggest R, a deadline and a rate");
  calibrate->add_option("--workload", cal->workload, "int8 or fp32-ordered")->capture_default_str();
  calibrate->add_option("--m", cal->m, "rows of A and C")->capture_default_str();
  calibrate->add_option("--n", cal->n, "columns of B and C")->capture_default_str();
  calibrate->add_option("--k", cal->k, "inner dimension")->capture_default_str();
  calibrate->add_option("--tile", cal->tile, "tile size T")->capture_default_str();
  calibrate->add_option("--target-seconds", cal->target_seconds, "desired epoch length")->capture_default_str();
  calibrate->add_option("--repeats", cal->repeats, "rounds to time (the median counts)")->capture_default_str();
  calibrate->add_option("--backend", cal->backend, "auto, cpu or cuda")->capture_default_str();
  calibrate->add_option("--threads", cal->threads, "CPU threads, 0 = all")->capture_default_str();
  calibrate->callback([&state, cal] { state.exit_code = DoCalibrate(state, *cal); });

  // demo
  auto demo_flags = std::make_shared<DemoFlags>();
  CLI::App* demo =
      app.add_subcommand("demo", "run a whole short lease, both roles in this process, and print the lease verdict");
  demo->add_option("--cheat", demo_flags->cheat, "fraction of tiles the provider skips (0 = honest)")
      ->capture_default_str();
  demo->add_option("--mode", demo_flags->mode, "interactive or beacon")->capture_default_str();
  demo->add_option("--epochs", demo_flags->epochs, "epochs to run")->capture_default_str();
  demo->add_option("--n", demo_flags->n, "M = N = K of the int8 workload")->capture_default_str();
  demo->add_option("--rounds", demo_flags->rounds, "R, rounds per epoch")->capture_default_str();
  demo->add_option("--samples", demo_flags->samples, "k, samples per epoch (default: the mode's minimum)");
  demo->add_option("--deadline-ms", demo_flags->deadline_ms, "epoch deadline (default 10000, beacon 2000)");
  demo->add_option("--backend", demo_flags->backend, "auto, cpu or cuda")->capture_default_str();
  demo->add_option("--threads", demo_flags->threads, "CPU threads, 0 = all")->capture_default_str();
  demo->add_option("--keep", demo_flags->keep, "keep both stores in this directory (default: a removed temp dir)");
  demo->callback([&state, demo_flags] { state.exit_code = DoDemo(state, *demo_flags); });
}

}  // namespace vcp::cli
