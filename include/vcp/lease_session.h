// vcp/lease_session.h: the two roles of a lease, each over its own crash-safe store directory
// (docs/PROTOCOL.md section 11). The CLI runs one call per process; `vcp demo` and the tests drive both roles in
// one process. Every state change is appended to the role's log (flushed) before the message it produces is
// returned, so a restart (Open) resumes exactly where the last completed call left off.
//
//   provider dir: provider.log, epoch-<N>.leaves (leaf hashes kept until the epoch is answered)
//   verifier dir: verifier.log
//
// One writer per store: every session holds its store's StoreLock (vcp/store.h) from Accept / Create / Open
// until it is destroyed, so a second session on the same directory, in this process or another, is refused at
// once (kUnavailable, naming the holder's pid and command) before it reads or writes anything.
//
// Readers never write (docs/PROTOCOL.md section 11.1): OpenForReading takes no lock, leaves a torn tail and any
// stale temporary file in place (reporting the tail in recovery()) and reads the intact prefix; every step that
// would log something is refused on it (kInvalidArgument) before it does anything. Only Open, the lock holder,
// repairs.
//
// A store whose log holds no lease (empty, shorter than its header, or without its opening pair of entries: a
// crash during Accept / Create, before the message they produce was handed out) is no store: Accept / Create
// replace it, and Open / OpenForReading refuse it (kInvalidArgument) saying so and which command recreates it.
//
// Ownership: a session owns its log and its store lock; keys, clocks and beacon sources are borrowed per call or
// via options and must outlive it. Thread safety: one thread per session. Errors: Status / Result. A key whose
// public half is not the lease's key for the role is refused (kInvalidArgument) before anything is logged.
// Messages from the other side: every check of a record or response reaches the caller as a Finding (a Reason
// enum value plus detail) in the outcome, with a signed Verdict when it closed the epoch; a message that is not
// of the kind the call expects (a record given where a response is expected) is kInvalidArgument naming both.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vcp/beacon.h"
#include "vcp/engine.h"
#include "vcp/epoch.h"
#include "vcp/keys.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/store.h"
#include "vcp/verdict.h"
#include "vcp/export.h"

namespace vcp {

// Whether a failed check closes the epoch (the provider signed something wrong for this epoch) or only rejects
// the message (it may not come from the provider, or belongs to another epoch), leaving the epoch open.
VCP_EXPORT bool FailureClosesEpoch(Reason reason);

// ---------------------------------------------------------------------------------------------------------------

// Where Respond found the leaf hashes of the sampled rounds.
enum class LeafSource : uint8_t {
  kLogged,      // the epoch was answered before: the logged response was handed back and nothing was read
  kMemory,      // kept in this process since Prove
  kLeavesFile,  // read back from the epoch's leaves file
  kRecomputed,  // the sampled rounds were recomputed on the engine (RespondOutcome::leaf_note says why)
};
// "logged response", "memory", "leaves file", "recomputed"
VCP_EXPORT std::string_view LeafSourceName(LeafSource source);

struct VCP_EXPORT ProveOutcome {
  EpochRecord record;
  bool already_logged = false;  // this start was proven before: the logged record was handed back, nothing ran
  double seconds = 0;           // wall time spent now running and committing the rounds (0 when already_logged)
};

struct VCP_EXPORT RespondOutcome {
  EpochResponse response;
  bool already_logged = false;  // the same challenge again: the logged response (leaf_source == kLogged)
  LeafSource leaf_source = LeafSource::kLogged;
  std::string leaf_note;  // kRecomputed: why no kept leaves were used ("no leaves file", or the file's problem)
};

struct VCP_EXPORT ProverOptions {
  RunOptions run;
  // Keep each epoch's leaf hashes in a leaves file until the epoch is answered (32 bytes per tile); otherwise
  // recompute the sampled rounds when the challenge arrives. docs/PROTOCOL.md section 11.2 measures both.
  bool keep_leaves = true;
  const Clock* clock = &SystemClock();  // informative record timestamps
};

class VCP_EXPORT ProviderSession {
 public:
  // Checks the lease (signature, parameters, provider key = key's), locks DIR, creates DIR/provider.log and signs
  // the acceptance. Fails if DIR already holds a provider log.
  static Result<ProviderSession> Accept(const std::filesystem::path& dir, const Lease& lease, const SecretKey& key,
                                        const Clock& clock = SystemClock());
  static Result<ProviderSession> Open(const std::filesystem::path& dir);
  // The store as it is, without the lock and without writing (see above); Prove, Respond and RespondBeacon refuse.
  static Result<ProviderSession> OpenForReading(const std::filesystem::path& dir);

  bool read_only() const { return log_.read_only(); }
  const Lease& lease() const { return lease_; }
  const Hash32& lease_id() const { return lease_id_; }
  const LeaseAcceptance& acceptance() const { return acceptance_; }
  const LogRecovery& recovery() const { return log_.recovery(); }

  // The record logged for this very start (byte-equal to the start that was proven): what Prove would hand back at
  // once with already_logged. nullopt when the epoch is unknown, not yet proven, or was started with other bytes.
  std::optional<EpochRecord> LoggedRecord(const EpochStart& start) const;
  // Epochs started so far (one interrupted before its record included), and the last one's index.
  size_t epochs_started() const { return epochs_.size(); }
  std::optional<uint64_t> last_epoch() const {
    return epochs_.empty() ? std::nullopt : std::optional<uint64_t>(epochs_.back().start.epoch);
  }

  // Every call below first refuses (kInvalidArgument, nothing logged) a key that is not the lease's provider key.

  // Runs the epoch on the engine and returns the signed record. Idempotent: the same start again returns the
  // logged record (already_logged). Rejects (kRejected) a start not signed by the lease's verifier, for another
  // lease, for an epoch already passed, or chained to a record this provider never made.
  Result<ProveOutcome> Prove(const EpochStart& start, const SecretKey& key, const ProverOptions& options);
  // Commits leaf hashes computed elsewhere (another engine, or SimulateLazyLeaves in vcp/lazy_provider.h) with
  // the same checks and logging as Prove; `leaves` is (D x R) x LeavesPerRound and `devices` the D evidence entries.
  // `seconds` in the outcome is the time spent committing.
  Result<ProveOutcome> ProveFromLeaves(const EpochStart& start, EpochLeaves leaves,
                                       std::vector<DeviceEvidence> devices, uint64_t provider_start_us,
                                       uint64_t provider_end_us, const SecretKey& key, bool keep_leaves);

  // Interactive mode: answers the verifier's signed challenge. Idempotent for the same challenge.
  Result<RespondOutcome> Respond(const Challenge& challenge, const SecretKey& key, const ProverOptions& options);
  // Beacon mode: answers epoch `epoch` from the beacon; kUnavailable until its round is published.
  Result<RespondOutcome> RespondBeacon(uint64_t epoch, const BeaconSource& beacon, const SecretKey& key,
                                       const ProverOptions& options);

  ProviderSession(ProviderSession&&) = default;
  ProviderSession& operator=(ProviderSession&&) = default;

 private:
  struct EpochState {
    EpochStart start;
    std::optional<EpochRecord> record;
    std::vector<Hash32> round_roots;
    std::optional<EpochResponse> response;
  };
  ProviderSession(std::optional<StoreLock> lock, AppendLog log) : lock_(std::move(lock)), log_(std::move(log)) {}
  static Result<ProviderSession> Load(const std::filesystem::path& dir, bool for_writing);
  Status Replay();
  Status CheckWritable() const;
  Status CheckKey(const SecretKey& key) const;
  EpochState* FindEpoch(uint64_t epoch);
  Status CheckStart(const EpochStart& start) const;
  // Checks and logs a new start; returns the epoch's state (an existing one for a start seen before).
  Result<EpochState*> Begin(const EpochStart& start);
  Result<ProveOutcome> Finish(EpochState& state, EpochLeaves leaves, std::span<const DeviceEvidence> devices,
                              uint64_t provider_start_us, uint64_t provider_end_us, const SecretKey& key,
                              bool keep_leaves);
  Result<RespondOutcome> Answer(EpochState& state, const ChallengeValue& challenge, const SecretKey& key,
                                const ProverOptions& options);
  std::filesystem::path LeavesPath(uint64_t epoch) const;

  std::optional<StoreLock> lock_;  // first: held until the log is gone (none when opened for reading)
  AppendLog log_;
  std::filesystem::path dir_;
  Lease lease_;
  Hash32 lease_id_{};
  LeaseAcceptance acceptance_;
  std::vector<EpochState> epochs_;
  std::optional<std::pair<uint64_t, EpochLeaves>> cached_leaves_;  // the last epoch proven in this process
};

// ---------------------------------------------------------------------------------------------------------------

// How long after a record's arrival (in beacon mode: after the publication of the round the response must use) a
// valid response may take before the epoch is closed no-response when no next start closes it: the CLI's default
// (docs/PROTOCOL.md section 10.5; `--response-wait-s` overrides it). The verifier service has its own setting.
inline constexpr uint64_t kDefaultResponseWaitUs = 600'000'000;

struct VCP_EXPORT VerifierOptions {
  const Clock* clock = &SystemClock();   // every deadline is measured on it
  uint64_t response_wait_us = kDefaultResponseWaitUs;  // CloseOverdueEpoch(key), OverdueVerdict, Report, StartEpoch
  RandomFill random = SystemRandom();    // nonces, beacons, challenges, the audit schedule seed
  const BeaconSource* beacon = nullptr;  // beacon-mode leases: needed to check responses
  int threads = 0;                       // tile recomputation
};

// The verifier's view of one epoch, rebuilt from its log on Open.
struct VCP_EXPORT VerifierEpoch {
  EpochSchedule schedule = EpochSchedule::kOnDemand;  // the verifier's own knowledge, logged with the start
  EpochStart start;
  std::optional<EpochRecord> record;  // the authentic record, once it arrived
  uint64_t arrival_us = 0;
  std::optional<Challenge> challenge;
  std::optional<Verdict> verdict;       // set once the epoch is closed
  std::optional<Hash32> response_hash;  // SHA-256 of the response that closed it
};

struct VCP_EXPORT RecordOutcome {
  // kPass when the record was accepted and the epoch awaits a response; otherwise why it was refused.
  Finding finding;
  std::optional<Verdict> verdict;        // the record failed the epoch
  std::optional<Challenge> challenge;    // interactive mode: send this to the provider
  std::optional<uint64_t> beacon_round;  // beacon mode: the round the provider will answer from
  bool already_received = false;         // the same record again: the challenge (or round) it already got
};

struct VCP_EXPORT ResponseOutcome {
  // kPass, or the first thing found wrong. With `verdict` the epoch closed with it (pass or fail). Without, the
  // response was refused (it does not parse or does not bind to this epoch: FailureClosesEpoch(reason) is false)
  // and the epoch stays open for a valid response.
  Finding finding;
  std::optional<Verdict> verdict;
  bool already_given = false;  // the response that closed the last epoch, given again: its logged verdict
};

class VCP_EXPORT VerifierSession {
 public:
  // `lease` carries everything but the nonce, the verifier key and the signature, which Create fills in. Locks
  // DIR, creates DIR/verifier.log with the signed lease and a secret audit schedule whose epochs take `audit_share` of
  // the lease's time on average (epoch length taken as the deadline).
  static Result<VerifierSession> Create(const std::filesystem::path& dir, Lease lease, const SecretKey& key,
                                        double audit_share, VerifierOptions options = {});
  static Result<VerifierSession> Open(const std::filesystem::path& dir, VerifierOptions options = {});
  // The same over an entry log kept elsewhere (the verifier service's database): Create needs an empty log, Open
  // replays the log's entries. Whoever made the log holds its lock (one writer per lease).
  static Result<VerifierSession> Create(std::unique_ptr<EntryLog> log, Lease lease, const SecretKey& key,
                                        double audit_share, VerifierOptions options = {});
  static Result<VerifierSession> Open(std::unique_ptr<EntryLog> log, VerifierOptions options = {});
  // The store as it is, without the lock and without writing (see above): Report, epochs(), OverdueVerdict. Every
  // step that would log something refuses (kInvalidArgument).
  static Result<VerifierSession> OpenForReading(const std::filesystem::path& dir, VerifierOptions options = {});

  bool read_only() const { return log_->read_only(); }
  const VerifierOptions& options() const { return options_; }
  const Lease& lease() const { return lease_; }
  const Hash32& lease_id() const { return lease_id_; }
  bool accepted() const { return accepted_; }
  const LogRecovery& recovery() const { return log_->recovery(); }
  const std::vector<VerifierEpoch>& epochs() const { return epochs_; }
  std::vector<Verdict> verdicts() const;
  // The audit times of this lease (secret schedule) and the first one at or after now_us (0 when none is left).
  std::vector<uint64_t> AuditTimes() const;
  uint64_t NextAuditUs(uint64_t now_us) const;
  // The audit time the next scheduled epoch answers to: the first audit time after the last epoch's start (the
  // lease start when none started yet); 0 when the schedule has none left. StartEpoch(kScheduled) is allowed once
  // the clock reaches it; `vcp epoch start --wait` sleeps until then.
  uint64_t ScheduledStartUs() const;

  // Checks the provider's signature over this lease and records the acceptance.
  [[nodiscard]] Status AddAcceptance(const LeaseAcceptance& acceptance);
  // Issues the next epoch with a fresh beacon. kScheduled only when an audit time has come since the last epoch
  // started (ScheduledStartUs() != 0 and <= now): otherwise kInvalidArgument naming the next audit time (wait for it,
  // or start on demand); only scheduled epochs enter the availability bound. kOnDemand at any time. An open epoch
  // without a record is handed out again while its deadline has not passed, whatever `schedule` asks (so a restart
  // resumes it; epochs().back().schedule says which it is); otherwise it is first closed: missed when no record
  // arrived, no-response when its record is still awaiting a valid response. Once the lease has ended no epoch
  // starts, and the call first closes an overdue open epoch (CloseOverdueEpoch(key)) and then refuses, naming that
  // verdict; any other refused call logs nothing.
  Result<EpochStart> StartEpoch(const SecretKey& key, EpochSchedule schedule);
  // Closes the open epoch void: neither a pass nor a failure, because the verifier could not time it. void_reason
  // is kVoidVerifierDown (the verifier was not running over the deadline), kVoidClock (its clock went backwards)
  // or kVoidBeaconUnavailable (beacon mode: the beacon round never came); `detail` (may be empty) is added to the
  // verdict's explanation. Allowed only once the open epoch's deadline has passed (or the clock is before its
  // start, for kVoidClock), and only when no record arrival was logged, except kVoidBeaconUnavailable in beacon
  // mode while VerifierOptions::beacon reports the epoch's round unavailable. kInvalidArgument otherwise, naming
  // the rule. A record arriving before the epoch's start on the verifier's clock is voided kVoidClock by
  // ReceiveRecord itself.
  Result<Verdict> VoidEpoch(Reason void_reason, std::string detail, const SecretKey& key);
  // Notes the arrival time on the verifier's clock and checks the record against the open epoch. The same record
  // again returns the same challenge (already_received), issuing it first when a crash came between logging the
  // record's arrival and logging its challenge; a different second record is kRejected.
  Result<RecordOutcome> ReceiveRecord(std::span<const uint8_t> record_bytes, const SecretKey& key);
  // Checks the response to the open epoch's record and closes the epoch with a signed verdict, or refuses it
  // with the Reason and leaves the epoch open (see ResponseOutcome). Beacon mode: kUnavailable until the beacon
  // round is published. The response that closed the last epoch, given again, returns the same verdict
  // (already_given). kInvalidArgument when no epoch awaits a response, and when the open epoch's challenge was
  // never issued (a crash after the record's arrival was logged: receive the record again to issue it).
  Result<ResponseOutcome> ReceiveResponse(std::span<const uint8_t> response_bytes, const SecretKey& key);
  // Closes the open epoch once nothing can still make it pass: missed when no record arrived by its deadline,
  // no-response when its record arrived but no valid response did within `response_wait_us` of the arrival (on
  // the verifier's clock). The last epoch of a lease has no next start to close it, so a service calls this as
  // time passes. Returns the verdict, or nullopt when no epoch is open or the open one may still pass.
  Result<std::optional<Verdict>> CloseOverdueEpoch(const SecretKey& key, uint64_t response_wait_us);
  // The same with VerifierOptions::response_wait_us.
  Result<std::optional<Verdict>> CloseOverdueEpoch(const SecretKey& key);
  // The verdict CloseOverdueEpoch would sign at `now_us` (missed or no-response, unsigned: its signature is all
  // zero), or nullopt when no epoch is open or the open one may still pass. Readers (vcp report) count it.
  std::optional<Verdict> OverdueVerdict(uint64_t now_us, uint64_t response_wait_us) const;
  // SummarizeLease over the closed epochs, with each record's device evidence, plus the open epoch counted as what
  // it will be closed as once it is overdue (OverdueVerdict with VerifierOptions::response_wait_us): the report
  // never counts an epoch that can no longer pass as if it might. The printed report marks that epoch "overdue,
  // not yet signed".
  LeaseReport Report(uint64_t now_us, double confidence = 0.95) const;

  VerifierSession(VerifierSession&&) = default;
  VerifierSession& operator=(VerifierSession&&) = default;

 private:
  VerifierSession(std::optional<StoreLock> lock, std::unique_ptr<EntryLog> log, VerifierOptions options)
      : lock_(std::move(lock)), log_(std::move(log)), options_(std::move(options)) {}
  static Result<VerifierSession> LogNewLease(VerifierSession session, Lease lease, double audit_share);
  Status Replay();
  Status CheckWritable() const;
  const VerifierEpoch* OpenEpoch() const;
  VerifierEpoch* OpenEpoch();
  Hash32 ChainHead() const;
  Status CheckKey(const SecretKey& key) const;
  // Why the open epoch can no longer pass at now_us (missed or no-response, with the detail), or nullopt.
  std::optional<std::pair<Reason, std::string>> Overdue(uint64_t now_us, uint64_t response_wait_us) const;
  Verdict Unsigned(const VerifierEpoch& epoch, Reason reason, const std::string& detail) const;
  Result<Verdict> Close(VerifierEpoch& epoch, Reason reason, std::string detail, const SecretKey& key);
  Result<Challenge> IssueChallenge(VerifierEpoch& epoch, const SecretKey& key);

  std::optional<StoreLock> lock_;  // first: held until the log is gone (none when the log's owner holds it)
  std::unique_ptr<EntryLog> log_;
  VerifierOptions options_;
  Lease lease_;
  Hash32 lease_id_{};
  bool accepted_ = false;
  Hash32 schedule_seed_{};
  uint64_t mean_gap_us_ = 0;
  std::vector<VerifierEpoch> epochs_;
};

}  // namespace vcp
