// The two roles of a lease over their crash-safe stores (docs/PROTOCOL.md section 10). Rule everywhere: append
// to the log (flushed) first, then hand the message out.
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <system_error>

#include "vcp/bytes.h"
#include "vcp/lease_session.h"

namespace vcp {

namespace {

// Log entry types. Never renumbered: they are on disk.
enum ProviderEntry : uint8_t {
  kProviderLease = 1,       // lease bytes
  kProviderAcceptance = 2,  // acceptance bytes
  kProviderStart = 3,       // epoch start bytes (before the epoch runs)
  kProviderRecord = 4,      // u32 length, record bytes, u32 R, R round roots (before the record is handed out)
  kProviderResponse = 5,    // response bytes (before the response is handed out)
};

enum VerifierEntry : uint8_t {
  kVerifierLease = 1,       // lease bytes
  kVerifierPlan = 2,        // audit schedule seed (32), u64 mean gap in microseconds
  kVerifierAcceptance = 3,  // acceptance bytes
  kVerifierStart = 4,       // epoch start bytes (before it is handed out)
  kVerifierArrival = 5,     // u64 arrival time (verifier's clock), record bytes: an authentic record
  kVerifierChallenge = 6,   // challenge bytes (before it is handed out)
  kVerifierVerdict = 7,     // verdict bytes
  kVerifierResponse = 8,    // response bytes that closed an epoch (kept as evidence)
};

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

std::string DescribeDevice(const DeviceInfo& d) {
  std::string out = d.backend + ": " + d.name;
  if (d.compute_units > 0)
    out += d.backend == "cuda" ? " (" + std::to_string(d.compute_units) + " SMs)"
                               : " (" + std::to_string(d.compute_units) + " threads)";
  if (!d.driver_version.empty()) out += ", driver " + d.driver_version;
  return out;
}

std::vector<uint8_t> U64Then(uint64_t value, std::span<const uint8_t> bytes) {
  ByteWriter w;
  w.U64(value);
  w.Bytes(bytes);
  return w.Take();
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

Result<ProviderSession> ProviderSession::Accept(const std::filesystem::path& dir, const Lease& lease,
                                                const SecretKey& key, const Clock& clock) {
  VCP_RETURN_IF_ERROR(ValidateLease(lease));
  VCP_RETURN_IF_ERROR(CheckSignature(lease));
  if (key.public_key() != lease.provider_key) {
    return Status::InvalidArgument("lease names provider key " + ToHex(lease.provider_key) + "; this key is " +
                                   ToHex(key.public_key()));
  }
  VCP_RETURN_IF_ERROR(MakeDir(dir));
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::Create(dir / kProviderLog, StoreRole::kProvider));
  ProviderSession session(std::move(log));
  session.dir_ = dir;
  session.lease_ = lease;
  session.lease_id_ = LeaseId(lease);
  session.acceptance_.lease_id = session.lease_id_;
  session.acceptance_.accepted_us = clock.NowMicros();
  VCP_RETURN_IF_ERROR(Sign(session.acceptance_, key));
  VCP_RETURN_IF_ERROR(session.log_.Append(kProviderLease, Serialize(lease)));
  VCP_RETURN_IF_ERROR(session.log_.Append(kProviderAcceptance, Serialize(session.acceptance_)));
  return session;
}

Result<ProviderSession> ProviderSession::Open(const std::filesystem::path& dir) {
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::Open(dir / kProviderLog, StoreRole::kProvider));
  ProviderSession session(std::move(log));
  session.dir_ = dir;
  VCP_RETURN_IF_ERROR(session.Replay().WithContext((dir / kProviderLog).string()));
  return session;
}

Status ProviderSession::Replay() {
  const auto& entries = log_.entries();
  if (entries.size() < 2 || entries[0].type != kProviderLease || entries[1].type != kProviderAcceptance) {
    return Status::Corrupt("a provider log starts with the lease and the acceptance");
  }
  for (const LogEntry& entry : entries) {
    switch (entry.type) {
      case kProviderLease: {
        Result<Lease> lease = ParseLease(entry.payload);
        if (!lease.ok()) return CorruptEntry(entry, lease.status());
        lease_ = *lease;
        lease_id_ = LeaseId(lease_);
        break;
      }
      case kProviderAcceptance: {
        Result<LeaseAcceptance> acceptance = ParseLeaseAcceptance(entry.payload);
        if (!acceptance.ok()) return CorruptEntry(entry, acceptance.status());
        acceptance_ = *acceptance;
        break;
      }
      case kProviderStart: {
        Result<EpochStart> start = ParseEpochStart(entry.payload);
        if (!start.ok()) return CorruptEntry(entry, start.status());
        epochs_.push_back(EpochState{*start, std::nullopt, {}, std::nullopt});
        break;
      }
      case kProviderRecord: {
        ByteReader r(entry.payload, "provider record entry");
        uint32_t length = 0, rounds = 0;
        VCP_RETURN_IF_ERROR(r.U32(length));
        if (length > r.remaining()) return CorruptEntry(entry, Status::Corrupt("record length exceeds the entry"));
        std::vector<uint8_t> bytes(length);
        VCP_RETURN_IF_ERROR(r.Bytes(bytes));
        Result<EpochRecord> record = ParseEpochRecord(bytes);
        if (!record.ok()) return CorruptEntry(entry, record.status());
        VCP_RETURN_IF_ERROR(r.U32(rounds));
        if (uint64_t{rounds} * kHashBytes != r.remaining()) {
          return CorruptEntry(entry, Status::Corrupt("round root count does not match the entry length"));
        }
        std::vector<Hash32> roots(rounds);
        for (Hash32& root : roots) VCP_RETURN_IF_ERROR(r.Bytes(root));
        EpochState* state = FindEpoch(record->epoch);
        if (state == nullptr) return CorruptEntry(entry, Status::Corrupt("record for an epoch never started"));
        state->record = *record;
        state->round_roots = std::move(roots);
        break;
      }
      case kProviderResponse: {
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

ProviderSession::EpochState* ProviderSession::FindEpoch(uint64_t epoch) {
  for (EpochState& state : epochs_) {
    if (state.start.epoch == epoch) return &state;
  }
  return nullptr;
}

std::filesystem::path ProviderSession::LeavesPath(uint64_t epoch) const {
  return dir_ / ("epoch-" + std::to_string(epoch) + ".leaves");
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

Result<EpochRecord> ProviderSession::Prove(const EpochStart& start, const SecretKey& key,
                                           const ProverOptions& options) {
  VCP_ASSIGN_OR_RETURN(EpochState * state, Begin(start));
  if (state->record) return *state->record;
  const uint64_t t0 = options.clock->NowMicros();
  VCP_ASSIGN_OR_RETURN(EpochRun run, RunEpochRounds(lease_, start, options.run));
  const uint64_t t1 = options.clock->NowMicros();
  return Finish(*state, std::move(run.leaves), DescribeDevice(run.device), t0, t1, key, options.keep_leaves);
}

Result<EpochRecord> ProviderSession::ProveFromLeaves(const EpochStart& start, EpochLeaves leaves,
                                                     const std::string& device, uint64_t provider_start_us,
                                                     uint64_t provider_end_us, const SecretKey& key, bool keep_leaves) {
  VCP_ASSIGN_OR_RETURN(EpochState * state, Begin(start));
  if (state->record) return *state->record;
  return Finish(*state, std::move(leaves), device, provider_start_us, provider_end_us, key, keep_leaves);
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
  VCP_RETURN_IF_ERROR(log_.Append(kProviderStart, Serialize(start)));
  // Leaf hashes of earlier epochs can no longer be challenged.
  for (const EpochState& old : epochs_) {
    std::error_code ignored;
    std::filesystem::remove(LeavesPath(old.start.epoch), ignored);
  }
  cached_leaves_.reset();
  epochs_.push_back(EpochState{start, std::nullopt, {}, std::nullopt});
  return &epochs_.back();
}

Result<EpochRecord> ProviderSession::Finish(EpochState& state, EpochLeaves leaves, const std::string& device,
                                            uint64_t provider_start_us, uint64_t provider_end_us, const SecretKey& key,
                                            bool keep_leaves) {
  VCP_ASSIGN_OR_RETURN(EpochCommit commit,
                       CommitEpoch(lease_, state.start, leaves, device, provider_start_us, provider_end_us, key));
  // The leaves file first: a logged record then always has its leaves (or falls back to recomputing).
  if (keep_leaves)
    VCP_RETURN_IF_ERROR(WriteLeavesFile(LeavesPath(state.start.epoch), lease_id_, state.start.epoch, leaves));
  const std::vector<uint8_t> record_bytes = Serialize(commit.record);
  ByteWriter w;
  w.U32(static_cast<uint32_t>(record_bytes.size()));
  w.Bytes(record_bytes);
  w.U32(static_cast<uint32_t>(commit.round_roots.size()));
  for (const Hash32& root : commit.round_roots) w.Bytes(root);
  VCP_RETURN_IF_ERROR(log_.Append(kProviderRecord, w.bytes()));
  state.record = commit.record;
  state.round_roots = std::move(commit.round_roots);
  if (keep_leaves) cached_leaves_.emplace(state.start.epoch, std::move(leaves));
  return commit.record;
}

Result<EpochResponse> ProviderSession::Respond(const Challenge& challenge, const SecretKey& key,
                                               const ProverOptions& options) {
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

Result<EpochResponse> ProviderSession::RespondBeacon(uint64_t epoch, const BeaconSource& beacon, const SecretKey& key,
                                                     const ProverOptions& options) {
  if (lease_.mode != LeaseMode::kBeacon) {
    return Status::InvalidArgument("this is an interactive lease: answer the verifier's challenge");
  }
  if (beacon.name() != lease_.beacon_name || beacon.genesis_us() != lease_.beacon_genesis_us ||
      beacon.period_us() != lease_.beacon_period_us) {
    return Status::InvalidArgument("beacon source \"" + beacon.name() + "\" is not the lease's beacon \"" +
                                   lease_.beacon_name + "\" (name, genesis and period must match)");
  }
  EpochState* state = FindEpoch(epoch);
  if (state == nullptr || !state->record) {
    return Status::InvalidArgument("epoch " + std::to_string(epoch) + " has no record here");
  }
  const uint64_t round = BeaconRoundFor(lease_, state->start.start_us);
  VCP_ASSIGN_OR_RETURN(Hash32 value, beacon.Value(round));
  return Answer(*state, ChallengeValue{ChallengeKind::kBeacon, round, value}, key, options);
}

Result<EpochResponse> ProviderSession::Answer(EpochState& state, const ChallengeValue& challenge, const SecretKey& key,
                                              const ProverOptions& options) {
  if (state.response) {
    const ChallengeValue& answered = state.response->challenge;
    if (answered.kind == challenge.kind && answered.beacon_round == challenge.beacon_round &&
        answered.value == challenge.value) {
      return *state.response;
    }
    return Status::Rejected("epoch " + std::to_string(state.start.epoch) + " was already answered for challenge " +
                            Short(answered.value) + "; a second challenge is refused");
  }
  const uint64_t epoch = state.start.epoch;
  std::optional<EpochLeaves> from_file;
  std::string file_problem;
  last_leaf_source_.clear();
  const RoundLeafSource source = [&](uint32_t round) -> Result<std::vector<Hash32>> {
    if (cached_leaves_ && cached_leaves_->first == epoch) {
      last_leaf_source_ = "memory";
      return cached_leaves_->second[round];
    }
    if (!from_file && file_problem.empty()) {
      std::error_code ec;  // the throwing overload would let a stat failure (EACCES) escape the library
      if (!std::filesystem::exists(LeavesPath(epoch), ec)) {
        file_problem = ec ? "cannot check for the leaves file: " + ec.message() : "no leaves file";
      } else {
        Result<EpochLeaves> read =
            ReadLeavesFile(LeavesPath(epoch), lease_id_, epoch, lease_.rounds_per_epoch, LeavesPerRound(lease_));
        if (read.ok()) {
          from_file = std::move(read).value();
        } else {
          file_problem = std::string(read.status().message());
        }
      }
    }
    if (from_file) {
      last_leaf_source_ = "leaves file";
      return (*from_file)[round];
    }
    last_leaf_source_ = "recomputed (" + file_problem + ")";
    return RecomputeRoundLeaves(lease_, state.start, round, options.run);
  };
  VCP_ASSIGN_OR_RETURN(EpochResponse response,
                       BuildResponse(lease_, *state.record, state.round_roots, challenge, source, key));
  VCP_RETURN_IF_ERROR(log_.Append(kProviderResponse, Serialize(response)));
  state.response = response;
  std::error_code ignored;
  std::filesystem::remove(LeavesPath(epoch), ignored);
  cached_leaves_.reset();
  return response;
}

// ===============================================================================================================
// Verifier.

Result<VerifierSession> VerifierSession::Create(const std::filesystem::path& dir, Lease lease, const SecretKey& key,
                                                double audit_share, VerifierOptions options) {
  if (!(audit_share > 0 && audit_share <= 1)) {
    return Status::InvalidArgument(
        "audit share " + std::to_string(audit_share) +
        " is out of range; allowed: 0 < share <= 1 (the fraction of lease time spent proving)");
  }
  lease.verifier_key = key.public_key();
  options.random(lease.nonce);
  VCP_RETURN_IF_ERROR(ValidateLease(lease));
  VCP_RETURN_IF_ERROR(Sign(lease, key));
  VCP_RETURN_IF_ERROR(MakeDir(dir));
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::Create(dir / kVerifierLog, StoreRole::kVerifier));
  VerifierSession session(std::move(log), std::move(options));
  session.lease_ = lease;
  session.lease_id_ = LeaseId(lease);
  session.options_.random(session.schedule_seed_);
  session.mean_gap_us_ = MeanGapForShare(lease.epoch_deadline_us, audit_share);
  VCP_RETURN_IF_ERROR(session.log_.Append(kVerifierLease, Serialize(lease)));
  ByteWriter plan;
  plan.Bytes(session.schedule_seed_);
  plan.U64(session.mean_gap_us_);
  VCP_RETURN_IF_ERROR(session.log_.Append(kVerifierPlan, plan.bytes()));
  return session;
}

Result<VerifierSession> VerifierSession::Open(const std::filesystem::path& dir, VerifierOptions options) {
  VCP_ASSIGN_OR_RETURN(AppendLog log, AppendLog::Open(dir / kVerifierLog, StoreRole::kVerifier));
  VerifierSession session(std::move(log), std::move(options));
  VCP_RETURN_IF_ERROR(session.Replay().WithContext((dir / kVerifierLog).string()));
  return session;
}

Status VerifierSession::Replay() {
  const auto& entries = log_.entries();
  if (entries.size() < 2 || entries[0].type != kVerifierLease || entries[1].type != kVerifierPlan) {
    return Status::Corrupt("a verifier log starts with the lease and the audit plan");
  }
  for (const LogEntry& entry : entries) {
    switch (entry.type) {
      case kVerifierLease: {
        Result<Lease> lease = ParseLease(entry.payload);
        if (!lease.ok()) return CorruptEntry(entry, lease.status());
        lease_ = *lease;
        lease_id_ = LeaseId(lease_);
        break;
      }
      case kVerifierPlan: {
        ByteReader r(entry.payload, "audit plan entry");
        VCP_RETURN_IF_ERROR(r.Bytes(schedule_seed_));
        VCP_RETURN_IF_ERROR(r.U64(mean_gap_us_));
        VCP_RETURN_IF_ERROR(r.ExpectEnd());
        break;
      }
      case kVerifierAcceptance:
        accepted_ = true;
        break;
      case kVerifierStart: {
        Result<EpochStart> start = ParseEpochStart(entry.payload);
        if (!start.ok()) return CorruptEntry(entry, start.status());
        epochs_.push_back(VerifierEpoch{*start, std::nullopt, 0, std::nullopt, std::nullopt, std::nullopt});
        break;
      }
      case kVerifierArrival: {
        if (epochs_.empty()) return CorruptEntry(entry, Status::Corrupt("record before any epoch start"));
        ByteReader r(entry.payload, "record arrival entry");
        uint64_t arrival = 0;
        VCP_RETURN_IF_ERROR(r.U64(arrival));
        Result<EpochRecord> record =
            ParseEpochRecord(entry.payload.size() >= 8 ? std::span<const uint8_t>(entry.payload).subspan(8)
                                                       : std::span<const uint8_t>());
        if (!record.ok()) return CorruptEntry(entry, record.status());
        epochs_.back().record = *record;
        epochs_.back().arrival_us = arrival;
        break;
      }
      case kVerifierChallenge: {
        Result<Challenge> challenge = ParseChallenge(entry.payload);
        if (!challenge.ok()) return CorruptEntry(entry, challenge.status());
        if (epochs_.empty()) return CorruptEntry(entry, Status::Corrupt("challenge before any epoch start"));
        epochs_.back().challenge = *challenge;
        break;
      }
      case kVerifierVerdict: {
        Result<Verdict> verdict = ParseVerdict(entry.payload);
        if (!verdict.ok()) return CorruptEntry(entry, verdict.status());
        if (epochs_.empty() || epochs_.back().start.epoch != verdict->epoch) {
          return CorruptEntry(entry, Status::Corrupt("verdict for an epoch that is not the last started"));
        }
        epochs_.back().verdict = *verdict;
        break;
      }
      case kVerifierResponse:
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
  for (uint64_t t : AuditTimes()) {
    if (t >= now_us) return t;
  }
  return 0;
}

VerifierEpoch* VerifierSession::OpenEpoch() {
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
  if (acceptance.lease_id != lease_id_) {
    return Status::Rejected("the acceptance is for lease " + Short(acceptance.lease_id) + "; this store holds lease " +
                            Short(lease_id_));
  }
  VCP_RETURN_IF_ERROR(CheckSignature(acceptance, lease_.provider_key));
  if (accepted_) return Status::Ok();
  VCP_RETURN_IF_ERROR(log_.Append(kVerifierAcceptance, Serialize(acceptance)));
  accepted_ = true;
  return Status::Ok();
}

Result<Verdict> VerifierSession::Close(VerifierEpoch& epoch, Reason reason, std::string detail, const SecretKey& key) {
  Verdict v;
  v.lease_id = lease_id_;
  v.epoch = epoch.start.epoch;
  v.record_hash = epoch.record ? RecordHash(*epoch.record) : Hash32{};
  v.reason = reason;
  v.start_us = epoch.start.start_us;
  v.arrival_us = epoch.record ? epoch.arrival_us : 0;
  v.operations = reason == Reason::kPass && epoch.record ? epoch.record->operations : 0;
  v.detail = ToProtocolText(detail, kMaxDetailBytes);
  VCP_RETURN_IF_ERROR(Sign(v, key));
  VCP_RETURN_IF_ERROR(log_.Append(kVerifierVerdict, Serialize(v)));
  epoch.verdict = v;
  return v;
}

Status VerifierSession::CheckKey(const SecretKey& key) const {
  if (key.public_key() != lease_.verifier_key) {
    return Status::InvalidArgument("key " + ToHex(key.public_key()) + " is not the lease's verifier key " +
                                   ToHex(lease_.verifier_key));
  }
  return Status::Ok();
}

Result<EpochStart> VerifierSession::StartEpoch(const SecretKey& key) {
  VCP_RETURN_IF_ERROR(CheckKey(key));
  if (!accepted_) return Status::InvalidArgument("the provider has not accepted the lease yet (add its acceptance)");
  const uint64_t now = options_.clock->NowMicros();
  if (now >= lease_.end_us)
    return Status::InvalidArgument("the lease ended at " + std::to_string(lease_.end_us) + " us");
  if (VerifierEpoch* open = OpenEpoch()) {
    if (!open->record) {
      // Within its deadline the open epoch's start is handed out again: a restart after a crash between logging
      // the start and delivering it resumes instead of losing the epoch.
      if (now <= open->start.start_us + lease_.epoch_deadline_us) return open->start;
      const std::string detail =
          "no record arrived within the " + std::to_string(lease_.epoch_deadline_us / 1000) + " ms deadline";
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
  VCP_RETURN_IF_ERROR(log_.Append(kVerifierStart, Serialize(start)));
  epochs_.push_back(VerifierEpoch{start, std::nullopt, 0, std::nullopt, std::nullopt, std::nullopt});
  return start;
}

Result<RecordOutcome> VerifierSession::ReceiveRecord(std::span<const uint8_t> record_bytes, const SecretKey& key) {
  const uint64_t arrival = options_.clock->NowMicros();
  VCP_RETURN_IF_ERROR(CheckKey(key));
  VerifierEpoch* open = OpenEpoch();
  if (open == nullptr) return Status::InvalidArgument("no epoch is open: start one first");
  RecordOutcome outcome;
  if (open->record) {
    if (Serialize(*open->record) != std::vector<uint8_t>(record_bytes.begin(), record_bytes.end())) {
      return Status::Rejected("epoch " + std::to_string(open->start.epoch) + " already has record " +
                              Short(RecordHash(*open->record)) + "; a second record for it is refused");
    }
  } else {
    RecordCheck check = CheckRecord(lease_, open->start, arrival, record_bytes);
    if (check.record) {
      VCP_RETURN_IF_ERROR(log_.Append(kVerifierArrival, U64Then(arrival, record_bytes)));
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
  if (!open->challenge) {
    Challenge challenge;
    challenge.lease_id = lease_id_;
    challenge.epoch = open->start.epoch;
    challenge.record_hash = RecordHash(*open->record);
    options_.random(challenge.randomness);
    VCP_RETURN_IF_ERROR(Sign(challenge, key));
    VCP_RETURN_IF_ERROR(log_.Append(kVerifierChallenge, Serialize(challenge)));
    open->challenge = challenge;
  }
  outcome.challenge = open->challenge;
  return outcome;
}

Result<Verdict> VerifierSession::ReceiveResponse(std::span<const uint8_t> response_bytes, const SecretKey& key) {
  VCP_RETURN_IF_ERROR(CheckKey(key));
  const Hash32 response_hash = Sha256(response_bytes);
  if (!epochs_.empty() && epochs_.back().verdict && epochs_.back().response_hash == response_hash) {
    return *epochs_.back().verdict;  // the same response again (a restart): the verdict it already got
  }
  VerifierEpoch* open = OpenEpoch();
  if (open == nullptr) return Status::InvalidArgument("no epoch is open");
  if (!open->record) {
    return Status::InvalidArgument("epoch " + std::to_string(open->start.epoch) + " has no record yet");
  }
  ChallengeValue expected;
  if (lease_.mode == LeaseMode::kInteractive) {
    expected = ChallengeValue{ChallengeKind::kVerifierRandomness, 0, open->challenge->randomness};
  } else {
    const BeaconSource* beacon = options_.beacon;
    if (beacon == nullptr) return Status::InvalidArgument("a beacon-mode lease needs the beacon source to verify");
    if (beacon->name() != lease_.beacon_name || beacon->genesis_us() != lease_.beacon_genesis_us ||
        beacon->period_us() != lease_.beacon_period_us) {
      return Status::InvalidArgument("beacon source \"" + beacon->name() + "\" is not the lease's beacon \"" +
                                     lease_.beacon_name + "\" (name, genesis and period must match)");
    }
    const uint64_t round = BeaconRoundFor(lease_, open->start.start_us);
    VCP_ASSIGN_OR_RETURN(Hash32 value, beacon->Value(round));
    expected = ChallengeValue{ChallengeKind::kBeacon, round, value};
  }
  const Finding finding = CheckResponse(lease_, open->start, *open->record, expected, response_bytes, options_.threads);
  if (!finding.ok() && !FailureClosesEpoch(finding.reason)) {
    return Status::Rejected(std::string(ReasonName(finding.reason)) + ": " + finding.detail +
                            " (the epoch stays open for a valid response)");
  }
  VCP_RETURN_IF_ERROR(log_.Append(kVerifierResponse, response_bytes));
  open->response_hash = response_hash;
  std::string detail = finding.detail;
  if (finding.ok()) {
    const uint64_t window = open->arrival_us - std::min(open->arrival_us, open->start.start_us);
    detail = std::to_string(lease_.samples_per_epoch) + " sampled tiles recomputed and proven; record after " +
             std::to_string(window / 1000) + " ms of a " + std::to_string(lease_.epoch_deadline_us / 1000) +
             " ms deadline";
  }
  return Close(*open, finding.reason, detail, key);
}

LeaseReport VerifierSession::Report(uint64_t now_us, double confidence) const {
  const std::vector<Verdict> all = verdicts();
  return SummarizeLease(lease_, all, now_us, confidence);
}

}  // namespace vcp
