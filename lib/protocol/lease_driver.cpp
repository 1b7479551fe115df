// A whole lease in one process (vcp/lease_driver.h): the same session calls the CLI makes one per process.
#include "vcp/lease_driver.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <thread>

#include "vcp/bytes.h"
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
  if (!(o.skip_fraction >= 0 && o.skip_fraction <= 1)) {
    return Status::InvalidArgument("skip fraction " + std::to_string(o.skip_fraction) +
                                   " is the share of tiles the lazy provider skips; allowed: 0 to 1");
  }
  if (o.clock == nullptr) return Status::InvalidArgument("the lease driver needs a clock");
  if (!o.random) return Status::InvalidArgument("the lease driver needs a randomness source");
  return Status::Ok();
}

Lease Terms(const LeaseDriverOptions& o, const PublicKey& provider_key, uint64_t now_us) {
  Lease terms;
  terms.mode = o.mode;
  terms.workload = o.workload;
  terms.workload.seed = {};
  if (terms.workload.tile == 0) {
    const uint32_t side = std::max(std::min(terms.workload.m, terms.workload.n), 1u);
    terms.workload.tile = std::clamp<uint32_t>(std::bit_floor(side), kMinTile, kDefaultTile);
  }
  terms.provider_key = provider_key;
  terms.rounds_per_epoch = o.rounds;
  terms.samples_per_epoch = o.samples ? o.samples : MinSamples(o.mode);
  // Generous on a shared CPU; beacon mode waits out the deadline every epoch, so it is kept short there.
  terms.epoch_deadline_us = o.deadline_us ? o.deadline_us : (o.mode == LeaseMode::kBeacon ? 2'000'000 : 10'000'000);
  terms.claimed_ops_per_second =
      o.claimed_ops_per_second
          ? o.claimed_ops_per_second
          : std::max<uint64_t>(1, EpochOperations(terms) / std::max<uint64_t>(1, terms.epoch_deadline_us / 1'000'000));
  terms.start_us = now_us;
  terms.end_us = now_us + kLeaseLengthUs;
  return terms;
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
  VCP_ASSIGN_OR_RETURN(run.device, SelectBackend(options.run));

  const uint64_t now = clock.NowMicros();
  Lease terms = Terms(options, provider_key.public_key(), now);
  std::optional<DemoBeacon> own_beacon;
  const BeaconSource* beacon = options.beacon;
  if (options.mode == LeaseMode::kBeacon) {
    if (beacon == nullptr) beacon = &own_beacon.emplace(clock, now, options.beacon_period_us, options.random);
    terms.beacon_name = beacon->name();
    terms.beacon_genesis_us = beacon->genesis_us();
    terms.beacon_period_us = beacon->period_us();
  }
  VerifierOptions voptions;
  voptions.clock = &clock;
  voptions.random = options.random;
  voptions.beacon = beacon;
  voptions.threads = options.verifier_threads;
  VCP_ASSIGN_OR_RETURN(VerifierSession verifier,
                       VerifierSession::Create(verifier_dir, terms, verifier_key, options.audit_share, voptions));
  run.lease = verifier.lease();
  const Lease& lease = run.lease;
  VCP_ASSIGN_OR_RETURN(ProviderSession provider, ProviderSession::Accept(provider_dir, lease, provider_key, clock));
  VCP_RETURN_IF_ERROR(verifier.AddAcceptance(provider.acceptance()));
  const uint64_t positions = uint64_t{lease.rounds_per_epoch} * LeavesPerRound(lease);
  const uint64_t computed = ComputedPositions(positions, options.skip_fraction);
  run.skipped_per_epoch = positions - computed;
  run.expected_pass_probability = EpochPassProbability(double(computed) / double(positions), lease.samples_per_epoch);
  report({LeaseStepKind::kLeaseAccepted, 0, "lease " + Short(LeaseId(lease)) + " signed and accepted", 0, {}, {}});

  // Epochs at Poisson times, as a real lease schedules them, compressed to the given mean gap.
  std::vector<uint64_t> times;
  if (options.mean_gap_us > 0) {
    Hash32 schedule_seed{};
    options.random(schedule_seed);
    times = AuditSchedule(schedule_seed, now, lease.end_us, options.mean_gap_us);
  }
  for (uint32_t e = 0; e < options.epochs; ++e) {
    if (e < times.size()) wait(times[e] - std::min(times[e], clock.NowMicros()));
    VCP_ASSIGN_OR_RETURN(EpochStart start, verifier.StartEpoch(verifier_key));
    report({LeaseStepKind::kEpochStarted, start.epoch, "epoch " + std::to_string(start.epoch) + " started", 0, {}, {}});

    Result<ProveOutcome> proved = Status::Internal("the epoch was not proven");
    if (options.skip_fraction > 0) {
      const uint64_t t0 = clock.NowMicros();
      VCP_ASSIGN_OR_RETURN(EpochRun rounds, RunEpochRounds(lease, start, options.run));
      const EpochLeaves lazy = SimulateLazyLeaves(rounds.leaves, computed, RandomU64(options.random));
      proved = provider.ProveFromLeaves(start, lazy, DescribeDevice(rounds.device), t0, clock.NowMicros(), provider_key,
                                        options.keep_leaves);
    } else {
      proved = provider.Prove(start, provider_key, prover);
    }
    VCP_RETURN_IF_ERROR(proved.status());
    const EpochRecord& record = proved->record;
    report({LeaseStepKind::kRecordSigned,
            start.epoch,
            "record " + Short(RecordHash(record)) + " signed in " + Seconds(proved->seconds),
            proved->seconds,
            {},
            {}});

    VCP_ASSIGN_OR_RETURN(RecordOutcome checked, verifier.ReceiveRecord(Serialize(record), verifier_key));
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
        responded = provider.Respond(*checked.challenge, provider_key, prover);
      } else {
        // Beacon mode: wait for the round after the deadline; bounded so an external beacon that stops
        // publishing ends the lease with its kUnavailable instead of hanging.
        const uint64_t due = lease.beacon_genesis_us + *checked.beacon_round * lease.beacon_period_us;
        const uint64_t give_up = due + 20 * lease.beacon_period_us;
        while (true) {
          wait(due - std::min(due, clock.NowMicros()));
          t0 = std::chrono::steady_clock::now();
          responded = provider.RespondBeacon(start.epoch, *beacon, provider_key, prover);
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
      VCP_ASSIGN_OR_RETURN(ResponseOutcome closed,
                           verifier.ReceiveResponse(Serialize(responded->response), verifier_key));
      if (!closed.verdict) {
        return Status::Internal("the verifier refused the provider's own response without closing the epoch (" +
                                std::string(ReasonName(closed.finding.reason)) + ": " + closed.finding.detail + ")");
      }
      verdict = closed.verdict;
    }
    run.verdicts.push_back(*verdict);
    report({LeaseStepKind::kEpochClosed, start.epoch,
            "epoch " + std::to_string(start.epoch) + ": " +
                (verdict->reason == Reason::kPass ? std::string("PASS")
                                                  : "FAIL (" + std::string(ReasonName(verdict->reason)) + ")"),
            0, Finding{verdict->reason, verdict->detail}, verdict});
  }
  run.report = verifier.Report(clock.NowMicros());
  return run;
}

}  // namespace vcp
