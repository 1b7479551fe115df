// Crash-safe files of the lease protocol: the append-only log and the provider's leaves file
// (docs/PROTOCOL.md section 10).
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "fileio.h"
#include "vcp/bytes.h"
#include "vcp/store.h"

namespace vcp {

namespace {

constexpr std::string_view kLogMagic = "VCPG";
constexpr std::string_view kFrameMagic = "VCPF";
constexpr std::string_view kLeavesMagic = "VCPH";
constexpr uint8_t kStoreVersion = 1;
constexpr size_t kLogHeaderBytes = 8;
constexpr size_t kFrameFixedBytes = 4 + 4 + 1;  // magic, length, type
constexpr size_t kFrameOverhead = kFrameFixedBytes + kHashBytes;
constexpr uint64_t kMaxLogBytes = uint64_t{4} << 30;

uint32_t LoadU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

Hash32 FrameChecksum(uint32_t length, uint8_t type, std::span<const uint8_t> payload) {
  ByteWriter w;
  w.U32(length);
  w.U8(type);
  w.Bytes(payload);
  return TaggedHash("vcp.v1.log-frame", w.bytes());
}

// Parses the frame at `offset`; an empty string on success, otherwise why it is not an intact frame.
std::string TryFrame(std::span<const uint8_t> bytes, uint64_t offset, LogEntry& entry, uint64_t& next) {
  const uint64_t left = bytes.size() - offset;
  if (left < kFrameOverhead) return "cut short (" + std::to_string(left) + " bytes, a frame has at least 41)";
  const uint8_t* p = bytes.data() + offset;
  if (std::memcmp(p, kFrameMagic.data(), 4) != 0) return "missing the frame magic \"VCPF\"";
  const uint32_t length = LoadU32(p + 4);
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

std::vector<uint8_t> LogHeader(StoreRole role) {
  ByteWriter w;
  w.Text(kLogMagic);
  w.U8(kStoreVersion);
  w.U8(static_cast<uint8_t>(role));
  w.U16(0);
  return w.Take();
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

Hash32 LeavesChecksum(std::span<const uint8_t> bytes) { return TaggedHash("vcp.v1.leaves-file", bytes); }

}  // namespace

std::vector<uint8_t> EncodeLogFrame(uint8_t type, std::span<const uint8_t> payload) {
  ByteWriter w;
  w.Text(kFrameMagic);
  w.U32(static_cast<uint32_t>(payload.size()));
  w.U8(type);
  w.Bytes(payload);
  w.Bytes(FrameChecksum(static_cast<uint32_t>(payload.size()), type, payload));
  return w.Take();
}

Result<LogScan> ScanLog(std::span<const uint8_t> bytes) {
  if (bytes.size() < kLogHeaderBytes || std::memcmp(bytes.data(), kLogMagic.data(), 4) != 0) {
    return Status::Corrupt("store log: missing the 8-byte header (magic \"VCPG\"); not a vcp store log");
  }
  if (bytes[4] != kStoreVersion) {
    return Status::Corrupt("store log: version " + std::to_string(bytes[4]) + " is not supported; this build reads " +
                           std::to_string(kStoreVersion));
  }
  if ((bytes[5] != 1 && bytes[5] != 2) || bytes[6] != 0 || bytes[7] != 0) {
    return Status::Corrupt("store log: header role byte " + std::to_string(bytes[5]) +
                           " is unknown; allowed: 1 (provider), 2 (verifier)");
  }
  LogScan scan;
  scan.role = static_cast<StoreRole>(bytes[5]);
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
    // Damage. A crash can only tear the last append, so an intact frame anywhere after it means corruption.
    for (uint64_t p = offset + 1; p + kFrameOverhead <= bytes.size(); ++p) {
      if (std::memcmp(bytes.data() + p, kFrameMagic.data(), 4) != 0) continue;
      LogEntry later;
      uint64_t later_next = 0;
      if (TryFrame(bytes, p, later, later_next).empty()) {
        return Status::Corrupt("store log: the frame at offset " + std::to_string(offset) + " is damaged (" + why +
                               ") but an intact frame follows at offset " + std::to_string(p) +
                               "; a crash cannot cause this, so the log was altered: restore it from a backup");
      }
    }
    scan.recovery.torn_tail = true;
    scan.recovery.dropped_bytes = bytes.size() - offset;
    scan.recovery.note = "torn tail at offset " + std::to_string(offset) + " (" + why +
                         "): " + std::to_string(scan.recovery.dropped_bytes) +
                         " bytes of an unfinished append dropped; " + std::to_string(scan.entries.size()) +
                         " intact entries kept";
    break;
  }
  scan.recovery.kept_bytes = offset;
  return scan;
}

Result<AppendLog> AppendLog::Create(const std::filesystem::path& path, StoreRole role) {
  VCP_RETURN_IF_ERROR(WriteFileAtomic(path, LogHeader(role), 0600, /*overwrite=*/false));
  AppendLog log;
  log.path_ = path;
  log.size_ = kLogHeaderBytes;
  return log;
}

Result<AppendLog> AppendLog::Open(const std::filesystem::path& path, StoreRole role) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, kMaxLogBytes));
  Result<LogScan> scanned = ScanLog(bytes);
  if (!scanned.ok()) return scanned.status().WithContext(path.string());
  LogScan& scan = *scanned;
  if (scan.role != role) {
    return Status::InvalidArgument(path.string() + " is a " + std::string(RoleName(scan.role)) + " log; expected a " +
                                   std::string(RoleName(role)) + " log");
  }
  if (scan.recovery.torn_tail) VCP_RETURN_IF_ERROR(Truncate(path, scan.recovery.kept_bytes));
  AppendLog log;
  log.path_ = path;
  log.entries_ = std::move(scan.entries);
  log.recovery_ = std::move(scan.recovery);
  log.size_ = log.recovery_.kept_bytes;
  return log;
}

Status AppendLog::Append(uint8_t type, std::span<const uint8_t> payload) {
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

Result<EpochLeaves> ReadLeavesFile(const std::filesystem::path& path, const Hash32& lease_id, uint64_t epoch,
                                   uint32_t rounds, uint64_t leaves_per_round) {
  // A wrapped size could match a small file and then size the allocation below from the unwrapped counts.
  if (rounds != 0 && leaves_per_round > (UINT64_MAX - 256) / kHashBytes / rounds) {
    return Status::InvalidArgument("leaves file " + path.string() + ": " + std::to_string(rounds) + " x " +
                                   std::to_string(leaves_per_round) + " leaves overflow a 64-bit file size");
  }
  const uint64_t expected_size = 4 + 1 + 32 + 8 + 4 + 8 + uint64_t{rounds} * leaves_per_round * kHashBytes + kHashBytes;
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, expected_size + 1));
  const std::string where = "leaves file " + path.string();
  if (bytes.size() != expected_size) {
    return Status::Corrupt(where + ": " + std::to_string(bytes.size()) + " bytes; an epoch of " +
                           std::to_string(rounds) + " x " + std::to_string(leaves_per_round) + " leaves needs " +
                           std::to_string(expected_size));
  }
  const std::span<const uint8_t> body(bytes.data(), bytes.size() - kHashBytes);
  const Hash32 checksum = LeavesChecksum(body);
  if (std::memcmp(checksum.data(), bytes.data() + body.size(), kHashBytes) != 0) {
    return Status::Corrupt(where + ": checksum mismatch; the file was damaged after it was written");
  }
  ByteReader r(body, where);
  std::array<uint8_t, 4> magic{};
  uint8_t version = 0;
  Hash32 file_lease{};
  uint64_t file_epoch = 0, file_per_round = 0;
  uint32_t file_rounds = 0;
  VCP_RETURN_IF_ERROR(r.Bytes(magic));
  VCP_RETURN_IF_ERROR(r.U8(version));
  VCP_RETURN_IF_ERROR(r.Bytes(file_lease));
  VCP_RETURN_IF_ERROR(r.U64(file_epoch));
  VCP_RETURN_IF_ERROR(r.U32(file_rounds));
  VCP_RETURN_IF_ERROR(r.U64(file_per_round));
  if (std::memcmp(magic.data(), kLeavesMagic.data(), 4) != 0 || version != kStoreVersion) {
    return Status::Corrupt(where + ": not a version-1 leaves file (magic \"VCPH\")");
  }
  if (file_lease != lease_id || file_epoch != epoch || file_rounds != rounds || file_per_round != leaves_per_round) {
    return Status::Corrupt(where + ": holds lease " + ToHex(file_lease).substr(0, 16) + " epoch " +
                           std::to_string(file_epoch) + "; expected lease " + ToHex(lease_id).substr(0, 16) +
                           " epoch " + std::to_string(epoch));
  }
  EpochLeaves leaves(rounds, std::vector<Hash32>(leaves_per_round));
  for (auto& round : leaves) {
    for (Hash32& h : round) VCP_RETURN_IF_ERROR(r.Bytes(h));
  }
  return leaves;
}

}  // namespace vcp
