// The two roles of a lease over their crash-safe stores (docs/PROTOCOL.md section 11). Rule everywhere: append
// to the log (flushed) first, then hand the message out.
#include "vcp/lease_session.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>

#include "fileio.h"
#include "vcp/bytes.h"
#include "vcp/store_log.h"

namespace vcp {

namespace {

constexpr const char* kProviderLog = "provider.log";
constexpr const char* kVerifierLog = "verifier.log";

std::string Short(const Hash32& h) { return ToHex(h).substr(0, 16); }

Status MakeDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create store directory " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

Status CorruptEntry(const LogEntry& entry, const Status& why) {
  return Status::Corrupt("store log entry at offset " + std::to_string(entry.offset) + " (type " +
                         std::to_string(entry.type) + "): " + std::string(why.message()));
}

// Open on a directory without the role's log: say so before creating anything (the lock file) there.
Status CheckStoreExists(const std::filesystem::path& dir, const char* log_name, const char* role) {
  std::error_code ec;
  if (std::filesystem::exists(dir / log_name, ec)) return Status::Ok();
  if (ec) return Status::IoError("cannot check " + (dir / log_name).string() + ": " + ec.message());
  // A wrong --store is the caller's mistake (exit 2), not a failing disk.
  return Status::InvalidArgument(dir.string() + " is not a " + role + " store: it has no " + log_name +
                                 "; give the directory made by " +
                                 (std::string_view(role) == "provider" ? "vcp lease accept" : "vcp lease new"));
}

// A log whose entries are at most the first of its opening pair (provider: lease, acceptance; verifier: lease,
// audit plan): a crash during Accept / Create, before the message it produces (the acceptance, the lease file)
// was handed out. Such a store holds no lease.
bool HoldsNoLease(const std::vector<LogEntry>& entries) {
  constexpr uint8_t kLeaseEntry = 1;  // ProviderEntry::kLease == VerifierEntry::kLease
  return entries.empty() || (entries.size() == 1 && entries[0].type == kLeaseEntry);
}

// What to run on a store that holds no lease.
const char* CreatingCommand(StoreRole role) {
  return role == StoreRole::kProvider ? "vcp lease accept" : "vcp lease new";
}

Status NoLease(const std::filesystem::path& dir, const char* log_name, StoreRole role, const LogRecovery& recovery) {
  const std::string what = role == StoreRole::kProvider ? "provider" : "verifier";
  const std::string pair = role == StoreRole::kProvider ? "the lease and its acceptance" : "the lease and its audit plan";
  return Status::InvalidArgument(
      what + " store " + dir.string() + " holds no lease: its " + log_name + " ends before " + pair +
      " were logged (" + (recovery.no_header ? "it is shorter than its header" : "a crash while it was being created") +
      "), so nothing was handed out from it; run " + CreatingCommand(role) + " again with --store " + dir.string() +
      ", which replaces it");
}

// Accept / Create, holding the lock: an existing log that holds no lease is removed so the new one can be created.
// Any other existing log is left for AppendLog::Create to refuse.
Status RemoveUnfinishedLog(const std::filesystem::path& path, StoreRole role) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::Ok();
  Result<AppendLog> log = AppendLog::OpenForReading(path, role);
  if (!log.ok() || !HoldsNoLease(log->entries())) return Status::Ok();
  if (!std::filesystem::remove(path, ec) || ec) {
    return Status::IoError("cannot remove " + path.string() + ", a log left without a lease by a crash: " +
                           ec.message());
  }
  return Status::Ok();
}

Status ReadOnly(const std::string& where) {
  return Status::InvalidArgument(where + " was opened for reading (no lock, nothing written); only a command that "
                                         "opens it to write may log a step");
}

Status CheckBeaconSource(const Lease& lease, const BeaconSource& beacon) {
  if (beacon.name() != lease.beacon_name || beacon.genesis_us() != lease.beacon_genesis_us ||
      beacon.period_us() != lease.beacon_period_us) {
    return Status::InvalidArgument("beacon source \"" + beacon.name() + "\" is not the lease's beacon \"" +
                                   lease.beacon_name + "\" (name, genesis and period must match)");
  }
  return Status::Ok();
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A key that is not the one this role signs with: names both keys, and the role the given key belongs to.
Status WrongKey(const Lease& lease, const SecretKey& key, bool provider_role) {
  const PublicKey& needed = provider_role ? lease.provider_key : lease.verifier_key;
  const PublicKey& other = provider_role ? lease.verifier_key : lease.provider_key;
  if (key.public_key() == needed) return Status::Ok();
  const char* role = provider_role ? "provider" : "verifier";
  const std::string given =
      key.public_key() == other
          ? "key " + Short(key.public_key()) + " is the lease's " + (provider_role ? "verifier" : "provider") + " key"
          : "key " + Short(key.public_key()) + " is neither the lease's provider key " + Short(lease.provider_key) +
                " nor its verifier key " + Short(lease.verifier_key);
  return Status::InvalidArgument(given + "; this step signs as the " + role + " and needs the " + role +
                                 "'s secret key (public key " + Short(needed) + ")");
}

std::string_view Described(MessageType type) {
  switch (type) {
    case MessageType::kLease:
      return "a lease";
    case MessageType::kAcceptance:
      return "a lease acceptance";
    case MessageType::kEpochStart:
      return "an epoch start";
    case MessageType::kRecord:
      return "an epoch record";
    case MessageType::kChallenge:
      return "a challenge";
    case MessageType::kResponse:
      return "an epoch response";
    case MessageType::kVerdict:
      return "a verdict";
  }
  return "a message";
}

// A message of another kind than the call expects (a record given to ReceiveResponse): named, with where it goes.
Status CheckKind(std::span<const uint8_t> bytes, MessageType expected) {
  Result<MessageType> type = IdentifyMessage(bytes);
  if (!type.ok() || *type == expected) return Status::Ok();  // unparseable bytes are the checks' business
  std::string where;
  switch (*type) {
    case MessageType::kRecord:
      where = "a record goes to the verifier's record step (vcp challenge --record)";
      break;
    case MessageType::kResponse:
      where = "a response goes to the verifier's verify step (vcp verify --response)";
      break;
    default:
      where = "the verifier expects the provider's record, then its response";
      break;
  }
  return Status::InvalidArgument("this is " + std::string(Described(*type)) + ", not " +
                                 std::string(Described(expected)) + "; " + where);
}

}  // namespace

bool FailureClosesEpoch(Reason reason) {
  switch (reason) {
    case Reason::kMalformedRecord:
    case Reason::kWrongLease:
    case Reason::kBadSignature:
    case Reason::kWrongEpoch:
    case Reason::kMalformedResponse:
    case Reason::kResponseMismatch:
      return false;
    default:
      return true;
  }
}

// ===============================================================================================================
// Provider.

std::string_view LeafSourceName(LeafSource source) {
  switch (source) {
    case LeafSource::kLogged:
      return "logged response";
    case LeafSource::kMemory:
      return "memory";
    case LeafSource::kLeavesFile:
      return "leaves file";
    case LeafSource::kRecomputed:
      return "recomputed";
  }
  return "unknown";
}

Result<ProviderSession> ProviderSession::Accept(const std::filesystem::path& dir, const Lease& lease,
                                                const SecretKey& key, const Clock& clock) {
  VCP_RETURN_IF_ERROR(ValidateLease(lease));
  VCP_RETURN_IF_ERROR(CheckSignature(lease));
  VCP_RETURN_IF_ERROR(WrongKey(lease, key, /*provider_role=*/true));
  VCP_RETURN_IF_ERROR(MakeDir(dir));
  VCP_ASSIGN_OR_RETURN(StoreLock lock, StoreLock::Acquire(dir, "provider"));
  // A kill -9 during an earlier Accept (its log header's temporary file) leaves what the lock holder removes.
  VCP_RETURN_IF_ERROR(RemoveStaleTemporaries(dir).status());
  VCP_RETURN_IF_ERROR(RemoveUnfinishedLog(dir / kProviderLog, StoreRole::kProvider));
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::Create(dir / kProviderLog, StoreRole::kProvider));
  ProviderSession session(std::move(lock), std::move(log));
  session.dir_ = dir;
  session.lease_ = lease;
  session.lease_id_ = LeaseId(lease);
  session.acceptance_.lease_id = session.lease_id_;
  session.acceptance_.accepted_us = clock.NowMicros();
  VCP_RETURN_IF_ERROR(Sign(session.acceptance_, key));
  VCP_RETURN_IF_ERROR(session.log_.Append(uint8_t(ProviderEntry::kLease), Serialize(lease)));
  VCP_RETURN_IF_ERROR(session.log_.Append(uint8_t(ProviderEntry::kAcceptance), Serialize(session.acceptance_)));
  return session;
}

Result<ProviderSession> ProviderSession::Open(const std::filesystem::path& dir) {
  return Load(dir, /*for_writing=*/true);
}

Result<ProviderSession> ProviderSession::OpenForReading(const std::filesystem::path& dir) {
  return Load(dir, /*for_writing=*/false);
}

Result<ProviderSession> ProviderSession::Load(const std::filesystem::path& dir, bool for_writing) {
  VCP_RETURN_IF_ERROR(CheckStoreExists(dir, kProviderLog, "provider"));
  std::optional<StoreLock> lock;
  if (for_writing) {
    VCP_ASSIGN_OR_RETURN(StoreLock held, StoreLock::Acquire(dir, "provider"));
    lock.emplace(std::move(held));
    // A kill -9 between writing a leaves file and renaming it leaves its temporary file; the lock holder clears
    // them (a reader must not: it may be a live writer's).
    VCP_RETURN_IF_ERROR(RemoveStaleTemporaries(dir).status());
  }
  VCP_ASSIGN_OR_RETURN(AppendLog log, for_writing ? AppendLog::Open(dir / kProviderLog, StoreRole::kProvider)
                                                  : AppendLog::OpenForReading(dir / kProviderLog, StoreRole::kProvider));
  if (HoldsNoLease(log.entries())) return NoLease(dir, kProviderLog, StoreRole::kProvider, log.recovery());
  ProviderSession session(std::move(lock), std::move(log));
  session.dir_ = dir;
  VCP_RETURN_IF_ERROR(session.Replay().WithContext((dir / kProviderLog).string()));
  return session;
}

Status ProviderSession::Replay() {
  const auto& entries = log_.entries();
  if (entries.size() < 2 || entries[0].type != uint8_t(ProviderEntry::kLease) ||
      entries[1].type != uint8_t(ProviderEntry::kAcceptance)) {
    return Status::Corrupt("a provider log starts with the lease and the acceptance");
  }
  for (const LogEntry& entry : entries) {
    switch (static_cast<ProviderEntry>(entry.type)) {
      case ProviderEntry::kLease: {
        Result<Lease> lease = ParseLease(entry.payload);
        if (!lease.ok()) return CorruptEntry(entry, lease.status());
        lease_ = *lease;
        lease_id_ = LeaseId(lease_);
        break;
      }
      case ProviderEntry::kAcceptance: {
        Result<LeaseAcceptance> acceptance = ParseLeaseAcceptance(entry.payload);
        if (!acceptance.ok()) return CorruptEntry(entry, acceptance.status());
        acceptance_ = *acceptance;
        break;
      }
      case ProviderEntry::kStart: {
        Result<EpochStart> start = ParseEpochStart(entry.payload);
        if (!start.ok()) return CorruptEntry(entry, start.status());
        epochs_.push_back(EpochState{*start, std::nullopt, {}, std::nullopt});
        break;
      }
      case ProviderEntry::kRecord: {
        Result<ProviderRecordEntry> record = DecodeProviderRecordEntry(entry.payload);
        if (!record.ok()) return CorruptEntry(entry, record.status());
        EpochState* state = FindEpoch(record->record.epoch);
        if (state == nullptr) return CorruptEntry(entry, Status::Corrupt("record for an epoch never started"));
        state->record = std::move(record->record);
        state->round_roots = std::move(record->round_roots);
        break;
      }
      case ProviderEntry::kResponse: {
        Result<EpochResponse> response = ParseEpochResponse(entry.payload);
        if (!response.ok()) return CorruptEntry(entry, response.status());
        EpochState* state = FindEpoch(response->epoch);
        if (state == nullptr) return CorruptEntry(entry, Status::Corrupt("response for an epoch never started"));
        state->response = *response;
        break;
      }
      default:
        return CorruptEntry(entry, Status::Corrupt("unknown entry type"));
    }
  }
  return Status::Ok();
}

std::optional<EpochRecord> ProviderSession::LoggedRecord(const EpochStart& start) const {
  for (const EpochState& state : epochs_) {
    if (state.start.epoch != start.epoch) continue;
    if (!state.record || Serialize(state.start) != Serialize(start)) return std::nullopt;
    return state.record;
  }
  return std::nullopt;
}

ProviderSession::EpochState* ProviderSession::FindEpoch(uint64_t epoch) {
  for (EpochState& state : epochs_) {
    if (state.start.epoch == epoch) return &state;
  }
  return nullptr;
}

std::filesystem::path ProviderSession::LeavesPath(uint64_t epoch) const {
  return dir_ / ("epoch-" + std::to_string(epoch) + ".leaves");
}

Status ProviderSession::CheckKey(const SecretKey& key) const { return WrongKey(lease_, key, /*provider_role=*/true); }

Status ProviderSession::CheckWritable() const {
  return log_.read_only() ? ReadOnly("provider store " + dir_.string()) : Status::Ok();
}

Status ProviderSession::CheckStart(const EpochStart& start) const {
  if (start.lease_id != lease_id_) {
    return Status::Rejected("epoch start is for lease " + Short(start.lease_id) + "; this store holds lease " +
                            Short(lease_id_));
  }
  VCP_RETURN_IF_ERROR(CheckSignature(start, lease_.verifier_key));
  if (start.prev_record == lease_id_) return Status::Ok();
  for (const EpochState& state : epochs_) {
    if (state.record && RecordHash(*state.record) == start.prev_record) return Status::Ok();
  }
  return Status::Rejected("epoch " + std::to_string(start.epoch) + " chains to record " + Short(start.prev_record) +
                          ", which this provider never made");
}

Result<ProveOutcome> ProviderSession::Prove(const EpochStart& start, const SecretKey& key,
                                            const ProverOptions& options) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  VCP_ASSIGN_OR_RETURN(EpochState * state, Begin(start));
  if (state->record) return ProveOutcome{*state->record, /*already_logged=*/true, 0};
  const auto began = std::chrono::steady_clock::now();
  const uint64_t t0 = options.clock->NowMicros();
  VCP_ASSIGN_OR_RETURN(EpochRun run, RunEpochRounds(lease_, start, options.run));
  const uint64_t t1 = options.clock->NowMicros();
  VCP_ASSIGN_OR_RETURN(ProveOutcome outcome,
                       Finish(*state, std::move(run.leaves), run.devices, t0, t1, key, options.keep_leaves));
  outcome.seconds = SecondsSince(began);
  return outcome;
}

Result<ProveOutcome> ProviderSession::ProveFromLeaves(const EpochStart& start, EpochLeaves leaves,
                                                      std::vector<DeviceEvidence> devices, uint64_t provider_start_us,
                                                      uint64_t provider_end_us, const SecretKey& key,
                                                      bool keep_leaves) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  VCP_ASSIGN_OR_RETURN(EpochState * state, Begin(start));
  if (state->record) return ProveOutcome{*state->record, /*already_logged=*/true, 0};
  const auto began = std::chrono::steady_clock::now();
  VCP_ASSIGN_OR_RETURN(ProveOutcome outcome, Finish(*state, std::move(leaves), devices, provider_start_us,
                                                    provider_end_us, key, keep_leaves));
  outcome.seconds = SecondsSince(began);
  return outcome;
}

Result<ProviderSession::EpochState*> ProviderSession::Begin(const EpochStart& start) {
  VCP_RETURN_IF_ERROR(CheckStart(start));
  if (EpochState* existing = FindEpoch(start.epoch)) {
    if (Serialize(existing->start) != Serialize(start)) {
      return Status::Rejected("the verifier issued two different starts for epoch " + std::to_string(start.epoch) +
                              "; this provider keeps the first");
    }
    return existing;  // already proven (idempotent), or interrupted before its record was logged (rerun)
  }
  if (!epochs_.empty() && start.epoch <= epochs_.back().start.epoch) {
    return Status::Rejected("epoch " + std::to_string(start.epoch) + " is not after the last epoch started, " +
                            std::to_string(epochs_.back().start.epoch));
  }
  VCP_RETURN_IF_ERROR(log_.Append(uint8_t(ProviderEntry::kStart), Serialize(start)));
  // Leaf hashes of earlier epochs can no longer be challenged.
  for (const EpochState& old : epochs_) {
    std::error_code ignored;
    std::filesystem::remove(LeavesPath(old.start.epoch), ignored);
  }
  cached_leaves_.reset();
  epochs_.push_back(EpochState{start, std::nullopt, {}, std::nullopt});
  return &epochs_.back();
}

Result<ProveOutcome> ProviderSession::Finish(EpochState& state, EpochLeaves leaves,
                                             std::span<const DeviceEvidence> devices, uint64_t provider_start_us,
                                             uint64_t provider_end_us, const SecretKey& key, bool keep_leaves) {
  VCP_ASSIGN_OR_RETURN(EpochCommit commit,
                       CommitEpoch(lease_, state.start, leaves, devices, provider_start_us, provider_end_us, key));
  // The leaves file first: a logged record then always has its leaves (or falls back to recomputing).
  if (keep_leaves)
    VCP_RETURN_IF_ERROR(WriteLeavesFile(LeavesPath(state.start.epoch), lease_id_, state.start.epoch, leaves));
  VCP_RETURN_IF_ERROR(
      log_.Append(uint8_t(ProviderEntry::kRecord), EncodeProviderRecordEntry(commit.record, commit.round_roots)));
  state.record = commit.record;
  state.round_roots = std::move(commit.round_roots);
  if (keep_leaves) cached_leaves_.emplace(state.start.epoch, std::move(leaves));
  return ProveOutcome{commit.record, /*already_logged=*/false, 0};
}

Result<RespondOutcome> ProviderSession::Respond(const Challenge& challenge, const SecretKey& key,
                                                const ProverOptions& options) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  if (lease_.mode != LeaseMode::kInteractive) {
    return Status::InvalidArgument("this is a beacon-mode lease: answer from the beacon, not a challenge");
  }
  if (challenge.lease_id != lease_id_) {
    return Status::Rejected("challenge is for lease " + Short(challenge.lease_id) + "; this store holds lease " +
                            Short(lease_id_));
  }
  VCP_RETURN_IF_ERROR(CheckSignature(challenge, lease_.verifier_key));
  EpochState* state = FindEpoch(challenge.epoch);
  if (state == nullptr || !state->record) {
    return Status::Rejected("challenge for epoch " + std::to_string(challenge.epoch) + ", which has no record here");
  }
  if (challenge.record_hash != RecordHash(*state->record)) {
    return Status::Rejected("challenge names record " + Short(challenge.record_hash) + "; epoch " +
                            std::to_string(challenge.epoch) + "'s record is " + Short(RecordHash(*state->record)));
  }
  return Answer(*state, ChallengeValue{ChallengeKind::kVerifierRandomness, 0, challenge.randomness}, key, options);
}

Result<RespondOutcome> ProviderSession::RespondBeacon(uint64_t epoch, const BeaconSource& beacon, const SecretKey& key,
                                                      const ProverOptions& options) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  if (lease_.mode != LeaseMode::kBeacon) {
    return Status::InvalidArgument("this is an interactive lease: answer the verifier's challenge");
  }
  VCP_RETURN_IF_ERROR(CheckBeaconSource(lease_, beacon));
  EpochState* state = FindEpoch(epoch);
  if (state == nullptr || !state->record) {
    return Status::InvalidArgument("epoch " + std::to_string(epoch) + " has no record here");
  }
  const uint64_t round = BeaconRoundFor(lease_, state->start.start_us);
  VCP_ASSIGN_OR_RETURN(Hash32 value, beacon.Value(round));
  return Answer(*state, ChallengeValue{ChallengeKind::kBeacon, round, value}, key, options);
}

Result<RespondOutcome> ProviderSession::Answer(EpochState& state, const ChallengeValue& challenge, const SecretKey& key,
                                               const ProverOptions& options) {
  RespondOutcome outcome;
  if (state.response) {
    const ChallengeValue& answered = state.response->challenge;
    if (answered.kind == challenge.kind && answered.beacon_round == challenge.beacon_round &&
        answered.value == challenge.value) {
      outcome.response = *state.response;
      outcome.already_logged = true;
      outcome.leaf_source = LeafSource::kLogged;
      return outcome;
    }
    return Status::Rejected("epoch " + std::to_string(state.start.epoch) + " was already answered for challenge " +
                            Short(answered.value) + "; a second challenge is refused");
  }
  const uint64_t epoch = state.start.epoch;
  std::optional<EpochLeaves> from_file;
  std::string file_problem;
  const RoundLeafSource source = [&](uint32_t round) -> Result<std::vector<Hash32>> {
    if (cached_leaves_ && cached_leaves_->first == epoch) {
      outcome.leaf_source = LeafSource::kMemory;
      return cached_leaves_->second[round];
    }
    if (!from_file && file_problem.empty()) {
      std::error_code ec;  // the throwing overload would let a stat failure (EACCES) escape the library
      if (!std::filesystem::exists(LeavesPath(epoch), ec)) {
        file_problem = ec ? "cannot check for the leaves file: " + ec.message() : "no leaves file";
      } else {
        Result<EpochLeaves> read =
            ReadLeavesFile(LeavesPath(epoch), lease_id_, epoch, EpochRounds(lease_), LeavesPerRound(lease_));
        if (read.ok()) {
          from_file = std::move(read).value();
        } else {
          file_problem = std::string(read.status().message());
        }
      }
    }
    if (from_file) {
      outcome.leaf_source = LeafSource::kLeavesFile;
      return (*from_file)[round];
    }
    outcome.leaf_source = LeafSource::kRecomputed;
    outcome.leaf_note = file_problem;
    return RecomputeRoundLeaves(lease_, state.start, round, options.run);
  };
  VCP_ASSIGN_OR_RETURN(outcome.response,
                       BuildResponse(lease_, *state.record, state.round_roots, challenge, source, key));
  VCP_RETURN_IF_ERROR(log_.Append(uint8_t(ProviderEntry::kResponse), Serialize(outcome.response)));
  state.response = outcome.response;
  std::error_code ignored;
  std::filesystem::remove(LeavesPath(epoch), ignored);
  cached_leaves_.reset();
  return outcome;
}

// ===============================================================================================================
// Verifier.

namespace {

// Fills in what the verifier adds to a lease (its key and a fresh nonce), checks the terms and signs it.
Status PrepareLease(Lease& lease, const SecretKey& key, double audit_share, const VerifierOptions& options) {
  lease.verifier_key = key.public_key();
  options.random(lease.nonce);
  VCP_RETURN_IF_ERROR(ValidateLease(lease));
  // After the terms: the share must give at least one expected audit over this lease's length and deadline.
  VCP_RETURN_IF_ERROR(ValidateAuditShare(lease, audit_share));
  return Sign(lease, key);
}

}  // namespace

Result<VerifierSession> VerifierSession::LogNewLease(VerifierSession session, Lease lease, double audit_share) {
  session.lease_ = lease;
  session.lease_id_ = LeaseId(lease);
  session.options_.random(session.schedule_seed_);
  session.mean_gap_us_ = MeanGapForShare(EpochDeadlineUs(lease), audit_share);
  VCP_RETURN_IF_ERROR(session.log_->Append(uint8_t(VerifierEntry::kLease), Serialize(lease)));
  VCP_RETURN_IF_ERROR(session.log_->Append(uint8_t(VerifierEntry::kPlan),
                                           EncodeAuditPlanEntry({session.schedule_seed_, session.mean_gap_us_})));
  return session;
}

Result<VerifierSession> VerifierSession::Create(const std::filesystem::path& dir, Lease lease, const SecretKey& key,
                                                double audit_share, VerifierOptions options) {
  VCP_RETURN_IF_ERROR(PrepareLease(lease, key, audit_share, options));
  VCP_RETURN_IF_ERROR(MakeDir(dir));
  VCP_ASSIGN_OR_RETURN(StoreLock lock, StoreLock::Acquire(dir, "verifier"));
  VCP_RETURN_IF_ERROR(RemoveStaleTemporaries(dir).status());
  VCP_RETURN_IF_ERROR(RemoveUnfinishedLog(dir / kVerifierLog, StoreRole::kVerifier));
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::Create(dir / kVerifierLog, StoreRole::kVerifier));
  return LogNewLease(VerifierSession(std::move(lock), std::make_unique<AppendLog>(std::move(log)), std::move(options)),
               std::move(lease), audit_share);
}

Result<VerifierSession> VerifierSession::Create(std::unique_ptr<EntryLog> log, Lease lease, const SecretKey& key,
                                                double audit_share, VerifierOptions options) {
  if (log == nullptr || !log->entries().empty()) {
    return Status::InvalidArgument("a new verifier session needs an empty entry log");
  }
  VCP_RETURN_IF_ERROR(PrepareLease(lease, key, audit_share, options));
  return LogNewLease(VerifierSession(std::nullopt, std::move(log), std::move(options)), std::move(lease), audit_share);
}

Result<VerifierSession> VerifierSession::Open(const std::filesystem::path& dir, VerifierOptions options) {
  VCP_RETURN_IF_ERROR(CheckStoreExists(dir, kVerifierLog, "verifier"));
  VCP_ASSIGN_OR_RETURN(StoreLock lock, StoreLock::Acquire(dir, "verifier"));
  VCP_RETURN_IF_ERROR(RemoveStaleTemporaries(dir).status());
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::Open(dir / kVerifierLog, StoreRole::kVerifier));
  if (HoldsNoLease(log.entries())) return NoLease(dir, kVerifierLog, StoreRole::kVerifier, log.recovery());
  VerifierSession session(std::move(lock), std::make_unique<AppendLog>(std::move(log)), std::move(options));
  VCP_RETURN_IF_ERROR(session.Replay().WithContext(session.log_->Describe()));
  return session;
}

Result<VerifierSession> VerifierSession::OpenForReading(const std::filesystem::path& dir, VerifierOptions options) {
  VCP_RETURN_IF_ERROR(CheckStoreExists(dir, kVerifierLog, "verifier"));
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::OpenForReading(dir / kVerifierLog, StoreRole::kVerifier));
  if (HoldsNoLease(log.entries())) return NoLease(dir, kVerifierLog, StoreRole::kVerifier, log.recovery());
  VerifierSession session(std::nullopt, std::make_unique<AppendLog>(std::move(log)), std::move(options));
  VCP_RETURN_IF_ERROR(session.Replay().WithContext(session.log_->Describe()));
  return session;
}

Result<VerifierSession> VerifierSession::Open(std::unique_ptr<EntryLog> log, VerifierOptions options) {
  if (log == nullptr) return Status::InvalidArgument("no entry log given");
  VerifierSession session(std::nullopt, std::move(log), std::move(options));
  VCP_RETURN_IF_ERROR(session.Replay().WithContext(session.log_->Describe()));
  return session;
}

Status VerifierSession::Replay() {
  const auto& entries = log_->entries();
  if (entries.size() < 2 || entries[0].type != uint8_t(VerifierEntry::kLease) ||
      entries[1].type != uint8_t(VerifierEntry::kPlan)) {
    return Status::Corrupt("a verifier log starts with the lease and the audit plan");
  }
  for (const LogEntry& entry : entries) {
    switch (static_cast<VerifierEntry>(entry.type)) {
      case VerifierEntry::kLease: {
        Result<Lease> lease = ParseLease(entry.payload);
        if (!lease.ok()) return CorruptEntry(entry, lease.status());
        lease_ = *lease;
        lease_id_ = LeaseId(lease_);
        break;
      }
      case VerifierEntry::kPlan: {
        Result<AuditPlanEntry> plan = DecodeAuditPlanEntry(entry.payload);
        if (!plan.ok()) return CorruptEntry(entry, plan.status());
        schedule_seed_ = plan->schedule_seed;
        mean_gap_us_ = plan->mean_gap_us;
        break;
      }
      case VerifierEntry::kAcceptance:
        accepted_ = true;
        break;
      case VerifierEntry::kStart: {
        Result<StartEntry> start = DecodeStartEntry(entry.payload);
        if (!start.ok()) return CorruptEntry(entry, start.status());
        epochs_.push_back(VerifierEpoch{start->schedule, start->start, std::nullopt, 0, std::nullopt, std::nullopt,
                                        std::nullopt});
        break;
      }
      case VerifierEntry::kArrival: {
        if (epochs_.empty()) return CorruptEntry(entry, Status::Corrupt("record before any epoch start"));
        Result<ArrivalEntry> arrival = DecodeArrivalEntry(entry.payload);
        if (!arrival.ok()) return CorruptEntry(entry, arrival.status());
        epochs_.back().record = std::move(arrival->record);
        epochs_.back().arrival_us = arrival->arrival_us;
        break;
      }
      case VerifierEntry::kChallenge: {
        Result<Challenge> challenge = ParseChallenge(entry.payload);
        if (!challenge.ok()) return CorruptEntry(entry, challenge.status());
        if (epochs_.empty()) return CorruptEntry(entry, Status::Corrupt("challenge before any epoch start"));
        epochs_.back().challenge = *challenge;
        break;
      }
      case VerifierEntry::kVerdict: {
        Result<Verdict> verdict = ParseVerdict(entry.payload);
        if (!verdict.ok()) return CorruptEntry(entry, verdict.status());
        if (epochs_.empty() || epochs_.back().start.epoch != verdict->epoch) {
          return CorruptEntry(entry, Status::Corrupt("verdict for an epoch that is not the last started"));
        }
        epochs_.back().verdict = *verdict;
        break;
      }
      case VerifierEntry::kResponse:
        // Evidence; the verdict that follows carries the outcome.
        if (epochs_.empty()) return CorruptEntry(entry, Status::Corrupt("response before any epoch start"));
        epochs_.back().response_hash = Sha256(entry.payload);
        break;
      default:
        return CorruptEntry(entry, Status::Corrupt("unknown entry type"));
    }
  }
  return Status::Ok();
}

std::vector<Verdict> VerifierSession::verdicts() const {
  std::vector<Verdict> out;
  for (const VerifierEpoch& epoch : epochs_) {
    if (epoch.verdict) out.push_back(*epoch.verdict);
  }
  return out;
}

std::vector<uint64_t> VerifierSession::AuditTimes() const {
  return AuditSchedule(schedule_seed_, lease_.start_us, lease_.end_us, mean_gap_us_);
}

uint64_t VerifierSession::NextAuditUs(uint64_t now_us) const {
  return now_us == 0 ? FirstAuditAfter(schedule_seed_, lease_.start_us, lease_.end_us, mean_gap_us_, 0)
                     : FirstAuditAfter(schedule_seed_, lease_.start_us, lease_.end_us, mean_gap_us_, now_us - 1);
}

uint64_t VerifierSession::ScheduledStartUs() const {
  const uint64_t last_start = epochs_.empty() ? lease_.start_us : epochs_.back().start.start_us;
  return FirstAuditAfter(schedule_seed_, lease_.start_us, lease_.end_us, mean_gap_us_, last_start);
}

VerifierEpoch* VerifierSession::OpenEpoch() {
  if (epochs_.empty() || epochs_.back().verdict) return nullptr;
  return &epochs_.back();
}

const VerifierEpoch* VerifierSession::OpenEpoch() const {
  if (epochs_.empty() || epochs_.back().verdict) return nullptr;
  return &epochs_.back();
}

Hash32 VerifierSession::ChainHead() const {
  for (auto it = epochs_.rbegin(); it != epochs_.rend(); ++it) {
    if (it->record) return RecordHash(*it->record);
  }
  return lease_id_;
}

Status VerifierSession::AddAcceptance(const LeaseAcceptance& acceptance) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  if (acceptance.lease_id != lease_id_) {
    return Status::Rejected("the acceptance is for lease " + Short(acceptance.lease_id) + "; this store holds lease " +
                            Short(lease_id_));
  }
  VCP_RETURN_IF_ERROR(CheckSignature(acceptance, lease_.provider_key));
  if (accepted_) return Status::Ok();
  VCP_RETURN_IF_ERROR(log_->Append(uint8_t(VerifierEntry::kAcceptance), Serialize(acceptance)));
  accepted_ = true;
  return Status::Ok();
}

Verdict VerifierSession::Unsigned(const VerifierEpoch& epoch, Reason reason, const std::string& detail) const {
  Verdict v;
  v.lease_id = lease_id_;
  v.epoch = epoch.start.epoch;
  v.record_hash = epoch.record ? RecordHash(*epoch.record) : Hash32{};
  v.schedule = epoch.schedule;
  v.reason = reason;
  v.start_us = epoch.start.start_us;
  v.arrival_us = epoch.record ? epoch.arrival_us : 0;
  v.operations = reason == Reason::kPass && epoch.record ? epoch.record->operations : 0;
  v.detail = ToProtocolText(detail, kMaxDetailBytes);
  return v;
}

Result<Verdict> VerifierSession::Close(VerifierEpoch& epoch, Reason reason, std::string detail, const SecretKey& key) {
  Verdict v = Unsigned(epoch, reason, detail);
  VCP_RETURN_IF_ERROR(Sign(v, key));
  VCP_RETURN_IF_ERROR(log_->Append(uint8_t(VerifierEntry::kVerdict), Serialize(v)));
  epoch.verdict = v;
  return v;
}

Status VerifierSession::CheckKey(const SecretKey& key) const { return WrongKey(lease_, key, /*provider_role=*/false); }

Status VerifierSession::CheckWritable() const {
  return log_->read_only() ? ReadOnly("verifier store " + log_->Describe()) : Status::Ok();
}

Result<EpochStart> VerifierSession::StartEpoch(const SecretKey& key, EpochSchedule schedule) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  if (!accepted_) return Status::InvalidArgument("the provider has not accepted the lease yet (add its acceptance)");
  const uint64_t now = options_.clock->NowMicros();
  const uint64_t deadline = EpochDeadlineUs(lease_);
  VerifierEpoch* open = OpenEpoch();
  // Within its deadline the open epoch's start is handed out again: a restart after a crash between logging the
  // start and delivering it resumes instead of losing the epoch (also after the lease's end: it started before).
  if (open != nullptr && !open->record && now <= open->start.start_us + deadline) return open->start;
  if (!epochs_.empty() && now < epochs_.back().start.start_us) {
    // A start dated before the last one would break the epochs' order in time (and in beacon mode could name a
    // round already published); the clock went backwards.
    return Status::InvalidArgument("the verifier's clock reads " + std::to_string(now) + " us, before epoch " +
                                   std::to_string(epochs_.back().start.epoch) + "'s start at " +
                                   std::to_string(epochs_.back().start.start_us) +
                                   " us: it went backwards; wait until it passes that start");
  }
  if (now >= lease_.end_us) {
    // No next start will close the last epoch, so it is closed here once it is overdue, before the refusal.
    std::string refusal = "the lease ended at " + std::to_string(lease_.end_us) + " us: no epoch starts after it";
    VCP_ASSIGN_OR_RETURN(const std::optional<Verdict> closed, CloseOverdueEpoch(key));
    if (closed) {
      refusal += "; its last epoch, " + std::to_string(closed->epoch) + ", was overdue and is now closed " +
                 std::string(ReasonName(closed->reason)) + " (" + closed->detail + ")";
    } else if (const VerifierEpoch* still = OpenEpoch()) {
      refusal += "; epoch " + std::to_string(still->start.epoch) +
                 " stays open for its response until the response wait has passed";
    }
    return Status::InvalidArgument(refusal);
  }
  if (schedule == EpochSchedule::kScheduled) {
    // Scheduled epochs are the random sample of the lease's timeline the availability bound rests on, so each one
    // answers to an audit time the provider could not predict, and no audit time serves twice.
    const uint64_t due = ScheduledStartUs();
    if (due == 0) {
      return Status::InvalidArgument("the secret audit schedule has no time left before the lease ends at " +
                                     std::to_string(lease_.end_us) + " us; start on demand instead");
    }
    if (now < due) {
      return Status::InvalidArgument("no audit time has come since the last epoch started; the next is at " +
                                     std::to_string(due) + " us (in " + std::to_string((due - now) / 1'000'000) +
                                     " s): wait for it (vcp epoch start --wait), or start on demand");
    }
  } else if (schedule != EpochSchedule::kOnDemand) {
    return Status::InvalidArgument("epoch schedule " + std::to_string(int(schedule)) +
                                   " is unknown; allowed: scheduled, on demand");
  }
  if (open != nullptr) {
    if (!open->record) {
      const std::string detail = "no record arrived within the " + std::to_string(deadline / 1000) + " ms deadline";
      VCP_RETURN_IF_ERROR(Close(*open, Reason::kMissed, detail, key).status());
    } else {
      VCP_RETURN_IF_ERROR(Close(*open, Reason::kNoResponse,
                                "the record arrived but no valid response did before the next epoch started", key)
                              .status());
    }
  }
  EpochStart start;
  start.lease_id = lease_id_;
  start.epoch = epochs_.empty() ? 0 : epochs_.back().start.epoch + 1;
  options_.random(start.beacon);
  start.prev_record = ChainHead();
  start.start_us = options_.clock->NowMicros();
  VCP_RETURN_IF_ERROR(Sign(start, key));
  VCP_RETURN_IF_ERROR(log_->Append(uint8_t(VerifierEntry::kStart), EncodeStartEntry(schedule, start)));
  epochs_.push_back(VerifierEpoch{schedule, start, std::nullopt, 0, std::nullopt, std::nullopt, std::nullopt});
  return start;
}

std::optional<std::pair<Reason, std::string>> VerifierSession::Overdue(uint64_t now_us,
                                                                      uint64_t response_wait_us) const {
  const VerifierEpoch* open = OpenEpoch();
  if (open == nullptr) return std::nullopt;
  const uint64_t deadline = EpochDeadlineUs(lease_);
  if (!open->record) {
    if (now_us <= open->start.start_us + deadline) return std::nullopt;
    return std::make_pair(Reason::kMissed,
                          "no record arrived within the " + std::to_string(deadline / 1000) + " ms deadline");
  }
  // The wait counts from when the provider could first answer: the record's arrival, or in beacon mode the
  // publication of the beacon round the response must use.
  uint64_t answerable_us = open->arrival_us;
  if (lease_.mode == LeaseMode::kBeacon) {
    const uint64_t round = BeaconRoundFor(lease_, open->start.start_us);
    answerable_us = std::max(answerable_us, lease_.beacon_genesis_us + round * lease_.beacon_period_us);
  }
  if (now_us <= answerable_us + response_wait_us) return std::nullopt;
  return std::make_pair(Reason::kNoResponse, "the record arrived but no valid response did within " +
                                                 std::to_string(response_wait_us / 1000) + " ms");
}

Result<std::optional<Verdict>> VerifierSession::CloseOverdueEpoch(const SecretKey& key, uint64_t response_wait_us) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  std::optional<std::pair<Reason, std::string>> overdue = Overdue(options_.clock->NowMicros(), response_wait_us);
  if (!overdue) return std::optional<Verdict>();
  VCP_ASSIGN_OR_RETURN(Verdict v, Close(*OpenEpoch(), overdue->first, std::move(overdue->second), key));
  return std::optional<Verdict>(std::move(v));
}

Result<std::optional<Verdict>> VerifierSession::CloseOverdueEpoch(const SecretKey& key) {
  return CloseOverdueEpoch(key, options_.response_wait_us);
}

std::optional<Verdict> VerifierSession::OverdueVerdict(uint64_t now_us, uint64_t response_wait_us) const {
  const std::optional<std::pair<Reason, std::string>> overdue = Overdue(now_us, response_wait_us);
  if (!overdue) return std::nullopt;
  return Unsigned(*OpenEpoch(), overdue->first, overdue->second);
}

Result<Verdict> VerifierSession::VoidEpoch(Reason void_reason, std::string detail, const SecretKey& key) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  if (OutcomeOf(void_reason) != VerdictOutcome::kVoid) {
    return Status::InvalidArgument("reason " + std::string(ReasonName(void_reason)) +
                                   " is not a void reason; allowed: void-verifier-down, void-clock, "
                                   "void-beacon-unavailable");
  }
  VerifierEpoch* open = OpenEpoch();
  if (open == nullptr) return Status::InvalidArgument("no epoch is open: there is nothing to void");
  const std::string epoch_name = "epoch " + std::to_string(open->start.epoch);
  const uint64_t now = options_.clock->NowMicros();
  const uint64_t deadline_end = open->start.start_us + EpochDeadlineUs(lease_);
  const bool clock_behind = now < open->start.start_us;
  if (now <= deadline_end && !(void_reason == Reason::kVoidClock && clock_behind)) {
    return Status::InvalidArgument(epoch_name + "'s deadline has not passed (it ends at " +
                                   std::to_string(deadline_end) + " us): the verifier can still time its record");
  }
  std::string why;
  if (open->record) {
    if (void_reason != Reason::kVoidBeaconUnavailable || lease_.mode != LeaseMode::kBeacon) {
      return Status::InvalidArgument(epoch_name +
                                     "'s record arrived and was timed; after that only a beacon-mode epoch whose "
                                     "beacon round never came may be voided (void-beacon-unavailable)");
    }
    if (options_.beacon == nullptr) {
      return Status::InvalidArgument("voiding for an unavailable beacon needs the beacon source, to show the round "
                                     "is unavailable");
    }
    VCP_RETURN_IF_ERROR(CheckBeaconSource(lease_, *options_.beacon));
    const uint64_t round = BeaconRoundFor(lease_, open->start.start_us);
    Result<Hash32> value = options_.beacon->Value(round);
    if (value.ok()) {
      return Status::InvalidArgument("beacon round " + std::to_string(round) + " is published: verify " + epoch_name +
                                     "'s response against it instead of voiding it");
    }
    if (value.status().code() != StatusCode::kUnavailable) return value.status();
    why = "beacon round " + std::to_string(round) + " never came: " + std::string(value.status().message());
  } else if (void_reason == Reason::kVoidBeaconUnavailable && lease_.mode != LeaseMode::kBeacon) {
    return Status::InvalidArgument("void-beacon-unavailable applies to beacon-mode leases; this one is interactive");
  } else if (void_reason == Reason::kVoidVerifierDown) {
    why = "the verifier was not running to time a record within the deadline";
  } else if (void_reason == Reason::kVoidClock) {
    why = "the verifier's clock cannot time this epoch";
  } else {
    why = "the beacon round the epoch needs never came";
  }
  if (!detail.empty()) why += " (" + detail + ")";
  return Close(*open, void_reason, why + "; neither a pass nor a failure", key);
}

Result<Challenge> VerifierSession::IssueChallenge(VerifierEpoch& epoch, const SecretKey& key) {
  Challenge challenge;
  challenge.lease_id = lease_id_;
  challenge.epoch = epoch.start.epoch;
  challenge.record_hash = RecordHash(*epoch.record);
  options_.random(challenge.randomness);
  VCP_RETURN_IF_ERROR(Sign(challenge, key));
  VCP_RETURN_IF_ERROR(log_->Append(uint8_t(VerifierEntry::kChallenge), Serialize(challenge)));
  epoch.challenge = challenge;
  return challenge;
}

Result<RecordOutcome> VerifierSession::ReceiveRecord(std::span<const uint8_t> record_bytes, const SecretKey& key) {
  const uint64_t arrival = options_.clock->NowMicros();
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  VCP_RETURN_IF_ERROR(CheckKind(record_bytes, MessageType::kRecord));
  VerifierEpoch* open = OpenEpoch();
  if (open == nullptr) return Status::InvalidArgument("no epoch is open: start one first");
  RecordOutcome outcome;
  if (open->record) {
    if (Serialize(*open->record) != std::vector<uint8_t>(record_bytes.begin(), record_bytes.end())) {
      return Status::Rejected("epoch " + std::to_string(open->start.epoch) + " already has record " +
                              Short(RecordHash(*open->record)) + "; a second record for it is refused");
    }
    outcome.already_received = true;
  } else {
    RecordCheck check = CheckRecord(lease_, open->start, arrival, record_bytes);
    if (check.record) {
      VCP_RETURN_IF_ERROR(log_->Append(uint8_t(VerifierEntry::kArrival), EncodeArrivalEntry(arrival, record_bytes)));
      open->record = *check.record;
      open->arrival_us = arrival;
    }
    if (!check.finding.ok()) {
      if (FailureClosesEpoch(check.finding.reason)) {
        VCP_ASSIGN_OR_RETURN(Verdict verdict, Close(*open, check.finding.reason, check.finding.detail, key));
        outcome.verdict = verdict;
      }
      outcome.finding = std::move(check.finding);
      return outcome;
    }
  }
  if (lease_.mode == LeaseMode::kBeacon) {
    outcome.beacon_round = BeaconRoundFor(lease_, open->start.start_us);
    return outcome;
  }
  // A record whose arrival was logged but whose challenge was not (a crash between the two appends) gets its
  // challenge now; nothing was handed out for it before, so a fresh one is as good as the lost one.
  if (!open->challenge) VCP_RETURN_IF_ERROR(IssueChallenge(*open, key).status());
  outcome.challenge = open->challenge;
  return outcome;
}

Result<ResponseOutcome> VerifierSession::ReceiveResponse(std::span<const uint8_t> response_bytes,
                                                         const SecretKey& key) {
  VCP_RETURN_IF_ERROR(CheckWritable());
  VCP_RETURN_IF_ERROR(CheckKey(key));
  VCP_RETURN_IF_ERROR(CheckKind(response_bytes, MessageType::kResponse));
  ResponseOutcome outcome;
  const Hash32 response_hash = Sha256(response_bytes);
  if (!epochs_.empty() && epochs_.back().verdict && epochs_.back().response_hash == response_hash) {
    // The same response again (a restart): the verdict it already got.
    outcome.verdict = *epochs_.back().verdict;
    outcome.finding = Finding{outcome.verdict->reason, outcome.verdict->detail};
    outcome.already_given = true;
    return outcome;
  }
  VerifierEpoch* open = OpenEpoch();
  if (open == nullptr) {
    return Status::InvalidArgument(epochs_.empty()
                                       ? "no epoch is open: none was started yet"
                                       : "no epoch is open: epoch " + std::to_string(epochs_.back().start.epoch) +
                                             " was already closed with a verdict; start the next one");
  }
  if (!open->record) {
    return Status::InvalidArgument("epoch " + std::to_string(open->start.epoch) +
                                   " has no record yet: the provider's record comes before its response");
  }
  ChallengeValue expected;
  if (lease_.mode == LeaseMode::kInteractive) {
    if (!open->challenge) {
      return Status::InvalidArgument("epoch " + std::to_string(open->start.epoch) +
                                     "'s record arrived but its challenge was never issued (the verifier stopped "
                                     "between the two); receive the record again (vcp challenge --record) to issue it");
    }
    expected = ChallengeValue{ChallengeKind::kVerifierRandomness, 0, open->challenge->randomness};
  } else {
    const BeaconSource* beacon = options_.beacon;
    if (beacon == nullptr) return Status::InvalidArgument("a beacon-mode lease needs the beacon source to verify");
    VCP_RETURN_IF_ERROR(CheckBeaconSource(lease_, *beacon));
    const uint64_t round = BeaconRoundFor(lease_, open->start.start_us);
    VCP_ASSIGN_OR_RETURN(Hash32 value, beacon->Value(round));
    expected = ChallengeValue{ChallengeKind::kBeacon, round, value};
  }
  Finding finding = CheckResponse(lease_, open->start, *open->record, expected, response_bytes, options_.threads);
  if (!finding.ok() && !FailureClosesEpoch(finding.reason)) {
    finding.detail += " (the epoch stays open for a valid response)";
    outcome.finding = std::move(finding);
    return outcome;
  }
  VCP_RETURN_IF_ERROR(log_->Append(uint8_t(VerifierEntry::kResponse), response_bytes));
  open->response_hash = response_hash;
  if (finding.ok()) {
    const uint64_t window = open->arrival_us - std::min(open->arrival_us, open->start.start_us);
    finding.detail = std::to_string(lease_.samples_per_epoch) + " sampled tiles recomputed and proven; record after " +
                     std::to_string(window / 1000) + " ms of a " + std::to_string(EpochDeadlineUs(lease_) / 1000) +
                     " ms deadline";
  }
  VCP_ASSIGN_OR_RETURN(Verdict verdict, Close(*open, finding.reason, finding.detail, key));
  outcome.finding = Finding{verdict.reason, verdict.detail};
  outcome.verdict = std::move(verdict);
  return outcome;
}

LeaseReport VerifierSession::Report(uint64_t now_us, double confidence) const {
  std::vector<ReportEpoch> closed;
  for (const VerifierEpoch& epoch : epochs_) {
    if (!epoch.verdict) continue;
    closed.push_back(ReportEpoch{*epoch.verdict, epoch.record ? epoch.record->devices : std::vector<DeviceEvidence>{}});
  }
  // An epoch that can no longer pass counts as what it will be closed as, so no report says all passed meanwhile.
  if (std::optional<Verdict> overdue = OverdueVerdict(now_us, options_.response_wait_us)) {
    const VerifierEpoch& open = *OpenEpoch();
    closed.push_back(ReportEpoch{*overdue, open.record ? open.record->devices : std::vector<DeviceEvidence>{}});
  }
  return SummarizeLease(lease_, closed, now_us, confidence);
}

}  // namespace vcp
