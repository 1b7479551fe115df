// vcp_fuzz_replay: every fuzz target of the normal build in one program (fuzz/fuzz_target.h).
//
//   vcp_fuzz_replay TARGET DIR...      runs TARGET on every regular file under each DIR (sorted; a missing DIR is
//                                      skipped, so an empty regressions folder needs no placeholder)
//   vcp_fuzz_replay --list             prints the registered targets
//   vcp_fuzz_replay --make-corpus DIR  writes the seed inputs of every target to DIR/<target>/ (fuzz/corpus/ is
//                                      this output, checked in)
//
// Exit 0 when every input ran and held its properties; a property failure aborts with the target and file named.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fileio.h"
#include "fuzz_support.h"
#include "fuzz_target.h"

namespace {

using namespace vcp;
using namespace vcp::fuzz;

int Usage() {
  std::fprintf(stderr,
               "usage: vcp_fuzz_replay TARGET DIR... | --list | --make-corpus DIR\n"
               "  runs a fuzz target over every file of the directories (seed corpus, regression inputs)\n");
  return 2;
}

const Target* Find(std::string_view name) {
  for (const Target& t : RegisteredTargets()) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

int MakeCorpus(const std::filesystem::path& out) {
  for (const Target& t : RegisteredTargets()) {
    const std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds = SeedInputs(t.name);
    if (seeds.empty()) {
      std::fprintf(stderr, "vcp_fuzz_replay: target %s has no seed inputs\n", t.name);
      return 1;
    }
    const std::filesystem::path dir = out / t.name;
    std::filesystem::create_directories(dir);
    for (const auto& [name, bytes] : seeds) {
      std::ofstream file(dir / name, std::ios::binary | std::ios::trunc);
      file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      if (!file) {
        std::fprintf(stderr, "vcp_fuzz_replay: cannot write %s\n", (dir / name).c_str());
        return 1;
      }
    }
    std::printf("%s: %zu seed inputs\n", t.name, seeds.size());
  }
  return 0;
}

int Replay(const Target& target, const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::filesystem::path> files;
  for (const std::filesystem::path& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "vcp_fuzz_replay: no inputs for %s in the directories given\n", target.name);
    return 1;
  }
  for (const std::filesystem::path& file : files) {
    Result<std::vector<uint8_t>> bytes = ReadFileBytes(file, uint64_t{64} << 20);
    if (!bytes.ok()) {
      std::fprintf(stderr, "vcp_fuzz_replay: %s\n", bytes.status().ToString().c_str());
      return 1;
    }
    SetCurrentInput(target.name, file.string());
    target.run(*bytes);
  }
  std::printf("%s: %zu inputs replayed, every property held\n", target.name, files.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const Target& t : RegisteredTargets()) std::printf("%s\n", t.name);
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "--make-corpus") == 0) return MakeCorpus(argv[2]);
  if (argc < 3 || argv[1][0] == '-') return Usage();
  const Target* target = Find(argv[1]);
  if (target == nullptr) {
    std::fprintf(stderr, "vcp_fuzz_replay: unknown target '%s'; --list names them\n", argv[1]);
    return 2;
  }
  return Replay(*target, std::vector<std::filesystem::path>(argv + 2, argv + argc));
}
