// Recovery rules of the protocol stores (docs/PROTOCOL.md 10.5 and 11.1), one regression test per defect the
// issue 12 attack run found: a torn append (cut short, or zeros the file system never wrote) is cut, an altered
// last frame is refused and never cut (so a verdict is never dropped and no epoch reopens), a store a crash left
// without a lease is no store (recreated by Accept / Create, named by everything else), readers never write, and
// the last epoch of a lease is closed, and reported, once it is overdue.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fileio.h"
#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/inspect.h"
#include "vcp/lease_session.h"
#include "vcp/store.h"

namespace vcp {
namespace {

namespace fs = std::filesystem;
using testing::kT0;
using testing::Must;
using testing::Parties;
using testing::TempDir;

std::vector<uint8_t> ReadAll(const fs::path& p) { return Must(ReadFileBytes(p), "read " + p.string()); }

void WriteAll(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void AppendBytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::app).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool Has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// A provider-role log of two short entries and a last one of 1500 payload bytes, so that the last frame spans two
// 512-byte boundaries wherever it starts. Returns the last frame's offset.
uint64_t MakeLog(const fs::path& path) {
  AppendLog log = Must(AppendLog::Create(path, StoreRole::kProvider), "Create");
  Must(log.Append(1, std::vector<uint8_t>{'a'}), "Append");
  Must(log.Append(2, std::vector<uint8_t>(30, 'b')), "Append");
  Must(log.Append(3, std::vector<uint8_t>(1500, 0xc3)), "Append");
  return log.entries()[2].offset;
}

// --- torn or altered ------------------------------------------------------------------------------------------

// Zeros the file system never wrote, from the frame's start or from a sector boundary inside it to the end of the
// file, are a torn append: reported, and cut only by the writer.
TEST(ProtocolRecovery, ZerosFromASectorBoundaryInsideTheLastFrameAreATornTail) {
  TempDir dir;
  const fs::path path = dir.path() / "a.log";
  const uint64_t last = MakeLog(path);
  const std::vector<uint8_t> full = ReadAll(path);
  std::vector<uint64_t> zero_from = {last};  // the whole frame unwritten
  for (uint64_t b = (last / 512 + 1) * 512; b < full.size(); b += 512) zero_from.push_back(b);
  ASSERT_GE(zero_from.size(), 3u);
  for (const uint64_t from : zero_from) {
    std::vector<uint8_t> b = full;
    std::fill(b.begin() + from, b.end(), 0);
    ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(b));
    EXPECT_TRUE(scan.recovery.torn_tail) << "zeros from " << from;
    EXPECT_EQ(scan.entries.size(), 2u);
    EXPECT_EQ(scan.recovery.kept_bytes, last);
    // Zeros that are not a whole unwritten tail (one byte short of the end) leave a complete frame: altered.
    b.back() = 1;
    EXPECT_EQ(ScanLog(b).status().code(), StatusCode::kCorrupt) << "zeros from " << from << " then a byte";
  }
  // The file system may also extend the file by whole zero blocks past the frame's start.
  std::vector<uint8_t> grown(full.begin(), full.begin() + last);
  grown.resize(last + 4096, 0);
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(grown));
  EXPECT_TRUE(scan.recovery.torn_tail);
  // Zeros starting off a sector boundary inside a complete frame were written as data: the frame was altered.
  std::vector<uint8_t> b = full;
  const uint64_t off_boundary = (full.size() - 1) / 512 * 512 + 7;  // past the frame's last sector boundary
  ASSERT_GT(off_boundary, last + 512);
  ASSERT_LT(off_boundary, full.size());
  std::fill(b.begin() + off_boundary, b.end(), 0);
  ASSERT_FALSE(ScanLog(b).ok());
  EXPECT_TRUE(Has(ScanLog(b).status().message(), "the frame is complete")) << ScanLog(b).status().ToString();
}

// A cut-short last frame is torn at every cut point; its bytes must still be a frame's start.
TEST(ProtocolRecovery, ACutShortFrameIsTornUnlessItsBytesCannotStartAFrame) {
  TempDir dir;
  const fs::path path = dir.path() / "a.log";
  const uint64_t last = MakeLog(path);
  const std::vector<uint8_t> full = ReadAll(path);
  for (uint64_t cut = last + 1; cut < full.size(); ++cut) {
    const std::vector<uint8_t> b(full.begin(), full.begin() + cut);
    ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(b));
    EXPECT_TRUE(scan.recovery.torn_tail) << cut;
  }
  // A wrong magic is no frame a writer started.
  std::vector<uint8_t> b(full.begin(), full.begin() + last + 100);
  b[last + 1] ^= 0x01;
  EXPECT_TRUE(Has(ScanLog(b).status().message(), "frame magic")) << ScanLog(b).status().ToString();
  // A declared length no writer writes.
  b.assign(full.begin(), full.begin() + last + 100);
  b[last + 7] = 0x7f;
  EXPECT_TRUE(Has(ScanLog(b).status().message(), "more than any log frame holds")) << ScanLog(b).status().ToString();
}

// A one-bit flip anywhere in the complete last frame (magic, length, type, payload, checksum) is an alteration:
// Open refuses it loudly, changes nothing, and the entries before it are not silently resumed.
TEST(ProtocolRecovery, EveryBitFlipInTheLastFrameIsRefusedAndTheFileIsLeftAsItWas) {
  TempDir dir;
  const fs::path path = dir.path() / "a.log";
  const uint64_t last = MakeLog(path);
  const std::vector<uint8_t> full = ReadAll(path);
  int refused = 0;
  for (uint64_t i = last; i < full.size(); ++i) {
    for (const uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
      std::vector<uint8_t> b = full;
      b[i] ^= bit;
      const Result<LogScan> scan = ScanLog(b);
      ASSERT_FALSE(scan.ok()) << "byte " << i << " bit " << int(bit);
      EXPECT_EQ(scan.status().code(), StatusCode::kCorrupt);
      ++refused;
    }
  }
  EXPECT_EQ(refused, int(2 * (full.size() - last)));
  // Through the file, for a length flip (the frame then looks cut short by its own length field) and a payload flip.
  for (const uint64_t i : {last + 5, last + 600}) {
    std::vector<uint8_t> b = full;
    b[i] ^= 0x01;
    WriteAll(path, b);
    const Result<AppendLog> log = AppendLog::Open(path, StoreRole::kProvider);
    ASSERT_EQ(log.status().code(), StatusCode::kCorrupt) << i;
    EXPECT_TRUE(Has(log.status().message(), "offset " + std::to_string(last))) << log.status().ToString();
    EXPECT_TRUE(Has(log.status().message(), "restore the store directory from a backup")) << log.status().ToString();
    EXPECT_EQ(ReadAll(path), b) << "nothing is cut";
  }
  std::vector<uint8_t> b = full;
  b[last + 6] ^= 0x01;  // length + 65536: "cut short", but a complete frame of the real length is there
  EXPECT_TRUE(Has(ScanLog(b).status().message(), "its length field says")) << ScanLog(b).status().ToString();
}

// The attack run's case: a flipped bit in the last verdict was dropped as a torn append and the epoch reopened.
// Now the store refuses to open and the verdict stays in the file; the session never resumes without it.
TEST(ProtocolRecovery, AnAlteredVerdictIsNeverCutSoItsEpochNeverReopens) {
  Parties t;
  ASSERT_OK(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  t.clock.Advance(EpochDeadlineUs(t.lease) + 1);
  ASSERT_OK_AND_ASSIGN(const std::optional<Verdict> missed, t.V().CloseOverdueEpoch(t.verifier));
  ASSERT_TRUE(missed.has_value());
  const fs::path log = t.vdir.path() / "verifier.log";
  const std::vector<uint8_t> good = ReadAll(log);
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(good));
  const uint64_t verdict_at = scan.entries.back().offset;
  ASSERT_EQ(scan.entries.back().type, 7) << "the verdict is the last frame";
  for (const uint64_t i : {verdict_at + 8, verdict_at + 50, uint64_t(good.size() - 1)}) {  // type, payload, checksum
    std::vector<uint8_t> b = good;
    b[i] ^= 0x04;
    WriteAll(log, b);
    for (int reader = 0; reader < 2; ++reader) {
      const Status opened = reader ? VerifierSession::OpenForReading(t.vdir.path(), t.voptions).status()
                                   : VerifierSession::Open(t.vdir.path(), t.voptions).status();
      EXPECT_EQ(opened.code(), StatusCode::kCorrupt) << opened.ToString();
    }
    EXPECT_EQ(ReadAll(log), b) << "the verdict's frame is still there";
  }
  WriteAll(log, good);
  ASSERT_EQ(t.V().verdicts().size(), 1u);
  EXPECT_EQ(t.V().verdicts()[0].reason, Reason::kMissed);
}

// --- a store without a lease ------------------------------------------------------------------------------------

// What a crash during `vcp lease new` can leave in verifier.log: nothing, part of a header, the header, the header
// and a torn frame, or the lease without its audit plan. None was handed out, so the store holds no lease: Open
// and OpenForReading say so and name the command; Create replaces it.
TEST(ProtocolRecovery, AVerifierStoreACrashLeftWithoutALeaseIsRecreatedAndNamedAsSuch) {
  Parties t;
  const fs::path log = t.vdir.path() / "verifier.log";
  const std::vector<uint8_t> full = ReadAll(log);
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(full));
  const uint64_t plan_at = scan.entries[1].offset;
  const std::vector<std::vector<uint8_t>> leftovers = {
      {},
      std::vector<uint8_t>(full.begin(), full.begin() + 3),
      std::vector<uint8_t>(full.begin(), full.begin() + 8),
      std::vector<uint8_t>(full.begin(), full.begin() + 8 + 30),
      std::vector<uint8_t>(full.begin(), full.begin() + plan_at),
      std::vector<uint8_t>(full.begin(), full.begin() + plan_at + 20),
  };
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = t.provider.public_key();
  for (size_t i = 0; i < leftovers.size(); ++i) {
    WriteAll(log, leftovers[i]);
    ASSERT_OK_AND_ASSIGN(const LogScan left, ScanLog(leftovers[i]));
    EXPECT_LT(left.entries.size(), 2u);
    EXPECT_EQ(left.recovery.no_header, leftovers[i].size() < 8) << i;
    ASSERT_OK_AND_ASSIGN(const std::string shown, InspectJson(leftovers[i].empty() ? std::vector<uint8_t>{'V'}
                                                                                    : leftovers[i]));
    EXPECT_FALSE(nlohmann::json::parse(shown).at("holds_lease").get<bool>()) << shown;
    for (int reader = 0; reader < 2; ++reader) {
      const Status opened = reader ? VerifierSession::OpenForReading(t.vdir.path(), t.voptions).status()
                                   : VerifierSession::Open(t.vdir.path(), t.voptions).status();
      EXPECT_EQ(opened.code(), StatusCode::kInvalidArgument) << i << ": " << opened.ToString();
      EXPECT_TRUE(Has(opened.message(), "holds no lease")) << opened.ToString();
      EXPECT_TRUE(Has(opened.message(), "run vcp lease new again")) << opened.ToString();
    }
    ASSERT_OK_AND_ASSIGN(VerifierSession v, VerifierSession::Create(t.vdir.path(), terms, t.verifier, 0.01, t.voptions));
    EXPECT_EQ(v.epochs().size(), 0u);
  }
  // A store that holds a lease is never replaced.
  EXPECT_FALSE(VerifierSession::Create(t.vdir.path(), terms, t.verifier, 0.01, t.voptions).ok());
  ASSERT_OK(VerifierSession::Open(t.vdir.path(), t.voptions));
}

TEST(ProtocolRecovery, AProviderStoreACrashLeftWithoutAnAcceptanceIsAcceptedAgain) {
  Parties t;
  const fs::path log = t.pdir.path() / "provider.log";
  const std::vector<uint8_t> full = ReadAll(log);
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanLog(full));
  const uint64_t acceptance_at = scan.entries[1].offset;
  for (const uint64_t keep : {uint64_t{0}, uint64_t{8}, acceptance_at, acceptance_at + 41}) {
    WriteAll(log, std::vector<uint8_t>(full.begin(), full.begin() + keep));
    const Status opened = ProviderSession::Open(t.pdir.path()).status();
    EXPECT_EQ(opened.code(), StatusCode::kInvalidArgument) << keep << ": " << opened.ToString();
    EXPECT_TRUE(Has(opened.message(), "holds no lease")) << opened.ToString();
    EXPECT_TRUE(Has(opened.message(), "run vcp lease accept again")) << opened.ToString();
    ASSERT_OK_AND_ASSIGN(ProviderSession p, ProviderSession::Accept(t.pdir.path(), t.lease, t.provider, t.clock));
    EXPECT_EQ(p.lease_id(), LeaseId(t.lease));
  }
  EXPECT_FALSE(ProviderSession::Accept(t.pdir.path(), t.lease, t.provider, t.clock).ok()) << "never replaced";
}

// --- readers never write ----------------------------------------------------------------------------------------

// While a writer holds the lock mid-append (a torn tail on disk) and a stale temporary file lies beside the log,
// readers see the intact prefix and report the tail, and leave every byte and every file as they were; they take
// no lock, and every step that would log something is refused on them.
TEST(ProtocolRecovery, ReadersDuringAWritersTornStateLeaveTheStoreByteIdentical) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart start, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK(t.P().Prove(start, t.provider, t.poptions));
  const std::vector<uint8_t> half = [] {
    const std::vector<uint8_t> frame = EncodeLogFrame(5, std::vector<uint8_t>(200, 0x5a));
    return std::vector<uint8_t>(frame.begin(), frame.begin() + 90);
  }();
  for (const auto& [dir, log] : {std::pair{t.vdir.path(), "verifier.log"}, std::pair{t.pdir.path(), "provider.log"}}) {
    ASSERT_OK_AND_ASSIGN(StoreLock writer, StoreLock::Acquire(dir, "test writer"));
    AppendBytes(dir / log, half);
    const fs::path temporary = dir / ".epoch-1.leaves.tmp.Ab12Cd";
    std::ofstream(temporary) << "a live writer's file";
    const std::vector<uint8_t> before = ReadAll(dir / log);
    const std::vector<uint8_t> lock_before = ReadAll(dir / "store.lock");
    if (dir == t.vdir.path()) {
      ASSERT_OK_AND_ASSIGN(VerifierSession v, VerifierSession::OpenForReading(dir, t.voptions));
      EXPECT_TRUE(v.read_only());
      EXPECT_TRUE(v.recovery().torn_tail);
      EXPECT_EQ(v.recovery().dropped_bytes, half.size());
      EXPECT_EQ(v.epochs().size(), 1u);
      EXPECT_EQ(v.StartEpoch(t.verifier, EpochSchedule::kOnDemand).status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(v.CloseOverdueEpoch(t.verifier).status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(v.Report(t.clock.NowMicros()).epochs, 0u);
    } else {
      ASSERT_OK_AND_ASSIGN(ProviderSession p, ProviderSession::OpenForReading(dir));
      EXPECT_TRUE(p.read_only());
      EXPECT_TRUE(p.recovery().torn_tail);
      ASSERT_TRUE(p.LoggedRecord(start).has_value());
      EXPECT_EQ(p.Prove(start, t.provider, t.poptions).status().code(), StatusCode::kInvalidArgument);
    }
    ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> scanned, ReadFileBytes(dir / log));
    ASSERT_OK(InspectJson(scanned));
    EXPECT_EQ(ReadAll(dir / log), before) << log << ": a reader cut nothing";
    EXPECT_EQ(ReadAll(dir / "store.lock"), lock_before) << "a reader did not take the lock";
    EXPECT_TRUE(fs::exists(temporary)) << "a reader removes no temporary file";
    // The writer's lock still refuses a writer; once it is released, the writer's Open repairs.
    EXPECT_EQ(StoreLock::Acquire(dir, "second").status().code(), StatusCode::kUnavailable);
    { StoreLock released = std::move(writer); }
    if (dir == t.vdir.path()) {
      EXPECT_TRUE(t.V().recovery().torn_tail);
    } else {
      EXPECT_TRUE(t.P().recovery().torn_tail);
    }
    EXPECT_EQ(ReadAll(dir / log).size(), before.size() - half.size()) << "the writer cut the tail";
    EXPECT_FALSE(fs::exists(temporary));
  }
}

// --- the last epoch ---------------------------------------------------------------------------------------------

// The attack run's case: an epoch started just before the lease's end, never answered, was never closed, because
// StartEpoch refused after the end before closing it, and the report said every epoch passed. Now the report
// counts it (unsigned) once it is overdue, and the next start after the end signs it and then refuses.
TEST(ProtocolRecovery, TheLastEpochIsCountedWhenOverdueAndClosedByTheNextStartAfterTheLeasesEnd) {
  Parties t;
  const Verdict first = [&] {
    const EpochStart s = Must(t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand), "start");
    const ProveOutcome proved = Must(t.P().Prove(s, t.provider, t.poptions), "prove");
    const RecordOutcome checked = Must(t.V().ReceiveRecord(Serialize(proved.record), t.verifier), "record");
    const RespondOutcome answer = Must(t.P().Respond(*checked.challenge, t.provider, t.poptions), "respond");
    return *Must(t.V().ReceiveResponse(Serialize(answer.response), t.verifier), "verify").verdict;
  }();
  ASSERT_EQ(first.reason, Reason::kPass);
  const uint64_t deadline = EpochDeadlineUs(t.lease);
  t.clock.Set(t.lease.end_us - 1000);
  ASSERT_OK_AND_ASSIGN(const EpochStart last, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  // After the end but within its deadline: the same start is handed out again (a restart resumes it), not refused.
  t.clock.Set(t.lease.end_us + 1);
  ASSERT_OK_AND_ASSIGN(const EpochStart again, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(Serialize(again), Serialize(last));
  EXPECT_EQ(t.V().Report(t.clock.NowMicros()).on_demand.closed(), 1u) << "not overdue yet: not counted";

  t.clock.Set(last.start_us + deadline + 1);
  {
    const VerifierSession reader = Must(VerifierSession::OpenForReading(t.vdir.path(), t.voptions), "read");
    const std::optional<Verdict> overdue = reader.OverdueVerdict(t.clock.NowMicros(), 0);
    ASSERT_TRUE(overdue.has_value());
    EXPECT_EQ(overdue->reason, Reason::kMissed);
    EXPECT_EQ(overdue->verifier_signature, Signature{}) << "unsigned";
    const LeaseReport r = reader.Report(t.clock.NowMicros());
    EXPECT_EQ(r.on_demand.passed, 1u);
    EXPECT_EQ(r.on_demand.missed, 1u) << "the report never says every epoch passed while one is overdue";
    EXPECT_EQ(reader.verdicts().size(), 1u) << "nothing was signed by reading";
  }
  const Result<EpochStart> refused = t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand);
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(refused.status().message(), "lease ended")) << refused.status().ToString();
  EXPECT_TRUE(Has(refused.status().message(), "now closed missed")) << refused.status().ToString();
  const std::vector<Verdict> verdicts = t.V().verdicts();
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[1].reason, Reason::kMissed);
  EXPECT_TRUE(CheckSignature(verdicts[1], t.verifier.public_key()).ok());
  EXPECT_EQ(t.V().Report(t.clock.NowMicros()).on_demand.missed, 1u) << "counted once, signed now";
}

// A last record that arrived but whose response never came: no-response once the response wait has passed after
// the arrival, and not a microsecond earlier; the start after the end waits for it too.
TEST(ProtocolRecovery, AWithheldLastResponseIsNoResponseOnceTheWaitHasPassed) {
  Parties t;
  t.voptions.response_wait_us = 7'000'000;
  t.clock.Set(t.lease.end_us - 1000);
  ASSERT_OK_AND_ASSIGN(const EpochStart last, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  ASSERT_OK_AND_ASSIGN(const ProveOutcome proved, t.P().Prove(last, t.provider, t.poptions));
  t.clock.Advance(2000);
  ASSERT_OK(t.V().ReceiveRecord(Serialize(proved.record), t.verifier));
  const uint64_t arrival = t.clock.NowMicros();
  t.clock.Set(arrival + t.voptions.response_wait_us);
  const Result<EpochStart> waiting = t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand);
  EXPECT_TRUE(Has(waiting.status().message(), "stays open for its response")) << waiting.status().ToString();
  EXPECT_EQ(t.V().Report(t.clock.NowMicros()).on_demand.closed(), 0u);
  t.clock.Advance(1);
  EXPECT_EQ(t.V().Report(t.clock.NowMicros()).on_demand.failed, 1u) << "counted as no-response before it is signed";
  const Result<EpochStart> refused = t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand);
  EXPECT_TRUE(Has(refused.status().message(), "now closed no-response")) << refused.status().ToString();
  ASSERT_EQ(t.V().verdicts().size(), 1u);
  EXPECT_EQ(t.V().verdicts()[0].reason, Reason::kNoResponse);
  EXPECT_EQ(t.V().verdicts()[0].record_hash, RecordHash(proved.record));
}

// A clock stepped back before the last epoch's start would date the next start before it (and in beacon mode could
// name a round already published): refused until the clock passes it again, logging nothing.
TEST(ProtocolRecovery, AStartIsRefusedWhileTheClockIsBehindTheLastEpochsStart) {
  Parties t;
  ASSERT_OK_AND_ASSIGN(const EpochStart first, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  t.clock.Advance(EpochDeadlineUs(t.lease) + 1);
  ASSERT_OK(t.V().CloseOverdueEpoch(t.verifier));
  const std::vector<uint8_t> before = ReadAll(t.vdir.path() / "verifier.log");
  t.clock.Set(first.start_us - 1);
  const Result<EpochStart> refused = t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand);
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(refused.status().message(), "went backwards")) << refused.status().ToString();
  EXPECT_EQ(ReadAll(t.vdir.path() / "verifier.log"), before) << "a refused start logs nothing";
  t.clock.Set(first.start_us);
  ASSERT_OK_AND_ASSIGN(const EpochStart next, t.V().StartEpoch(t.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(next.epoch, 1u);
}

// kill -9 while `vcp lease new` / `lease accept` wrote the log header's temporary copy leaves it beside the store;
// the command that then creates the store holds the lock and removes it.
TEST(ProtocolRecovery, CreatingAStoreRemovesAKilledCreatorsTemporaryFile) {
  Parties t;
  TempDir vdir, pdir;
  const fs::path vtmp = vdir.path() / ".verifier.log.tmp.AbCdEf", ptmp = pdir.path() / ".provider.log.tmp.AbCdEf";
  std::ofstream(vtmp) << "VCPG";
  std::ofstream(ptmp) << "VCPG";
  Lease terms = testing::TinyLease(LeaseMode::kInteractive);
  terms.provider_key = t.provider.public_key();
  ASSERT_OK_AND_ASSIGN(VerifierSession v, VerifierSession::Create(vdir.path(), terms, t.verifier, 0.01, t.voptions));
  ASSERT_OK(ProviderSession::Accept(pdir.path(), v.lease(), t.provider, t.clock));
  EXPECT_FALSE(fs::exists(vtmp));
  EXPECT_FALSE(fs::exists(ptmp));
}

}  // namespace
}  // namespace vcp
