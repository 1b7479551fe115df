// One epoch of a lease, a command per step: vcp epoch start (verifier; scheduled with --wait, else on demand),
// vcp prove (provider, on every device the lease names), vcp challenge (verifier), vcp respond (provider), vcp verify
// (verifier), and vcp epoch void (verifier: an epoch it could not time). Each opens its role's store, runs one
// library call and writes the message the other side needs next.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>

#include "format.h"
#include "protocol_commands.h"
#include "vcp/beacon.h"
#include "vcp/lease_session.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

// 0 pass, 1 the provider's failure, 3 void: the verifier's own side stopped the epoch (its clock, its beacon
// source), which a script alerts on like any other trouble with the machine.
int ExitCodeForVerdict(const Verdict& verdict) {
  switch (OutcomeOf(verdict.reason)) {
    case VerdictOutcome::kPass:
      return kExitOk;
    case VerdictOutcome::kFail:
      return kExitRejected;
    case VerdictOutcome::kVoid:
      return kExitError;
  }
  return kExitError;
}

struct VerifierFlags {
  std::string store, key, beacon_file;
  int threads = 0;
  double response_wait_s = 0;  // AddResponseWaitOption sets the default
};

struct VerifierContext {
  std::optional<FileBeaconSource> beacon;
  std::optional<VerifierSession> session;
  std::optional<SecretKey> key;
  std::optional<Verdict> closed_overdue;  // closed by this command before its own step
};

// Which open epoch the command closes first when it is overdue (docs/PROTOCOL.md 10.5).
enum class CloseOverdue {
  kNone,        // epoch void: closing it void is the command's own step
  kAny,         // epoch start, verify
  kWithRecord,  // challenge: a record given for an epoch past its deadline is judged late on its own arrival
};

Status OpenVerifier(const CliState& state, const VerifierFlags& f, VerifierContext& ctx,
                    CloseOverdue close = CloseOverdue::kAny) {
  VerifierOptions options;
  if (f.threads < 0) return Status::InvalidArgument("--threads must be 0 (all) or positive");
  options.threads = f.threads;
  if (close != CloseOverdue::kNone) {
    VCP_ASSIGN_OR_RETURN(options.response_wait_us, ResponseWaitUs(f.response_wait_s));
  }
  if (!f.beacon_file.empty()) {
    VCP_ASSIGN_OR_RETURN(FileBeaconSource beacon, FileBeaconSource::Open(f.beacon_file));
    ctx.beacon.emplace(std::move(beacon));
    options.beacon = &*ctx.beacon;
  }
  VCP_ASSIGN_OR_RETURN(VerifierSession session, VerifierSession::Open(f.store, options));
  PrintRecovery(state, session.recovery(), "verifier");
  ctx.session.emplace(std::move(session));
  auto key = ResolveSecretKey(f.key);
  if (!key.ok()) return key.status().WithContext("--key");
  ctx.key.emplace(std::move(*key));
  const std::vector<VerifierEpoch>& epochs = ctx.session->epochs();
  const bool open_with_record = !epochs.empty() && !epochs.back().verdict && epochs.back().record;
  if (close == CloseOverdue::kAny || (close == CloseOverdue::kWithRecord && open_with_record)) {
    VCP_ASSIGN_OR_RETURN(ctx.closed_overdue, ctx.session->CloseOverdueEpoch(*ctx.key));
    if (ctx.closed_overdue) PrintOverdueClosed(*ctx.closed_overdue);
  }
  return Status::Ok();
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

// ---------------------------------------------------------------------------------------------------------------
// epoch start

struct EpochStartFlags {
  VerifierFlags verifier;
  std::string acceptance, out;
  bool wait = false;
};

int DoEpochStart(const CliState& state, const EpochStartFlags& f) {
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f.verifier, ctx); !s.ok()) return ReportError(state, s);
  VerifierSession& v = *ctx.session;
  if (!f.acceptance.empty()) {
    auto bytes = ReadMessageFile(f.acceptance, MessageType::kAcceptance, "--acceptance");
    if (!bytes.ok()) return ReportError(state, bytes.status());
    auto acceptance = ParseLeaseAcceptance(*bytes);
    if (!acceptance.ok()) return ReportError(state, acceptance.status().WithContext(f.acceptance));
    if (Status s = v.AddAcceptance(*acceptance); !s.ok()) return ReportError(state, s);
  }
  EpochSchedule schedule = EpochSchedule::kOnDemand;
  if (f.wait) {
    // The secret audit schedule decides when scheduled epochs run: sleep until the audit time the next one answers
    // to (the verifier alone knows it; the provider sees an epoch start like any other).
    const uint64_t due = v.ScheduledStartUs();
    if (due == 0) {
      return ReportError(state, Status::InvalidArgument("no scheduled audit time is left in this lease; start the "
                                                        "epoch on demand (without --wait)"));
    }
    const uint64_t now = SystemClock().NowMicros();
    if (due > now) {
      if (!state.json) std::cerr << "vcp: waiting for the next scheduled audit time, " << TimeText(due) << "\n";
      std::this_thread::sleep_for(std::chrono::microseconds(due - now));
    }
    schedule = EpochSchedule::kScheduled;
  }
  auto start = v.StartEpoch(*ctx.key, schedule);
  if (!start.ok()) return ReportError(state, start.status());
  if (Status s = WriteMessageFile(f.out, Serialize(*start)); !s.ok()) return ReportError(state, s);
  const Lease& lease = v.lease();
  // An open epoch handed out again keeps the schedule it was started with, whatever this call asked.
  const EpochSchedule started = v.epochs().back().schedule;
  const uint64_t deadline = EpochDeadlineUs(lease);
  if (state.json) {
    json j = MessageObject(*start);
    j["ok"] = true;
    j["schedule"] = EpochScheduleName(started);
    j["deadline_us"] = start->start_us + deadline;
    j["deadline_ms"] = double(deadline) / 1000;
    j["out"] = f.out;
    PrintJson(j);
  } else {
    std::cout << "epoch       " << start->epoch << " started " << TimeText(start->start_us) << " (" << f.out << ")\n"
              << "schedule    "
              << (started == EpochSchedule::kScheduled
                      ? "scheduled: at a secret audit time, so it counts toward the availability bound"
                      : "on demand: it proves throughput but not availability (vcp epoch start --wait starts a "
                        "scheduled one)")
              << "\n"
              << "deadline    the record must arrive within " << Milliseconds(deadline) << " ms (a passing epoch "
              << "proves >= " << Sci(GuaranteedRatePerDevice(lease)) << " ops/s per device"
              << (lease.devices > 1 ? ", on all " + DeviceCount(lease.devices) + " at once" : "") << ")\n"
              << "next        provider: vcp prove --start " << f.out << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// epoch void

struct EpochVoidFlags {
  VerifierFlags verifier;
  std::string reason, detail, out;
};

Result<Reason> ParseVoidReason(std::string_view name) {
  if (name == "verifier-down") return Reason::kVoidVerifierDown;
  if (name == "clock") return Reason::kVoidClock;
  if (name == "beacon-unavailable") return Reason::kVoidBeaconUnavailable;
  return Status::InvalidArgument("--reason '" + std::string(name) +
                                 "' is not a void reason; allowed: verifier-down (the verifier was not running to "
                                 "time the record), clock (its clock went backwards), beacon-unavailable (the "
                                 "beacon round never came)");
}

int DoEpochVoid(const CliState& state, const EpochVoidFlags& f) {
  auto reason = ParseVoidReason(f.reason);
  if (!reason.ok()) return ReportError(state, reason.status());
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f.verifier, ctx, CloseOverdue::kNone); !s.ok()) return ReportError(state, s);
  auto verdict = ctx.session->VoidEpoch(*reason, f.detail, *ctx.key);
  if (!verdict.ok()) return ReportError(state, verdict.status());
  if (!f.out.empty()) {
    if (Status s = WriteMessageFile(f.out, Serialize(*verdict)); !s.ok()) return ReportError(state, s);
  }
  if (state.json) {
    json j = VerdictJson(ctx.session->lease(), *verdict);
    j["ok"] = true;
    PrintJson(j);
  } else {
    std::cout << EpochTableHeader() << EpochRow(ctx.session->lease(), *verdict) << "detail: " << verdict->detail
              << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// prove

struct ProveFlags {
  ProverFlags prover;
  std::string start, out;
};

int DoProve(const CliState& state, const ProveFlags& f) {
  auto options = ProverOptionsFrom(f.prover);
  if (!options.ok()) return ReportError(state, options.status());
  auto bytes = ReadMessageFile(f.start, MessageType::kEpochStart, "--start");
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto start = ParseEpochStart(*bytes);
  if (!start.ok()) return ReportError(state, start.status().WithContext(f.start));
  auto key = ResolveSecretKey(f.prover.key);
  if (!key.ok()) return ReportError(state, key.status().WithContext("--key"));
  auto session = ProviderSession::Open(f.prover.store);
  if (!session.ok()) return ReportError(state, session.status());
  PrintRecovery(state, session->recovery(), "provider");
  auto outcome = session->Prove(*start, *key, *options);
  if (!outcome.ok()) return ReportError(state, outcome.status());
  const EpochRecord& record = outcome->record;
  if (Status s = WriteMessageFile(f.out, Serialize(record)); !s.ok()) return ReportError(state, s);
  if (state.json) {
    json j = MessageObject(record);
    j["ok"] = true;
    j["already_logged"] = outcome->already_logged;
    j["seconds"] = outcome->seconds;
    j["out"] = f.out;
    PrintJson(j);
  } else {
    const std::string devices =
        record.devices.size() == 1 ? "its 1 device" : "each of " + DeviceCount(record.devices.size()) + " at once";
    if (outcome->already_logged) {
      std::cout << "epoch       " << record.epoch << " was proven before: handed back the record logged for it ("
                << record.rounds << " rounds on " << devices << "); nothing ran now\n";
    } else {
      std::cout << "epoch       " << record.epoch << ": " << record.rounds << " rounds on " << devices << ", "
                << Sci(double(record.operations)) << " operations in " << Fixed(outcome->seconds, 3) << " s\n";
    }
    // The evidence the record signs for each device (informative: only the deadline proves throughput).
    for (size_t d = 0; d < record.devices.size(); ++d) {
      std::cout << "device " << Pad(std::to_string(d), 5) << DescribeDevice(record.devices[d]) << "\n";
    }
    std::cout << "record      " << ToHex(RecordHash(record)) << " (" << f.out << ")\n"
              << "next        send " << f.out << " to the verifier now: the deadline runs until it arrives\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// challenge

struct ChallengeFlags {
  VerifierFlags verifier;
  std::string record, out;
};

int DoChallenge(const CliState& state, const ChallengeFlags& f) {
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f.verifier, ctx, CloseOverdue::kWithRecord); !s.ok()) return ReportError(state, s);
  const Lease& lease = ctx.session->lease();
  // Refused before the record's arrival is logged, so that the rerun with --out is not a second arrival.
  if (lease.mode == LeaseMode::kInteractive && f.out.empty()) {
    return ReportError(state, Status::InvalidArgument("interactive leases need --out for the challenge file"));
  }
  auto bytes = ReadMessageFile(f.record, MessageType::kRecord, "--record");
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto outcome = ctx.session->ReceiveRecord(*bytes, *ctx.key);
  if (!outcome.ok()) return ReportError(state, outcome.status());
  if (outcome->verdict) {
    const Verdict& verdict = *outcome->verdict;
    const bool is_void = OutcomeOf(verdict.reason) == VerdictOutcome::kVoid;
    if (state.json) {
      json j = VerdictJson(lease, verdict);
      j["ok"] = false;
      PrintJson(j);
    } else if (is_void) {
      std::cerr << "vcp: epoch " << verdict.epoch << " is VOID (" << ReasonName(verdict.reason)
                << ", the verifier's side, not the provider's failure): " << verdict.detail << "\n";
    } else {
      std::cerr << "vcp: rejected: epoch " << verdict.epoch << " FAILED (" << ReasonName(verdict.reason)
                << "): " << verdict.detail << "\n";
    }
    return ExitCodeForVerdict(verdict);
  }
  if (!outcome->finding.ok()) {
    return ReportError(state, Status::Rejected(std::string(ReasonName(outcome->finding.reason)) + ": " +
                                               outcome->finding.detail + " (the epoch stays open)"));
  }
  if (outcome->beacon_round) {
    const uint64_t due_us = lease.beacon_genesis_us + *outcome->beacon_round * lease.beacon_period_us;
    if (state.json) {
      PrintJson({{"ok", true},
                 {"mode", "beacon"},
                 {"already_received", outcome->already_received},
                 {"beacon_round", *outcome->beacon_round},
                 {"beacon_due_us", due_us}});
    } else {
      std::cout << "record      " << (outcome->already_received ? "received before" : "accepted on time")
                << "; no challenge is sent in beacon mode\n"
                << "beacon      the provider answers from round " << *outcome->beacon_round << " of "
                << lease.beacon_name << " (due " << TimeText(due_us) << ")\n";
    }
    return kExitOk;
  }
  if (!outcome->challenge) {
    return ReportError(state, Status::Internal("the record was accepted but no challenge came with it"));
  }
  if (Status s = WriteMessageFile(f.out, Serialize(*outcome->challenge)); !s.ok()) return ReportError(state, s);
  if (state.json) {
    json j = MessageObject(*outcome->challenge);
    j["ok"] = true;
    j["mode"] = "interactive";
    j["already_received"] = outcome->already_received;
    j["out"] = f.out;
    PrintJson(j);
  } else {
    std::cout << "record      "
              << (outcome->already_received ? "received before; the challenge it got is written again"
                                            : "accepted on time")
              << " for epoch " << outcome->challenge->epoch << "\n"
              << "challenge   " << f.out << " (" << lease.samples_per_epoch << " sampled positions follow from it)\n"
              << "next        provider: vcp respond --challenge " << f.out << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// respond

struct RespondFlags {
  ProverFlags prover;
  std::string challenge, beacon_file, out;
  int64_t epoch = -1;
};

int DoRespond(const CliState& state, const RespondFlags& f) {
  auto options = ProverOptionsFrom(f.prover);
  if (!options.ok()) return ReportError(state, options.status());
  if (f.challenge.empty() == f.beacon_file.empty()) {
    return ReportError(state,
                       Status::InvalidArgument(
                           "give exactly one of --challenge (interactive leases) or --beacon-file (beacon leases)"));
  }
  auto key = ResolveSecretKey(f.prover.key);
  if (!key.ok()) return ReportError(state, key.status().WithContext("--key"));
  auto session = ProviderSession::Open(f.prover.store);
  if (!session.ok()) return ReportError(state, session.status());
  PrintRecovery(state, session->recovery(), "provider");
  Result<RespondOutcome> outcome = Status::Internal("unset");
  if (!f.challenge.empty()) {
    auto bytes = ReadMessageFile(f.challenge, MessageType::kChallenge, "--challenge");
    if (!bytes.ok()) return ReportError(state, bytes.status());
    auto challenge = ParseChallenge(*bytes);
    if (!challenge.ok()) return ReportError(state, challenge.status().WithContext(f.challenge));
    outcome = session->Respond(*challenge, *key, *options);
  } else {
    if (f.epoch < 0) return ReportError(state, Status::InvalidArgument("beacon mode needs --epoch N"));
    auto beacon = FileBeaconSource::Open(f.beacon_file);
    if (!beacon.ok()) return ReportError(state, beacon.status());
    outcome = session->RespondBeacon(static_cast<uint64_t>(f.epoch), *beacon, *key, *options);
  }
  if (!outcome.ok()) return ReportError(state, outcome.status());
  const EpochResponse& response = outcome->response;
  const std::vector<uint8_t> bytes = Serialize(response);
  if (Status s = WriteMessageFile(f.out, bytes); !s.ok()) return ReportError(state, s);
  std::string source(LeafSourceName(outcome->leaf_source));
  if (!outcome->leaf_note.empty()) source += " (" + outcome->leaf_note + ")";
  if (state.json) {
    json j = MessageObject(response);
    j["ok"] = true;
    j["already_logged"] = outcome->already_logged;
    j["bytes"] = bytes.size();
    j["leaf_source"] = LeafSourceName(outcome->leaf_source);
    j["leaf_note"] = outcome->leaf_note;
    j["out"] = f.out;
    PrintJson(j);
  } else {
    std::cout << "response    epoch " << response.epoch << ": ";
    if (outcome->already_logged) {
      std::cout << "answered before: handed back the response logged for it (" << bytes.size() << " bytes, " << f.out
                << ")\n";
    } else {
      std::cout << response.rounds.size() << " rounds opened, " << bytes.size() << " bytes (" << f.out
                << "; leaves from " << source << ")\n";
    }
    std::cout << "next        send " << f.out << " to the verifier: vcp verify --response " << f.out << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------------------------
// verify

struct VerifyFlags {
  VerifierFlags verifier;
  std::string response, out;
};

int DoVerify(const CliState& state, const VerifyFlags& f) {
  VerifierContext ctx;
  if (Status s = OpenVerifier(state, f.verifier, ctx); !s.ok()) return ReportError(state, s);
  auto bytes = ReadMessageFile(f.response, MessageType::kResponse, "--response");
  if (!bytes.ok()) return ReportError(state, bytes.status());
  if (ctx.closed_overdue) {
    // The epoch this response was for closed before it could count: the verifier service refuses it the same way.
    const Verdict& closed = *ctx.closed_overdue;
    return ReportError(state, Status::Rejected("epoch " + std::to_string(closed.epoch) + " is closed " +
                                               std::string(ReasonName(closed.reason)) +
                                               " (overdue); this response came too late to count"));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto outcome = ctx.session->ReceiveResponse(*bytes, *ctx.key);
  if (!outcome.ok()) return ReportError(state, outcome.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!outcome->verdict) {
    // Refused without closing the epoch: the response does not parse or does not bind to it.
    return ReportError(
        state, Status::Rejected(std::string(ReasonName(outcome->finding.reason)) + ": " + outcome->finding.detail +
                                " (the epoch stays open for a valid response)"));
  }
  const Verdict& verdict = *outcome->verdict;
  if (!f.out.empty()) {
    if (Status s = WriteMessageFile(f.out, Serialize(verdict)); !s.ok()) return ReportError(state, s);
  }
  const bool pass = verdict.reason == Reason::kPass;
  if (state.json) {
    json j = VerdictJson(ctx.session->lease(), verdict);
    j["ok"] = pass;
    j["already_given"] = outcome->already_given;
    j["verify_seconds"] = seconds;
    PrintJson(j);
  } else {
    if (outcome->already_given) {
      std::cout << "verdict already given for epoch " << verdict.epoch
                << ": this response closed it before; the logged verdict follows, nothing was checked again\n";
    }
    std::cout << EpochTableHeader() << EpochRow(ctx.session->lease(), verdict) << "detail: " << verdict.detail << "\n";
  }
  return ExitCodeForVerdict(verdict);
}

}  // namespace

void RegisterEpochCommands(CLI::App& app, CliState& state) {
  // epoch start
  CLI::App* epoch = app.add_subcommand("epoch", "verifier: start an epoch, or close one void");
  epoch->require_subcommand(1);
  auto es = std::make_shared<EpochStartFlags>();
  CLI::App* estart =
      epoch->add_subcommand("start", "issue the next epoch with a fresh beacon: on demand, or scheduled with --wait");
  estart->add_option("--store", es->verifier.store, "verifier store")->required();
  estart->add_option("--key", es->verifier.key, "verifier secret key")->required();
  estart->add_option("--acceptance", es->acceptance, "the provider's acceptance (needed once, before the first epoch)");
  estart->add_option("--out", es->out, "epoch start file to write")->required();
  AddResponseWaitOption(estart, es->verifier.response_wait_s);
  estart->add_flag("--wait", es->wait,
                   "sleep until the next time on the lease's secret audit schedule and start a scheduled epoch "
                   "(counted in the availability bound); without it the epoch is on demand");
  estart->callback([&state, es] { state.exit_code = DoEpochStart(state, *es); });

  // epoch void
  auto ev = std::make_shared<EpochVoidFlags>();
  CLI::App* evoid = epoch->add_subcommand(
      "void", "close the open epoch void: the verifier could not time it (neither a pass nor the provider's failure)");
  evoid->add_option("--store", ev->verifier.store, "verifier store")->required();
  evoid->add_option("--key", ev->verifier.key, "verifier secret key (signs the void verdict)")->required();
  evoid
      ->add_option("--reason", ev->reason,
                   "verifier-down (not running over the deadline), clock (went backwards) or beacon-unavailable "
                   "(the beacon round never came)")
      ->required();
  evoid->add_option("--detail", ev->detail, "what happened, in words (added to the verdict)");
  evoid->add_option("--beacon-file", ev->verifier.beacon_file,
                    "beacon leases, --reason beacon-unavailable: the beacon file that lacks the round");
  evoid->add_option("--out", ev->out, "signed verdict file to write");
  evoid->callback([&state, ev] { state.exit_code = DoEpochVoid(state, *ev); });

  // prove
  auto pf = std::make_shared<ProveFlags>();
  CLI::App* prove = app.add_subcommand(
      "prove", "provider: run an epoch's rounds on every device the lease names and write its signed record");
  prove->add_option("--store", pf->prover.store, "provider store")->required();
  prove->add_option("--key", pf->prover.key, "provider secret key")->required();
  prove->add_option("--start", pf->start, "epoch start file from the verifier")->required();
  prove->add_option("--out", pf->out, "record file to write")->required();
  prove
      ->add_option("--backend", pf->prover.backend,
                   "auto, cpu or cuda; every device the lease names runs at once (cuda: GPUs 0 to D - 1; cpu: D "
                   "simulated devices sharing the threads)")
      ->capture_default_str();
  prove->add_option("--threads", pf->prover.threads, "CPU threads in all, 0 = all")->capture_default_str();
  prove->add_flag("--recompute", pf->prover.recompute,
                  "keep no leaves file; recompute the sampled rounds when challenged");
  prove->callback([&state, pf] { state.exit_code = DoProve(state, *pf); });

  // challenge
  auto cf = std::make_shared<ChallengeFlags>();
  CLI::App* challenge = app.add_subcommand(
      "challenge", "verifier: receive a record (its arrival time counts) and issue the challenge; exit 1 if it fails");
  challenge->add_option("--store", cf->verifier.store, "verifier store")->required();
  challenge->add_option("--key", cf->verifier.key, "verifier secret key")->required();
  challenge->add_option("--record", cf->record, "record file from the provider")->required();
  challenge->add_option("--out", cf->out, "challenge file to write (interactive leases)");
  AddResponseWaitOption(challenge, cf->verifier.response_wait_s);
  challenge->callback([&state, cf] { state.exit_code = DoChallenge(state, *cf); });

  // respond
  auto rf = std::make_shared<RespondFlags>();
  CLI::App* respond = app.add_subcommand("respond", "provider: answer a challenge (or the beacon) with the proof");
  respond->add_option("--store", rf->prover.store, "provider store")->required();
  respond->add_option("--key", rf->prover.key, "provider secret key")->required();
  respond->add_option("--challenge", rf->challenge, "challenge file (interactive leases)");
  respond->add_option("--beacon-file", rf->beacon_file, "beacon file (beacon leases)");
  respond->add_option("--epoch", rf->epoch, "beacon leases: the epoch to answer");
  respond->add_option("--out", rf->out, "response file to write")->required();
  respond->add_option("--backend", rf->prover.backend, "for recomputing rounds: auto, cpu or cuda")
      ->capture_default_str();
  respond->add_option("--threads", rf->prover.threads, "CPU threads, 0 = all")->capture_default_str();
  respond->callback([&state, rf] { state.exit_code = DoRespond(state, *rf); });

  // verify
  auto vf = std::make_shared<VerifyFlags>();
  CLI::App* verify = app.add_subcommand(
      "verify",
      "verifier: check a response, recomputing the sampled tiles; exit 0 pass, 1 fail or response refused, 3 void");
  verify->add_option("--store", vf->verifier.store, "verifier store")->required();
  verify->add_option("--key", vf->verifier.key, "verifier secret key (signs the verdict)")->required();
  verify->add_option("--response", vf->response, "response file from the provider")->required();
  verify->add_option("--beacon-file", vf->verifier.beacon_file, "beacon file (beacon leases)");
  verify->add_option("--out", vf->out, "signed verdict file to write");
  AddResponseWaitOption(verify, vf->verifier.response_wait_s);
  verify->add_option("--threads", vf->verifier.threads, "CPU threads for recomputation, 0 = all")
      ->capture_default_str();
  verify->callback([&state, vf] { state.exit_code = DoVerify(state, *vf); });
}

}  // namespace vcp::cli
