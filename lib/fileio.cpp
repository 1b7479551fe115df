// File helpers (lib/fileio.h). POSIX calls rather than iostreams, because durability needs fsync on the file
// and on its directory, and because the error messages must carry errno's reason.
#include "fileio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace vcp {

namespace {

std::string Reason(int err) { return std::strerror(err); }

// The directory an entry lives in: rename and link only stay atomic within one file system, and the entry
// becomes durable only when that directory is fsynced.
std::filesystem::path ParentDir(const std::filesystem::path& path) {
  std::filesystem::path parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// Closes a descriptor once; keeps every early return from leaking it.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // close(2) can report a deferred write error (NFS), so callers that wrote check it.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::span<const uint8_t> bytes, const std::filesystem::path& shown) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("cannot write " + shown.string() + ": " + Reason(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FsyncDir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::IoError("cannot open directory " + dir.string() + ": " + Reason(errno));
  if (::fsync(fd.get()) != 0) return Status::IoError("cannot fsync directory " + dir.string() + ": " + Reason(errno));
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint8_t>> ReadFileBytes(const std::filesystem::path& path, uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::IoError("cannot read " + path.string() + ": " + Reason(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::IoError("cannot stat " + path.string() + ": " + Reason(errno));
  auto too_large = [&] {
    return Status::IoError("cannot read " + path.string() + ": it is larger than the limit of " +
                           std::to_string(max_bytes) + " bytes");
  };
  // st_size is only a hint (pipes report 0, files may grow while we read), so the loop enforces the cap itself.
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > max_bytes) return too_large();
  // Regular files are read straight into a buffer of their size plus one byte, so the usual case is one read
  // and one allocation; the spare byte is how growth is noticed.
  std::vector<uint8_t> bytes(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) + 1 : size_t{1} << 16);
  size_t filled = 0;
  for (;;) {
    if (filled == bytes.size()) bytes.resize(static_cast<size_t>(std::min<uint64_t>(2 * filled, max_bytes) + 1));
    ssize_t n = ::read(fd.get(), bytes.data() + filled, bytes.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("cannot read " + path.string() + ": " + Reason(errno));
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
    if (filled > max_bytes) return too_large();
  }
  bytes.resize(filled);
  return bytes;
}

Result<size_t> RemoveStaleTemporaries(const std::filesystem::path& dir) {
  constexpr std::string_view kTempInfix = ".tmp.";
  constexpr size_t kTempSuffix = 6;  // mkostemp's XXXXXX
  size_t removed = 0;
  std::error_code ec;
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 1 + kTempInfix.size() + kTempSuffix + 1 || name.front() != '.') continue;
    const size_t infix = name.size() - kTempSuffix - kTempInfix.size();
    if (name.compare(infix, kTempInfix.size(), kTempInfix) != 0 || !entry.is_regular_file(ec)) continue;
    if (!std::filesystem::remove(entry.path(), ec) || ec) {
      return Status::IoError("cannot remove the stale temporary file " + entry.path().string() + ": " + ec.message());
    }
    ++removed;
  }
  if (ec) return Status::IoError("cannot list " + dir.string() + ": " + ec.message());
  return removed;
}

Status WriteFileAtomic(const std::filesystem::path& path, std::span<const uint8_t> bytes, unsigned mode,
                       bool overwrite) {
  const std::filesystem::path dir = ParentDir(path);
  // A hidden name beside the target: same file system (so rename is atomic), and ignored by directory listings
  // that skip dot files. mkostemp opens it with O_CREAT | O_EXCL, so a name collision can never clobber anything.
  std::string temp_name = ".";
  temp_name += path.filename().string();
  temp_name += ".tmp.XXXXXX";
  std::string temp = (dir / temp_name).string();
  int raw_fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (raw_fd < 0) {
    return Status::IoError("cannot create a temporary file in " + dir.string() + " to write " + path.string() +
                           ": " + Reason(errno));
  }
  Fd fd(raw_fd);
  // From here on every failure removes the temporary file, so no partial file is ever left behind.
  auto fail = [&temp](Status status) {
    ::unlink(temp.c_str());
    return status;
  };
  // mkostemp creates 0600; set the requested bits exactly (independent of umask) before any byte is written.
  if (::fchmod(fd.get(), static_cast<mode_t>(mode & 07777)) != 0) {
    return fail(Status::IoError("cannot set mode of " + temp + " to write " + path.string() + ": " + Reason(errno)));
  }
  // Messages name the target as well as the temporary file: the target is what the caller asked for.
  const std::string shown = temp + " (the temporary copy of " + path.string() + ")";
  if (Status s = WriteAll(fd.get(), bytes, shown); !s.ok()) return fail(s);
  if (::fsync(fd.get()) != 0) return fail(Status::IoError("cannot fsync " + shown + ": " + Reason(errno)));
  if (fd.Close() != 0) return fail(Status::IoError("cannot close " + shown + ": " + Reason(errno)));

  if (overwrite) {
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      return fail(Status::IoError("cannot rename " + temp + " to " + path.string() + ": " + Reason(errno)));
    }
  } else {
    // link(2) fails with EEXIST instead of replacing, which rename(2) cannot promise; the check and the
    // creation are one atomic step, so a file that appears concurrently is never replaced either.
    if (::link(temp.c_str(), path.c_str()) != 0) {
      int err = errno;
      if (err == EEXIST) {
        return fail(Status::IoError("refusing to overwrite existing file " + path.string() +
                                    ": move it away or choose another path"));
      }
      return fail(Status::IoError("cannot create " + path.string() + ": " + Reason(err)));
    }
    if (::unlink(temp.c_str()) != 0) {
      return Status::IoError("wrote " + path.string() + " but cannot remove temporary " + temp + ": " +
                             Reason(errno));
    }
  }
  return FsyncDir(dir);
}

Status WriteFileAtomic(const std::filesystem::path& path, const std::string& text, unsigned mode, bool overwrite) {
  return WriteFileAtomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()), mode, overwrite);
}

Status AppendFileDurable(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  // Open without O_CREAT first so we know whether this call created the file: a new file's directory entry is
  // durable only after the directory is fsynced too.
  bool created = false;
  int raw_fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (raw_fd < 0 && errno == ENOENT) {
    raw_fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    created = raw_fd >= 0;
    // Lost a race with another creator: the file exists now, so append to it.
    if (raw_fd < 0 && errno == EEXIST) raw_fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (raw_fd < 0) return Status::IoError("cannot open " + path.string() + " for appending: " + Reason(errno));
  Fd fd(raw_fd);
  VCP_RETURN_IF_ERROR(WriteAll(fd.get(), bytes, path));
  if (::fsync(fd.get()) != 0) return Status::IoError("cannot fsync " + path.string() + ": " + Reason(errno));
  if (fd.Close() != 0) return Status::IoError("cannot close " + path.string() + ": " + Reason(errno));
  if (created) return FsyncDir(ParentDir(path));
  return Status::Ok();
}

}  // namespace vcp
