// vcp lease new (verifier: sign a lease, create the verifier store) and vcp lease accept (provider: check the lease,
// create the provider store, sign the acceptance).
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include "format.h"
#include "protocol_commands.h"
#include "vcp/beacon.h"
#include "vcp/lease_session.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

struct LeaseNewFlags {
  std::string key, provider_key, store, out, mode = "interactive", beacon_file;
  std::string workload = "int8";
  uint32_t m = 4096, n = 4096, k = 4096, tile = kDefaultTile;
  uint32_t rounds = 8, samples = 0, devices = 1;
  double rate = 0, slack = double(kDefaultSlackPpm) / 1e6, allowance_ms = 0, hours = 24, audit_share = 0.02;
  std::string deadline_ms;  // gone in protocol v2: given, it is refused with what replaced it
};

// Flag bounds, checked as doubles before any conversion (NaN and infinities fail too). The allowance and the
// length stay within the lease's time bounds (vcp/protocol.h: kMaxDeadlineUs, kMaxTimeUs); ValidateLease then
// refuses what the terms together make too long, naming the bound.
constexpr double kMaxAllowanceMs = double(kMaxDeadlineUs) / 1000;  // 2^40 us, about 12.7 days
constexpr double kMaxHours = 1e6;                                  // about 114 years from now, below 2^53 us
constexpr double kMaxRate = kMaxRateFlag;
// Slack beyond what a u32 of parts per million holds cannot be a lease term at all; anything up to it goes to
// ValidateLease, which names the maximum (kMaxSlackPpm) and what it proves.
constexpr double kMaxSlackFlag = 4000;

Status FillTerms(const LeaseNewFlags& f, Lease& terms) {
  if (!f.deadline_ms.empty()) {
    return Status::InvalidArgument(
        "--deadline-ms is gone in protocol v2: the deadline follows from the claimed rate per device (--rate), the "
        "rounds (--rounds) and the slack (--slack); vcp calibrate suggests them");
  }
  VCP_ASSIGN_OR_RETURN(terms.mode, ParseLeaseMode(f.mode));
  VCP_ASSIGN_OR_RETURN(terms.workload.kind, ParseWorkloadKind(f.workload));
  terms.workload.m = f.m;
  terms.workload.n = f.n;
  terms.workload.k = f.k;
  terms.workload.tile = f.tile;
  if (f.devices < 1 || f.devices > kMaxDevices) {
    return Status::InvalidArgument("--devices " + std::to_string(f.devices) + " is out of range; allowed: 1 to " +
                                   std::to_string(kMaxDevices));
  }
  terms.devices = static_cast<uint8_t>(f.devices);
  terms.rounds_per_epoch = f.rounds;
  terms.samples_per_epoch = f.samples ? f.samples : MinSamples(terms.mode);
  VCP_ASSIGN_OR_RETURN(terms.claimed_ops_per_second_per_device,
                       ScaledFlag("--rate", f.rate, 1, 1, kMaxRate, "operations per second per device"));
  if (!(f.slack >= 0 && f.slack <= kMaxSlackFlag)) {
    return Status::InvalidArgument("--slack " + Sci(f.slack) + " is out of range; allowed: 0 to " +
                                   SlackText(kMaxSlackPpm) + " (a fraction of the compute time)");
  }
  terms.slack_ppm = static_cast<uint32_t>(std::llround(f.slack * 1e6));
  VCP_ASSIGN_OR_RETURN(terms.network_allowance_us,
                       ScaledFlag("--allowance-ms", f.allowance_ms, 1000, 0, kMaxAllowanceMs, "milliseconds"));
  VCP_ASSIGN_OR_RETURN(const uint64_t length_us, ScaledFlag("--hours", f.hours, 3.6e9, 1e-6, kMaxHours, "hours"));
  terms.start_us = SystemClock().NowMicros();
  terms.end_us = terms.start_us + length_us;
  if (terms.mode == LeaseMode::kBeacon) {
    if (f.beacon_file.empty()) {
      return Status::InvalidArgument(
          "--mode beacon needs --beacon-file (the beacon's header names its source, genesis and period)");
    }
    VCP_ASSIGN_OR_RETURN(FileBeaconSource beacon, FileBeaconSource::Open(f.beacon_file));
    terms.beacon_name = beacon.name();
    terms.beacon_genesis_us = beacon.genesis_us();
    terms.beacon_period_us = beacon.period_us();
  }
  return Status::Ok();
}

// What a perfect provider (every scheduled epoch passes) reaches over the whole lease, from the library's plan.
std::string PlanText(const Lease& lease, const LeasePlan& plan) {
  return "perfect     a provider passing every scheduled epoch reaches an availability bound of " +
         Fixed(plan.perfect_bound, 3) + " at " + Fixed(100 * plan.confidence, 0) + "% confidence, " +
         Hours(plan.perfect_gpu_hours) + " GPU-hours of " + Hours(double(lease.devices) * plan.lease_hours) + " (" +
         DeviceCount(lease.devices) + " x " + Hours(plan.lease_hours) + " h)\n            why: " + plan.explanation +
         "\n";
}

int DoLeaseNew(const CliState& state, const LeaseNewFlags& f) {
  auto key = ResolveSecretKey(f.key);
  if (!key.ok()) return ReportError(state, key.status().WithContext("--key"));
  auto provider = ResolvePublicKey(f.provider_key);
  if (!provider.ok()) return ReportError(state, provider.status().WithContext("--provider-key"));
  Lease terms;
  if (Status s = FillTerms(f, terms); !s.ok()) return ReportError(state, s);
  terms.provider_key = *provider;
  auto session = VerifierSession::Create(f.store, terms, *key, f.audit_share);
  if (!session.ok()) return ReportError(state, session.status());
  const Lease& lease = session->lease();
  if (Status s = WriteMessageFile(f.out, Serialize(lease)); !s.ok()) return ReportError(state, s);
  const uint64_t next = session->NextAuditUs(lease.start_us);
  const LeasePlan plan = PlanLease(lease, f.audit_share);
  if (state.json) {
    json j = MessageObject(lease);
    j["ok"] = true;
    j["out"] = f.out;
    j["store"] = f.store;
    j["terms"] = LeaseTermsJson(lease);
    j["scheduled_audits"] = session->AuditTimes().size();
    j["next_audit_us"] = next;
    j["perfect_provider"] = {{"expected_scheduled_epochs", plan.expected_scheduled_epochs},
                             {"availability_bound", plan.perfect_bound},
                             {"confidence", plan.confidence},
                             {"gpu_hours", plan.perfect_gpu_hours},
                             {"lease_hours", plan.lease_hours},
                             {"audit_share", plan.audit_share},
                             {"explanation", plan.explanation}};
    PrintJson(j);
  } else {
    std::cout << "lease       " << ToHex(LeaseId(lease)) << " (" << f.out << ")\n"
              << "mode        " << LeaseModeName(lease.mode) << ", " << DescribeWorkload(lease.workload) << ", "
              << DescribeEpochShape(lease) << "\n"
              << LeaseTermsText(lease) << "period      " << TimeText(lease.start_us) << " to " << TimeText(lease.end_us)
              << "\n"
              << "audits      " << session->AuditTimes().size() << " scheduled epochs drawn at secret random times ("
              << Fixed(100 * f.audit_share, 1) << "% of the lease in epochs); next " << (next ? TimeText(next) : "none")
              << "\n"
              << PlanText(lease, plan) << "next        send " << f.out << " to the provider: vcp lease accept --lease "
              << f.out << "\n";
  }
  return kExitOk;
}

struct LeaseAcceptFlags {
  std::string lease, key, store, out;
};

int DoLeaseAccept(const CliState& state, const LeaseAcceptFlags& f) {
  auto bytes = ReadMessageFile(f.lease, MessageType::kLease, "--lease");
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto lease = ParseLease(*bytes);
  if (!lease.ok()) return ReportError(state, lease.status().WithContext(f.lease));
  auto key = ResolveSecretKey(f.key);
  if (!key.ok()) return ReportError(state, key.status().WithContext("--key"));
  auto session = ProviderSession::Accept(f.store, *lease, *key);
  if (!session.ok()) return ReportError(state, session.status());
  if (Status s = WriteMessageFile(f.out, Serialize(session->acceptance())); !s.ok()) return ReportError(state, s);
  if (state.json) {
    json j = MessageObject(session->acceptance());
    j["ok"] = true;
    j["out"] = f.out;
    j["store"] = f.store;
    j["lease"] = MessageObject(*lease);
    j["terms"] = LeaseTermsJson(*lease);
    PrintJson(j);
  } else {
    std::cout << "accepted    lease " << ToHex(LeaseId(*lease)) << "\n"
              << "terms       " << LeaseModeName(lease->mode) << ", " << DescribeWorkload(lease->workload) << ", "
              << DescribeEpochShape(*lease) << "\n"
              << LeaseTermsText(*lease) << "next        send " << f.out
              << " to the verifier (vcp epoch start --acceptance " << f.out << ")\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterLeaseCommands(CLI::App& app, CliState& state) {
  CLI::App* lease = app.add_subcommand("lease", "create (verifier) or accept (provider) a lease");
  lease->require_subcommand(1);

  auto ln = std::make_shared<LeaseNewFlags>();
  CLI::App* lnew = lease->add_subcommand("new", "verifier: create a signed lease and its store");
  lnew->add_option("--key", ln->key, "verifier secret key (vcp.key, or the directory vcp keygen wrote)")->required();
  lnew->add_option("--provider-key", ln->provider_key,
                   "provider public key: the 64 hex digits vcp keygen printed, vcp.pub, or its directory")
      ->required();
  lnew->add_option("--store", ln->store, "verifier store directory to create")->required();
  lnew->add_option("--out", ln->out, "lease file to write (send it to the provider)")->required();
  lnew->add_option("--mode", ln->mode, "interactive (challenge after each record) or beacon (public beacon)")
      ->capture_default_str();
  lnew->add_option("--beacon-file", ln->beacon_file, "beacon mode: the beacon file (its header names the source)");
  lnew->add_option("--workload", ln->workload, "int8 or fp32-ordered")->capture_default_str();
  lnew->add_option("--m", ln->m, "rows M of A and C")->capture_default_str();
  lnew->add_option("--n", ln->n, "columns N of B and C")->capture_default_str();
  lnew->add_option("--k", ln->k, "inner dimension K (columns of A, rows of B); not the sample count, see --samples")
      ->capture_default_str();
  lnew->add_option("--tile", ln->tile, "tile size T (power of two, 8 to 256)")->capture_default_str();
  lnew->add_option("--devices", ln->devices,
                   "D: devices the lease names (1 to 16); every epoch runs R rounds on each, all at once")
      ->capture_default_str();
  lnew->add_option("--rounds", ln->rounds, "R: workload rounds per device per epoch (vcp calibrate suggests one)")
      ->capture_default_str();
  lnew->add_option("--samples", ln->samples,
                   "sampled tiles per epoch (default and minimum: 40 interactive, 80 beacon)");
  lnew->add_option("--rate", ln->rate,
                   "claimed operations per second PER DEVICE (1 to 9e18); the deadline follows from it")
      ->required();
  lnew->add_option("--slack", ln->slack,
                   "deadline margin over the compute time, a fraction (0 to 1.0): a passing epoch proves "
                   ">= rate / (1 + slack)")
      ->capture_default_str();
  lnew->add_option("--allowance-ms", ln->allowance_ms,
                   "network allowance: the part of the slack margin promised to the record's trip (at most half)")
      ->capture_default_str();
  // Protocol v1's flag, kept out of --help so that a v1 command line is refused with what replaced it.
  lnew->add_option("--deadline-ms", ln->deadline_ms)->group("");
  lnew->add_option("--hours", ln->hours, "lease length from now")->capture_default_str();
  lnew->add_option("--audit-share", ln->audit_share,
                   "fraction of the lease spent in scheduled epochs, at secret random times (above 0, up to 1; "
                   "at least deadline / lease length, so that one audit is expected)")
      ->capture_default_str();
  lnew->callback([&state, ln] { state.exit_code = DoLeaseNew(state, *ln); });

  auto la = std::make_shared<LeaseAcceptFlags>();
  CLI::App* accept = lease->add_subcommand("accept", "provider: check a lease, create the provider store, sign");
  accept->add_option("--lease", la->lease, "lease file from the verifier")->required();
  accept->add_option("--key", la->key, "provider secret key (vcp.key or its directory)")->required();
  accept->add_option("--store", la->store, "provider store directory to create")->required();
  accept->add_option("--out", la->out, "acceptance file to write (send it to the verifier)")->required();
  accept->callback([&state, la] { state.exit_code = DoLeaseAccept(state, *la); });
}

}  // namespace vcp::cli
