// vcp/beacon.h: public randomness beacons for beacon-mode leases (docs/PROTOCOL.md section 7.2), and the clock
// and randomness the verifier draws on.
//
// A beacon publishes one 32-byte value per round; round r appears at genesis_us + r * period_us. A beacon-mode
// challenge uses the first round published strictly after the record's deadline (BeaconRoundFor), so its value is
// unknown while the provider can still send a record that counts.
//
// Ownership: sources are owned by the caller and borrowed by sessions; DemoBeacon borrows its clock. Thread
// safety: FileBeaconSource rereads its file on each call and DemoBeacon is immutable after construction, so both
// are safe from several threads; clocks are stateless. Errors: a round that is not yet
// published is kUnavailable (retry later); a malformed file is kCorrupt with the line number.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vcp/hash.h"
#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

class VCP_EXPORT BeaconSource {
 public:
  virtual ~BeaconSource() = default;
  virtual std::string name() const = 0;
  virtual uint64_t genesis_us() const = 0;
  virtual uint64_t period_us() const = 0;
  // The value of `round`, or kUnavailable when it has not been published yet.
  virtual Result<Hash32> Value(uint64_t round) const = 0;
};

// A text file (tests and air-gapped deployments), one entry per line:
//   vcp-beacon-v2 NAME GENESIS_US PERIOD_US
//   ROUND HEX64
//   ...
// Rounds may appear in any order but at most once. A round is published once its line exists.
// The contents of such a file, parsed from its text without touching any file (FileBeaconSource reads the file and
// calls ParseBeaconFile). `source` names the text in errors ("beacon file PATH"); kCorrupt with the line number.
// Blank lines are skipped; words are separated by spaces, tabs or CR.
struct VCP_EXPORT BeaconFile {
  std::string name;
  uint64_t genesis_us = 0, period_us = 0;
  std::vector<std::pair<uint64_t, Hash32>> values;  // (round, value) in file order, each round at most once
};
VCP_EXPORT Result<BeaconFile> ParseBeaconFile(std::string_view text, std::string_view source);

class VCP_EXPORT FileBeaconSource final : public BeaconSource {
 public:
  // Reads and validates the header (and every line) now.
  static Result<FileBeaconSource> Open(const std::filesystem::path& path);
  // Writes a header-only file (fails if it exists).
  [[nodiscard]] static Status Create(const std::filesystem::path& path, const std::string& name, uint64_t genesis_us,
                                     uint64_t period_us);
  // Appends one round's line durably (the publisher's side).
  [[nodiscard]] static Status Publish(const std::filesystem::path& path, uint64_t round, const Hash32& value);

  std::string name() const override { return name_; }
  uint64_t genesis_us() const override { return genesis_us_; }
  uint64_t period_us() const override { return period_us_; }
  Result<Hash32> Value(uint64_t round) const override;

 private:
  FileBeaconSource() = default;
  std::filesystem::path path_;
  std::string name_;
  uint64_t genesis_us_ = 0, period_us_ = 0;
};

// Time in microseconds since the Unix epoch, as the verifier measures it.
class VCP_EXPORT Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t NowMicros() const = 0;
};
// std::chrono::system_clock: comparable across processes and machines; what the CLI records in its stores.
VCP_EXPORT const Clock& SystemClock();
// std::chrono::steady_clock anchored to the system time at first use: monotonic within one process (demo, tests).
VCP_EXPORT const Clock& SteadyClock();

// Fills a buffer with fresh randomness. The default draws from libsodium's randombytes_buf (the OS CSPRNG).
using RandomFill = std::function<void(std::span<uint8_t>)>;
VCP_EXPORT RandomFill SystemRandom();

// A beacon published on a clock in this process (`vcp demo`, the lease driver, tests): round r's value is
// TaggedHash("vcp.demo.beacon", secret || u64 r), available once clock.NowMicros() >= genesis + r x period. A
// stand-in for a public randomness beacon such as drand: both roles must share the object.
class VCP_EXPORT DemoBeacon final : public BeaconSource {
 public:
  // The secret is drawn from `random` now. period_us must be positive (0 is taken as 1).
  DemoBeacon(const Clock& clock, uint64_t genesis_us, uint64_t period_us, const RandomFill& random = SystemRandom());
  std::string name() const override { return "vcp-demo-beacon"; }
  uint64_t genesis_us() const override { return genesis_us_; }
  uint64_t period_us() const override { return period_us_; }
  Result<Hash32> Value(uint64_t round) const override;

 private:
  const Clock* clock_;
  uint64_t genesis_us_, period_us_;
  Hash32 secret_{};
};

}  // namespace vcp
