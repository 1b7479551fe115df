// File helpers shared by keys, proofs and the protocol stores: whole-file reads with a size cap, and atomic
// writes (temporary file in the same directory, fsync, rename, fsync of the directory) so a crash never leaves a
// partial file under the final name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "vcp/status.h"

namespace vcp {

// Reads a whole file; IoError naming the path and the OS reason, or when larger than max_bytes.
Result<std::vector<uint8_t>> ReadFileBytes(const std::filesystem::path& path, uint64_t max_bytes = uint64_t{1} << 30);
// Writes atomically with the given permission bits. Fails if `path` exists and overwrite is false.
[[nodiscard]] Status WriteFileAtomic(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                                     unsigned mode = 0644, bool overwrite = true);
[[nodiscard]] Status WriteFileAtomic(const std::filesystem::path& path, const std::string& text, unsigned mode = 0644,
                                     bool overwrite = true);
// Removes the temporary files WriteFileAtomic leaves in `dir` when the process dies between creating one and
// renaming it (".NAME.tmp.XXXXXX", mkostemp's six characters). Only the writer of a store may call it, holding
// the store's lock: a temporary file of a live writer would otherwise vanish under it. Returns how many it removed.
Result<size_t> RemoveStaleTemporaries(const std::filesystem::path& dir);
// Appends bytes and fsyncs before returning (append-only logs).
[[nodiscard]] Status AppendFileDurable(const std::filesystem::path& path, std::span<const uint8_t> bytes);

}  // namespace vcp
