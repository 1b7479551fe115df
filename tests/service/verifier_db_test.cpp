// The verifier service's SQLite store: schema and migrations, one writer per file, sessions over its lease logs
// equal to the file store's, the export image, atomic appends (a failing derived row leaves no frame), and a
// process killed with SIGKILL while appending loses nothing it reported committed.
#include "service/verifier_db.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "protocol_fixture.h"
#include "vcp/lease_session.h"
#include "vcp/store.h"
#include "vcp/store_log.h"

namespace vcp::service {
namespace {

using testing::kT0;
using testing::Must;
using testing::Parties;
using testing::TempDir;

// A second, raw connection to the file, to look at what was committed without the code under test.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "raw open of " << file << ": " << sqlite3_errmsg(db_);
    }
  }
  ~RawDb() { sqlite3_close(db_); }
  // The first column of the first row as text ("" when no row).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return "";
    }
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) ADD_FAILURE() << sql << ": " << error;
    sqlite3_free(error);
  }

 private:
  sqlite3* db_ = nullptr;
};

void ExpectSameEntries(const std::vector<LogEntry>& a, const std::vector<LogEntry>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].type, b[i].type) << "entry " << i;
    EXPECT_EQ(a[i].payload, b[i].payload) << "entry " << i;
  }
}

// Entry payloads of a tiny lease signed by the fixture's verifier key, for feeding a log directly.
struct Entries {
  SecretKey verifier = testing::KeyFrom(0x31), provider = testing::KeyFrom(0x32);
  Lease lease = testing::SignedTinyLease(verifier, provider, LeaseMode::kInteractive);
  Hash32 id = LeaseId(lease);
  std::vector<uint8_t> LeaseBytes() const { return Serialize(lease); }
  std::vector<uint8_t> Plan() const { return EncodeAuditPlanEntry({testing::TestHash("seed"), 1'000'000}); }
  std::vector<uint8_t> Acceptance() const {
    LeaseAcceptance a;
    a.lease_id = id;
    a.accepted_us = kT0 + 5;
    Must(Sign(a, provider), "sign acceptance");
    return Serialize(a);
  }
  std::vector<uint8_t> Start(uint64_t epoch) const {
    return EncodeStartEntry(EpochSchedule::kOnDemand,
                            testing::SignedStart(lease, verifier, epoch, testing::TestHash("beacon", epoch), id,
                                                 kT0 + 1000 + epoch));
  }
  std::vector<uint8_t> Verdict(uint64_t epoch) const {
    vcp::Verdict v;
    v.lease_id = id;
    v.epoch = epoch;
    v.reason = Reason::kMissed;
    v.start_us = kT0 + 1000 + epoch;
    Must(Sign(v, verifier), "sign verdict");
    return Serialize(v);
  }
};

TEST(VerifierDb, MigratesAnEmptyFileAndANewOne) {
  TempDir dir;
  const std::filesystem::path empty = dir.path() / "empty.db";
  std::ofstream(empty).close();  // 0 bytes: SQLite's empty database, schema version 0
  for (const auto& file : {empty, dir.path() / "new.db"}) {
    {
      ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(file));
      EXPECT_EQ(db->schema_version(), VerifierDatabase::kSchemaVersion);
      EXPECT_EQ(db->path(), file);
      ASSERT_OK_AND_ASSIGN(const auto leases, db->ListLeases());
      EXPECT_TRUE(leases.empty());
    }
    RawDb raw(file);
    EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(VerifierDatabase::kSchemaVersion));
    EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal") << "WAL is a property of the file once set";
    for (const char* table : {"leases", "log_entries", "audit_plans", "epochs", "network_events"}) {
      EXPECT_EQ(raw.Query(std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '") +
                          table + "'"),
                "1")
          << table;
    }
  }
  // Opening a migrated file again changes nothing.
  ASSERT_OK_AND_ASSIGN(auto again, VerifierDatabase::Open(empty));
  EXPECT_EQ(again->schema_version(), VerifierDatabase::kSchemaVersion);
}

TEST(VerifierDb, RefusesASchemaNewerThanItsOwn) {
  TempDir dir;
  const std::filesystem::path file = dir.path() / "v.db";
  { ASSERT_OK(VerifierDatabase::Open(file)); }
  RawDb(file).Exec("PRAGMA user_version = " + std::to_string(VerifierDatabase::kSchemaVersion + 1));
  const auto db = VerifierDatabase::Open(file);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
  const std::string message(db.status().message());
  EXPECT_NE(message.find("schema version " + std::to_string(VerifierDatabase::kSchemaVersion + 1)), std::string::npos)
      << message;
  EXPECT_NE(message.find("this vcp's " + std::to_string(VerifierDatabase::kSchemaVersion)), std::string::npos)
      << message;
}

TEST(VerifierDb, OneProcessAtATimeAndAMissingDirectoryIsNamed) {
  TempDir dir;
  const std::filesystem::path file = dir.path() / "v.db";
  ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(file));
  const auto second = VerifierDatabase::Open(file);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
  EXPECT_NE(second.status().ToString().find("verifierd database"), std::string::npos) << second.status().ToString();
  db.reset();
  EXPECT_TRUE(VerifierDatabase::Open(file).ok()) << "the lock goes with the database object";

  const auto missing = VerifierDatabase::Open(dir.path() / "no-such-dir" / "v.db");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("does not exist"), std::string::npos) << missing.status().ToString();
}

// The same lease over the database and over a file store, with the same randomness and clock: every entry is
// byte-equal, the derived rows say what the session says, and reopening either gives the same state.
TEST(VerifierDb, ASessionOverTheDatabaseMatchesTheFileStore) {
  Parties t;  // file store, randomness seed 7
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(dir.path() / "v.db"));
  VerifierOptions options = t.voptions;
  options.random = testing::SeededRandom(7);
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = t.provider.public_key();
  ASSERT_OK_AND_ASSIGN(auto log, db->CreateLeaseLog("https://agent.example:8443", 0.01));
  EXPECT_NE(log->Describe().find("new lease"), std::string::npos) << log->Describe();
  ASSERT_OK_AND_ASSIGN(VerifierSession m, VerifierSession::Create(std::move(log), terms, t.verifier, 0.01, options));
  ASSERT_EQ(m.lease_id(), LeaseId(t.lease));
  {
    ASSERT_OK_AND_ASSIGN(const LeaseRow row, db->GetLease(m.lease_id()));
    EXPECT_FALSE(row.accepted);
  }
  ASSERT_OK(m.AddAcceptance(t.acceptance));

  // Epoch 0 passes on both.
  ASSERT_OK_AND_ASSIGN(const EpochStart start, m.StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const EpochStart file_start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_EQ(Serialize(start), Serialize(file_start));
  t.clock.Advance(2000);
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  t.clock.Advance(3000);
  const std::vector<uint8_t> record = Serialize(proved.record);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome got, m.ReceiveRecord(record, t.verifier));
  ASSERT_OK_AND_ASSIGN(const RecordOutcome file_got, t.V().ReceiveRecord(record, t.verifier));
  ASSERT_TRUE(got.challenge.has_value()) << got.finding.detail;
  ASSERT_EQ(Serialize(*got.challenge), Serialize(*file_got.challenge));
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, t.P().Respond(*got.challenge, t.provider, t.poptions));
  const std::vector<uint8_t> response = Serialize(responded.response);
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, m.ReceiveResponse(response, t.verifier));
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome file_closed, t.V().ReceiveResponse(response, t.verifier));
  ASSERT_TRUE(closed.verdict.has_value()) << closed.finding.detail;
  EXPECT_EQ(closed.verdict->reason, Reason::kPass) << closed.verdict->detail;

  // Epoch 1 is missed: closed as time passes, with no next start.
  t.clock.Advance(60'000'000);
  ASSERT_OK(m.StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  t.clock.Advance(testing::kTinyDeadlineUs + 1);
  ASSERT_OK_AND_ASSIGN(const auto missed, m.CloseOverdueEpoch(t.verifier, 0));
  ASSERT_OK(t.V().CloseOverdueEpoch(t.verifier, 0));
  ASSERT_TRUE(missed.has_value());
  EXPECT_EQ(missed->reason, Reason::kMissed);

  ASSERT_OK_AND_ASSIGN(AppendLog file, AppendLog::Open(t.vdir.path() / "verifier.log", StoreRole::kVerifier));
  ASSERT_OK_AND_ASSIGN(auto reopened_log, db->OpenLeaseLog(m.lease_id()));
  EXPECT_NE(reopened_log->Describe().find(ToHex(m.lease_id())), std::string::npos) << reopened_log->Describe();
  ExpectSameEntries(reopened_log->entries(), file.entries());
  // The entries' offsets are their frames' in the export image, as in the file.
  for (size_t i = 0; i < file.entries().size(); ++i) {
    EXPECT_EQ(reopened_log->entries()[i].offset, file.entries()[i].offset) << i;
  }

  // The derived rows.
  ASSERT_OK_AND_ASSIGN(const LeaseRow row, db->GetLease(m.lease_id()));
  EXPECT_EQ(row.lease_id, m.lease_id());
  EXPECT_EQ(row.agent_url, "https://agent.example:8443");
  EXPECT_EQ(Serialize(row.lease), Serialize(t.lease));
  EXPECT_DOUBLE_EQ(row.audit_share, 0.01);
  EXPECT_TRUE(row.accepted);
  EXPECT_EQ(row.state, "active");
  EXPECT_GT(row.created_us, 0u);
  ASSERT_OK_AND_ASSIGN(const std::vector<EpochRow> epochs, db->Epochs(m.lease_id()));
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0].epoch, 0u);
  EXPECT_EQ(epochs[0].schedule, EpochSchedule::kOnDemand);
  EXPECT_EQ(epochs[0].start_us, start.start_us);
  EXPECT_EQ(epochs[0].arrival_us, start.start_us + 5000);
  ASSERT_TRUE(epochs[0].record_hash.has_value());
  EXPECT_EQ(*epochs[0].record_hash, RecordHash(proved.record));
  EXPECT_EQ(epochs[0].reason, std::optional<Reason>(Reason::kPass));
  EXPECT_EQ(epochs[1].epoch, 1u);
  EXPECT_EQ(epochs[1].arrival_us, 0u);
  EXPECT_FALSE(epochs[1].record_hash.has_value());
  EXPECT_EQ(epochs[1].reason, std::optional<Reason>(Reason::kMissed));
  RawDb raw(db->path());
  const std::string lease_hex = "x'" + ToHex(m.lease_id()) + "'";
  EXPECT_EQ(raw.Query("SELECT lower(hex(challenge)) FROM epochs WHERE epoch = 0 AND lease_id = " + lease_hex),
            ToHex(Serialize(*got.challenge)));
  EXPECT_EQ(raw.Query("SELECT lower(hex(response)) FROM epochs WHERE epoch = 0 AND lease_id = " + lease_hex),
            ToHex(response));
  EXPECT_EQ(raw.Query("SELECT mean_gap_us > 0 FROM audit_plans WHERE lease_id = " + lease_hex), "1");

  // Reopened, the session is where it was.
  ASSERT_OK_AND_ASSIGN(VerifierSession again, VerifierSession::Open(std::move(reopened_log), options));
  EXPECT_TRUE(again.accepted());
  ASSERT_EQ(again.verdicts().size(), 2u);
  EXPECT_EQ(Serialize(again.verdicts()[0]), Serialize(*closed.verdict));
  EXPECT_EQ(Serialize(again.verdicts()[1]), Serialize(*missed));
  EXPECT_EQ(again.Report(t.clock.NowMicros()).proven_operations, t.V().Report(t.clock.NowMicros()).proven_operations);
}

TEST(VerifierDb, ExportedLogParsesAndOpensAsAFileStore) {
  Parties t;
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(dir.path() / "v.db"));
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = t.provider.public_key();
  ASSERT_OK_AND_ASSIGN(auto log, db->CreateLeaseLog("https://a", 0.01));
  ASSERT_OK_AND_ASSIGN(VerifierSession v,
                       VerifierSession::Create(std::move(log), terms, t.verifier, 0.01, t.voptions));
  LeaseAcceptance acceptance;
  acceptance.lease_id = v.lease_id();
  acceptance.accepted_us = kT0;
  ASSERT_OK(Sign(acceptance, t.provider));
  ASSERT_OK(v.AddAcceptance(acceptance));
  ASSERT_OK(v.StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  t.clock.Advance(testing::kTinyDeadlineUs + 1);
  ASSERT_OK(v.StartEpoch(t.verifier, EpochSchedule::kOnDemand));  // closes epoch 0 missed

  ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> image, db->ExportVerifierLog(v.lease_id()));
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(image));
  EXPECT_EQ(scan.role, StoreRole::kVerifier);
  EXPECT_FALSE(scan.recovery.torn_tail);
  ASSERT_OK_AND_ASSIGN(auto stored, db->OpenLeaseLog(v.lease_id()));
  ExpectSameEntries(scan.entries, stored->entries());
  for (size_t i = 0; i < scan.entries.size(); ++i) EXPECT_EQ(scan.entries[i].offset, stored->entries()[i].offset);

  const std::filesystem::path out = dir.path() / "export";
  std::filesystem::create_directories(out);
  {
    std::ofstream f(out / "verifier.log", std::ios::binary);
    f.write(reinterpret_cast<const char*>(image.data()), std::streamsize(image.size()));
  }
  ASSERT_OK_AND_ASSIGN(const VerifierSession offline, VerifierSession::Open(out, t.voptions));
  EXPECT_EQ(offline.lease_id(), v.lease_id());
  ASSERT_EQ(offline.epochs().size(), 2u);
  ASSERT_EQ(offline.verdicts().size(), 1u);
  EXPECT_EQ(Serialize(offline.verdicts()[0]), Serialize(v.verdicts()[0]));

  EXPECT_EQ(db->ExportVerifierLog(testing::TestHash("no such lease")).status().code(), StatusCode::kInvalidArgument);
}

TEST(VerifierDb, AFailedAppendStoresNothingAndTheLogRefusesMore) {
  TempDir dir;
  const Entries e;
  ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(dir.path() / "v.db"));
  RawDb raw(db->path());
  const auto frames = [&] { return raw.Query("SELECT count(*) FROM log_entries"); };

  {  // A log must start with its lease.
    ASSERT_OK_AND_ASSIGN(auto log, db->CreateLeaseLog("https://a", 0.01));
    const Status s = log->Append(uint8_t(VerifierEntry::kPlan), e.Plan());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ(frames(), "0");
  }
  ASSERT_OK_AND_ASSIGN(auto log, db->CreateLeaseLog("https://a", 0.01));
  ASSERT_OK(log->Append(uint8_t(VerifierEntry::kLease), e.LeaseBytes()));
  ASSERT_OK(log->Append(uint8_t(VerifierEntry::kPlan), e.Plan()));
  ASSERT_EQ(frames(), "2");

  // Each of these inserts its frame row and then fails on the derived rows, in the one transaction: the frame goes
  // with them. Each fails on a fresh log of the lease (a failed log refuses further appends).
  struct Bad {
    const char* what;
    uint8_t type;
    std::vector<uint8_t> payload;
  };
  const std::vector<uint8_t> garbage = {1, 2, 3};
  const std::vector<Bad> bad = {
      {"a start that does not decode", uint8_t(VerifierEntry::kStart), garbage},
      {"an arrival before any start", uint8_t(VerifierEntry::kArrival), garbage},
      {"a second plan (audit_plans primary key)", uint8_t(VerifierEntry::kPlan), e.Plan()},
      {"an acceptance that does not parse", uint8_t(VerifierEntry::kAcceptance), garbage},
      {"a verdict with no epoch started", uint8_t(VerifierEntry::kVerdict), e.Verdict(0)},
      {"an unknown entry type", 99, garbage},
      {"a second lease entry", uint8_t(VerifierEntry::kLease), e.LeaseBytes()},
  };
  for (const Bad& b : bad) {
    ASSERT_OK_AND_ASSIGN(auto fresh, db->OpenLeaseLog(e.id));
    const Status s = fresh->Append(b.type, b.payload);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << b.what << ": " << s.ToString();
    EXPECT_EQ(frames(), "2") << b.what;
    EXPECT_EQ(fresh->entries().size(), 2u) << b.what;
    const Status after = fresh->Append(uint8_t(VerifierEntry::kAcceptance), e.Acceptance());
    EXPECT_FALSE(after.ok()) << b.what << ": a failed log refuses further appends";
    EXPECT_EQ(frames(), "2") << b.what;
  }

  // The rows derived from valid entries: a start, then the same epoch index again fails on the epochs primary key
  // after its frame row went in, and a verdict for an epoch other than the last started.
  {
    ASSERT_OK_AND_ASSIGN(auto fresh, db->OpenLeaseLog(e.id));
    ASSERT_OK(fresh->Append(uint8_t(VerifierEntry::kAcceptance), e.Acceptance()));
    ASSERT_OK(fresh->Append(uint8_t(VerifierEntry::kStart), e.Start(0)));
    ASSERT_EQ(frames(), "4");
    const Status twice = fresh->Append(uint8_t(VerifierEntry::kStart), e.Start(0));
    EXPECT_EQ(twice.code(), StatusCode::kInvalidArgument) << twice.ToString();
    EXPECT_NE(twice.ToString().find("already started"), std::string::npos) << twice.ToString();
    EXPECT_EQ(frames(), "4");
  }
  {
    ASSERT_OK_AND_ASSIGN(auto fresh, db->OpenLeaseLog(e.id));
    const Status other = fresh->Append(uint8_t(VerifierEntry::kVerdict), e.Verdict(5));
    EXPECT_EQ(other.code(), StatusCode::kInvalidArgument) << other.ToString();
    EXPECT_EQ(frames(), "4");
    EXPECT_EQ(raw.Query("SELECT count(*) FROM epochs WHERE verdict IS NOT NULL"), "0");
  }

  // Two writers of one lease: the second's entry number is taken, and it is told so.
  {
    ASSERT_OK_AND_ASSIGN(auto first, db->OpenLeaseLog(e.id));
    ASSERT_OK_AND_ASSIGN(auto second, db->OpenLeaseLog(e.id));
    ASSERT_OK(first->Append(uint8_t(VerifierEntry::kVerdict), e.Verdict(0)));
    const Status s = second->Append(uint8_t(VerifierEntry::kStart), e.Start(1));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.ToString().find("another writer"), std::string::npos) << s.ToString();
    EXPECT_EQ(frames(), "5");
  }

  // What was committed, and only that, comes back after the database is closed and reopened; the log replays.
  log.reset();
  db.reset();
  ASSERT_OK_AND_ASSIGN(db, VerifierDatabase::Open(dir.path() / "v.db"));
  ASSERT_OK_AND_ASSIGN(auto reopened, db->OpenLeaseLog(e.id));
  ASSERT_EQ(reopened->entries().size(), 5u);
  const std::vector<uint8_t> types = {1, 2, 3, 4, 7};
  for (size_t i = 0; i < types.size(); ++i) EXPECT_EQ(reopened->entries()[i].type, types[i]) << i;
  ASSERT_OK_AND_ASSIGN(const VerifierSession session, VerifierSession::Open(std::move(reopened)));
  ASSERT_EQ(session.verdicts().size(), 1u);
  EXPECT_EQ(session.verdicts()[0].reason, Reason::kMissed);
  ASSERT_OK_AND_ASSIGN(const auto epochs, db->Epochs(e.id));
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].reason, std::optional<Reason>(Reason::kMissed));

  // A lease whose first entry failed left nothing at all.
  ASSERT_OK_AND_ASSIGN(const auto leases, db->ListLeases());
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].lease_id, e.id);
}

TEST(VerifierDb, LeaseStateNetworkEventsAndUnknownLeases) {
  TempDir dir;
  const Entries e;
  ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(dir.path() / "v.db"));
  ASSERT_OK_AND_ASSIGN(auto log, db->CreateLeaseLog("https://a", 0.5));
  ASSERT_OK(log->Append(uint8_t(VerifierEntry::kLease), e.LeaseBytes()));

  ASSERT_OK(db->SetLeaseState(e.id, "ended"));
  ASSERT_OK_AND_ASSIGN(LeaseRow row, db->GetLease(e.id));
  EXPECT_EQ(row.state, "ended");
  ASSERT_OK(db->SetLeaseState(e.id, "active"));
  ASSERT_OK_AND_ASSIGN(row, db->GetLease(e.id));
  EXPECT_EQ(row.state, "active");
  const Status bad_state = db->SetLeaseState(e.id, "paused");
  EXPECT_EQ(bad_state.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_state.ToString().find("allowed: active, ended"), std::string::npos) << bad_state.ToString();

  const std::vector<NetworkEvent> events = {
      {e.id, 0, kT0 + 1, "offer", "unreachable", "cannot reach https://a: connection refused"},
      {e.id, 3, kT0 + 2, "epoch-start", "http-429", "too many epoch starts"},
      {e.id, 3, kT0 + 3, "challenge", "http-503", ""},
  };
  for (const NetworkEvent& event : events) ASSERT_OK(db->RecordNetworkEvent(event));
  ASSERT_OK_AND_ASSIGN(const auto back, db->NetworkEvents(e.id));
  ASSERT_EQ(back.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(back[i].lease_id, events[i].lease_id);
    EXPECT_EQ(back[i].epoch, events[i].epoch);
    EXPECT_EQ(back[i].at_us, events[i].at_us);
    EXPECT_EQ(back[i].step, events[i].step);
    EXPECT_EQ(back[i].outcome, events[i].outcome);
    EXPECT_EQ(back[i].detail, events[i].detail);
  }

  const Hash32 unknown = testing::TestHash("unknown lease");
  NetworkEvent stray = events[0];
  stray.lease_id = unknown;
  EXPECT_EQ(db->RecordNetworkEvent(stray).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->NetworkEvents(unknown).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->GetLease(unknown).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->OpenLeaseLog(unknown).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Epochs(unknown).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->SetLeaseState(unknown, "ended").code(), StatusCode::kInvalidArgument);
  const Status missing = db->GetLease(unknown).status();
  EXPECT_NE(missing.ToString().find(ToHex(unknown)), std::string::npos) << missing.ToString();
}

// One database, several leases appended from their own threads while another thread reads: every append lands,
// in order, in its own lease.
TEST(VerifierDb, LeasesAppendFromTheirOwnThreads) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(dir.path() / "v.db"));
  const SecretKey verifier = testing::KeyFrom(0x31), provider = testing::KeyFrom(0x32);
  constexpr int kLeases = 3, kEpochs = 15;
  std::vector<Hash32> ids(kLeases);
  std::vector<std::string> errors(kLeases);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      if (!db->ListLeases().ok()) ADD_FAILURE() << "ListLeases failed while others append";
    }
  });
  std::vector<std::thread> writers;
  for (int i = 0; i < kLeases; ++i) {
    writers.emplace_back([&, i] {
      testing::ManualClock clock;
      VerifierOptions options;
      options.clock = &clock;
      options.random = testing::SeededRandom(100 + i);
      Lease terms = testing::TinyLease(LeaseMode::kInteractive);
      terms.provider_key = provider.public_key();
      auto log = db->CreateLeaseLog("https://agent-" + std::to_string(i), 0.01);
      if (!log.ok()) return void(errors[i] = log.status().ToString());
      auto session = VerifierSession::Create(std::move(log).value(), terms, verifier, 0.01, options);
      if (!session.ok()) return void(errors[i] = session.status().ToString());
      ids[i] = session->lease_id();
      LeaseAcceptance acceptance;
      acceptance.lease_id = ids[i];
      if (Status s = Sign(acceptance, provider); !s.ok()) return void(errors[i] = s.ToString());
      if (Status s = session->AddAcceptance(acceptance); !s.ok()) return void(errors[i] = s.ToString());
      for (int e = 0; e < kEpochs; ++e) {
        if (auto s = session->StartEpoch(verifier, EpochSchedule::kOnDemand); !s.ok()) {
          return void(errors[i] = s.status().ToString());
        }
        clock.Advance(testing::kTinyDeadlineUs + 1);
      }
    });
  }
  for (std::thread& w : writers) w.join();
  done = true;
  reader.join();
  for (int i = 0; i < kLeases; ++i) {
    ASSERT_EQ(errors[i], "") << "lease " << i;
    ASSERT_OK_AND_ASSIGN(auto log, db->OpenLeaseLog(ids[i]));
    EXPECT_EQ(log->entries().size(), 3u + kEpochs + (kEpochs - 1)) << "lease, plan, acceptance, starts, verdicts";
    ASSERT_OK_AND_ASSIGN(const VerifierSession session, VerifierSession::Open(std::move(log)));
    EXPECT_EQ(session.epochs().size(), size_t(kEpochs));
    ASSERT_OK_AND_ASSIGN(const LeaseRow row, db->GetLease(ids[i]));
    EXPECT_EQ(row.agent_url, "https://agent-" + std::to_string(i));
  }
  ASSERT_OK_AND_ASSIGN(const auto leases, db->ListLeases());
  EXPECT_EQ(leases.size(), size_t(kLeases));
}

// write(2) all of `bytes`, retrying short writes; false when the pipe is gone.
bool WriteAll(int fd, const void* bytes, size_t n) {
  const auto* p = static_cast<const uint8_t*>(bytes);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

// The child: a lease on the database, then epochs started on demand in a loop, each closing the last one missed
// (a verdict and a start: two appends). After each StartEpoch returns it tells the parent the epoch index it was
// handed, as verifierd tells an agent. Never returns.
[[noreturn]] void AppendUntilKilled(const std::filesystem::path& file, int out_fd) {
  const SecretKey verifier = testing::KeyFrom(0x31), provider = testing::KeyFrom(0x32);
  testing::ManualClock clock;
  VerifierOptions options;
  options.clock = &clock;
  options.random = testing::SeededRandom(11);
  auto db = VerifierDatabase::Open(file);
  if (!db.ok()) _exit(10);
  auto log = (*db)->CreateLeaseLog("https://a", 0.01);
  if (!log.ok()) _exit(11);
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = provider.public_key();
  terms.end_us = kT0 + 1000 * testing::kHourUs;  // room for far more 10 s epochs than the child lives to start
  auto session = VerifierSession::Create(std::move(log).value(), terms, verifier, 0.01, options);
  if (!session.ok()) _exit(12);
  LeaseAcceptance acceptance;
  acceptance.lease_id = session->lease_id();
  acceptance.accepted_us = clock.NowMicros();
  if (!Sign(acceptance, provider).ok() || !session->AddAcceptance(acceptance).ok()) _exit(13);
  if (!WriteAll(out_fd, session->lease_id().data(), session->lease_id().size())) _exit(14);
  for (;;) {
    auto start = session->StartEpoch(verifier, EpochSchedule::kOnDemand);
    if (!start.ok()) _exit(15);
    const uint64_t epoch = start->epoch;
    if (!WriteAll(out_fd, &epoch, sizeof epoch)) _exit(16);
    clock.Advance(testing::kTinyDeadlineUs + 1);
  }
}

TEST(VerifierDb, KilledWhileAppendingLosesNothingItReported) {
  TempDir dir;
  const std::filesystem::path file = dir.path() / "v.db";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    AppendUntilKilled(file, fds[1]);
  }
  ::close(fds[1]);

  // Read what the child reports until it has started 200 epochs (about 400 commits) or for 3 s, whichever comes
  // first, then kill it wherever it is in its loop.
  std::vector<uint8_t> got;
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  const size_t enough = 32 + 8 * 200, at_least = 32 + 8 * 3;
  bool eof = false;
  while (got.size() < enough && std::chrono::steady_clock::now() < stop_at) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    uint8_t buf[256];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      break;
    }
    got.insert(got.end(), buf, buf + n);
  }
  ::kill(child, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_FALSE(eof && !(WIFSIGNALED(wstatus))) << "the child stopped by itself, exit " << WEXITSTATUS(wstatus);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
  // Whatever it wrote before dying is in the pipe.
  for (;;) {
    uint8_t buf[256];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    got.insert(got.end(), buf, buf + n);
  }
  ::close(fds[0]);
  ASSERT_GE(got.size(), at_least) << "the child reported too little before the time bound";
  Hash32 lease_id{};
  std::copy_n(got.begin(), lease_id.size(), lease_id.begin());
  const size_t reported = (got.size() - 32) / 8;  // a torn last report is not a report
  uint64_t last_reported = 0;
  for (size_t i = 0; i < reported; ++i) {
    uint64_t epoch = 0;
    std::memcpy(&epoch, got.data() + 32 + 8 * i, sizeof epoch);
    EXPECT_EQ(epoch, i) << "the child reports each epoch once, in order";
    last_reported = epoch;
  }

  // The kernel dropped the child's lock; what it committed is all there, and replays.
  ASSERT_OK_AND_ASSIGN(auto db, VerifierDatabase::Open(file));
  ASSERT_OK_AND_ASSIGN(auto log, db->OpenLeaseLog(lease_id));
  const size_t entries = log->entries().size();
  testing::ManualClock clock;
  VerifierOptions options;
  options.clock = &clock;
  ASSERT_OK_AND_ASSIGN(VerifierSession session, VerifierSession::Open(std::move(log), options));
  const auto& epochs = session.epochs();
  ASSERT_GE(epochs.size(), last_reported + 1) << "an epoch the child reported is missing";
  // At most the one append in flight beyond the last report: the next epoch's closing verdict and its start.
  EXPECT_LE(epochs.size(), last_reported + 2);
  RecordProperty("epochs_reported", int(reported));
  for (size_t i = 0; i < epochs.size(); ++i) {
    EXPECT_EQ(epochs[i].start.epoch, i);
    if (i + 1 < epochs.size()) {
      ASSERT_TRUE(epochs[i].verdict.has_value()) << "epoch " << i << " was closed before the next started";
      EXPECT_EQ(epochs[i].verdict->reason, Reason::kMissed);
    }
  }
  // The derived rows agree with the log: each entry was committed with them or not at all.
  ASSERT_OK_AND_ASSIGN(const auto rows, db->Epochs(lease_id));
  ASSERT_EQ(rows.size(), epochs.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].epoch, i);
    EXPECT_EQ(rows[i].reason.has_value(), epochs[i].verdict.has_value()) << i;
  }
  RawDb raw(file);
  EXPECT_EQ(raw.Query("SELECT count(*) FROM log_entries"), std::to_string(entries));
  // Resuming counts nothing twice: the open epoch closes and the next start takes the next index.
  const size_t before = epochs.size();
  clock.Set(epochs.back().start.start_us + testing::kTinyDeadlineUs + 1);
  ASSERT_OK_AND_ASSIGN(const EpochStart next,
                       session.StartEpoch(testing::KeyFrom(0x31), EpochSchedule::kOnDemand));
  EXPECT_EQ(next.epoch, before);
  ASSERT_OK_AND_ASSIGN(const auto after, db->Epochs(lease_id));
  EXPECT_EQ(after.size(), before + 1);
  EXPECT_EQ(after[before - 1].reason, std::optional<Reason>(Reason::kMissed));
}

}  // namespace
}  // namespace vcp::service
