// Fuzz target leaves_file: a provider's leaves file image (ScanLeavesFile, vcp/store.h).
// Properties: an accepted image is exactly as long as its header's counts say, and flipping any one bit of it is
// refused (the checksum covers every byte).
#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/hash.h"
#include "vcp/store.h"

using namespace vcp;
using namespace vcp::fuzz;

VCP_FUZZ_TARGET(leaves_file) {
  Result<LeavesFileHeader> header = ScanLeavesFile(data);
  if (!header.ok()) {
    VCP_FUZZ_CHECK(header.status().code() == StatusCode::kCorrupt, header.status().ToString());
    return;
  }
  // "VCPH", version, lease id, epoch, rounds, leaves per round, the hashes, the checksum.
  const uint64_t expected = 4 + 1 + 32 + 8 + 4 + 8 + uint64_t{header->rounds} * header->leaves_per_round * 32 + 32;
  VCP_FUZZ_CHECK(data.size() == expected, "an accepted leaves file has " + std::to_string(data.size()) +
                                              " bytes; its header needs " + std::to_string(expected));
  // One bit, chosen by the content so every input tries another.
  const Hash32 pick = Sha256(data);
  uint64_t at = 0;
  for (int i = 0; i < 8; ++i) at = at << 8 | pick[i];
  std::vector<uint8_t> flipped(data.begin(), data.end());
  flipped[at % flipped.size()] ^= static_cast<uint8_t>(1u << (pick[8] % 8));
  VCP_FUZZ_CHECK(!ScanLeavesFile(flipped).ok(), "a leaves file with one bit flipped is accepted");
}
