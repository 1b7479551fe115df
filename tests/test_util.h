// Helpers shared by the test suites.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vcp::testing {

// tests/vectors, found next to the test executable (the build copies it there) or through VCP_TEST_DATA.
inline std::filesystem::path VectorsDir() {
  if (const char* env = std::getenv("VCP_TEST_DATA")) return env;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "vectors";
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh empty directory under the system temp dir, removed by the caller when useful.
inline std::filesystem::path MakeTempDir(const std::string& prefix) {
  std::string templ = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* made = ::mkdtemp(templ.data());
  return made ? std::filesystem::path(made) : std::filesystem::path();
}

}  // namespace vcp::testing
