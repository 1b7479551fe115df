// The verifier service's SQLite store (verifier_db.h). The log_entries rows are the sessions' logs; every other
// table is derived from them inside the same transaction, so a query never sees an entry without its rows.
#include "service/verifier_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <functional>
#include <utility>

#include "vcp/beacon.h"
#include "vcp/bytes.h"
#include "vcp/store_log.h"

namespace vcp::service {

namespace {

// Schema migrations: kMigrations[v] takes a database from user_version v to v + 1. A released step is never
// edited; a new schema version appends a step.
//
// log_entries' reference to leases is deferred to the commit, so the frame row of a lease's first entry can go in
// before the leases row derived from it, like every other entry's.
constexpr std::array<const char*, VerifierDatabase::kSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE leases (
  lease_id BLOB PRIMARY KEY NOT NULL,
  agent_url TEXT NOT NULL,
  lease BLOB NOT NULL,
  verifier_key BLOB NOT NULL,
  provider_key BLOB NOT NULL,
  mode TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  end_us INTEGER NOT NULL,
  audit_share REAL NOT NULL,
  created_us INTEGER NOT NULL,
  accepted_us INTEGER,
  acceptance BLOB,
  state TEXT NOT NULL CHECK (state IN ('active', 'ended'))
);
CREATE TABLE log_entries (
  lease_id BLOB NOT NULL REFERENCES leases(lease_id) DEFERRABLE INITIALLY DEFERRED,
  seq INTEGER NOT NULL,
  type INTEGER NOT NULL,
  payload BLOB NOT NULL,
  logged_us INTEGER NOT NULL,
  PRIMARY KEY (lease_id, seq)
) WITHOUT ROWID;
CREATE TABLE audit_plans (
  lease_id BLOB PRIMARY KEY NOT NULL REFERENCES leases(lease_id),
  schedule_seed BLOB NOT NULL,
  mean_gap_us INTEGER NOT NULL
);
CREATE TABLE epochs (
  lease_id BLOB NOT NULL REFERENCES leases(lease_id),
  epoch INTEGER NOT NULL,
  schedule INTEGER NOT NULL,
  start_us INTEGER NOT NULL,
  start BLOB NOT NULL,
  arrival_us INTEGER,
  record BLOB,
  record_hash BLOB,
  challenge BLOB,
  response BLOB,
  reason INTEGER,
  verdict BLOB,
  PRIMARY KEY (lease_id, epoch)
);
CREATE TABLE network_events (
  id INTEGER PRIMARY KEY,
  lease_id BLOB NOT NULL REFERENCES leases(lease_id),
  epoch INTEGER NOT NULL,
  at_us INTEGER NOT NULL,
  step TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX network_events_by_lease ON network_events(lease_id, id);
)sql",
};

constexpr size_t kLogHeaderBytes = 8;
constexpr size_t kFrameOverheadBytes = 4 + 4 + 1 + 32;  // magic, length, type | payload | checksum

std::string Short(const Hash32& id) { return ToHex(std::span<const uint8_t>(id.data(), 8)); }

// A SQLite failure as a Status: damage is kCorrupt, a constraint the entry breaks kInvalidArgument (the caller
// asked for something the stored rows cannot take), the rest kIoError.
Status SqlError(sqlite3* db, int rc, const std::string& where, std::string_view what) {
  const std::string text = where + ": " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corrupt(text);
    case SQLITE_CONSTRAINT:
      return Status::InvalidArgument(text);
    default:
      return Status::IoError(text);
  }
}

// One prepared statement, finalized on destruction. Binds and columns are 1-based and 0-based, as in SQLite.
class Stmt {
 public:
  static Result<Stmt> Prepare(sqlite3* db, const char* sql, const std::string& where) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqlError(db, rc, where, "cannot prepare a query");
    return Stmt(db, stmt, where);
  }
  Stmt(Stmt&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), where_(std::move(other.where_)) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  Stmt& Bind(int i, uint64_t v) {
    sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v));
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, std::span<const uint8_t> v) {
    // A zero-length blob is still a blob, not NULL (sqlite3_bind_blob binds NULL for a null pointer).
    static const uint8_t kEmpty = 0;
    sqlite3_bind_blob(stmt_, i, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }

  // True with a row to read, false when done.
  Result<bool> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqlError(db_, rc, where_, "query failed");
  }
  // Runs a statement that returns no rows.
  Status Run() {
    VCP_ASSIGN_OR_RETURN(const bool row, Step());
    (void)row;
    return Status::Ok();
  }

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  uint64_t U64(int col) const { return static_cast<uint64_t>(sqlite3_column_int64(stmt_, col)); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(stmt_, col))) : "";
  }
  std::vector<uint8_t> Blob(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
    return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(stmt_, col)) : std::vector<uint8_t>();
  }
  Result<Hash32> Hash(int col) const {
    const std::vector<uint8_t> bytes = Blob(col);
    Hash32 h{};
    if (bytes.size() != h.size()) {
      return Status::Corrupt(where_ + ": a stored hash has " + std::to_string(bytes.size()) + " bytes, not 32");
    }
    std::copy(bytes.begin(), bytes.end(), h.begin());
    return h;
  }

 private:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, std::string where) : db_(db), stmt_(stmt), where_(std::move(where)) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string where_;
};

Status Exec(sqlite3* db, const char* sql, const std::string& where, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : SqlError(db, rc, where, what);
}

// BEGIN IMMEDIATE ... COMMIT; rolled back unless committed.
class Transaction {
 public:
  static Result<Transaction> Begin(sqlite3* db, const std::string& where) {
    VCP_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", where, "cannot begin a transaction"));
    return Transaction(db, where);
  }
  Transaction(Transaction&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), where_(std::move(other.where_)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Status Commit() {
    Status s = Exec(db_, "COMMIT", where_, "cannot commit");
    if (s.ok()) db_ = nullptr;
    return s;
  }

 private:
  Transaction(sqlite3* db, std::string where) : db_(db), where_(std::move(where)) {}
  sqlite3* db_;
  std::string where_;
};

Result<int> PragmaInt(sqlite3* db, const char* sql, const std::string& where) {
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, sql, where));
  VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) return Status::Internal(where + ": " + sql + " returned no row");
  return static_cast<int>(stmt.U64(0));
}

std::span<const uint8_t> AsSpan(const Hash32& h) { return std::span<const uint8_t>(h.data(), h.size()); }

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

// One lease's entries in the database. Mirrors AppendLog: entries() is what was committed, and after a failed
// append the object refuses more until the lease is reopened (OpenLeaseLog reads what the database holds).
class DbLeaseLog final : public EntryLog {
 public:
  DbLeaseLog(VerifierDatabase* db, std::string agent_url, double audit_share)
      : db_(db), agent_url_(std::move(agent_url)), audit_share_(audit_share) {}

  Status Append(uint8_t type, std::span<const uint8_t> payload) override {
    if (broken_) {
      return Status::IoError(Describe() + ": an earlier append failed; reopen the lease's log to go on");
    }
    Status s = db_->AppendEntry(*this, type, payload);
    if (!s.ok()) broken_ = true;
    return s;
  }
  const std::vector<LogEntry>& entries() const override { return entries_; }
  const LogRecovery& recovery() const override { return recovery_; }
  std::string Describe() const override {
    return "database " + db_->path().string() + ", " +
           (lease_id_ ? "lease " + ToHex(AsSpan(*lease_id_)) : std::string("new lease"));
  }

 private:
  friend class VerifierDatabase;
  VerifierDatabase* db_;
  std::optional<Hash32> lease_id_;  // nullopt until the lease entry is committed
  std::string agent_url_;           // for the leases row the first entry inserts
  double audit_share_ = 0;
  std::vector<LogEntry> entries_;
  LogRecovery recovery_;                 // always intact: SQLite commits whole transactions or none
  uint64_t image_bytes_ = kLogHeaderBytes;  // size of the export image so far: the next frame's offset
  std::optional<uint64_t> last_epoch_;      // the last started epoch, which arrivals, challenges, verdicts name
  bool broken_ = false;
};

// ---------------------------------------------------------------------------------------------------------------

std::string VerifierDatabase::Where() const { return "verifierd database " + path_.string(); }

Result<std::unique_ptr<VerifierDatabase>> VerifierDatabase::Open(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_directory(file.parent_path().empty() ? "." : file.parent_path(), ec)) {
    return Status::IoError("verifierd database " + file.string() + ": its directory " +
                           file.parent_path().string() + " does not exist; create it first");
  }
  // The lock comes before SQLite touches the file, so a second process never reads a half-migrated schema.
  VCP_ASSIGN_OR_RETURN(StoreLock lock, StoreLock::AcquireFile(file.string() + ".lock", "verifierd database"));
  std::unique_ptr<VerifierDatabase> db(new VerifierDatabase(file, std::move(lock)));
  const int rc = sqlite3_open_v2(file.c_str(), &db->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                             SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqlError(db->db_, rc, db->Where(), "cannot open");
  VCP_RETURN_IF_ERROR(db->Configure());
  VCP_RETURN_IF_ERROR(db->Migrate());
  return db;
}

VerifierDatabase::~VerifierDatabase() { sqlite3_close_v2(db_); }

Status VerifierDatabase::Configure() {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  {
    // journal_mode answers with the mode in force: a file system without shared memory keeps the old one.
    VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_, "PRAGMA journal_mode=WAL", Where()));
    VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row || stmt.Text(0) != "wal") {
      return Status::IoError(Where() + ": cannot switch to write-ahead logging (journal mode is " +
                             (row ? stmt.Text(0) : std::string("unknown")) +
                             "); the database needs a local file system that supports WAL");
    }
  }
  // FULL: the WAL is fsynced at every commit, so a committed entry survives power loss, not only a crash.
  VCP_RETURN_IF_ERROR(Exec(db_, "PRAGMA synchronous=FULL", Where(), "cannot set synchronous=FULL"));
  VCP_RETURN_IF_ERROR(Exec(db_, "PRAGMA foreign_keys=ON", Where(), "cannot enable foreign keys"));
  return Status::Ok();
}

Status VerifierDatabase::Migrate() {
  VCP_ASSIGN_OR_RETURN(const int version, PragmaInt(db_, "PRAGMA user_version", Where()));
  if (version > kSchemaVersion) {
    return Status::InvalidArgument(Where() + " has schema version " + std::to_string(version) +
                                   ", newer than this vcp's " + std::to_string(kSchemaVersion) +
                                   "; run the vcp that wrote it, or a newer one (schemas are never downgraded)");
  }
  if (version < 0) {
    return Status::Corrupt(Where() + " has schema version " + std::to_string(version) +
                           "; versions run from 0 (empty) to " + std::to_string(kSchemaVersion));
  }
  if (version < kSchemaVersion) {
    VCP_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_, Where()));
    for (int v = version; v < kSchemaVersion; ++v) {
      VCP_RETURN_IF_ERROR(Exec(db_, kMigrations[size_t(v)], Where(),
                               "cannot migrate schema " + std::to_string(v) + " to " + std::to_string(v + 1)));
    }
    const std::string set_version = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
    VCP_RETURN_IF_ERROR(Exec(db_, set_version.c_str(), Where(), "cannot record the schema version"));
    VCP_RETURN_IF_ERROR(tx.Commit());
  }
  schema_version_ = kSchemaVersion;
  return Status::Ok();
}

Status VerifierDatabase::LeaseExists(const Hash32& lease_id) {
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_, "SELECT 1 FROM leases WHERE lease_id = ?", Where()));
  stmt.Bind(1, AsSpan(lease_id));
  VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) return Status::InvalidArgument(Where() + " has no lease " + ToHex(AsSpan(lease_id)));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------------
// Appending.

Status VerifierDatabase::AppendEntry(DbLeaseLog& log, uint8_t type, std::span<const uint8_t> payload) {
  std::lock_guard<std::mutex> guard(mu_);
  const bool first = log.entries_.empty();
  if (first != (type == uint8_t(VerifierEntry::kLease))) {
    return Status::InvalidArgument(log.Describe() + ": " +
                                   (first ? "the first entry of a lease's log is the lease, not " +
                                                std::string(LogEntryName(StoreRole::kVerifier, type))
                                          : std::string("a lease's log holds one lease entry, its first")));
  }
  Hash32 lease_id{};
  if (first) {
    Result<Lease> lease = ParseLease(payload);
    if (!lease.ok()) return lease.status().WithContext(log.Describe() + ": lease entry");
    lease_id = LeaseId(*lease);
  } else {
    lease_id = *log.lease_id_;
  }
  const uint64_t seq = log.entries_.size();
  VCP_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_, Where()));
  {
    VCP_ASSIGN_OR_RETURN(
        Stmt stmt, Stmt::Prepare(db_,
                                 "INSERT INTO log_entries (lease_id, seq, type, payload, logged_us) "
                                 "VALUES (?, ?, ?, ?, ?)",
                                 Where()));
    stmt.Bind(1, AsSpan(lease_id)).Bind(2, seq).Bind(3, uint64_t(type)).Bind(4, payload);
    stmt.Bind(5, SystemClock().NowMicros());
    if (Status s = stmt.Run(); !s.ok()) {
      if (s.code() == StatusCode::kInvalidArgument) {
        return Status::InvalidArgument(log.Describe() + ": entry " + std::to_string(seq) +
                                       " is already stored: another writer appended to this lease; one writer "
                                       "per lease (reopen its log)");
      }
      return s;
    }
  }
  const std::optional<Hash32> lease_before = log.lease_id_;
  if (first) log.lease_id_ = lease_id;  // the derived rows name it
  Status derived = AppendDerivedRows(log, type, payload);
  if (derived.ok()) derived = tx.Commit();
  if (!derived.ok()) {
    log.lease_id_ = lease_before;
    return derived.WithContext(log.Describe() + ": " + std::string(LogEntryName(StoreRole::kVerifier, type)) +
                               " entry " + std::to_string(seq) + " not stored");
  }
  log.entries_.push_back(LogEntry{type, std::vector<uint8_t>(payload.begin(), payload.end()), log.image_bytes_});
  log.image_bytes_ += kFrameOverheadBytes + payload.size();
  if (type == uint8_t(VerifierEntry::kStart)) {
    log.last_epoch_ = DecodeStartEntry(payload).value().start.epoch;  // decoded by AppendDerivedRows
  }
  return Status::Ok();
}

// The rows an entry derives, in the entry's transaction. The checks are the ones VerifierSession's replay makes,
// so the database never holds a log that the session would refuse to open.
Status VerifierDatabase::AppendDerivedRows(DbLeaseLog& log, uint8_t type, std::span<const uint8_t> payload) {
  const Hash32 lease_id = *log.lease_id_;
  const auto entry_error = [&](const Status& s) {
    return Status::InvalidArgument(std::string(s.message()));
  };
  const auto needs_epoch = [&]() -> Status {
    if (!log.last_epoch_) {
      return Status::InvalidArgument(std::string(LogEntryName(StoreRole::kVerifier, type)) +
                                     " before any epoch start");
    }
    return Status::Ok();
  };
  // UPDATE epochs SET <columns> for the last started epoch.
  const auto update_epoch = [&](const char* sql, const std::function<void(Stmt&)>& bind) -> Status {
    VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_, sql, Where()));
    bind(stmt);
    VCP_RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(db_) != 1) {
      return Status::Corrupt("epoch " + std::to_string(*log.last_epoch_) + " has no epochs row");
    }
    return Status::Ok();
  };

  switch (static_cast<VerifierEntry>(type)) {
    case VerifierEntry::kLease: {
      const Lease lease = ParseLease(payload).value();  // parsed by AppendEntry
      VCP_ASSIGN_OR_RETURN(
          Stmt stmt,
          Stmt::Prepare(db_,
                        "INSERT INTO leases (lease_id, agent_url, lease, verifier_key, provider_key, mode, start_us, "
                        "end_us, audit_share, created_us, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')",
                        Where()));
      stmt.Bind(1, AsSpan(lease_id)).Bind(2, std::string_view(log.agent_url_)).Bind(3, payload);
      stmt.Bind(4, std::span<const uint8_t>(lease.verifier_key)).Bind(5, std::span<const uint8_t>(lease.provider_key));
      stmt.Bind(6, LeaseModeName(lease.mode)).Bind(7, lease.start_us).Bind(8, lease.end_us);
      stmt.Bind(9, log.audit_share_).Bind(10, SystemClock().NowMicros());
      if (Status s = stmt.Run(); !s.ok()) {
        if (s.code() == StatusCode::kInvalidArgument) {
          return Status::InvalidArgument("lease " + ToHex(AsSpan(lease_id)) + " is already in the database");
        }
        return s;
      }
      return Status::Ok();
    }
    case VerifierEntry::kPlan: {
      Result<AuditPlanEntry> plan = DecodeAuditPlanEntry(payload);
      if (!plan.ok()) return entry_error(plan.status());
      VCP_ASSIGN_OR_RETURN(
          Stmt stmt, Stmt::Prepare(db_, "INSERT INTO audit_plans (lease_id, schedule_seed, mean_gap_us) VALUES (?, ?, ?)",
                                   Where()));
      stmt.Bind(1, AsSpan(lease_id)).Bind(2, AsSpan(plan->schedule_seed)).Bind(3, plan->mean_gap_us);
      return stmt.Run();
    }
    case VerifierEntry::kAcceptance: {
      Result<LeaseAcceptance> acceptance = ParseLeaseAcceptance(payload);
      if (!acceptance.ok()) return entry_error(acceptance.status());
      if (acceptance->lease_id != lease_id) {
        return Status::InvalidArgument("the acceptance is for lease " + Short(acceptance->lease_id) + ", not " +
                                       Short(lease_id));
      }
      VCP_ASSIGN_OR_RETURN(
          Stmt stmt, Stmt::Prepare(db_, "UPDATE leases SET accepted_us = ?, acceptance = ? WHERE lease_id = ?", Where()));
      stmt.Bind(1, acceptance->accepted_us).Bind(2, payload).Bind(3, AsSpan(lease_id));
      return stmt.Run();
    }
    case VerifierEntry::kStart: {
      Result<StartEntry> start = DecodeStartEntry(payload);
      if (!start.ok()) return entry_error(start.status());
      VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_,
                                                    "INSERT INTO epochs (lease_id, epoch, schedule, start_us, start) "
                                                    "VALUES (?, ?, ?, ?, ?)",
                                                    Where()));
      stmt.Bind(1, AsSpan(lease_id)).Bind(2, start->start.epoch).Bind(3, uint64_t(start->schedule));
      stmt.Bind(4, start->start.start_us).Bind(5, std::span<const uint8_t>(Serialize(start->start)));
      if (Status s = stmt.Run(); !s.ok()) {
        if (s.code() == StatusCode::kInvalidArgument) {
          return Status::InvalidArgument("epoch " + std::to_string(start->start.epoch) + " was already started");
        }
        return s;
      }
      return Status::Ok();
    }
    case VerifierEntry::kArrival: {
      VCP_RETURN_IF_ERROR(needs_epoch());
      Result<ArrivalEntry> arrival = DecodeArrivalEntry(payload);
      if (!arrival.ok()) return entry_error(arrival.status());
      const std::vector<uint8_t> record = Serialize(arrival->record);
      const Hash32 record_hash = RecordHash(arrival->record);
      return update_epoch(
          "UPDATE epochs SET arrival_us = ?, record = ?, record_hash = ? WHERE lease_id = ? AND epoch = ?",
          [&](Stmt& s) {
            s.Bind(1, arrival->arrival_us).Bind(2, std::span<const uint8_t>(record)).Bind(3, AsSpan(record_hash));
            s.Bind(4, AsSpan(lease_id)).Bind(5, *log.last_epoch_);
          });
    }
    case VerifierEntry::kChallenge: {
      Result<Challenge> challenge = ParseChallenge(payload);
      if (!challenge.ok()) return entry_error(challenge.status());
      VCP_RETURN_IF_ERROR(needs_epoch());
      return update_epoch("UPDATE epochs SET challenge = ? WHERE lease_id = ? AND epoch = ?", [&](Stmt& s) {
        s.Bind(1, payload).Bind(2, AsSpan(lease_id)).Bind(3, *log.last_epoch_);
      });
    }
    case VerifierEntry::kVerdict: {
      Result<Verdict> verdict = ParseVerdict(payload);
      if (!verdict.ok()) return entry_error(verdict.status());
      if (!log.last_epoch_ || *log.last_epoch_ != verdict->epoch) {
        return Status::InvalidArgument("verdict for epoch " + std::to_string(verdict->epoch) +
                                       ", which is not the last started");
      }
      return update_epoch("UPDATE epochs SET reason = ?, verdict = ? WHERE lease_id = ? AND epoch = ?", [&](Stmt& s) {
        s.Bind(1, uint64_t(verdict->reason)).Bind(2, payload).Bind(3, AsSpan(lease_id)).Bind(4, verdict->epoch);
      });
    }
    case VerifierEntry::kResponse:
      // Kept as evidence as given (the verdict that follows carries the outcome), so it is not parsed here.
      VCP_RETURN_IF_ERROR(needs_epoch());
      return update_epoch("UPDATE epochs SET response = ? WHERE lease_id = ? AND epoch = ?", [&](Stmt& s) {
        s.Bind(1, payload).Bind(2, AsSpan(lease_id)).Bind(3, *log.last_epoch_);
      });
  }
  return Status::InvalidArgument("entry type " + std::to_string(type) +
                                 " is not a verifier log entry; allowed: 1 (lease) to 8 (response)");
}

// ---------------------------------------------------------------------------------------------------------------
// Opening logs and queries.

Result<std::unique_ptr<EntryLog>> VerifierDatabase::CreateLeaseLog(std::string agent_url, double audit_share) {
  return std::unique_ptr<EntryLog>(new DbLeaseLog(this, std::move(agent_url), audit_share));
}

Result<std::unique_ptr<EntryLog>> VerifierDatabase::OpenLeaseLog(const Hash32& lease_id) {
  std::lock_guard<std::mutex> guard(mu_);
  VCP_ASSIGN_OR_RETURN(Stmt lease, Stmt::Prepare(db_, "SELECT agent_url, audit_share FROM leases WHERE lease_id = ?",
                                                 Where()));
  lease.Bind(1, AsSpan(lease_id));
  VCP_ASSIGN_OR_RETURN(const bool found, lease.Step());
  if (!found) return Status::InvalidArgument(Where() + " has no lease " + ToHex(AsSpan(lease_id)));
  auto log = std::make_unique<DbLeaseLog>(this, lease.Text(0), lease.Double(1));
  log->lease_id_ = lease_id;
  VCP_ASSIGN_OR_RETURN(
      Stmt rows, Stmt::Prepare(db_, "SELECT seq, type, payload FROM log_entries WHERE lease_id = ? ORDER BY seq",
                               Where()));
  rows.Bind(1, AsSpan(lease_id));
  for (;;) {
    VCP_ASSIGN_OR_RETURN(const bool row, rows.Step());
    if (!row) break;
    const uint64_t seq = rows.U64(0);
    if (seq != log->entries_.size()) {
      return Status::Corrupt(log->Describe() + ": entry " + std::to_string(log->entries_.size()) +
                             " is missing (the next stored is " + std::to_string(seq) + ")");
    }
    LogEntry entry{static_cast<uint8_t>(rows.U64(1)), rows.Blob(2), log->image_bytes_};
    if (entry.type == uint8_t(VerifierEntry::kStart)) {
      Result<StartEntry> start = DecodeStartEntry(entry.payload);
      if (!start.ok()) return start.status().WithContext(log->Describe() + ": entry " + std::to_string(seq));
      log->last_epoch_ = start->start.epoch;
    }
    log->image_bytes_ += kFrameOverheadBytes + entry.payload.size();
    log->entries_.push_back(std::move(entry));
  }
  return std::unique_ptr<EntryLog>(std::move(log));
}

namespace {

constexpr const char* kLeaseColumns =
    "SELECT lease_id, agent_url, lease, audit_share, created_us, accepted_us IS NOT NULL, state FROM leases ";

Result<LeaseRow> ReadLeaseRow(const Stmt& stmt, const std::string& where) {
  LeaseRow row;
  VCP_ASSIGN_OR_RETURN(row.lease_id, stmt.Hash(0));
  row.agent_url = stmt.Text(1);
  Result<Lease> lease = ParseLease(stmt.Blob(2));
  if (!lease.ok()) {
    return Status::Corrupt(where + ": the stored lease " + Short(row.lease_id) +
                           " does not parse: " + std::string(lease.status().message()));
  }
  row.lease = std::move(lease).value();
  row.audit_share = stmt.Double(3);
  row.created_us = stmt.U64(4);
  row.accepted = stmt.U64(5) != 0;
  row.state = stmt.Text(6);
  return row;
}

}  // namespace

Result<std::vector<LeaseRow>> VerifierDatabase::ListLeases() {
  std::lock_guard<std::mutex> guard(mu_);
  const std::string sql = std::string(kLeaseColumns) + "ORDER BY rowid";
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_, sql.c_str(), Where()));
  std::vector<LeaseRow> out;
  for (;;) {
    VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    VCP_ASSIGN_OR_RETURN(LeaseRow lease, ReadLeaseRow(stmt, Where()));
    out.push_back(std::move(lease));
  }
  return out;
}

Result<LeaseRow> VerifierDatabase::GetLease(const Hash32& lease_id) {
  std::lock_guard<std::mutex> guard(mu_);
  const std::string sql = std::string(kLeaseColumns) + "WHERE lease_id = ?";
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_, sql.c_str(), Where()));
  stmt.Bind(1, AsSpan(lease_id));
  VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) return Status::InvalidArgument(Where() + " has no lease " + ToHex(AsSpan(lease_id)));
  return ReadLeaseRow(stmt, Where());
}

Status VerifierDatabase::SetLeaseState(const Hash32& lease_id, std::string_view state) {
  if (state != "active" && state != "ended") {
    return Status::InvalidArgument("lease state \"" + std::string(state) + "\" is unknown; allowed: active, ended");
  }
  std::lock_guard<std::mutex> guard(mu_);
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_, "UPDATE leases SET state = ? WHERE lease_id = ?", Where()));
  stmt.Bind(1, state).Bind(2, AsSpan(lease_id));
  VCP_RETURN_IF_ERROR(stmt.Run());
  if (sqlite3_changes(db_) != 1) return Status::InvalidArgument(Where() + " has no lease " + ToHex(AsSpan(lease_id)));
  return Status::Ok();
}

Result<std::vector<EpochRow>> VerifierDatabase::Epochs(const Hash32& lease_id) {
  std::lock_guard<std::mutex> guard(mu_);
  VCP_RETURN_IF_ERROR(LeaseExists(lease_id));
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_,
                                                "SELECT epoch, schedule, start_us, arrival_us, record_hash, reason "
                                                "FROM epochs WHERE lease_id = ? ORDER BY epoch",
                                                Where()));
  stmt.Bind(1, AsSpan(lease_id));
  std::vector<EpochRow> out;
  for (;;) {
    VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    EpochRow e;
    e.epoch = stmt.U64(0);
    e.schedule = static_cast<EpochSchedule>(stmt.U64(1));
    e.start_us = stmt.U64(2);
    e.arrival_us = stmt.IsNull(3) ? 0 : stmt.U64(3);
    if (!stmt.IsNull(4)) {
      VCP_ASSIGN_OR_RETURN(e.record_hash, stmt.Hash(4));
    }
    if (!stmt.IsNull(5)) {
      const uint64_t code = stmt.U64(5);
      if (code > 0xffff || !IsKnownReason(uint16_t(code))) {
        return Status::Corrupt(Where() + ": epoch " + std::to_string(e.epoch) + " has unknown reason code " +
                               std::to_string(code));
      }
      e.reason = static_cast<Reason>(code);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Status VerifierDatabase::RecordNetworkEvent(const NetworkEvent& event) {
  std::lock_guard<std::mutex> guard(mu_);
  VCP_RETURN_IF_ERROR(LeaseExists(event.lease_id));
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_,
                                                "INSERT INTO network_events (lease_id, epoch, at_us, step, outcome, "
                                                "detail) VALUES (?, ?, ?, ?, ?, ?)",
                                                Where()));
  stmt.Bind(1, AsSpan(event.lease_id)).Bind(2, event.epoch).Bind(3, event.at_us);
  stmt.Bind(4, std::string_view(event.step)).Bind(5, std::string_view(event.outcome));
  stmt.Bind(6, std::string_view(event.detail));
  return stmt.Run();
}

Result<std::vector<NetworkEvent>> VerifierDatabase::NetworkEvents(const Hash32& lease_id) {
  std::lock_guard<std::mutex> guard(mu_);
  VCP_RETURN_IF_ERROR(LeaseExists(lease_id));
  VCP_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db_,
                                                "SELECT epoch, at_us, step, outcome, detail FROM network_events "
                                                "WHERE lease_id = ? ORDER BY id",
                                                Where()));
  stmt.Bind(1, AsSpan(lease_id));
  std::vector<NetworkEvent> out;
  for (;;) {
    VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    out.push_back(NetworkEvent{lease_id, stmt.U64(0), stmt.U64(1), stmt.Text(2), stmt.Text(3), stmt.Text(4)});
  }
  return out;
}

Result<std::vector<uint8_t>> VerifierDatabase::ExportVerifierLog(const Hash32& lease_id) {
  std::lock_guard<std::mutex> guard(mu_);
  VCP_RETURN_IF_ERROR(LeaseExists(lease_id));
  VCP_ASSIGN_OR_RETURN(
      Stmt stmt, Stmt::Prepare(db_, "SELECT type, payload FROM log_entries WHERE lease_id = ? ORDER BY seq", Where()));
  stmt.Bind(1, AsSpan(lease_id));
  std::vector<uint8_t> image = EncodeLogHeader(StoreRole::kVerifier);
  for (;;) {
    VCP_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    const std::vector<uint8_t> frame = EncodeLogFrame(static_cast<uint8_t>(stmt.U64(0)), stmt.Blob(1));
    image.insert(image.end(), frame.begin(), frame.end());
  }
  return image;
}

}  // namespace vcp::service
