// vcp/store.h: the crash-safe files behind both roles (docs/PROTOCOL.md section 11): an append-only log of
// checksummed frames, and the provider's per-epoch leaves file.
//
// Log file: an 8-byte header ("VCPG", u8 version 2, u8 role, 2 zero bytes) then frames:
//   u32 magic "VCPF" | u32 payload length | u8 type | payload | 32-byte TaggedHash("vcp.v2.log-frame", length ||
//   type || payload)
// Every append is flushed to disk (fsync) before Append returns, and callers append before they hand a message
// to the other side, so nothing the other side was told about is lost.
//
// Opening after a crash (docs/PROTOCOL.md section 11.1). Only the last append can be unfinished, so the first
// damaged frame is a TORN tail, the unfinished append of a crash, when it is the last thing in the file and either
// cut short (fewer bytes than a frame or than its declared length, the bytes present agreeing with a frame's
// start) or zero from a 512-byte boundary inside it to the end (blocks the file system never wrote). A torn tail
// was never acknowledged (Append had not returned), so it is reported in recovery() and cut off by the writer.
// Anything else is ALTERED, which a crash cannot cause: a complete frame (its bytes all present, not zeroed) whose
// checksum fails, a wrong magic, a declared length no writer writes, a length field that disagrees with a complete
// frame, or any intact frame after the damage. Open refuses it (kCorrupt with the offset and what to do) and
// never cuts it, so a verdict or any other entry that was acknowledged is never dropped.
//
// A log with no entry (empty, shorter than its header, or the header and at most a torn tail: a crash while
// `vcp lease new` / `vcp lease accept` created it) holds nothing; the sessions treat it, and one without its
// opening pair of entries, as no store (vcp/lease_session.h).
//
// Readers never write: OpenForReading and ScanLog report a torn tail and read the intact prefix, leaving the file
// as it is; only the lock holder's Open cuts it.
//
// One writer per store: StoreLock holds an exclusive flock(2) on DIR/store.lock for as long as it lives; the
// sessions take it before they read or create their log, so a second process on the same store is refused at
// once instead of signing a second message for the same epoch.
//
// Ownership: AppendLog owns its path and the parsed entries; StoreLock owns its file descriptor (move-only).
// Thread safety: one writer per log; the sessions serialise their calls. Errors: kIoError with the path and OS
// reason; kCorrupt for damaged files; kUnavailable when another process holds a store's lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "vcp/epoch.h"
#include "vcp/hash.h"
#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

enum class StoreRole : uint8_t { kProvider = 1, kVerifier = 2 };

struct VCP_EXPORT LogEntry {
  uint8_t type = 0;
  std::vector<uint8_t> payload;
  uint64_t offset = 0;  // of the frame in the file
};

struct VCP_EXPORT LogRecovery {
  bool torn_tail = false;
  uint64_t kept_bytes = 0;     // the intact prefix
  uint64_t dropped_bytes = 0;  // the torn tail: cut off by Open; left in place by OpenForReading and ScanLog
  std::string note;            // human-readable, empty when the log was intact
  // The file is shorter than its 8-byte header (empty, or a prefix of a header): a crash while the store was
  // being created. It holds no entry; torn_tail is set when it has any byte.
  bool no_header = false;
};

// What a session keeps its state in: an ordered list of typed entries that it replays when it opens and appends
// to, durably, before it hands out the message an entry records. AppendLog is the file store's; the verifier
// service keeps each lease's entries in its database (lib/service/verifier_db.h), in the same order and with the
// same payloads, so one session implementation serves both.
class VCP_EXPORT EntryLog {
 public:
  virtual ~EntryLog() = default;
  // Durable when it returns OK; after a failure the log refuses further appends until it is reopened.
  [[nodiscard]] virtual Status Append(uint8_t type, std::span<const uint8_t> payload) = 0;
  virtual const std::vector<LogEntry>& entries() const = 0;
  virtual const LogRecovery& recovery() const = 0;
  // Where the entries live, for error messages: a path, or "database FILE, lease ID".
  virtual std::string Describe() const = 0;
  // True for a log opened only to read (AppendLog::OpenForReading): Append refuses, and the sessions over it refuse
  // every step that would log something, before doing anything.
  virtual bool read_only() const { return false; }
};

class VCP_EXPORT AppendLog final : public EntryLog {
 public:
  // Creates a new log (kIoError "refusing to overwrite" if the file exists). The caller holds the store's lock.
  static Result<AppendLog> Create(const std::filesystem::path& path, StoreRole role);
  // Opens an existing log for writing, checks every frame, and cuts off a torn tail (reported in recovery()). The
  // caller holds the store's lock. kCorrupt for an altered log (nothing is changed), kInvalidArgument for a log
  // of the other role. A log shorter than its header opens with no entry and recovery().no_header (the sessions
  // say the store holds no lease); Append refuses on it.
  static Result<AppendLog> Open(const std::filesystem::path& path, StoreRole role);
  // The same checks without writing anything and without the lock: a torn tail is reported in recovery() and
  // left in the file; the entries are the intact prefix. Append refuses (kInvalidArgument). For readers: vcp
  // report, vcp inspect, monitoring scripts, the crash-loop checks.
  static Result<AppendLog> OpenForReading(const std::filesystem::path& path, StoreRole role);

  [[nodiscard]] Status Append(uint8_t type, std::span<const uint8_t> payload) override;
  const std::vector<LogEntry>& entries() const override { return entries_; }
  const LogRecovery& recovery() const override { return recovery_; }
  std::string Describe() const override { return path_.string(); }
  const std::filesystem::path& path() const { return path_; }
  bool read_only() const override { return read_only_; }

 private:
  AppendLog() = default;
  static Result<AppendLog> Load(const std::filesystem::path& path, StoreRole role, bool for_writing);
  bool read_only_ = false;
  std::filesystem::path path_;
  std::vector<LogEntry> entries_;
  LogRecovery recovery_;
  uint64_t size_ = 0;    // bytes on disk
  bool broken_ = false;  // an append failed part-way: refuse more until the log is reopened (and its tail cut)
};

// Parses a log image without touching any file (vcp inspect, tests). Never cuts anything. kCorrupt for an altered
// image (the offset and why), as Open; an image shorter than its header (a prefix of one, or empty) scans to no
// entry with recovery.no_header (its role is kProvider when the role byte is missing).
struct VCP_EXPORT LogScan {
  StoreRole role = StoreRole::kProvider;
  std::vector<LogEntry> entries;
  LogRecovery recovery;  // what Open would report and cut
};
VCP_EXPORT Result<LogScan> ScanLog(std::span<const uint8_t> bytes);

// The largest frame payload a log holds (Append refuses more): a damaged frame declaring more was altered.
inline constexpr uint32_t kMaxLogPayloadBytes = uint32_t{128} << 20;

// The 8-byte header a log of `role` starts with (the same bytes Create writes).
VCP_EXPORT std::vector<uint8_t> EncodeLogHeader(StoreRole role);
// Frame bytes for one entry (the same bytes Append writes).
VCP_EXPORT std::vector<uint8_t> EncodeLogFrame(uint8_t type, std::span<const uint8_t> payload);

// An exclusive, non-blocking lock on a store directory: DIR/store.lock (created 0600 if missing, never removed) is
// flock()ed LOCK_EX | LOCK_NB and then rewritten with "pid <pid>\ncommand <argv joined by spaces>\n" so a refused
// process can name the holder. flock locks belong to the open file, so a second Acquire in the same process is
// refused too. The kernel drops the lock when the holder exits, even by a crash: a stale lock file is harmless.
class VCP_EXPORT StoreLock {
 public:
  // kUnavailable, at once, when another open file (another process, or another session in this one) holds it:
  // "<what> store DIR is in use by pid P (COMMAND); one process at a time may write a store: wait for it to
  // finish". kIoError when the lock file cannot be opened.
  static Result<StoreLock> Acquire(const std::filesystem::path& dir, std::string_view what);
  // The same lock on a named lock file (the verifier service's database: FILE.lock beside it); the refusal names
  // `what` and the file.
  static Result<StoreLock> AcquireFile(const std::filesystem::path& lock_file, std::string_view what);
  // What DIR/store.lock says about its last holder ("pid 123 (vcp prove ...)"), empty when unreadable or empty.
  static std::string DescribeHolder(const std::filesystem::path& dir);
  static std::string DescribeHolderFile(const std::filesystem::path& lock_file);

  StoreLock(StoreLock&& other) noexcept;
  StoreLock& operator=(StoreLock&& other) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  static Result<StoreLock> Lock(const std::filesystem::path& path, const std::string& holder_of);
  int fd_ = -1;
};

// Leaves file: "VCPH", u8 version 2, lease id, u64 epoch, u32 D x R (the epoch's rounds, q order), u64 leaves per
// round L, (D x R) x L hashes, then a 32-byte TaggedHash("vcp.v2.leaves-file", every byte before it). Written
// atomically.
[[nodiscard]] VCP_EXPORT Status WriteLeavesFile(const std::filesystem::path& path, const Hash32& lease_id,
                                                uint64_t epoch, const EpochLeaves& leaves);
// Reads one round back, checking the header against the expected lease, epoch and shape and the checksum.
VCP_EXPORT Result<EpochLeaves> ReadLeavesFile(const std::filesystem::path& path, const Hash32& lease_id,
                                              uint64_t epoch, uint32_t rounds, uint64_t leaves_per_round);

// The header of a leaves file image, checked for magic, version, size against its own counts and checksum
// (vcp inspect, and ReadLeavesFile before it compares the header with what it expects). kCorrupt otherwise.
struct VCP_EXPORT LeavesFileHeader {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  uint32_t rounds = 0;  // D x R
  uint64_t leaves_per_round = 0;
};
VCP_EXPORT Result<LeavesFileHeader> ScanLeavesFile(std::span<const uint8_t> bytes);

}  // namespace vcp
