// Beacon sources, clocks and randomness for the lease protocol (docs/PROTOCOL.md section 7.2).
#include "vcp/beacon.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fileio.h"
#include "vcp/bytes.h"

namespace vcp {

namespace {

constexpr std::string_view kBeaconHeader = "vcp-beacon-v2";
constexpr uint64_t kMaxBeaconFileBytes = uint64_t{256} << 20;

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t begin = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > begin) words.push_back(line.substr(begin, i - begin));
  }
  return words;
}

bool ParseU64(std::string_view text, uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

Result<BeaconFile> ReadBeaconFile(const std::filesystem::path& path) {
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, kMaxBeaconFileBytes));
  return ParseBeaconFile(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                         "beacon file " + path.string());
}

}  // namespace

Result<BeaconFile> ParseBeaconFile(std::string_view text, std::string_view source) {
  const std::string where(source);
  BeaconFile file;
  std::set<uint64_t> seen;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    const size_t eol = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    const auto words = Words(line);
    const std::string at = where + " line " + std::to_string(line_no) + ": ";
    if (line_no == 1) {
      if (words.size() != 4 || words[0] != kBeaconHeader || !ParseU64(words[2], file.genesis_us) ||
          !ParseU64(words[3], file.period_us) || file.period_us == 0) {
        return Status::Corrupt(at +
                               "expected the header \"vcp-beacon-v2 NAME GENESIS_US PERIOD_US\" with a positive "
                               "period");
      }
      file.name = std::string(words[1]);
      continue;
    }
    if (words.empty()) continue;
    uint64_t round = 0;
    if (words.size() != 2 || !ParseU64(words[0], round)) {
      return Status::Corrupt(at + "expected \"ROUND HEX64\"");
    }
    Result<Hash32> value = FixedFromHex<32>(words[1], "beacon value");
    if (!value.ok()) return Status::Corrupt(at + std::string(value.status().message()));
    if (!seen.insert(round).second) {
      return Status::Corrupt(at + "round " + std::to_string(round) + " appears twice; each round has one value");
    }
    file.values.emplace_back(round, *value);
  }
  if (line_no == 0) return Status::Corrupt(where + ": empty; expected the header line \"vcp-beacon-v2 ...\"");
  return file;
}

Result<FileBeaconSource> FileBeaconSource::Open(const std::filesystem::path& path) {
  VCP_ASSIGN_OR_RETURN(BeaconFile file, ReadBeaconFile(path));
  FileBeaconSource source;
  source.path_ = path;
  source.name_ = file.name;
  source.genesis_us_ = file.genesis_us;
  source.period_us_ = file.period_us;
  return source;
}

Status FileBeaconSource::Create(const std::filesystem::path& path, const std::string& name, uint64_t genesis_us,
                                uint64_t period_us) {
  if (name.empty() || Words(name).size() != 1 || period_us == 0) {
    return Status::InvalidArgument("beacon file: the name must be one word and the period positive");
  }
  const std::string header = std::string(kBeaconHeader) + " " + name + " " + std::to_string(genesis_us) + " " +
                             std::to_string(period_us) + "\n";
  return WriteFileAtomic(path, header, 0644, /*overwrite=*/false);
}

Status FileBeaconSource::Publish(const std::filesystem::path& path, uint64_t round, const Hash32& value) {
  const std::string line = std::to_string(round) + " " + ToHex(value) + "\n";
  return AppendFileDurable(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(line.data()), line.size()));
}

Result<Hash32> FileBeaconSource::Value(uint64_t round) const {
  VCP_ASSIGN_OR_RETURN(BeaconFile file, ReadBeaconFile(path_));
  for (const auto& [r, value] : file.values) {
    if (r == round) return value;
  }
  // The due time saturates like DemoBeacon's: a file's period is not bounded by any lease.
  const uint64_t due = round > (UINT64_MAX - genesis_us_) / period_us_ ? UINT64_MAX : genesis_us_ + round * period_us_;
  return Status::Unavailable("beacon " + name_ + ": round " + std::to_string(round) + " is not published yet (due at " +
                             std::to_string(due) + " us); retry after it appears in " + path_.string());
}

namespace {

class SystemClockImpl final : public Clock {
 public:
  uint64_t NowMicros() const override {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  }
};

class SteadyClockImpl final : public Clock {
 public:
  SteadyClockImpl() : anchor_us_(SystemClock().NowMicros()), anchor_(std::chrono::steady_clock::now()) {}
  uint64_t NowMicros() const override {
    return anchor_us_ + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::steady_clock::now() - anchor_)
                                                  .count());
  }

 private:
  uint64_t anchor_us_;
  std::chrono::steady_clock::time_point anchor_;
};

}  // namespace

const Clock& SystemClock() {
  static const SystemClockImpl clock;
  return clock;
}

const Clock& SteadyClock() {
  static const SteadyClockImpl clock;
  return clock;
}

RandomFill SystemRandom() {
  return [](std::span<uint8_t> out) {
    // sodium_init is idempotent and thread-safe. randombytes_buf reads the OS CSPRNG (getrandom) and never
    // returns weak bytes: libsodium aborts the process itself if the kernel cannot supply randomness.
    [[maybe_unused]] const int initialized = sodium_init();
    randombytes_buf(out.data(), out.size());
  };
}

DemoBeacon::DemoBeacon(const Clock& clock, uint64_t genesis_us, uint64_t period_us, const RandomFill& random)
    : clock_(&clock), genesis_us_(genesis_us), period_us_(std::max<uint64_t>(period_us, 1)) {
  random(secret_);
}

Result<Hash32> DemoBeacon::Value(uint64_t round) const {
  // Saturating: a round far in the future is simply not published yet.
  const uint64_t due = round > (UINT64_MAX - genesis_us_) / period_us_ ? UINT64_MAX : genesis_us_ + round * period_us_;
  if (clock_->NowMicros() < due) {
    return Status::Unavailable("demo beacon round " + std::to_string(round) + " is not published yet");
  }
  ByteWriter w;
  w.Bytes(secret_);
  w.U64(round);
  return TaggedHash("vcp.demo.beacon", w.bytes());
}

}  // namespace vcp
