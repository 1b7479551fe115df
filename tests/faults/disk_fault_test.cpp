// A full disk and a read-only disk under the stores (docs/PROTOCOL.md section 11): a tmpfs of a few pages that the
// test mounts (as root; every case here skips with the reason elsewhere), fills with a filler file until write(2)
// says ENOSPC, or remounts read-only. What must hold: the failing step says what failed (kIoError naming the file
// and the OS reason), hands nothing out, and leaves nothing behind that a reopen cannot recover: after space is
// freed the store or database opens, every step acknowledged before the fault is there byte for byte, no partial
// or temporary file is left, and the next step succeeds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fault_util.h"
#include "protocol_fixture.h"
#include "service/verifier_db.h"
#include "test_util.h"
#include "vcp/lease_session.h"
#include "vcp/store.h"

namespace vcp {
namespace {

using testing::KeyFrom;
using testing::ManualClock;
using testing::TmpfsMount;

constexpr uint64_t kSmallDisk = 64 * 1024;       // a store with a few epochs fits, with room to spare
constexpr uint64_t kDatabaseDisk = 512 * 1024;   // SQLite's file, WAL and shared-memory index
constexpr size_t kMaxSteps = 2000;               // a fill loop that never fails is a test failure, not a hang

// Mounts a tmpfs of `size` bytes as `var`, or skips the test saying why it cannot.
#define VCP_MOUNT_OR_SKIP(var, size)                                      \
  std::string var##_why;                                                  \
  std::unique_ptr<TmpfsMount> var = TmpfsMount::Make(size, &var##_why);   \
  if (!var) GTEST_SKIP() << var##_why

// The error a full disk must give: an I/O error naming the file and the OS's words.
void ExpectNoSpace(const Status& status, const std::string& names) {
  EXPECT_EQ(status.code(), StatusCode::kIoError) << status.ToString();
  EXPECT_NE(status.message().find("No space left on device"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find(names), std::string::npos) << "the error does not name " << names << ": "
                                                               << status.ToString();
}

std::vector<uint8_t> Payload(size_t i) {
  std::vector<uint8_t> p(300);
  for (size_t j = 0; j < p.size(); ++j) p[j] = uint8_t(i * 31 + j);
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// The log alone.

TEST(DiskFull, AppendLogFailsCleanlyAndKeepsEveryAcknowledgedFrame) {
  VCP_MOUNT_OR_SKIP(disk, kSmallDisk);
  const std::filesystem::path path = disk->path() / "verifier.log";
  std::vector<std::vector<uint8_t>> acknowledged;
  {
    ASSERT_OK_AND_ASSIGN(AppendLog log, AppendLog::Create(path, StoreRole::kVerifier));
    ASSERT_OK(log.Append(1, Payload(0)));
    acknowledged.push_back(Payload(0));
    ASSERT_EQ(disk->Fill(), ENOSPC);
    // The log's last page still has room: append until the disk really refuses.
    std::optional<Status> failure;
    for (size_t i = 1; i < kMaxSteps && !failure; ++i) {
      Status s = log.Append(7, Payload(i));
      if (s.ok()) {
        acknowledged.push_back(Payload(i));
      } else {
        failure = s;
      }
    }
    ASSERT_TRUE(failure.has_value()) << "a full disk never refused an append";
    std::printf("[ figures  ] %zu appends acknowledged on the full disk, then: %s\n", acknowledged.size() - 1,
                failure->ToString().c_str());
    ExpectNoSpace(*failure, path.string());
    // Once an append failed part-way the log refuses more, even with space again: a frame written after the torn
    // one would turn a recoverable tail into corruption.
    disk->FreeSpace();
    EXPECT_FALSE(log.Append(7, Payload(9999)).ok());
    ASSERT_EQ(disk->Fill(), ENOSPC);
  }
  // Reopening needs no space (a torn tail is cut, not rewritten), and loses nothing acknowledged.
  const uint64_t size_before = std::filesystem::file_size(path);
  {
    ASSERT_OK_AND_ASSIGN(AppendLog log, AppendLog::Open(path, StoreRole::kVerifier));
    ASSERT_EQ(log.entries().size(), acknowledged.size()) << log.recovery().note;
    for (size_t i = 0; i < acknowledged.size(); ++i) EXPECT_EQ(log.entries()[i].payload, acknowledged[i]) << i;
    EXPECT_EQ(log.recovery().kept_bytes + log.recovery().dropped_bytes, size_before);
    if (log.recovery().torn_tail) {
      EXPECT_LT(log.recovery().dropped_bytes, EncodeLogFrame(7, Payload(0)).size()) << log.recovery().note;
    }
  }
  disk->FreeSpace();
  {
    ASSERT_OK_AND_ASSIGN(AppendLog log, AppendLog::Open(path, StoreRole::kVerifier));
    EXPECT_FALSE(log.recovery().torn_tail) << "the first reopen left a torn tail: " << log.recovery().note;
    ASSERT_OK(log.Append(7, Payload(5000)));
  }
  ASSERT_OK_AND_ASSIGN(AppendLog log, AppendLog::Open(path, StoreRole::kVerifier));
  ASSERT_EQ(log.entries().size(), acknowledged.size() + 1);
  EXPECT_EQ(log.entries().back().payload, Payload(5000));
}

// ---------------------------------------------------------------------------------------------------------------
// The leaves file: written atomically, so a full disk leaves the previous file (or none) and no temporary.

EpochLeaves TestLeaves(uint8_t fill) {
  EpochLeaves leaves(4, std::vector<Hash32>(64));
  for (size_t r = 0; r < leaves.size(); ++r) {
    for (size_t t = 0; t < leaves[r].size(); ++t) leaves[r][t].fill(uint8_t(fill + r * 64 + t));
  }
  return leaves;
}

TEST(DiskFull, LeavesFileWriteLeavesNoPartialOrTemporaryFile) {
  VCP_MOUNT_OR_SKIP(disk, kSmallDisk);
  const Hash32 lease_id = testing::TestHash("lease");
  const std::filesystem::path first = disk->path() / "epoch-0.leaves";
  const std::filesystem::path second = disk->path() / "epoch-1.leaves";
  ASSERT_OK(WriteLeavesFile(first, lease_id, 0, TestLeaves(1)));
  const std::string first_bytes = testing::ReadText(first);
  ASSERT_EQ(disk->Fill(), ENOSPC);

  // A new file (8 KiB of hashes) does not fit: no file under its name, no temporary beside it.
  Status s = WriteLeavesFile(second, lease_id, 1, TestLeaves(2));
  ASSERT_FALSE(s.ok());
  // The temporary's name is the one the error can give: ".epoch-1.leaves.tmp.XXXXXX" in the same directory.
  ExpectNoSpace(s, second.filename().string());
  EXPECT_FALSE(std::filesystem::exists(second));
  // Rewriting the existing one fails the same way and keeps the old bytes.
  s = WriteLeavesFile(first, lease_id, 0, TestLeaves(3));
  ASSERT_FALSE(s.ok());
  ExpectNoSpace(s, first.filename().string());
  EXPECT_EQ(testing::ReadText(first), first_bytes);
  EXPECT_TRUE(testing::TemporaryFiles(disk->path()).empty());

  disk->FreeSpace();
  ASSERT_OK(WriteLeavesFile(second, lease_id, 1, TestLeaves(2)));
  ASSERT_OK_AND_ASSIGN(EpochLeaves back, ReadLeavesFile(second, lease_id, 1, 4, 64));
  EXPECT_EQ(back, TestLeaves(2));
  ASSERT_OK_AND_ASSIGN(EpochLeaves old, ReadLeavesFile(first, lease_id, 0, 4, 64));
  EXPECT_EQ(old, TestLeaves(1));
}

// ---------------------------------------------------------------------------------------------------------------
// The sessions over a full disk.

// A verifier store and a provider store, each in its own directory (either may be on the small disk).
struct Lease2 {
  SecretKey verifier = KeyFrom(0x41), provider = KeyFrom(0x42);
  ManualClock clock;
  VerifierOptions voptions;
  ProverOptions poptions;
  std::filesystem::path vdir, pdir;
  Lease lease;

  Status Make(std::filesystem::path verifier_dir, std::filesystem::path provider_dir) {
    vdir = std::move(verifier_dir);
    pdir = std::move(provider_dir);
    voptions.clock = &clock;
    voptions.random = testing::SeededRandom(11);
    voptions.threads = 1;
    poptions.run = testing::CpuOneThread();
    poptions.clock = &clock;
    Lease terms = testing::TinyLease(LeaseMode::kInteractive);
    terms.provider_key = provider.public_key();
    VCP_ASSIGN_OR_RETURN(VerifierSession v, VerifierSession::Create(vdir, terms, verifier, 0.01, voptions));
    lease = v.lease();
    VCP_ASSIGN_OR_RETURN(ProviderSession p, ProviderSession::Accept(pdir, lease, provider, clock));
    return v.AddAcceptance(p.acceptance());
  }
  Result<VerifierSession> V() { return VerifierSession::Open(vdir, voptions); }
  Result<ProviderSession> P() { return ProviderSession::Open(pdir); }
};

TEST(DiskFull, ProveFailsWithoutHandingOutARecordAndSucceedsOnceSpaceIsFreed) {
  VCP_MOUNT_OR_SKIP(disk, kSmallDisk);
  const testing::TempDir temp;  // removed however the test ends
  ASSERT_FALSE(temp.path().empty());
  const std::filesystem::path& local = temp.path();
  Lease2 l;
  ASSERT_OK(l.Make(local / "verifier", disk->path() / "provider"));
  EpochStart start;
  {
    ASSERT_OK_AND_ASSIGN(VerifierSession v, l.V());
    ASSERT_OK_AND_ASSIGN(start, v.StartEpoch(l.verifier, EpochSchedule::kOnDemand));
  }
  ASSERT_EQ(disk->Fill(), ENOSPC);
  std::string proved_error;
  {
    ASSERT_OK_AND_ASSIGN(ProviderSession p, l.P());
    Result<ProveOutcome> proved = p.Prove(start, l.provider, l.poptions);
    ASSERT_FALSE(proved.ok()) << "a record was handed out although the disk is full";
    EXPECT_EQ(proved.status().code(), StatusCode::kIoError) << proved.status().ToString();
    EXPECT_NE(proved.status().message().find("No space left on device"), std::string::npos)
        << proved.status().ToString();
    EXPECT_NE(proved.status().message().find(l.pdir.string()), std::string::npos) << proved.status().ToString();
    proved_error = proved.status().ToString();
  }
  EXPECT_TRUE(testing::TemporaryFiles(l.pdir).empty());
  EXPECT_FALSE(std::filesystem::exists(l.pdir / "epoch-0.leaves"));
  std::printf("[ figures  ] prove on the full disk: %s\n", proved_error.c_str());

  disk->FreeSpace();
  ASSERT_OK_AND_ASSIGN(ProviderSession p, l.P());
  EXPECT_FALSE(p.LoggedRecord(start).has_value()) << "a record was logged though Prove failed";
  l.clock.Advance(1000);
  ASSERT_OK_AND_ASSIGN(ProveOutcome proved, p.Prove(start, l.provider, l.poptions));
  EXPECT_FALSE(proved.already_logged);
  ASSERT_OK_AND_ASSIGN(VerifierSession v, l.V());
  ASSERT_OK_AND_ASSIGN(RecordOutcome received, v.ReceiveRecord(Serialize(proved.record), l.verifier));
  ASSERT_TRUE(received.challenge.has_value()) << received.finding.detail;
  ASSERT_OK_AND_ASSIGN(RespondOutcome answer, p.Respond(*received.challenge, l.provider, l.poptions));
  EXPECT_EQ(answer.leaf_source, LeafSource::kMemory);
  ASSERT_OK_AND_ASSIGN(ResponseOutcome verdict, v.ReceiveResponse(Serialize(answer.response), l.verifier));
  ASSERT_TRUE(verdict.verdict.has_value());
  EXPECT_EQ(verdict.verdict->reason, Reason::kPass) << verdict.finding.detail;
}

// Epoch after epoch on a full disk until a start cannot be logged: every start handed out before is in the
// reopened store, byte for byte and in order, and the one that failed was never handed out.
TEST(DiskFull, VerifierEpochStartsKeepEveryStartHandedOut) {
  VCP_MOUNT_OR_SKIP(disk, kSmallDisk);
  const testing::TempDir temp;  // removed however the test ends
  ASSERT_FALSE(temp.path().empty());
  const std::filesystem::path& local = temp.path();
  Lease2 l;
  ASSERT_OK(l.Make(disk->path() / "verifier", local / "provider"));
  const std::filesystem::path log_path = l.vdir / "verifier.log";
  std::vector<EpochStart> handed_out;
  {
    ASSERT_OK_AND_ASSIGN(VerifierSession v, l.V());
    ASSERT_EQ(disk->Fill(), ENOSPC);
    std::optional<Status> failure;
    for (size_t i = 0; i < kMaxSteps && !failure; ++i) {
      Result<EpochStart> start = v.StartEpoch(l.verifier, EpochSchedule::kOnDemand);
      if (start.ok()) {
        handed_out.push_back(*start);
        l.clock.Advance(testing::kTinyDeadlineUs + 1);  // the next start closes this one missed
      } else {
        failure = start.status();
      }
    }
    ASSERT_TRUE(failure.has_value()) << "a full disk never refused an epoch start";
    std::printf("[ figures  ] %zu epoch starts on the full disk, then: %s\n", handed_out.size(),
                failure->ToString().c_str());
    ExpectNoSpace(*failure, log_path.string());
    EXPECT_FALSE(v.StartEpoch(l.verifier, EpochSchedule::kOnDemand).ok())
        << "the session went on after a failed append";
  }
  disk->FreeSpace();
  ASSERT_OK_AND_ASSIGN(VerifierSession v, l.V());
  ASSERT_EQ(v.epochs().size(), handed_out.size()) << v.recovery().note;
  for (size_t i = 0; i < handed_out.size(); ++i) {
    EXPECT_EQ(Serialize(v.epochs()[i].start), Serialize(handed_out[i])) << "epoch " << i;
    if (i + 1 < handed_out.size()) {
      ASSERT_TRUE(v.epochs()[i].verdict.has_value()) << "epoch " << i;
      EXPECT_EQ(v.epochs()[i].verdict->reason, Reason::kMissed);
    }
  }
  ASSERT_OK_AND_ASSIGN(EpochStart next, v.StartEpoch(l.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(next.epoch, handed_out.size());
}

// ---------------------------------------------------------------------------------------------------------------
// The verifier service's database.

// PRAGMA integrity_check of a closed database file: "ok" when SQLite finds nothing wrong.
std::string IntegrityCheck(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return why;
  }
  std::string result;
  sqlite3_exec(
      db, "PRAGMA integrity_check",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0] ? values[0] : "";
        return 0;
      },
      &result, nullptr);
  sqlite3_close(db);
  return result;
}

TEST(DiskFull, VerifierDatabaseWriteFailsCleanlyAndReopensWithEverythingCommitted) {
  VCP_MOUNT_OR_SKIP(disk, kDatabaseDisk);
  const testing::TempDir temp;  // removed however the test ends
  ASSERT_FALSE(temp.path().empty());
  const std::filesystem::path& local = temp.path();
  const std::filesystem::path file = disk->path() / "verifierd.db";
  SecretKey verifier = KeyFrom(0x51), provider = KeyFrom(0x52);
  ManualClock clock;
  VerifierOptions options;
  options.clock = &clock;
  options.random = testing::SeededRandom(5);
  Hash32 lease_id{};
  std::vector<EpochStart> handed_out;
  {
    ASSERT_OK_AND_ASSIGN(auto db, service::VerifierDatabase::Open(file));
    Lease terms = testing::TinyLease(LeaseMode::kInteractive);
    terms.provider_key = provider.public_key();
    ASSERT_OK_AND_ASSIGN(auto log, db->CreateLeaseLog("http://127.0.0.1:1", 0.01));
    ASSERT_OK_AND_ASSIGN(VerifierSession v, VerifierSession::Create(std::move(log), terms, verifier, 0.01, options));
    lease_id = v.lease_id();
    ASSERT_OK_AND_ASSIGN(ProviderSession p, ProviderSession::Accept(local / "provider", v.lease(), provider, clock));
    ASSERT_OK(v.AddAcceptance(p.acceptance()));

    ASSERT_EQ(disk->Fill(), ENOSPC);
    std::optional<Status> failure;
    for (size_t i = 0; i < kMaxSteps && !failure; ++i) {
      Result<EpochStart> start = v.StartEpoch(verifier, EpochSchedule::kOnDemand);
      if (start.ok()) {
        handed_out.push_back(*start);
        clock.Advance(testing::kTinyDeadlineUs + 1);
      } else {
        failure = start.status();
      }
    }
    ASSERT_TRUE(failure.has_value()) << "a full disk never refused a database write";
    std::printf("[ figures  ] %zu epoch starts committed on the full disk, then: %s\n", handed_out.size(),
                failure->ToString().c_str());
    EXPECT_EQ(failure->code(), StatusCode::kIoError) << failure->ToString();
    EXPECT_NE(failure->message().find(file.string()), std::string::npos) << failure->ToString();
    EXPECT_NE(failure->message().find("full"), std::string::npos) << failure->ToString();
    // The other writes of the service fail the same way, without crashing.
    service::NetworkEvent event{lease_id, 0, clock.NowMicros(), "epoch-start", "unreachable", std::string(2000, 'x')};
    Status recorded = Status::Ok();
    for (int i = 0; i < 200 && recorded.ok(); ++i) recorded = db->RecordNetworkEvent(event);
    EXPECT_EQ(recorded.code(), StatusCode::kIoError) << recorded.ToString();
  }
  disk->FreeSpace();
  EXPECT_EQ(IntegrityCheck(file), "ok");
  ASSERT_OK_AND_ASSIGN(auto db, service::VerifierDatabase::Open(file));
  ASSERT_OK_AND_ASSIGN(auto log, db->OpenLeaseLog(lease_id));
  ASSERT_OK_AND_ASSIGN(VerifierSession v, VerifierSession::Open(std::move(log), options));
  ASSERT_EQ(v.epochs().size(), handed_out.size());
  for (size_t i = 0; i < handed_out.size(); ++i) {
    EXPECT_EQ(Serialize(v.epochs()[i].start), Serialize(handed_out[i])) << "epoch " << i;
  }
  ASSERT_OK_AND_ASSIGN(auto rows, db->Epochs(lease_id));
  EXPECT_EQ(rows.size(), handed_out.size()) << "the derived rows disagree with the log";
  ASSERT_OK_AND_ASSIGN(EpochStart next, v.StartEpoch(verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(next.epoch, handed_out.size());
}

// ---------------------------------------------------------------------------------------------------------------
// Read-only: a store or database on a file system remounted read-only (what root's chmod cannot simulate).

TEST(ReadOnlyDisk, StoresRefuseClearlyAndNothingChanges) {
  VCP_MOUNT_OR_SKIP(disk, kSmallDisk);
  Lease2 l;
  ASSERT_OK(l.Make(disk->path() / "verifier", disk->path() / "provider"));
  EpochStart start;
  {
    ASSERT_OK_AND_ASSIGN(VerifierSession v, l.V());
    ASSERT_OK_AND_ASSIGN(start, v.StartEpoch(l.verifier, EpochSchedule::kOnDemand));
  }
  const auto before = testing::SnapshotFiles(disk->path());
  ASSERT_TRUE(disk->SetReadOnly(true)) << std::strerror(errno);

  Result<VerifierSession> v = l.V();
  ASSERT_FALSE(v.ok()) << "a verifier store opened for writing on a read-only disk";
  EXPECT_EQ(v.status().code(), StatusCode::kIoError) << v.status().ToString();
  EXPECT_NE(v.status().message().find("Read-only file system"), std::string::npos) << v.status().ToString();
  EXPECT_NE(v.status().message().find(l.vdir.string()), std::string::npos) << v.status().ToString();
  Result<ProviderSession> p = l.P();
  ASSERT_FALSE(p.ok()) << "a provider store opened for writing on a read-only disk";
  EXPECT_EQ(p.status().code(), StatusCode::kIoError) << p.status().ToString();
  EXPECT_NE(p.status().message().find("Read-only file system"), std::string::npos) << p.status().ToString();
  Status leaves = WriteLeavesFile(l.pdir / "epoch-0.leaves", LeaseId(l.lease), 0, TestLeaves(1));
  EXPECT_EQ(leaves.code(), StatusCode::kIoError) << leaves.ToString();
  EXPECT_NE(leaves.message().find("Read-only file system"), std::string::npos) << leaves.ToString();

  // Readers never write (docs/PROTOCOL.md 11.1): a read-only disk is no obstacle to a report.
  ASSERT_OK_AND_ASSIGN(VerifierSession reader, VerifierSession::OpenForReading(l.vdir, l.voptions));
  EXPECT_EQ(reader.epochs().size(), 1u);
  ASSERT_OK_AND_ASSIGN(ProviderSession provider_reader, ProviderSession::OpenForReading(l.pdir));
  EXPECT_EQ(provider_reader.epochs_started(), 0u);

  ASSERT_TRUE(disk->SetReadOnly(false)) << std::strerror(errno);
  EXPECT_EQ(testing::SnapshotFiles(disk->path()), before) << "a refused open changed the stores";
  ASSERT_OK_AND_ASSIGN(ProviderSession provider, l.P());
  ASSERT_OK_AND_ASSIGN(ProveOutcome proved, provider.Prove(start, l.provider, l.poptions));
  ASSERT_OK_AND_ASSIGN(VerifierSession verifier, l.V());
  ASSERT_EQ(verifier.epochs().size(), 1u);
  ASSERT_OK_AND_ASSIGN(RecordOutcome received, verifier.ReceiveRecord(Serialize(proved.record), l.verifier));
  EXPECT_TRUE(received.challenge.has_value()) << received.finding.detail;
}

TEST(ReadOnlyDisk, DatabaseRefusesClearlyAndNothingChanges) {
  VCP_MOUNT_OR_SKIP(disk, kDatabaseDisk);
  const std::filesystem::path file = disk->path() / "verifierd.db";
  {
    ASSERT_OK_AND_ASSIGN(auto db, service::VerifierDatabase::Open(file));
    ASSERT_OK_AND_ASSIGN(auto log, db->CreateLeaseLog("http://127.0.0.1:1", 0.01));
    SecretKey verifier = KeyFrom(0x61);
    Lease terms = testing::TinyLease(LeaseMode::kInteractive);
    terms.provider_key = KeyFrom(0x62).public_key();
    ManualClock clock;
    VerifierOptions options;
    options.clock = &clock;
    ASSERT_OK(VerifierSession::Create(std::move(log), terms, verifier, 0.01, options).status());
  }
  const auto before = testing::SnapshotFiles(disk->path());
  ASSERT_TRUE(disk->SetReadOnly(true)) << std::strerror(errno);
  Result<std::unique_ptr<service::VerifierDatabase>> db = service::VerifierDatabase::Open(file);
  ASSERT_FALSE(db.ok()) << "the database opened for writing on a read-only disk";
  EXPECT_EQ(db.status().code(), StatusCode::kIoError) << db.status().ToString();
  EXPECT_NE(db.status().message().find(file.string()), std::string::npos) << db.status().ToString();
  EXPECT_NE(db.status().message().find("Read-only file system"), std::string::npos) << db.status().ToString();
  ASSERT_TRUE(disk->SetReadOnly(false)) << std::strerror(errno);
  EXPECT_EQ(testing::SnapshotFiles(disk->path()), before) << "a refused open changed the database";
  ASSERT_OK_AND_ASSIGN(auto reopened, service::VerifierDatabase::Open(file));
  ASSERT_OK_AND_ASSIGN(auto leases, reopened->ListLeases());
  EXPECT_EQ(leases.size(), 1u);
}

}  // namespace
}  // namespace vcp
