// Crash-safe files of the lease protocol: the append-only log and the provider's leaves file
// (docs/PROTOCOL.md section 11).
#include "vcp/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "fileio.h"
#include "vcp/bytes.h"

namespace vcp {

namespace {

constexpr std::string_view kLogMagic = "VCPG";
constexpr std::string_view kFrameMagic = "VCPF";
constexpr std::string_view kLeavesMagic = "VCPH";
constexpr uint8_t kStoreVersion = 2;
constexpr size_t kLogHeaderBytes = 8;
constexpr size_t kFrameFixedBytes = 4 + 4 + 1;  // magic, length, type
constexpr size_t kFrameOverhead = kFrameFixedBytes + kHashBytes;
constexpr uint64_t kMaxLogBytes = uint64_t{4} << 30;
constexpr uint64_t kLeavesHeaderBytes = 4 + 1 + 32 + 8 + 4 + 8;  // magic, version, lease id, epoch, D x R, L
constexpr const char* kLockFile = "store.lock";

Hash32 FrameChecksum(uint32_t length, uint8_t type, std::span<const uint8_t> payload) {
  ByteWriter w;
  w.U32(length);
  w.U8(type);
  w.Bytes(payload);
  return TaggedHash("vcp.v2.log-frame", w.bytes());
}

// Parses the frame at `offset`; an empty string on success, otherwise why it is not an intact frame.
std::string TryFrame(std::span<const uint8_t> bytes, uint64_t offset, LogEntry& entry, uint64_t& next) {
  const uint64_t left = bytes.size() - offset;
  if (left < kFrameOverhead) return "cut short (" + std::to_string(left) + " bytes, a frame has at least 41)";
  const uint8_t* p = bytes.data() + offset;
  if (std::memcmp(p, kFrameMagic.data(), 4) != 0) return "missing the frame magic \"VCPF\"";
  const uint32_t length = LoadLe32(std::span<const uint8_t, 4>(p + 4, 4));
  if (length > left - kFrameOverhead) {
    return "cut short (declares " + std::to_string(length) + " payload bytes, " +
           std::to_string(left - kFrameOverhead) + " remain)";
  }
  const uint8_t type = p[8];
  const std::span<const uint8_t> payload(p + kFrameFixedBytes, length);
  const Hash32 expected = FrameChecksum(length, type, payload);
  if (std::memcmp(expected.data(), p + kFrameFixedBytes + length, kHashBytes) != 0) return "checksum mismatch";
  entry.type = type;
  entry.payload.assign(payload.begin(), payload.end());
  entry.offset = offset;
  next = offset + kFrameOverhead + length;
  return std::string();
}


std::string_view RoleName(StoreRole role) { return role == StoreRole::kProvider ? "provider" : "verifier"; }

Status Truncate(const std::filesystem::path& path, uint64_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path.string() + " to cut its torn tail: " + std::strerror(errno));
  Status status;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fsync(fd) != 0) {
    status = Status::IoError("cannot cut the torn tail of " + path.string() + ": " + std::strerror(errno));
  }
  ::close(fd);
  return status;
}

Hash32 LeavesChecksum(std::span<const uint8_t> bytes) { return TaggedHash("vcp.v2.leaves-file", bytes); }

}  // namespace

std::vector<uint8_t> EncodeLogHeader(StoreRole role) {
  ByteWriter w;
  w.Text(kLogMagic);
  w.U8(kStoreVersion);
  w.U8(static_cast<uint8_t>(role));
  w.U16(0);
  return w.Take();
}

std::vector<uint8_t> EncodeLogFrame(uint8_t type, std::span<const uint8_t> payload) {
  ByteWriter w;
  w.Text(kFrameMagic);
  w.U32(static_cast<uint32_t>(payload.size()));
  w.U8(type);
  w.Bytes(payload);
  w.Bytes(FrameChecksum(static_cast<uint32_t>(payload.size()), type, payload));
  return w.Take();
}

namespace {

// A file shorter than the 8-byte header whose bytes are a header's first bytes (or none): what a crash while the
// header was being written could leave (the header is written atomically, so in practice only an empty file).
bool IsHeaderPrefix(std::span<const uint8_t> bytes) {
  if (bytes.size() >= kLogHeaderBytes) return false;
  for (StoreRole role : {StoreRole::kProvider, StoreRole::kVerifier}) {
    const std::vector<uint8_t> header = EncodeLogHeader(role);
    if (std::equal(bytes.begin(), bytes.end(), header.begin())) return true;
  }
  return false;
}

constexpr uint64_t kSectorBytes = 512;

// The damaged frame at `offset` (TryFrame said `why`) with no intact frame after it: an empty string when it is a
// torn tail, otherwise why a crash cannot explain it (vcp/store.h, docs/PROTOCOL.md 11.1). A torn append wrote a
// prefix of the frame, and the file system may show the blocks it never wrote as zeros: from the frame's start or
// from a sector boundary inside it, to the end of the file.
std::string WhyAltered(std::span<const uint8_t> bytes, uint64_t offset, const std::string& why) {
  const uint8_t* p = bytes.data() + offset;
  const uint64_t n = bytes.size() - offset;
  uint64_t nonzero = n;  // the bytes before the trailing run of zeros
  while (nonzero > 0 && p[nonzero - 1] == 0) --nonzero;
  // Where the unwritten part may begin: the frame's start, or the first sector boundary at or after the last
  // non-zero byte (an earlier zero inside a written sector is data).
  const uint64_t unwritten =
      nonzero == 0 ? 0 : std::min(n, (offset + nonzero + kSectorBytes - 1) / kSectorBytes * kSectorBytes - offset);
  // The written part must be the start of a frame.
  for (uint64_t i = 0; i < std::min<uint64_t>(4, unwritten); ++i) {
    if (p[i] != static_cast<uint8_t>(kFrameMagic[i])) return "it does not start with the frame magic \"VCPF\"";
  }
  if (unwritten < 8) return std::string();  // not even the length was written
  const uint32_t length = LoadLe32(std::span<const uint8_t, 4>(p + 4, 4));
  if (length > kMaxLogPayloadBytes) {
    return "it declares " + std::to_string(length) + " payload bytes, more than any log frame holds (" +
           std::to_string(kMaxLogPayloadBytes) + ")";
  }
  const uint64_t frame = kFrameOverhead + uint64_t{length};
  if (unwritten < std::min(n, frame)) return std::string();  // zeros from inside the frame to the end
  if (n < frame) {
    // Cut short by its own length field. A complete frame of another length whose checksum verifies means the
    // length field was changed, not that the append stopped.
    if (n >= kFrameOverhead && n - kFrameOverhead <= kMaxLogPayloadBytes) {
      const uint32_t present = static_cast<uint32_t>(n - kFrameOverhead);
      const Hash32 sum = FrameChecksum(present, p[8], std::span<const uint8_t>(p + kFrameFixedBytes, present));
      if (std::memcmp(sum.data(), p + kFrameFixedBytes + present, kHashBytes) == 0) {
        return "its length field says " + std::to_string(length) + " payload bytes but a complete frame of " +
               std::to_string(present) + " bytes, checksum intact, is there";
      }
    }
    return std::string();
  }
  // Every byte of the frame is present and was written.
  std::string altered = "the frame is complete (" + std::to_string(frame) + " bytes) but " + why;
  if (n > frame) altered += ", and " + std::to_string(n - frame) + " bytes follow it";
  return altered;
}

}  // namespace

Result<LogScan> ScanLog(std::span<const uint8_t> bytes) {
  LogScan scan;
  if (IsHeaderPrefix(bytes)) {
    // A crash while the store was being created: no header, so no entry.
    if (bytes.size() > 5) scan.role = static_cast<StoreRole>(bytes[5]);  // "VCPG", version, role
    scan.recovery.no_header = true;
    scan.recovery.torn_tail = !bytes.empty();
    scan.recovery.dropped_bytes = bytes.size();
    scan.recovery.note = "the log is " + std::to_string(bytes.size()) +
                         " bytes, shorter than its 8-byte header: the store was being created when its process "
                         "stopped, and it holds no entry";
    return scan;
  }
  ByteReader header(bytes, "store log header");
  uint8_t version = 0, role = 0;
  uint16_t reserved = 0;
  if (!header.Expect(kLogMagic).ok()) {
    return Status::Corrupt("store log: missing the 8-byte header (magic \"VCPG\"); not a vcp store log");
  }
  if (!header.U8(version).ok() || !header.U8(role).ok() || !header.U16(reserved).ok()) {
    return Status::Corrupt("store log: the header is cut short (" + std::to_string(bytes.size()) + " bytes; it has 8)");
  }
  if (version != kStoreVersion) {
    return Status::Corrupt("store log: version " + std::to_string(version) + " is not supported; this build reads " +
                           std::to_string(kStoreVersion));
  }
  if ((role != 1 && role != 2) || reserved != 0) {
    return Status::Corrupt("store log: header role byte " + std::to_string(role) +
                           " is unknown; allowed: 1 (provider), 2 (verifier)");
  }
  scan.role = static_cast<StoreRole>(role);
  uint64_t offset = kLogHeaderBytes;
  while (offset < bytes.size()) {
    LogEntry entry;
    uint64_t next = 0;
    const std::string why = TryFrame(bytes, offset, entry, next);
    if (why.empty()) {
      scan.entries.push_back(std::move(entry));
      offset = next;
      continue;
    }
    const std::string restore = "; a crash cannot cause this, so the log was altered after it was written: nothing "
                                "was changed; restore the store directory from a backup (docs/PROTOCOL.md 11.1)";
    // Damage. A crash can only tear the last append, so an intact frame anywhere after it means corruption.
    for (uint64_t p = offset + 1; p + kFrameOverhead <= bytes.size(); ++p) {
      if (std::memcmp(bytes.data() + p, kFrameMagic.data(), 4) != 0) continue;
      LogEntry later;
      uint64_t later_next = 0;
      if (TryFrame(bytes, p, later, later_next).empty()) {
        return Status::Corrupt("store log: the frame at offset " + std::to_string(offset) + " is damaged (" + why +
                               ") but an intact frame follows at offset " + std::to_string(p) + restore);
      }
    }
    // The last frame: torn (an unfinished append, never acknowledged) or altered (never cut: it may be a verdict).
    const std::string altered = WhyAltered(bytes, offset, why);
    if (!altered.empty()) {
      return Status::Corrupt("store log: the last frame, at offset " + std::to_string(offset) + " after " +
                             std::to_string(scan.entries.size()) + " intact entries, is damaged: " + altered +
                             restore);
    }
    scan.recovery.torn_tail = true;
    scan.recovery.dropped_bytes = bytes.size() - offset;
    scan.recovery.note = "torn tail at offset " + std::to_string(offset) + " (" + why +
                         "): " + std::to_string(scan.recovery.dropped_bytes) +
                         " bytes of an unfinished append, never acknowledged; " +
                         std::to_string(scan.entries.size()) + " intact entries kept";
    break;
  }
  scan.recovery.kept_bytes = offset;
  return scan;
}

Result<AppendLog> AppendLog::Create(const std::filesystem::path& path, StoreRole role) {
  VCP_RETURN_IF_ERROR(WriteFileAtomic(path, EncodeLogHeader(role), 0600, /*overwrite=*/false));
  AppendLog log;
  log.path_ = path;
  log.size_ = kLogHeaderBytes;
  return log;
}

Result<AppendLog> AppendLog::Open(const std::filesystem::path& path, StoreRole role) {
  return Load(path, role, /*for_writing=*/true);
}

Result<AppendLog> AppendLog::OpenForReading(const std::filesystem::path& path, StoreRole role) {
  return Load(path, role, /*for_writing=*/false);
}

Result<AppendLog> AppendLog::Load(const std::filesystem::path& path, StoreRole role, bool for_writing) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, kMaxLogBytes));
  Result<LogScan> scanned = ScanLog(bytes);
  if (!scanned.ok()) return scanned.status().WithContext(path.string());
  LogScan& scan = *scanned;
  if (!scan.recovery.no_header && scan.role != role) {
    return Status::InvalidArgument(path.string() + " is a " + std::string(RoleName(scan.role)) + " log; expected a " +
                                   std::string(RoleName(role)) + " log");
  }
  // Only the writer repairs, and never a file without a header (the sessions replace such a store whole).
  if (for_writing && scan.recovery.torn_tail && !scan.recovery.no_header) {
    VCP_RETURN_IF_ERROR(Truncate(path, scan.recovery.kept_bytes));
  }
  AppendLog log;
  log.path_ = path;
  log.read_only_ = !for_writing;
  log.entries_ = std::move(scan.entries);
  log.recovery_ = std::move(scan.recovery);
  log.size_ = log.recovery_.kept_bytes;
  return log;
}

Status AppendLog::Append(uint8_t type, std::span<const uint8_t> payload) {
  if (read_only_) {
    return Status::InvalidArgument(path_.string() + " was opened for reading; only the store's lock holder appends");
  }
  if (recovery_.no_header) {
    return Status::InvalidArgument(path_.string() + " has no header (a crash while it was created); create the "
                                                    "store again");
  }
  if (payload.size() > kMaxLogPayloadBytes) {
    return Status::InvalidArgument("a log entry of " + std::to_string(payload.size()) + " bytes is too large; allowed: " +
                                   "up to " + std::to_string(kMaxLogPayloadBytes));
  }
  if (broken_) {
    return Status::IoError(path_.string() + ": an earlier append failed; reopen the store to recover its log");
  }
  const std::vector<uint8_t> frame = EncodeLogFrame(type, payload);
  if (Status s = AppendFileDurable(path_, frame); !s.ok()) {
    broken_ = true;
    return s;
  }
  entries_.push_back(LogEntry{type, std::vector<uint8_t>(payload.begin(), payload.end()), size_});
  size_ += frame.size();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------------

Status WriteLeavesFile(const std::filesystem::path& path, const Hash32& lease_id, uint64_t epoch,
                       const EpochLeaves& leaves) {
  ByteWriter w;
  w.Text(kLeavesMagic);
  w.U8(kStoreVersion);
  w.Bytes(lease_id);
  w.U64(epoch);
  w.U32(static_cast<uint32_t>(leaves.size()));
  w.U64(leaves.empty() ? 0 : leaves[0].size());
  for (const auto& round : leaves) {
    for (const Hash32& h : round) w.Bytes(h);
  }
  w.Bytes(LeavesChecksum(w.bytes()));
  return WriteFileAtomic(path, w.bytes(), 0600, /*overwrite=*/true);
}

Result<LeavesFileHeader> ScanLeavesFile(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "leaves file");
  uint8_t version = 0;
  LeavesFileHeader header;
  VCP_RETURN_IF_ERROR(r.Expect(kLeavesMagic));
  VCP_RETURN_IF_ERROR(r.U8(version));
  if (version != kStoreVersion) {
    return Status::Corrupt("leaves file: version " + std::to_string(version) + " is not supported; this build reads " +
                           std::to_string(kStoreVersion));
  }
  VCP_RETURN_IF_ERROR(r.Bytes(header.lease_id));
  VCP_RETURN_IF_ERROR(r.U64(header.epoch));
  VCP_RETURN_IF_ERROR(r.U32(header.rounds));
  VCP_RETURN_IF_ERROR(r.U64(header.leaves_per_round));
  // A wrapped size could match a small file and then size an allocation from the unwrapped counts.
  if (header.rounds != 0 && header.leaves_per_round > (UINT64_MAX - 256) / kHashBytes / header.rounds) {
    return Status::Corrupt("leaves file: " + std::to_string(header.rounds) + " x " +
                           std::to_string(header.leaves_per_round) + " leaves overflow a 64-bit file size");
  }
  const uint64_t hashes = uint64_t{header.rounds} * header.leaves_per_round;
  if (r.remaining() != hashes * kHashBytes + kHashBytes) {
    return Status::Corrupt("leaves file: " + std::to_string(bytes.size()) + " bytes; its header declares " +
                           std::to_string(header.rounds) + " x " + std::to_string(header.leaves_per_round) +
                           " leaves, which need " + std::to_string(r.offset() + hashes * kHashBytes + kHashBytes));
  }
  const std::span<const uint8_t> body = bytes.first(bytes.size() - kHashBytes);
  const Hash32 checksum = LeavesChecksum(body);
  if (std::memcmp(checksum.data(), bytes.data() + body.size(), kHashBytes) != 0) {
    return Status::Corrupt("leaves file: checksum mismatch; the file was damaged after it was written");
  }
  return header;
}

Result<EpochLeaves> ReadLeavesFile(const std::filesystem::path& path, const Hash32& lease_id, uint64_t epoch,
                                   uint32_t rounds, uint64_t leaves_per_round) {
  const std::string where = "leaves file " + path.string();
  if (rounds != 0 && leaves_per_round > (UINT64_MAX - 256) / kHashBytes / rounds) {
    return Status::InvalidArgument(where + ": " + std::to_string(rounds) + " x " + std::to_string(leaves_per_round) +
                                   " leaves overflow a 64-bit file size");
  }
  const uint64_t expected_size = kLeavesHeaderBytes + uint64_t{rounds} * leaves_per_round * kHashBytes + kHashBytes;
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, expected_size + 1));
  Result<LeavesFileHeader> header = ScanLeavesFile(bytes);
  if (!header.ok()) return header.status().WithContext(path.string());
  if (header->lease_id != lease_id || header->epoch != epoch || header->rounds != rounds ||
      header->leaves_per_round != leaves_per_round) {
    return Status::Corrupt(where + ": holds lease " + ToHex(header->lease_id).substr(0, 16) + " epoch " +
                           std::to_string(header->epoch) + " (" + std::to_string(header->rounds) + " x " +
                           std::to_string(header->leaves_per_round) + " leaves); expected lease " +
                           ToHex(lease_id).substr(0, 16) + " epoch " + std::to_string(epoch) + " (" +
                           std::to_string(rounds) + " x " + std::to_string(leaves_per_round) + ")");
  }
  ByteReader r(std::span<const uint8_t>(bytes).subspan(kLeavesHeaderBytes), where);
  EpochLeaves leaves(rounds, std::vector<Hash32>(leaves_per_round));
  for (auto& round : leaves) {
    for (Hash32& h : round) VCP_RETURN_IF_ERROR(r.Bytes(h));
  }
  return leaves;
}

// ---------------------------------------------------------------------------------------------------------------

namespace {

// "vcp prove --store p ..." from /proc/self/cmdline (NUL-separated), cut to a readable length.
std::string OwnCommand() {
  Result<std::vector<uint8_t>> raw = ReadFileBytes("/proc/self/cmdline", 4096);
  if (!raw.ok()) return "unknown command";
  std::string text(raw->begin(), raw->end());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.size() > 200) text = text.substr(0, 197) + "...";
  return text;
}

}  // namespace

Result<StoreLock> StoreLock::Acquire(const std::filesystem::path& dir, std::string_view what) {
  return Lock(dir / kLockFile, std::string(what) + " store " + dir.string());
}

Result<StoreLock> StoreLock::AcquireFile(const std::filesystem::path& lock_file, std::string_view what) {
  return Lock(lock_file, std::string(what) + " " + lock_file.parent_path().string());
}

// `holder_of` names what the lock guards in messages: "verifier store DIR", "verifierd database DIR".
Result<StoreLock> StoreLock::Lock(const std::filesystem::path& path, const std::string& holder_of) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) return Status::IoError(holder_of + " does not exist");
  if (fd < 0) {
    return Status::IoError("cannot open the lock file " + path.string() + " of " + holder_of + ": " +
                           std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return Status::IoError("cannot lock " + path.string() + ": " + std::strerror(error));
    }
    std::string holder = DescribeHolderFile(path);
    if (holder.empty()) holder = "another process that is still starting";
    return Status::Unavailable(holder_of + " is in use by " + holder +
                               "; one process at a time may write a store: wait for it to finish");
  }
  // Ours now: name this process for anyone refused while we hold it. Best effort: the lock itself is the flock.
  const std::string text = "pid " + std::to_string(::getpid()) + "\ncommand " + OwnCommand() + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd, text.data(), text.size(), 0);
  }
  return StoreLock(fd);
}

std::string StoreLock::DescribeHolder(const std::filesystem::path& dir) { return DescribeHolderFile(dir / kLockFile); }

std::string StoreLock::DescribeHolderFile(const std::filesystem::path& lock_file) {
  Result<std::vector<uint8_t>> raw = ReadFileBytes(lock_file, 4096);
  if (!raw.ok()) return std::string();
  const std::string text(raw->begin(), raw->end());
  std::string pid, command;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line(text.data() + at, end - at);
    if (line.starts_with("pid ")) pid = line.substr(4);
    if (line.starts_with("command ")) command = line.substr(8);
    at = end + 1;
  }
  if (pid.empty()) return std::string();
  return "pid " + pid + (command.empty() ? std::string() : " (" + command + ")");
}

StoreLock::StoreLock(StoreLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

StoreLock& StoreLock::operator=(StoreLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor of the open file releases the flock
}

}  // namespace vcp
