// Crash safety of the protocol stores: the append-only log (torn tails cut and reported at every cut point,
// corruption refused), the leaves file, and both sessions resuming after a restart or a torn log.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fileio.h"
#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/inspect.h"
#include "vcp/lease_session.h"
#include "vcp/store.h"
#include "vcp/store_log.h"

namespace vcp {
namespace {

namespace fs = std::filesystem;
using testing::kT0;
using testing::Parties;
using testing::TempDir;

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::vector<uint8_t> ReadAll(const fs::path& p) { return testing::Must(ReadFileBytes(p), "read " + p.string()); }

// A log entry's message parses as some protocol message.
#define EXPECT_OK_MESSAGE(bytes) EXPECT_TRUE(IdentifyMessage(bytes).ok()) << "entry without a message"

void WriteAll(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A log with three entries; returns the offset where the third frame starts.
uint64_t MakeLog(const fs::path& path) {
  AppendLog log = testing::Must(AppendLog::Create(path, StoreRole::kProvider), "AppendLog::Create");
  testing::Must(log.Append(1, Bytes("first entry")), "Append");
  testing::Must(log.Append(2, Bytes("")), "Append");
  testing::Must(log.Append(3, Bytes("the third entry, the one a crash may tear")), "Append");
  return log.entries()[2].offset;
}

TEST(ProtocolLog, RoundTrip) {
  TempDir dir;
  MakeLog(dir.path() / "a.log");
  auto log = AppendLog::Open(dir.path() / "a.log", StoreRole::kProvider);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->entries().size(), 3u);
  EXPECT_EQ(log->entries()[0].type, 1);
  EXPECT_EQ(log->entries()[0].payload, Bytes("first entry"));
  EXPECT_TRUE(log->entries()[1].payload.empty());
  EXPECT_FALSE(log->recovery().torn_tail);
  EXPECT_TRUE(log->recovery().note.empty());
  // Creating over an existing log is refused; a log of the other role is refused.
  EXPECT_FALSE(AppendLog::Create(dir.path() / "a.log", StoreRole::kProvider).ok());
  EXPECT_EQ(AppendLog::Open(dir.path() / "a.log", StoreRole::kVerifier).status().code(), StatusCode::kInvalidArgument);
}

TEST(ProtocolLog, TornTailAtEveryCutPointIsReportedCutAndResumed) {
  TempDir dir;
  const fs::path path = dir.path() / "a.log";
  const uint64_t third = MakeLog(path);
  const std::vector<uint8_t> full = ReadAll(path);
  for (uint64_t cut = third + 1; cut < full.size(); ++cut) {
    const std::vector<uint8_t> torn(full.begin(), full.begin() + cut);
    auto scan = ScanLog(torn);
    ASSERT_TRUE(scan.ok()) << "cut " << cut << ": " << scan.status().ToString();
    EXPECT_EQ(scan->entries.size(), 2u) << "cut " << cut;
    EXPECT_TRUE(scan->recovery.torn_tail);
    EXPECT_EQ(scan->recovery.kept_bytes, third);
    EXPECT_EQ(scan->recovery.dropped_bytes, cut - third);
  }
  // Through the file: the tail is cut on disk, and appending afterwards yields a clean log.
  WriteAll(path, std::vector<uint8_t>(full.begin(), full.begin() + (third + full.size()) / 2));
  {
    auto log = AppendLog::Open(path, StoreRole::kProvider);
    ASSERT_TRUE(log.ok());
    EXPECT_TRUE(log->recovery().torn_tail);
    EXPECT_NE(log->recovery().note.find("torn tail at offset " + std::to_string(third)), std::string::npos)
        << log->recovery().note;
    EXPECT_EQ(fs::file_size(path), third);
    ASSERT_TRUE(log->Append(4, Bytes("after the crash")).ok());
  }
  auto log = AppendLog::Open(path, StoreRole::kProvider);
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE(log->recovery().torn_tail);
  ASSERT_EQ(log->entries().size(), 3u);
  EXPECT_EQ(log->entries()[2].payload, Bytes("after the crash"));
}

TEST(ProtocolLog, DamagedLastFrameIsAlteredDamagedMiddleFrameIsCorruption) {
  TempDir dir;
  const fs::path path = dir.path() / "a.log";
  const uint64_t third = MakeLog(path);
  const std::vector<uint8_t> full = ReadAll(path);
  // Every byte of the last frame: all its bytes are present, so a flip there is an alteration, never a torn write
  // (tests/protocol_recovery_test.cpp tells the two apart in detail).
  for (uint64_t i = third; i < full.size(); ++i) {
    std::vector<uint8_t> b = full;
    b[i] ^= 0x40;
    auto scan = ScanLog(b);
    ASSERT_FALSE(scan.ok()) << i;
    EXPECT_EQ(scan.status().code(), StatusCode::kCorrupt) << i;
    EXPECT_NE(scan.status().message().find("the last frame, at offset " + std::to_string(third)),
              std::string_view::npos)
        << scan.status().ToString();
  }
  // Every byte of the first two frames: an intact frame follows, so a crash cannot explain it.
  for (uint64_t i = 8; i < third; ++i) {
    std::vector<uint8_t> b = full;
    b[i] ^= 0x40;
    auto scan = ScanLog(b);
    ASSERT_FALSE(scan.ok()) << "byte " << i;
    EXPECT_EQ(scan.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(scan.status().message().find("intact frame follows"), std::string_view::npos) << scan.status().ToString();
  }
  WriteAll(path, [&] {
    std::vector<uint8_t> b = full;
    b[20] ^= 1;
    return b;
  }());
  EXPECT_EQ(AppendLog::Open(path, StoreRole::kProvider).status().code(), StatusCode::kCorrupt);
  // The header.
  std::vector<uint8_t> b = full;
  b[0] = 'X';
  EXPECT_EQ(ScanLog(b).status().code(), StatusCode::kCorrupt);
  b = full;
  b[4] = 1;
  EXPECT_NE(ScanLog(b).status().message().find("version 1"), std::string_view::npos);
}

TEST(ProtocolLog, LeavesFileRoundTripAndDamage) {
  TempDir dir;
  const fs::path path = dir.path() / "epoch-3.leaves";
  EpochLeaves leaves(3, std::vector<Hash32>(5));
  for (size_t r = 0; r < 3; ++r) {
    for (size_t i = 0; i < 5; ++i) leaves[r][i] = testing::TestHash("leaf", r * 5 + i);
  }
  const Hash32 lease = testing::TestHash("lease");
  ASSERT_TRUE(WriteLeavesFile(path, lease, 3, leaves).ok());
  auto back = ReadLeavesFile(path, lease, 3, 3, 5);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, leaves);
  EXPECT_EQ(ReadLeavesFile(path, lease, 4, 3, 5).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(ReadLeavesFile(path, testing::TestHash("other"), 3, 3, 5).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(ReadLeavesFile(path, lease, 3, 3, 6).status().code(), StatusCode::kCorrupt);
  const std::vector<uint8_t> full = ReadAll(path);
  for (size_t i = 0; i < full.size(); i += 7) {
    std::vector<uint8_t> b = full;
    b[i] ^= 0x10;
    WriteAll(path, b);
    EXPECT_EQ(ReadLeavesFile(path, lease, 3, 3, 5).status().code(), StatusCode::kCorrupt) << "byte " << i;
  }
  WriteAll(path, std::vector<uint8_t>(full.begin(), full.end() - 1));
  EXPECT_EQ(ReadLeavesFile(path, lease, 3, 3, 5).status().code(), StatusCode::kCorrupt);
}

// Regression: 1 x 2^59 leaves of 32 bytes is 2^64 bytes, which wrapped the expected size to that of an empty
// file, so this 89-byte file passed every check and the allocation of 2^59 hashes threw out of the library.
TEST(ProtocolLog, LeavesFileSizeOverflowIsAnError) {
  TempDir dir;
  const fs::path path = dir.path() / "epoch-0.leaves";
  const Hash32 lease = testing::TestHash("lease");
  const uint64_t per_round = uint64_t{1} << 59;
  // A valid file of one empty round, then its leaves-per-round field (bytes 49..56) set to 2^59 and resealed.
  ASSERT_TRUE(WriteLeavesFile(path, lease, 0, EpochLeaves(1)).ok());
  std::vector<uint8_t> b = ReadAll(path);
  ASSERT_EQ(b.size(), 89u);
  for (int i = 0; i < 8; ++i) b[49 + i] = static_cast<uint8_t>(per_round >> (8 * i));
  const Hash32 seal = TaggedHash("vcp.v2.leaves-file", std::span<const uint8_t>(b.data(), 57));
  std::copy(seal.begin(), seal.end(), b.begin() + 57);
  WriteAll(path, b);
  EXPECT_EQ(ReadLeavesFile(path, lease, 0, 1, per_round).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions across restarts.

void AppendGarbage(const fs::path& log) {
  // Half of a frame: what a crash in the middle of an append leaves.
  const std::vector<uint8_t> frame = EncodeLogFrame(4, std::vector<uint8_t>(100, 0xab));
  std::ofstream(log, std::ios::binary | std::ios::app).write(reinterpret_cast<const char*>(frame.data()), 60);
}

TEST(ProtocolSessionRestart, EveryStepSurvivesARestartAndATornLog) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  // The verifier crashed before delivering the start: the same start comes back.
  ASSERT_OK_AND_ASSIGN(const EpochStart again, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(Serialize(again), Serialize(start));

  t.clock.Advance(1000);
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  const EpochRecord& record = proved.record;
  // A torn append after the record: reported, cut, and the record (which was logged first) is still there.
  AppendGarbage(t.pdir.path() / "provider.log");
  {
    ProviderSession p = t.P();
    EXPECT_TRUE(p.recovery().torn_tail);
    t.clock.Advance(5000);
    ASSERT_OK_AND_ASSIGN(const ProveOutcome same, p.Prove(start, t.provider, t.poptions));
    EXPECT_TRUE(same.already_logged);
    EXPECT_EQ(Serialize(same.record), Serialize(record)) << "the logged record is reissued, never recomputed";
  }

  t.clock.Advance(1000);
  AppendGarbage(t.vdir.path() / "verifier.log");
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(record), t.verifier));
  ASSERT_TRUE(outcome.finding.ok()) << outcome.finding.detail;
  ASSERT_TRUE(outcome.challenge.has_value());
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome2, t.V().ReceiveRecord(Serialize(record), t.verifier));
  ASSERT_TRUE(outcome2.challenge.has_value());
  EXPECT_EQ(Serialize(*outcome2.challenge), Serialize(*outcome.challenge));

  ASSERT_OK_AND_ASSIGN(const RespondOutcome response, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  ASSERT_OK_AND_ASSIGN(const RespondOutcome response2, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  EXPECT_EQ(Serialize(response2.response), Serialize(response.response));

  ASSERT_OK_AND_ASSIGN(const ResponseOutcome verdict, t.V().ReceiveResponse(Serialize(response.response), t.verifier));
  ASSERT_TRUE(verdict.verdict.has_value()) << verdict.finding.detail;
  EXPECT_EQ(verdict.verdict->reason, Reason::kPass) << verdict.verdict->detail;
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome verdict2, t.V().ReceiveResponse(Serialize(response.response), t.verifier));
  ASSERT_TRUE(verdict2.verdict.has_value());
  EXPECT_TRUE(verdict2.already_given);
  EXPECT_EQ(Serialize(*verdict2.verdict), Serialize(*verdict.verdict));
  VerifierSession v = t.V();
  ASSERT_EQ(v.verdicts().size(), 1u);
  EXPECT_TRUE(CheckSignature(v.verdicts()[0], t.verifier.public_key()).ok());
}

// The crash window of issue 7: the verifier logged the record's arrival and stopped before logging its
// challenge. Verifying then is refused with what to do (it used to dereference the missing challenge); receiving
// the record again issues a challenge, and the epoch completes.
TEST(ProtocolSessionRestart, ACrashBetweenTheRecordsArrivalAndItsChallengeIsRecovered) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  const fs::path log = t.vdir.path() / "verifier.log";
  uint64_t challenge_offset = 0;
  {
    ASSERT_OK_AND_ASSIGN(const AppendLog scanned, AppendLog::Open(log, StoreRole::kVerifier));
    const auto& entries = scanned.entries();
    ASSERT_GE(entries.size(), 2u);
    ASSERT_EQ(entries.back().type, uint8_t(VerifierEntry::kChallenge));
    ASSERT_EQ(entries[entries.size() - 2].type, uint8_t(VerifierEntry::kArrival));
    challenge_offset = entries.back().offset;
  }
  fs::resize_file(log, challenge_offset);  // the log ends right after the arrival frame

  const Status refused = t.V().ReceiveResponse(std::vector<uint8_t>{'V', 'C', 'P', 'P', 0}, t.verifier).status();
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("challenge was never issued"), std::string_view::npos) << refused.ToString();
  EXPECT_NE(refused.message().find("receive the record again"), std::string_view::npos) << refused.ToString();

  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  EXPECT_TRUE(outcome.already_received);
  ASSERT_TRUE(outcome.challenge.has_value());
  EXPECT_EQ(outcome.challenge->record_hash, RecordHash(proved.record));
  ASSERT_OK_AND_ASSIGN(const VerifierSession reopened, VerifierSession::Open(t.vdir.path(), t.voptions));
  ASSERT_TRUE(reopened.epochs().back().challenge.has_value()) << "the new challenge is logged";
  EXPECT_EQ(Serialize(*reopened.epochs().back().challenge), Serialize(*outcome.challenge));
}

TEST(ProtocolSessionRestart, ACrashBetweenTheRecordsArrivalAndItsChallengeCompletesTheEpoch) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  const fs::path log = t.vdir.path() / "verifier.log";
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(ReadAll(log)));
  ASSERT_EQ(scan.entries.back().type, uint8_t(VerifierEntry::kChallenge));
  fs::resize_file(log, scan.entries.back().offset);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_TRUE(outcome.challenge.has_value());
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome closed, t.V().ReceiveResponse(Serialize(responded.response), t.verifier));
  ASSERT_TRUE(closed.verdict.has_value()) << closed.finding.detail;
  EXPECT_EQ(closed.verdict->reason, Reason::kPass) << closed.verdict->detail;
}

TEST(ProtocolSessionRestart, MissingOrDamagedLeavesFileFallsBackToRecomputing) {
  for (const std::string damage : {"none", "missing", "corrupt", "not kept"}) {
    SCOPED_TRACE(damage);
    Parties t;
    ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
    ProverOptions options = t.poptions;
    options.keep_leaves = damage != "not kept";
    ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, options));
    const fs::path leaves = t.pdir.path() / "epoch-0.leaves";
    EXPECT_EQ(fs::exists(leaves), options.keep_leaves);
    if (damage == "missing") fs::remove(leaves);
    if (damage == "corrupt") {
      std::vector<uint8_t> b = ReadAll(leaves);
      b[b.size() / 2] ^= 1;
      WriteAll(leaves, b);
    }
    ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
    ASSERT_TRUE(outcome.challenge.has_value());
    ASSERT_OK_AND_ASSIGN(const RespondOutcome response, t.P().Respond(*outcome.challenge, t.provider, options));
    if (damage == "none") {
      EXPECT_EQ(response.leaf_source, LeafSource::kLeavesFile);
    } else {
      EXPECT_EQ(response.leaf_source, LeafSource::kRecomputed) << LeafSourceName(response.leaf_source);
    }
    if (damage == "missing" || damage == "not kept") {
      EXPECT_EQ(response.leaf_note, "no leaves file");
    }
    if (damage == "corrupt") {
      EXPECT_NE(response.leaf_note.find("checksum"), std::string::npos) << response.leaf_note;
    }
    EXPECT_FALSE(fs::exists(leaves)) << "answered epochs drop their leaves";
    ASSERT_OK_AND_ASSIGN(const ResponseOutcome verdict,
                         t.V().ReceiveResponse(Serialize(response.response), t.verifier));
    ASSERT_TRUE(verdict.verdict.has_value());
    EXPECT_EQ(verdict.verdict->reason, Reason::kPass) << verdict.verdict->detail;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One writer per store.

TEST(ProtocolStoreLock, ASecondSessionOnAStoreIsRefusedAtOnceNamingTheHolder) {
  Parties t;
  const std::string pid = "pid " + std::to_string(::getpid());
  {
    ProviderSession holder = t.P();
    const Status second = ProviderSession::Open(t.pdir.path()).status();
    EXPECT_EQ(second.code(), StatusCode::kUnavailable);
    EXPECT_NE(second.message().find("provider store " + t.pdir.path().string() + " is in use by " + pid),
              std::string_view::npos)
        << second.ToString();
    EXPECT_NE(StoreLock::DescribeHolder(t.pdir.path()).find(pid + " ("), std::string::npos)
        << StoreLock::DescribeHolder(t.pdir.path());
    // Moving a session moves its lock: still held.
    ProviderSession moved = std::move(holder);
    EXPECT_EQ(ProviderSession::Open(t.pdir.path()).status().code(), StatusCode::kUnavailable);
  }
  // Released with the session.
  ASSERT_OK(ProviderSession::Open(t.pdir.path()));
  {
    VerifierSession holder = t.V();
    const Status second = VerifierSession::Open(t.vdir.path(), t.voptions).status();
    EXPECT_EQ(second.code(), StatusCode::kUnavailable);
    EXPECT_NE(second.message().find("verifier store " + t.vdir.path().string() + " is in use by " + pid),
              std::string_view::npos)
        << second.ToString();
  }
  ASSERT_OK(VerifierSession::Open(t.vdir.path(), t.voptions));
}

TEST(ProtocolStoreLock, ACreateOrAcceptRacingAnotherIsRefusedBeforeWriting) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(const StoreLock held, StoreLock::Acquire(dir.path(), "provider"));
  const SecretKey verifier = testing::KeyFrom(0x71), provider = testing::KeyFrom(0x72);
  const Lease lease = testing::SignedTinyLease(verifier, provider, LeaseMode::kInteractive);
  EXPECT_EQ(ProviderSession::Accept(dir.path(), lease, provider).status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(fs::exists(dir.path() / "provider.log")) << "the refused Accept created a log";
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = provider.public_key();
  EXPECT_EQ(VerifierSession::Create(dir.path(), terms, verifier, 0.01).status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(fs::exists(dir.path() / "verifier.log"));
}

// kill -9 between WriteFileAtomic's temporary file and its rename leaves ".NAME.tmp.XXXXXX" behind (a 2 MiB leaves
// file, say); the store's writer removes them when it opens the store, and nothing else.
TEST(ProtocolStore, TheWriterRemovesStaleTemporaryFilesWhenItOpensTheStore) {
  Parties t;
  const fs::path leaves_tmp = t.pdir.path() / ".epoch-0.leaves.tmp.AbC123";
  const fs::path log_tmp = t.vdir.path() / ".verifier.log.tmp.x1Y2z3";
  const fs::path kept = t.pdir.path() / ".epoch-0.leaves.tmp.short";  // not mkostemp's six characters
  const fs::path other = t.vdir.path() / "notes.tmp.AbC123";            // not hidden: not ours
  for (const fs::path& p : {leaves_tmp, log_tmp, kept, other}) std::ofstream(p) << "partial";
  { ProviderSession p = t.P(); }
  { VerifierSession v = t.V(); }
  EXPECT_FALSE(fs::exists(leaves_tmp));
  EXPECT_FALSE(fs::exists(log_tmp));
  EXPECT_TRUE(fs::exists(kept));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_TRUE(fs::exists(t.pdir.path() / "provider.log")) << "the store itself is untouched";
}

TEST(ProtocolStoreLock, ANamedLockFileIsRefusedToASecondHolderNamingWhatItGuards) {
  TempDir dir;
  const fs::path lock_file = dir.path() / "audit.db.lock";
  {
    ASSERT_OK_AND_ASSIGN(const StoreLock held, StoreLock::AcquireFile(lock_file, "verifierd database"));
    const Result<StoreLock> second = StoreLock::AcquireFile(lock_file, "verifierd database");
    ASSERT_EQ(second.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(second.status().message().find("verifierd database " + dir.path().string() + " is in use by pid " +
                                             std::to_string(::getpid())),
              std::string::npos)
        << second.status().message();
  }
  EXPECT_TRUE(StoreLock::AcquireFile(lock_file, "verifierd database").ok()) << "released with its holder";
  EXPECT_EQ(StoreLock::AcquireFile(dir.path() / "missing" / "x.lock", "verifierd database").status().code(),
            StatusCode::kIoError);
}

TEST(ProtocolStoreLock, AnotherProcessHoldingTheStoreRefusesThisOne) {
  Parties t;
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child: open the provider store, say so, hold it until told to let go. No gtest macros here.
    Result<ProviderSession> held = ProviderSession::Open(t.pdir.path());
    const char state = held.ok() ? 'y' : 'n';
    [[maybe_unused]] ssize_t n = ::write(ready[1], &state, 1);
    char go = 0;
    n = ::read(release[0], &go, 1);
    ::_exit(held.ok() ? 0 : 1);
  }
  char state = 0;
  ASSERT_EQ(::read(ready[0], &state, 1), 1);
  ASSERT_EQ(state, 'y') << "the child could not open the store";
  // While the child holds it: refused at once, naming the child, and nothing is signed or logged.
  const uint64_t size = fs::file_size(t.pdir.path() / "provider.log");
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  const Status refused = ProviderSession::Open(t.pdir.path()).status();
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("in use by pid " + std::to_string(child) + " ("), std::string_view::npos)
      << refused.ToString();
  EXPECT_EQ(fs::file_size(t.pdir.path() / "provider.log"), size);
  const char go = 1;
  ASSERT_EQ(::write(release[1], &go, 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
  // The child is gone: the kernel dropped its lock, and the store works again.
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  EXPECT_FALSE(proved.already_logged);
}

// ---------------------------------------------------------------------------------------------------------------
// The log schema: what the sessions write decodes with the public functions `vcp inspect` uses.

TEST(ProtocolStoreLog, EveryEntryOfBothLogsDecodesWithTheSchema) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  t.clock.Advance(1234);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  ASSERT_OK_AND_ASSIGN(const RespondOutcome responded, t.P().Respond(*outcome.challenge, t.provider, t.poptions));
  ASSERT_OK(t.V().ReceiveResponse(Serialize(responded.response), t.verifier));

  ASSERT_OK_AND_ASSIGN(const LogScan provider, ScanLog(ReadAll(t.pdir.path() / "provider.log")));
  std::vector<std::string> names;
  for (const LogEntry& e : provider.entries) {
    names.emplace_back(LogEntryName(StoreRole::kProvider, e.type));
    ASSERT_OK_AND_ASSIGN(const std::span<const uint8_t> message, LogEntryMessage(StoreRole::kProvider, e));
    EXPECT_OK_MESSAGE(message);
    if (e.type == uint8_t(ProviderEntry::kRecord)) {
      ASSERT_OK_AND_ASSIGN(const ProviderRecordEntry record, DecodeProviderRecordEntry(e.payload));
      EXPECT_EQ(Serialize(record.record), Serialize(proved.record));
      EXPECT_EQ(record.round_roots.size(), EpochRounds(t.lease));
      EXPECT_EQ(EncodeProviderRecordEntry(record.record, record.round_roots), e.payload);
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"lease", "acceptance", "epoch-start", "record", "response"}));

  ASSERT_OK_AND_ASSIGN(const LogScan verifier, ScanLog(ReadAll(t.vdir.path() / "verifier.log")));
  names.clear();
  for (const LogEntry& e : verifier.entries) {
    names.emplace_back(LogEntryName(StoreRole::kVerifier, e.type));
    ASSERT_OK_AND_ASSIGN(const std::span<const uint8_t> message, LogEntryMessage(StoreRole::kVerifier, e));
    if (e.type == uint8_t(VerifierEntry::kPlan)) {
      EXPECT_TRUE(message.empty());
      ASSERT_OK_AND_ASSIGN(const AuditPlanEntry plan, DecodeAuditPlanEntry(e.payload));
      EXPECT_EQ(EncodeAuditPlanEntry(plan), e.payload);
    } else {
      EXPECT_OK_MESSAGE(message);
    }
    if (e.type == uint8_t(VerifierEntry::kStart)) {
      ASSERT_OK_AND_ASSIGN(const StartEntry entry, DecodeStartEntry(e.payload));
      EXPECT_EQ(entry.schedule, EpochSchedule::kOnDemand);
      EXPECT_EQ(Serialize(entry.start), Serialize(start));
      EXPECT_EQ(EncodeStartEntry(entry.schedule, entry.start), e.payload);
      EXPECT_EQ(e.payload[0], 2) << "u8 schedule 2 = on demand, then the start";
      std::vector<uint8_t> bad = e.payload;
      bad[0] = 3;
      EXPECT_EQ(DecodeStartEntry(bad).status().code(), StatusCode::kCorrupt);
    }
    if (e.type == uint8_t(VerifierEntry::kArrival)) {
      ASSERT_OK_AND_ASSIGN(const ArrivalEntry arrival, DecodeArrivalEntry(e.payload));
      EXPECT_EQ(arrival.arrival_us, start.start_us + 1234);
      EXPECT_EQ(EncodeArrivalEntry(arrival.arrival_us, Serialize(arrival.record)), e.payload);
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"lease", "audit-plan", "acceptance", "epoch-start", "record-arrival",
                                             "challenge", "response", "verdict"}));
  EXPECT_EQ(LogEntryName(StoreRole::kVerifier, 99), "");
  EXPECT_EQ(DecodeArrivalEntry(std::vector<uint8_t>{1, 2, 3}).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(DecodeProviderRecordEntry(std::vector<uint8_t>{9, 0, 0, 0, 1}).status().code(), StatusCode::kCorrupt);
}

// vcp inspect's view of a store: every entry named, the log's own fields decoded, each carried message as
// MessageJson shows it; leaves files by their header; anything else is MessageJson's.
TEST(ProtocolInspect, StoreLogsLeavesFilesAndMessagesBecomeJson) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(start, t.provider, t.poptions));
  t.clock.Advance(777);
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));

  std::vector<uint8_t> vlog = ReadAll(t.vdir.path() / "verifier.log");
  ASSERT_OK_AND_ASSIGN(const std::string vtext, InspectJson(vlog));
  const nlohmann::json v = nlohmann::json::parse(vtext);
  EXPECT_EQ(v["type"], "store-log");
  EXPECT_EQ(v["role"], "verifier");
  EXPECT_EQ(v["torn_tail"], false);
  ASSERT_EQ(v["entries"].size(), 6u);
  EXPECT_EQ(v["entries"][1]["type"], "audit-plan");
  EXPECT_TRUE(v["entries"][1].contains("mean_gap_us"));
  EXPECT_FALSE(v["entries"][1].contains("message"));
  EXPECT_EQ(v["entries"][3]["type"], "epoch-start");
  EXPECT_EQ(v["entries"][3]["schedule"], "on-demand");
  EXPECT_EQ(v["entries"][3]["message"]["type"], "epoch-start");
  EXPECT_EQ(v["entries"][4]["type"], "record-arrival");
  EXPECT_EQ(v["entries"][4]["arrival_us"], start.start_us + 777);
  EXPECT_EQ(v["entries"][4]["message"]["type"], "epoch-record");
  EXPECT_EQ(v["entries"][4]["message"]["record_hash"], ToHex(RecordHash(proved.record)));
  EXPECT_EQ(v["entries"][5]["message"]["type"], "challenge");

  const std::vector<uint8_t> plog = ReadAll(t.pdir.path() / "provider.log");
  ASSERT_OK_AND_ASSIGN(const std::string ptext, InspectJson(plog));
  const nlohmann::json p = nlohmann::json::parse(ptext);
  EXPECT_EQ(p["role"], "provider");
  ASSERT_EQ(p["entries"].size(), 4u);
  EXPECT_EQ(p["entries"][3]["type"], "record");
  EXPECT_EQ(p["entries"][3]["round_roots"].size(), EpochRounds(t.lease));
  EXPECT_EQ(p["entries"][3]["message"]["epoch_root"], ToHex(proved.record.epoch_root));

  // A torn tail is shown, not refused.
  vlog.resize(vlog.size() - 5);
  ASSERT_OK_AND_ASSIGN(const std::string torn, InspectJson(vlog));
  const nlohmann::json tj = nlohmann::json::parse(torn);
  EXPECT_EQ(tj["torn_tail"], true);
  EXPECT_EQ(tj["entries"].size(), 5u);
  EXPECT_NE(tj["recovery"].get<std::string>().find("torn tail"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(const std::string ltext, InspectJson(ReadAll(t.pdir.path() / "epoch-0.leaves")));
  const nlohmann::json l = nlohmann::json::parse(ltext);
  EXPECT_EQ(l["type"], "leaves-file");
  EXPECT_EQ(l["epoch"], 0);
  EXPECT_EQ(l["rounds"], EpochRounds(t.lease));
  EXPECT_EQ(l["leaves_per_round"], LeavesPerRound(t.lease));
  EXPECT_EQ(l["lease_id"], ToHex(LeaseId(t.lease)));

  ASSERT_OK_AND_ASSIGN(const std::string stext, InspectJson(Serialize(start)));
  EXPECT_EQ(nlohmann::json::parse(stext)["type"], "epoch-start");
  EXPECT_EQ(InspectJson(Bytes("VCPH short")).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(InspectJson(Bytes("not a vcp file")).status().code(), StatusCode::kCorrupt);
}

TEST(ProtocolSessionRestart, CorruptedLogIsRefusedWithTheOffset) {
  Parties t;
  ASSERT_TRUE(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand).ok());
  const fs::path log = t.vdir.path() / "verifier.log";
  std::vector<uint8_t> b = ReadAll(log);
  b[30] ^= 0xff;  // inside the first frame (the lease)
  WriteAll(log, b);
  auto v = VerifierSession::Open(t.vdir.path(), t.voptions);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(v.status().message().find("offset 8"), std::string_view::npos) << v.status().ToString();
}

}  // namespace
}  // namespace vcp
