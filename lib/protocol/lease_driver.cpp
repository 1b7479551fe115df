// A whole lease in one process (vcp/lease_driver.h): the same session calls the CLI makes one per process.
#include "vcp/lease_driver.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <thread>

#include "parallel.h"
#include "vcp/bytes.h"
#include "vcp/calibrate.h"
#include "vcp/lazy_provider.h"

namespace vcp {

namespace {

constexpr uint64_t kLeaseLengthUs = 24 * 3'600'000'000ull;

std::string Short(const Hash32& h) { return ToHex(h).substr(0, 16); }

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", s);
  return buf;
}

Result<SecretKey> NewKey(const RandomFill& random) {
  std::array<uint8_t, 32> seed{};
  random(seed);
  Result<SecretKey> key = SecretKey::FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

uint64_t RandomU64(const RandomFill& random) {
  std::array<uint8_t, 8> bytes{};
  random(bytes);
  return LoadLe64(bytes);
}

Status CheckOptions(const LeaseDriverOptions& o) {
  if (o.epochs < 1 || o.epochs > 1000) {
    return Status::InvalidArgument("epochs is " + std::to_string(o.epochs) + "; allowed: 1 to 1000");
  }
  if (o.devices < 1 || o.devices > kMaxDevices) {
    return Status::InvalidArgument("devices is " + std::to_string(o.devices) + "; allowed: 1 to " +
                                   std::to_string(kMaxDevices));
  }
  if (o.clock == nullptr) return Status::InvalidArgument("the lease driver needs a clock");
  if (!o.random) return Status::InvalidArgument("the lease driver needs a randomness source");
  return Status::Ok();
}

WorkloadParams LeaseWorkload(const LeaseDriverOptions& o) {
  WorkloadParams w = o.workload;
  w.seed = {};
  if (w.tile == 0) {
    const uint32_t side = std::max(std::min(w.m, w.n), 1u);
    w.tile = std::clamp<uint32_t>(std::bit_floor(side), kMinTile, kDefaultTile);
  }
  return w;
}

// The claimed rate per device when the options leave it to the driver: a third of what one device's share of the
// backend measures on a round, so D devices sharing a loaded machine still meet the deadline.
Result<uint64_t> DemoRate(const LeaseDriverOptions& o, const WorkloadParams& workload, const DeviceInfo& backend) {
  if (o.claimed_ops_per_second_per_device > 0) return o.claimed_ops_per_second_per_device;
  RunOptions one = o.run;
  if (backend.backend != "cuda") {
    one.backend = BackendChoice::kCpu;
    one.threads = std::max(1, ResolveThreads(o.run.threads) / int(o.devices));
  }
  VCP_ASSIGN_OR_RETURN(const RoundTiming timing, MeasureRound(workload, one, 3, o.random));
  const double rate = double(OperationCount(workload)) / timing.median_seconds / 3;
  return static_cast<uint64_t>(std::max(1.0, rate));
}

Lease Terms(const LeaseDriverOptions& o, const WorkloadParams& workload, uint64_t rate, const PublicKey& provider_key,
            uint64_t now_us) {
  Lease terms;
  terms.mode = o.mode;
  terms.workload = workload;
  terms.provider_key = provider_key;
  terms.devices = o.devices;
  terms.rounds_per_epoch = o.rounds;
  terms.samples_per_epoch = o.samples ? o.samples : MinSamples(o.mode);
  terms.claimed_ops_per_second_per_device = rate;
  terms.slack_ppm = o.slack_ppm;
  terms.network_allowance_us = o.network_allowance_us;
  terms.start_us = now_us;
  terms.end_us = now_us + kLeaseLengthUs;
  return terms;
}

// Whether DIR's log holds a lease. A log a crash left while the store was being created (without its opening
// pair of entries) holds none, and the driver creates that store again; a damaged log counts as holding one, so
// that opening it reports the damage instead of a refusal to overwrite it.
bool HoldsLease(const std::filesystem::path& dir, const char* log, StoreRole role) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / log, ec)) return false;
  Result<AppendLog> read = AppendLog::OpenForReading(dir / log, role);
  return !read.ok() || read->entries().size() >= 2;
}

}  // namespace

std::string_view LeaseStepName(LeaseStepKind kind) {
  switch (kind) {
    case LeaseStepKind::kLeaseAccepted:
      return "lease-accepted";
    case LeaseStepKind::kEpochStarted:
      return "epoch-started";
    case LeaseStepKind::kRecordSigned:
      return "record-signed";
    case LeaseStepKind::kRecordChecked:
      return "record-checked";
    case LeaseStepKind::kResponded:
      return "responded";
    case LeaseStepKind::kEpochClosed:
      return "epoch-closed";
  }
  return "unknown";
}

Result<LeaseRun> RunLease(const std::filesystem::path& verifier_dir, const std::filesystem::path& provider_dir,
                          const LeaseDriverOptions& options) {
  VCP_RETURN_IF_ERROR(CheckOptions(options));
  // Before any store exists: a skip fraction in [0, 1] that rounds to no skipped tile on this shape is refused.
  VCP_RETURN_IF_ERROR(CheckSkipFraction(
      uint64_t{options.devices} * options.rounds * TileGridOf(LeaseWorkload(options)).leaf_count(),
      options.skip_fraction));
  const Clock& clock = *options.clock;
  const auto wait = [&options](uint64_t us) {
    if (us == 0) return;
    if (options.wait) {
      options.wait(us);
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(us));
    }
  };
  LeaseRun run;
  const auto report = [&](LeaseStep step) {
    if (options.progress) options.progress(step, run);
  };
  const bool verifier_holds = HoldsLease(verifier_dir, "verifier.log", StoreRole::kVerifier);
  run.resumed = verifier_holds && HoldsLease(provider_dir, "provider.log", StoreRole::kProvider);
  // A crash during the provider's acceptance: the verifier's lease stands and the provider accepts it again.
  const bool accept_again = verifier_holds && !run.resumed;
  if ((run.resumed || accept_again) && (options.verifier_key == nullptr || options.provider_key == nullptr)) {
    return Status::InvalidArgument("resuming the lease in " + verifier_dir.string() + " and " + provider_dir.string() +
                                   " needs both roles' keys (the driver's own keys are not kept)");
  }

  std::optional<SecretKey> own_verifier_key, own_provider_key;
  if (options.verifier_key == nullptr) {
    VCP_ASSIGN_OR_RETURN(SecretKey key, NewKey(options.random));
    own_verifier_key.emplace(std::move(key));
  }
  if (options.provider_key == nullptr) {
    VCP_ASSIGN_OR_RETURN(SecretKey key, NewKey(options.random));
    own_provider_key.emplace(std::move(key));
  }
  const SecretKey& verifier_key = options.verifier_key ? *options.verifier_key : *own_verifier_key;
  const SecretKey& provider_key = options.provider_key ? *options.provider_key : *own_provider_key;
  ProverOptions prover;
  prover.run = options.run;
  prover.keep_leaves = options.keep_leaves;
  prover.clock = &clock;
  VCP_ASSIGN_OR_RETURN(run.backend, SelectBackend(options.run));

  const uint64_t now = clock.NowMicros();
  std::optional<DemoBeacon> own_beacon;
  const BeaconSource* beacon = options.beacon;
  VerifierOptions voptions;
  voptions.clock = &clock;
  voptions.random = options.random;
  voptions.threads = options.verifier_threads;
  std::optional<VerifierSession> verifier;
  std::optional<ProviderSession> provider;
  if (accept_again) {
    VCP_ASSIGN_OR_RETURN(const VerifierSession read, VerifierSession::OpenForReading(verifier_dir, voptions));
    if (!read.epochs().empty()) {
      return Status::InvalidArgument(verifier_dir.string() + " holds a lease with " +
                                     std::to_string(read.epochs().size()) + " epochs started but " +
                                     provider_dir.string() + " holds no lease: give the provider store of that lease");
    }
    const Lease& lease = read.lease();
    if (lease.mode == LeaseMode::kBeacon && beacon == nullptr) {
      beacon = &own_beacon.emplace(clock, lease.beacon_genesis_us, lease.beacon_period_us, options.random);
    }
    voptions.beacon = beacon;
    VCP_ASSIGN_OR_RETURN(VerifierSession v, VerifierSession::Open(verifier_dir, voptions));
    verifier.emplace(std::move(v));
    VCP_ASSIGN_OR_RETURN(ProviderSession p,
                         ProviderSession::Accept(provider_dir, verifier->lease(), provider_key, clock));
    provider.emplace(std::move(p));
    VCP_RETURN_IF_ERROR(verifier->AddAcceptance(provider->acceptance()));
  } else if (run.resumed) {
    VCP_ASSIGN_OR_RETURN(ProviderSession p, ProviderSession::Open(provider_dir));
    provider.emplace(std::move(p));
    const Lease& lease = provider->lease();
    if (lease.mode == LeaseMode::kBeacon && beacon == nullptr) {
      beacon = &own_beacon.emplace(clock, lease.beacon_genesis_us, lease.beacon_period_us, options.random);
    }
    voptions.beacon = beacon;
    VCP_ASSIGN_OR_RETURN(VerifierSession v, VerifierSession::Open(verifier_dir, voptions));
    verifier.emplace(std::move(v));
    if (verifier->lease_id() != provider->lease_id()) {
      return Status::InvalidArgument(verifier_dir.string() + " and " + provider_dir.string() +
                                     " hold different leases (" + Short(verifier->lease_id()) + " and " +
                                     Short(provider->lease_id()) + ")");
    }
  } else {
    const WorkloadParams workload = LeaseWorkload(options);
    VCP_ASSIGN_OR_RETURN(const uint64_t rate, DemoRate(options, workload, run.backend));
    Lease terms = Terms(options, workload, rate, provider_key.public_key(), now);
    if (options.mode == LeaseMode::kBeacon) {
      if (beacon == nullptr) beacon = &own_beacon.emplace(clock, now, options.beacon_period_us, options.random);
      terms.beacon_name = beacon->name();
      terms.beacon_genesis_us = beacon->genesis_us();
      terms.beacon_period_us = beacon->period_us();
    }
    voptions.beacon = beacon;
    VCP_ASSIGN_OR_RETURN(VerifierSession v,
                         VerifierSession::Create(verifier_dir, terms, verifier_key, options.audit_share, voptions));
    verifier.emplace(std::move(v));
    VCP_ASSIGN_OR_RETURN(ProviderSession p,
                         ProviderSession::Accept(provider_dir, verifier->lease(), provider_key, clock));
    provider.emplace(std::move(p));
    VCP_RETURN_IF_ERROR(verifier->AddAcceptance(provider->acceptance()));
  }
  run.lease = verifier->lease();
  run.verdicts = verifier->verdicts();
  const Lease& lease = run.lease;
  const uint64_t deadline = EpochDeadlineUs(lease);
  const uint64_t positions = uint64_t{EpochRounds(lease)} * LeavesPerRound(lease);
  const uint64_t computed = ComputedPositions(positions, options.skip_fraction);
  run.skipped_per_epoch = positions - computed;
  run.expected_pass_probability = EpochPassProbability(double(computed) / double(positions), lease.samples_per_epoch);
  report({LeaseStepKind::kLeaseAccepted, 0,
          "lease " + Short(LeaseId(lease)) +
              (run.resumed ? " resumed with " + std::to_string(run.verdicts.size()) + " epochs closed"
                           : std::string(" signed and accepted")),
          0, {}, {}});

  const auto closed = [&](const Verdict& verdict) {
    run.verdicts.push_back(verdict);
    const VerdictOutcome outcome = OutcomeOf(verdict.reason);
    report({LeaseStepKind::kEpochClosed, verdict.epoch,
            "epoch " + std::to_string(verdict.epoch) + " (" + std::string(EpochScheduleName(verdict.schedule)) +
                "): " +
                (outcome == VerdictOutcome::kPass   ? std::string("PASS")
                 : outcome == VerdictOutcome::kVoid ? "VOID (" + std::string(ReasonName(verdict.reason)) + ")"
                                                    : "FAIL (" + std::string(ReasonName(verdict.reason)) + ")"),
            0, Finding{verdict.reason, verdict.detail}, verdict});
  };

  while (run.verdicts.size() < options.epochs) {
    const std::vector<VerifierEpoch>& epochs = verifier->epochs();
    std::optional<EpochStart> carried;
    if (!epochs.empty() && !epochs.back().verdict) {
      const VerifierEpoch& open = epochs.back();
      if (!open.record && clock.NowMicros() > open.start.start_us + deadline) {
        // The driver (the verifier) stopped while this epoch ran and came back too late to time it.
        VCP_ASSIGN_OR_RETURN(const Verdict verdict,
                             verifier->VoidEpoch(Reason::kVoidVerifierDown,
                                                 "the lease driver resumed after the epoch's deadline", verifier_key));
        closed(verdict);
        continue;
      }
      carried = open.start;
    }
    EpochStart start;
    if (carried) {
      start = *carried;
    } else {
      const EpochSchedule schedule = options.on_demand ? EpochSchedule::kOnDemand : EpochSchedule::kScheduled;
      if (schedule == EpochSchedule::kScheduled) {
        const uint64_t due = verifier->ScheduledStartUs();
        if (due == 0) {
          return Status::InvalidArgument("the audit schedule has no time left in the lease for epoch " +
                                         std::to_string(run.verdicts.size()) + "; ask for fewer epochs");
        }
        while (clock.NowMicros() < due) wait(due - clock.NowMicros());
      }
      VCP_ASSIGN_OR_RETURN(start, verifier->StartEpoch(verifier_key, schedule));
      report({LeaseStepKind::kEpochStarted, start.epoch,
              "epoch " + std::to_string(start.epoch) + " started (" + std::string(EpochScheduleName(schedule)) + ")",
              0, {}, {}});
    }

    Result<ProveOutcome> proved = Status::Internal("the epoch was not proven");
    if (options.skip_fraction > 0) {
      const uint64_t t0 = clock.NowMicros();
      VCP_ASSIGN_OR_RETURN(EpochRun rounds, RunEpochRounds(lease, start, options.run));
      const EpochLeaves lazy = SimulateLazyLeaves(rounds.leaves, computed, RandomU64(options.random));
      proved = provider->ProveFromLeaves(start, lazy, rounds.devices, t0, clock.NowMicros(), provider_key,
                                         options.keep_leaves);
    } else {
      proved = provider->Prove(start, provider_key, prover);
    }
    VCP_RETURN_IF_ERROR(proved.status());
    const EpochRecord& record = proved->record;
    run.devices = record.devices;
    report({LeaseStepKind::kRecordSigned,
            start.epoch,
            "record " + Short(RecordHash(record)) + " signed in " + Seconds(proved->seconds) + " on " +
                std::to_string(record.devices.size()) + " device" + (record.devices.size() == 1 ? "" : "s"),
            proved->seconds,
            {},
            {}});

    VCP_ASSIGN_OR_RETURN(RecordOutcome checked, verifier->ReceiveRecord(Serialize(record), verifier_key));
    report({LeaseStepKind::kRecordChecked,
            start.epoch,
            checked.finding.ok() ? (checked.challenge ? "record accepted; challenge issued"
                                                      : "record accepted; the beacon round decides the sample")
                                 : "record failed: " + std::string(ReasonName(checked.finding.reason)),
            0,
            checked.finding,
            {}});
    std::optional<Verdict> verdict = checked.verdict;
    if (!verdict) {
      if (!checked.finding.ok()) {
        return Status::Internal("the verifier refused the provider's own record without closing the epoch (" +
                                std::string(ReasonName(checked.finding.reason)) + ": " + checked.finding.detail + ")");
      }
      auto t0 = std::chrono::steady_clock::now();  // the provider's work only, not the wait for the beacon
      Result<RespondOutcome> responded = Status::Internal("the epoch was not answered");
      if (checked.challenge) {
        responded = provider->Respond(*checked.challenge, provider_key, prover);
      } else {
        // Beacon mode: wait for the round after the deadline; bounded so an external beacon that stops
        // publishing ends the lease with its kUnavailable instead of hanging.
        const uint64_t due = lease.beacon_genesis_us + *checked.beacon_round * lease.beacon_period_us;
        const uint64_t give_up = due + 20 * lease.beacon_period_us;
        while (true) {
          wait(due - std::min(due, clock.NowMicros()));
          t0 = std::chrono::steady_clock::now();
          responded = provider->RespondBeacon(start.epoch, *beacon, provider_key, prover);
          if (responded.status().code() != StatusCode::kUnavailable || clock.NowMicros() >= give_up) break;
          wait(std::max<uint64_t>(1000, lease.beacon_period_us / 10));
        }
      }
      VCP_RETURN_IF_ERROR(responded.status());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      report({LeaseStepKind::kResponded,
              start.epoch,
              "response built from " + std::string(LeafSourceName(responded->leaf_source)) + " in " + Seconds(seconds),
              seconds,
              {},
              {}});
      VCP_ASSIGN_OR_RETURN(ResponseOutcome answer,
                           verifier->ReceiveResponse(Serialize(responded->response), verifier_key));
      if (!answer.verdict) {
        return Status::Internal("the verifier refused the provider's own response without closing the epoch (" +
                                std::string(ReasonName(answer.finding.reason)) + ": " + answer.finding.detail + ")");
      }
      verdict = answer.verdict;
    }
    closed(*verdict);
  }
  run.report = verifier->Report(clock.NowMicros());
  return run;
}

}  // namespace vcp
