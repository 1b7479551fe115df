// Crash safety of the protocol stores: the append-only log (torn tails cut and reported at every cut point,
// corruption refused), the leaves file, and both sessions resuming after a restart or a torn log.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fileio.h"
#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/lease_session.h"
#include "vcp/store.h"

namespace vcp {
namespace {

namespace fs = std::filesystem;
using testing::kT0;
using testing::Parties;
using testing::TempDir;

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::vector<uint8_t> ReadAll(const fs::path& p) { return std::move(ReadFileBytes(p)).value(); }

void WriteAll(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A log with three entries; returns the offset where the third frame starts.
uint64_t MakeLog(const fs::path& path) {
  auto log = AppendLog::Create(path, StoreRole::kProvider);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_TRUE(log->Append(1, Bytes("first entry")).ok());
  EXPECT_TRUE(log->Append(2, Bytes("")).ok());
  EXPECT_TRUE(log->Append(3, Bytes("the third entry, the one a crash may tear")).ok());
  return log->entries()[2].offset;
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

TEST(ProtocolLog, DamagedLastFrameIsATornTailDamagedMiddleFrameIsCorruption) {
  TempDir dir;
  const fs::path path = dir.path() / "a.log";
  const uint64_t third = MakeLog(path);
  const std::vector<uint8_t> full = ReadAll(path);
  // Every byte of the last frame: a flip there is indistinguishable from a torn write.
  for (uint64_t i = third; i < full.size(); ++i) {
    std::vector<uint8_t> b = full;
    b[i] ^= 0x40;
    auto scan = ScanLog(b);
    ASSERT_TRUE(scan.ok()) << i;
    EXPECT_TRUE(scan->recovery.torn_tail) << i;
    EXPECT_EQ(scan->entries.size(), 2u);
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
  b[4] = 2;
  EXPECT_NE(ScanLog(b).status().message().find("version 2"), std::string_view::npos);
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
  const Hash32 seal = TaggedHash("vcp.v1.leaves-file", std::span<const uint8_t>(b.data(), 57));
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
  auto start = t.V().StartEpoch(t.verifier);
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  // The verifier crashed before delivering the start: the same start comes back.
  auto again = t.V().StartEpoch(t.verifier);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Serialize(*again), Serialize(*start));

  t.clock.Advance(1000);
  auto record = t.P().Prove(*start, t.provider, t.poptions);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  // A torn append after the record: reported, cut, and the record (which was logged first) is still there.
  AppendGarbage(t.pdir.path() / "provider.log");
  {
    ProviderSession p = t.P();
    EXPECT_TRUE(p.recovery().torn_tail);
    t.clock.Advance(5000);
    auto same = p.Prove(*start, t.provider, t.poptions);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(Serialize(*same), Serialize(*record)) << "the logged record is reissued, never recomputed";
  }

  t.clock.Advance(1000);
  AppendGarbage(t.vdir.path() / "verifier.log");
  auto outcome = t.V().ReceiveRecord(Serialize(*record), t.verifier);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_TRUE(outcome->finding.ok()) << outcome->finding.detail;
  ASSERT_TRUE(outcome->challenge.has_value());
  auto outcome2 = t.V().ReceiveRecord(Serialize(*record), t.verifier);
  ASSERT_TRUE(outcome2.ok());
  EXPECT_EQ(Serialize(*outcome2->challenge), Serialize(*outcome->challenge));

  auto response = t.P().Respond(*outcome->challenge, t.provider, t.poptions);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  auto response2 = t.P().Respond(*outcome->challenge, t.provider, t.poptions);
  ASSERT_TRUE(response2.ok());
  EXPECT_EQ(Serialize(*response2), Serialize(*response));

  auto verdict = t.V().ReceiveResponse(Serialize(*response), t.verifier);
  ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
  EXPECT_EQ(verdict->reason, Reason::kPass) << verdict->detail;
  auto verdict2 = t.V().ReceiveResponse(Serialize(*response), t.verifier);
  ASSERT_TRUE(verdict2.ok());
  EXPECT_EQ(Serialize(*verdict2), Serialize(*verdict));
  VerifierSession v = t.V();
  ASSERT_EQ(v.verdicts().size(), 1u);
  EXPECT_TRUE(CheckSignature(v.verdicts()[0], t.verifier.public_key()).ok());
}

TEST(ProtocolSessionRestart, MissingOrDamagedLeavesFileFallsBackToRecomputing) {
  for (const std::string damage : {"none", "missing", "corrupt", "not kept"}) {
    Parties t;
    auto start = t.V().StartEpoch(t.verifier);
    ASSERT_TRUE(start.ok());
    ProverOptions options = t.poptions;
    options.keep_leaves = damage != "not kept";
    auto record = t.P().Prove(*start, t.provider, options);
    ASSERT_TRUE(record.ok());
    const fs::path leaves = t.pdir.path() / "epoch-0.leaves";
    EXPECT_EQ(fs::exists(leaves), options.keep_leaves) << damage;
    if (damage == "missing") fs::remove(leaves);
    if (damage == "corrupt") {
      std::vector<uint8_t> b = ReadAll(leaves);
      b[b.size() / 2] ^= 1;
      WriteAll(leaves, b);
    }
    auto outcome = t.V().ReceiveRecord(Serialize(*record), t.verifier);
    ASSERT_TRUE(outcome.ok() && outcome->challenge);
    ProviderSession p = t.P();
    auto response = p.Respond(*outcome->challenge, t.provider, options);
    ASSERT_TRUE(response.ok()) << damage << ": " << response.status().ToString();
    if (damage == "none") {
      EXPECT_EQ(p.last_leaf_source(), "leaves file");
    } else {
      EXPECT_EQ(p.last_leaf_source().rfind("recomputed", 0), 0u) << p.last_leaf_source();
    }
    if (damage == "corrupt") {
      EXPECT_NE(p.last_leaf_source().find("checksum"), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(leaves)) << "answered epochs drop their leaves";
    auto verdict = t.V().ReceiveResponse(Serialize(*response), t.verifier);
    ASSERT_TRUE(verdict.ok());
    EXPECT_EQ(verdict->reason, Reason::kPass) << damage << ": " << verdict->detail;
  }
}

TEST(ProtocolSessionRestart, CorruptedLogIsRefusedWithTheOffset) {
  Parties t;
  ASSERT_TRUE(t.V().StartEpoch(t.verifier).ok());
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
