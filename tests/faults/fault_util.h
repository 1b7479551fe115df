// Fault injectors shared by the fault suites (tests/faults): a small tmpfs mounted for one test (full disk,
// read-only remount), a clock that jumps, and a loopback TCP proxy that delays, stalls or cuts connections.
//
// Ownership: each injector owns what it made (the mount point, the proxy's sockets and threads) and undoes it in
// its destructor, also when an assertion ends the test early. Thread safety: TcpProxy's setters and counters and
// JumpClock may be used from any thread; TmpfsMount from the test's thread only. Errors: TmpfsMount::Make says
// why it could not mount (not root, no permission in this container), which the tests report as a skip.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "vcp/beacon.h"

namespace vcp::testing {

using SteadyTime = std::chrono::steady_clock::time_point;
inline double SecondsSince(SteadyTime t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------------------------
// A tmpfs of a few pages at a fresh directory: the only way to give a test a disk that really fills up (ENOSPC
// from write(2), not a simulation) or that really is read-only (chmod does not stop root; a read-only mount does).
class TmpfsMount {
 public:
  // nullptr with *why set when the mount cannot be made (not root, or the container forbids mount(2)).
  static std::unique_ptr<TmpfsMount> Make(uint64_t size_bytes, std::string* why) {
    if (::geteuid() != 0) {
      *why = "needs root to mount a tmpfs (run the fault tests as root)";
      return nullptr;
    }
    std::filesystem::path dir = MakeTempDir("vcp-fault-tmpfs-");
    if (dir.empty()) {
      *why = "cannot make a mount point under the temp dir";
      return nullptr;
    }
    const std::string options = "size=" + std::to_string(size_bytes) + ",mode=0700";
    if (::mount("vcp-fault-tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      *why = "mount -t tmpfs at " + dir.string() + " failed: " + std::strerror(errno);
      std::filesystem::remove(dir);
      return nullptr;
    }
    return std::unique_ptr<TmpfsMount>(new TmpfsMount(std::move(dir), options));
  }
  ~TmpfsMount() {
    // MNT_DETACH: a file a failed test left open must not keep the mount (and its directory) alive.
    if (::umount2(dir_.c_str(), MNT_DETACH) == 0) {
      std::error_code ec;
      std::filesystem::remove(dir_, ec);
    }
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::filesystem::path& path() const { return dir_; }

  // Writes a filler file until write(2) says ENOSPC, page-sized chunks and then single bytes, so no free block
  // is left (the files already there keep the unused rest of their last page: tmpfs allocates whole pages).
  // Returns the errno that stopped it (ENOSPC expected).
  int Fill() {
    const int fd = ::open((dir_ / "filler").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return errno;
    const std::vector<char> page(4096, 'f');
    int err = 0;
    for (size_t chunk : {page.size(), size_t{1}}) {
      for (;;) {
        const ssize_t n = ::write(fd, page.data(), chunk);
        if (n < 0) {
          err = errno;
          if (err == EINTR) continue;
          break;
        }
      }
    }
    ::close(fd);
    return err;
  }
  void FreeSpace() {
    std::error_code ec;
    std::filesystem::remove(dir_ / "filler", ec);
  }
  // Remounts read-only (true) or read-write (false); false when mount(2) refused.
  bool SetReadOnly(bool read_only) {
    const unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
    return ::mount("vcp-fault-tmpfs", dir_.c_str(), "tmpfs", flags, options_.c_str()) == 0;
  }

 private:
  TmpfsMount(std::filesystem::path dir, std::string options) : dir_(std::move(dir)), options_(std::move(options)) {}
  std::filesystem::path dir_;
  std::string options_;
};

// Every regular file under dir (recursively), name -> bytes: a snapshot to compare "nothing changed" against.
inline std::vector<std::pair<std::string, std::string>> SnapshotFiles(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    files.emplace_back(std::filesystem::relative(entry.path(), dir).string(), ReadText(entry.path()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Hidden temporaries WriteFileAtomic leaves when it does not finish (".NAME.tmp.XXXXXX").
inline std::vector<std::string> TemporaryFiles(const std::filesystem::path& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.' && name.find(".tmp.") != std::string::npos) found.push_back(name);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// The system clock plus an offset the test moves: the verifier's clock stepping backwards or forwards (an NTP
// step, a VM restored from a snapshot) while everything else keeps real time.
class JumpClock final : public Clock {
 public:
  uint64_t NowMicros() const override {
    return uint64_t(int64_t(SystemClock().NowMicros()) + offset_us_.load());
  }
  void Jump(int64_t us) { offset_us_ += us; }
  int64_t offset_us() const { return offset_us_.load(); }

 private:
  std::atomic<int64_t> offset_us_{0};
};

// ---------------------------------------------------------------------------------------------------------------
// A loopback TCP proxy between a client (verifierd) and a server (an agent), plain HTTP, one thread per
// connection. Faults apply to connections whose request line contains the filter text ("" = every connection),
// at most `budget` of them (then the proxy forwards again); the others are forwarded untouched.
//   kForward: bytes both ways; on a matching connection the server's first bytes wait delay_ms (a slow network
//             or agent), and wait while hold is set (the test changes the world, then releases them).
//   kStall:   the request is read and never answered; the server is never contacted (a hung peer).
//   kCut:     the connection is closed as soon as the request line is seen (a peer that drops connections).
//   kDropAnswer: the request reaches the server, its answer is discarded and the connection closed (a
//             connection lost after the server did the work).
class TcpProxy {
 public:
  enum class Mode { kForward, kStall, kCut, kDropAnswer };
  struct Connection {
    SteadyTime accepted, closed;  // closed: when the client went away or the proxy closed it
    bool faulted = false;         // the mode's fault applied to it
    std::string request_line;
  };

  explicit TcpProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~TcpProxy() { Stop(); }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void SetMode(Mode mode, std::string filter = "", size_t budget = SIZE_MAX) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = mode;
    filter_ = std::move(filter);
    budget_ = budget;
  }
  void SetDelayMs(int ms) { delay_ms_ = ms; }
  void SetHold(bool hold) { hold_ = hold; }
  // Answers from the server waiting behind hold (connections that have some).
  int held() const { return held_.load(); }

  std::vector<Connection> connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_;
  }
  size_t faulted() const {
    size_t n = 0;
    for (const Connection& c : connections()) n += c.faulted;
    return n;
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      workers.swap(workers_);
    }
    for (std::thread& t : workers) t.join();
  }

 private:
  static constexpr int kPollMs = 50;  // how often a connection thread looks at the stop flag

  void AcceptLoop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      const size_t index = connections_.size();
      connections_.push_back(Connection{std::chrono::steady_clock::now(), {}, false, ""});
      workers_.emplace_back([this, fd, index] { Serve(fd, index); });
    }
  }

  // Waits for readable data on fd for at most kPollMs; false when none.
  static bool Readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, kPollMs) > 0;
  }
  static bool SendAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= size_t(n);
    }
    return true;
  }

  void Finish(int client, int server, size_t index) {
    ::close(client);
    if (server >= 0) ::close(server);
    std::lock_guard<std::mutex> lock(mu_);
    connections_[index].closed = std::chrono::steady_clock::now();
  }

  void Serve(int client, size_t index) {
    // The request line decides whether the fault applies; read until it is complete (or the client gives up).
    std::string head;
    char buf[16384];
    while (!stopping_ && head.find("\r\n") == std::string::npos) {
      if (!Readable(client)) continue;
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) return Finish(client, -1, index);
      head.append(buf, size_t(n));
    }
    Mode mode;
    bool matched;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string line = head.substr(0, head.find("\r\n"));
      matched = budget_ > 0 && line.find(filter_) != std::string::npos;
      const bool faulted = matched && (mode_ != Mode::kForward || delay_ms_ > 0 || hold_);
      if (faulted) --budget_;
      mode = matched ? mode_ : Mode::kForward;
      connections_[index].request_line = line;
      connections_[index].faulted = faulted;
    }
    if (mode == Mode::kCut) return Finish(client, -1, index);
    if (mode == Mode::kStall) {
      // Read and discard until the client gives up (its timeout) or the proxy stops.
      while (!stopping_) {
        if (!Readable(client)) continue;
        if (::recv(client, buf, sizeof buf, 0) <= 0) break;
      }
      return Finish(client, -1, index);
    }
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(upstream_port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        !SendAll(server, head.data(), head.size())) {
      return Finish(client, server, index);
    }
    bool first_answer = true;
    while (!stopping_) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, kPollMs) <= 0) continue;
      if (p[0].revents != 0) {
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0 || !SendAll(server, buf, size_t(n))) break;
      }
      if (p[1].revents != 0) {
        const ssize_t n = ::recv(server, buf, sizeof buf, 0);
        if (n <= 0) break;
        if (mode == Mode::kDropAnswer) break;
        if (first_answer && matched) {
          const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms_.load());
          while (!stopping_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
          if (hold_) {
            ++held_;
            while (!stopping_ && hold_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            --held_;
          }
        }
        first_answer = false;
        if (!SendAll(client, buf, size_t(n))) break;
      }
    }
    Finish(client, server, index);
  }

  const uint16_t upstream_port_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> delay_ms_{0};
  std::atomic<bool> hold_{false};
  std::atomic<int> held_{0};
  mutable std::mutex mu_;
  Mode mode_ = Mode::kForward;
  std::string filter_;
  size_t budget_ = SIZE_MAX;
  std::vector<Connection> connections_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// A raw TCP connection to 127.0.0.1:port, for clients that misbehave on purpose; -1 when it cannot connect.
inline int ConnectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Seconds until the peer closes fd (recv returns 0 or an error), reading and discarding whatever it sends; a
// negative value when it is still open after limit_s.
inline double SecondsUntilClosed(int fd, double limit_s) {
  const SteadyTime t0 = std::chrono::steady_clock::now();
  char buf[4096];
  while (SecondsSince(t0) < limit_s) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    if (::recv(fd, buf, sizeof buf, 0) <= 0) return SecondsSince(t0);
  }
  return -1;
}

}  // namespace vcp::testing
