// lib/service/verifier_db.h: the verifier service's store, one SQLite file (Debian's libsqlite3) holding every
// lease's entry log plus rows derived from it for queries (leases, audit plans, epochs) and the network faults the
// service met talking to agents.
//
// The log entries are the truth: the same types and payloads as a verifier.log (vcp/store_log.h), so
// VerifierSession runs unchanged over CreateLeaseLog / OpenLeaseLog, and ExportVerifierLog turns them back into a
// verifier.log image for offline checks. Every EntryLog::Append is one SQLite transaction that inserts the frame
// row and updates the derived rows of its type, committed with journal_mode=WAL and synchronous=FULL (the WAL is
// fsynced at every commit), so an entry is durable when Append returns and a crash (kill -9, power loss) leaves
// each entry either wholly present, with its derived rows, or absent. The sessions append before they hand a
// message to the other side, so nothing the other side was told is lost and nothing is counted twice on restart.
//
// Schema (kSchemaVersion 1; PRAGMA user_version holds the version, migrations run in one transaction at Open):
//   leases(lease_id BLOB PK, agent_url, lease BLOB, verifier_key BLOB, provider_key BLOB, mode, start_us, end_us,
//          audit_share REAL, created_us, accepted_us NULL, acceptance BLOB NULL, state TEXT)
//   log_entries(lease_id, seq, type, payload BLOB, logged_us, PK(lease_id, seq))
//   audit_plans(lease_id PK, schedule_seed BLOB, mean_gap_us)
//   epochs(lease_id, epoch, schedule, start_us, start BLOB, arrival_us, record BLOB, record_hash BLOB,
//          challenge BLOB, response BLOB, reason INTEGER NULL, verdict BLOB NULL, PK(lease_id, epoch))
//   network_events(id INTEGER PK, lease_id, epoch, at_us, step, outcome, detail)
//
// One process per database: Open holds an exclusive lock on FILE.lock (StoreLock::AcquireFile) until the database
// object is destroyed, so a second verifierd on the same file is refused at once (kUnavailable, naming the holder).
//
// Ownership: VerifierDatabase owns its SQLite connection and the lock. The EntryLog objects it hands out borrow
// it and must not outlive it. Thread safety: every method and every EntryLog::Append is thread-safe (one mutex
// around the connection); one EntryLog object is used by one thread at a time (its session's). Two logs of the
// same lease must not both write: the second writer's Append fails (the entry's sequence number is taken).
// Errors: kInvalidArgument for an unknown lease, a bad state name, a schema newer than this binary's or an entry
// that cannot be the next of its lease; kCorrupt when stored rows do not form a log; kIoError for SQLite failures,
// naming the file and SQLite's message; kUnavailable when another process holds the database.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/hash.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/store.h"

struct sqlite3;

namespace vcp::service {

struct LeaseRow {
  Hash32 lease_id{};
  std::string agent_url;
  Lease lease;
  double audit_share = 0;
  uint64_t created_us = 0;  // the system clock when the lease entry was committed
  bool accepted = false;    // the provider's acceptance entry is logged
  std::string state;  // "active" | "ended"
};

struct EpochRow {  // derived from the log, kept in the epochs table
  uint64_t epoch = 0;
  EpochSchedule schedule = EpochSchedule::kOnDemand;
  uint64_t start_us = 0, arrival_us = 0;  // arrival_us: 0 while no record arrived
  std::optional<Hash32> record_hash;
  std::optional<Reason> reason;  // the verdict's; nullopt while open
};

struct NetworkEvent {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  uint64_t at_us = 0;
  std::string step;     // "offer" | "epoch-start" | "challenge" | "beacon-response"
  std::string outcome;  // "unreachable" (no HTTP answer) | "http-<status>" (an error answer)
  std::string detail;
};

class DbLeaseLog;

class VerifierDatabase {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates FILE (parent dir must exist), takes FILE.lock (StoreLock::AcquireFile, "verifierd database"),
  // journal_mode=WAL, synchronous=FULL, foreign_keys=ON, busy_timeout; migrates up to kSchemaVersion inside a
  // transaction (PRAGMA user_version). A newer schema than the binary's: kInvalidArgument naming both versions.
  static Result<std::unique_ptr<VerifierDatabase>> Open(const std::filesystem::path& file);
  ~VerifierDatabase();
  VerifierDatabase(const VerifierDatabase&) = delete;
  VerifierDatabase& operator=(const VerifierDatabase&) = delete;

  int schema_version() const { return schema_version_; }
  const std::filesystem::path& path() const { return path_; }

  // A new lease's entry log (empty). Its first Append must be the kLease entry: that append inserts the leases row
  // (with agent_url, audit_share) and the frame in one transaction. Every Append = one transaction: the frame row
  // (lease_id, seq, type, payload) plus the derived rows for its type (epochs / verdicts / acceptance / plan).
  // An entry the derived rows cannot take (a payload that does not decode, a record before any epoch start, a
  // verdict for an epoch other than the last started, a second start of one epoch index) fails the append
  // (kInvalidArgument), stores nothing, and the log refuses further appends, like AppendLog after a failure.
  // LogEntry::offset of each entry is its frame's offset in the ExportVerifierLog image.
  Result<std::unique_ptr<EntryLog>> CreateLeaseLog(std::string agent_url, double audit_share);
  Result<std::unique_ptr<EntryLog>> OpenLeaseLog(const Hash32& lease_id);  // kInvalidArgument: unknown lease
  Result<std::vector<LeaseRow>> ListLeases();  // in creation order
  Result<LeaseRow> GetLease(const Hash32& lease_id);
  [[nodiscard]] Status SetLeaseState(const Hash32& lease_id, std::string_view state);
  Result<std::vector<EpochRow>> Epochs(const Hash32& lease_id);  // by epoch index
  // kInvalidArgument for an unknown lease.
  [[nodiscard]] Status RecordNetworkEvent(const NetworkEvent& event);
  Result<std::vector<NetworkEvent>> NetworkEvents(const Hash32& lease_id);  // in the order recorded
  // The lease's entries as a verifier.log image: EncodeLogHeader(kVerifier) + EncodeLogFrame per entry, so a
  // third party runs `vcp report --store DIR` / `vcp inspect` on DIR/verifier.log offline.
  Result<std::vector<uint8_t>> ExportVerifierLog(const Hash32& lease_id);

 private:
  friend class DbLeaseLog;
  VerifierDatabase(std::filesystem::path path, StoreLock lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  Status Configure();
  Status Migrate();
  // One entry of `log` in one transaction (DbLeaseLog::Append). Takes mu_.
  Status AppendEntry(DbLeaseLog& log, uint8_t type, std::span<const uint8_t> payload);
  Status AppendDerivedRows(DbLeaseLog& log, uint8_t type, std::span<const uint8_t> payload);
  Status LeaseExists(const Hash32& lease_id);  // mu_ held; kInvalidArgument when unknown
  std::string Where() const;                   // "verifierd database FILE"

  std::filesystem::path path_;
  StoreLock lock_;  // held for the connection's whole life
  mutable std::mutex mu_;
  sqlite3* db_ = nullptr;
  int schema_version_ = 0;
};

}  // namespace vcp::service
