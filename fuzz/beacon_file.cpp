// Fuzz target beacon_file: a beacon file's text (ParseBeaconFile, vcp/beacon.h).
// Properties: an accepted file has a positive period, one value per round, and its canonical text (the header and
// one "ROUND HEX" line per round, as FileBeaconSource::Create and Publish write them) parses to the same contents.
#include <set>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "vcp/beacon.h"
#include "vcp/bytes.h"

using namespace vcp;
using namespace vcp::fuzz;

VCP_FUZZ_TARGET(beacon_file) {
  Result<BeaconFile> file = ParseBeaconFile(AsText(data), "fuzz beacon file");
  if (!file.ok()) {
    VCP_FUZZ_CHECK(file.status().code() == StatusCode::kCorrupt, file.status().ToString());
    return;
  }
  VCP_FUZZ_CHECK(file->period_us > 0, "an accepted beacon file has a positive period");
  VCP_FUZZ_CHECK(!file->name.empty(), "an accepted beacon file names its beacon");
  std::set<uint64_t> rounds;
  std::string canonical = "vcp-beacon-v2 " + file->name + " " + std::to_string(file->genesis_us) + " " +
                          std::to_string(file->period_us) + "\n";
  for (const auto& [round, value] : file->values) {
    VCP_FUZZ_CHECK(rounds.insert(round).second, "round " + std::to_string(round) + " accepted twice");
    canonical += std::to_string(round) + " " + ToHex(value) + "\n";
  }
  Result<BeaconFile> again = ParseBeaconFile(canonical, "canonical beacon file");
  VCP_FUZZ_CHECK(again.ok(), "the canonical text is refused: " + again.status().ToString());
  VCP_FUZZ_CHECK(again->name == file->name && again->genesis_us == file->genesis_us &&
                     again->period_us == file->period_us && again->values == file->values,
                 "the canonical text parses to other contents");
}
