// fuzz/fuzz_support.h: what the fuzz targets share: fixed keys, the golden protocol run every seed comes from, the
// seed inputs of each target, an in-memory entry log and a scratch directory.
//
// The golden run is deterministic (fixed keys, a manual clock, seeded randomness, fixed device evidence), so a
// target can rebuild it in its own process and compare against it: the signed-message properties ("a message that
// verifies under the golden key is byte-equal to a golden message") need no file. fuzz/corpus/ holds the same bytes,
// written by `vcp_fuzz_replay --make-corpus DIR` (fuzz/replay_main.cpp).
//
// Ownership: Golden() and Keys() are built once per process and live until exit. Thread safety: the first call
// builds them (call from one thread first). Errors: building the golden run cannot fail on a working build; if it
// does, the process aborts with the step's status (a fuzz run on a broken library is meaningless).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vcp/keys.h"
#include "vcp/merkle.h"
#include "vcp/protocol.h"
#include "vcp/store.h"

namespace vcp::fuzz {

// The verifier's key (seed 32 x 0x31) and the provider's (32 x 0x32).
const SecretKey& VerifierKey();
const SecretKey& ProviderKey();
std::span<const uint8_t, 32> VerifierSeed();

// 2023-11-14T22:13:20Z, the golden lease's start.
constexpr uint64_t kGoldenT0 = 1'700'000'000'000'000;

struct Golden {
  Lease lease;         // interactive, 64 x 64 x 64 int8, T = 8, D = 1, R = 4, 50 years long
  Lease beacon_lease;  // the same terms in beacon mode
  LeaseAcceptance acceptance;
  EpochStart start;
  EpochRecord record;
  Challenge challenge;
  EpochResponse response;
  Verdict verdict;
  std::vector<uint8_t> provider_log, verifier_log;  // the two stores' logs after that one epoch
  std::vector<uint8_t> leaves_file;                 // the epoch's leaves file
  MerkleTree proof_tree;                            // 37 leaves, leaf i = i bytes of value i
  std::vector<MultiProof> multiproofs;              // over proof_tree
};
const Golden& GetGolden();

// The seed inputs of a target (file name, bytes); empty for an unknown target.
std::vector<std::pair<std::string, std::vector<uint8_t>>> SeedInputs(std::string_view target);

// An entry log in memory (what VerifierSession::Open replays in the log targets).
class MemoryLog final : public EntryLog {
 public:
  explicit MemoryLog(std::vector<LogEntry> entries = {}) : entries_(std::move(entries)) {}
  [[nodiscard]] Status Append(uint8_t type, std::span<const uint8_t> payload) override;
  const std::vector<LogEntry>& entries() const override { return entries_; }
  const LogRecovery& recovery() const override { return recovery_; }
  std::string Describe() const override { return "in-memory fuzz log"; }
  // The file image of these entries: the log header of `role`, then one frame each.
  std::vector<uint8_t> Image(StoreRole role) const;

 private:
  std::vector<LogEntry> entries_;
  LogRecovery recovery_;
};

// A directory for this process, removed with everything in it at exit.
const std::filesystem::path& ScratchDir();

std::string_view AsText(std::span<const uint8_t> data);
std::vector<uint8_t> AsBytes(std::string_view text);

// Aborts with `what` and the status when it is not OK (set-up steps only, never the input's own checks).
void MustOk(const Status& status, std::string_view what);
template <typename T>
T MustValue(Result<T> result, std::string_view what) {
  MustOk(result.status(), what);
  return std::move(result).value();
}

}  // namespace vcp::fuzz
