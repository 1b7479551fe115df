// Helpers shared by the test suites.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "vcp/status.h"
#include "vcp/workload.h"

// ASSERT_OK(status_or_result) and ASSERT_OK_AND_ASSIGN(lhs, result): a failure ends the test with the status text
// instead of dereferencing a failed Result (which would turn a failing test into a crash).
#define VCP_TEST_STATUS_OF(expr) ::vcp::testing::StatusOf(expr)
#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::vcp::Status vcp_test_status_ = VCP_TEST_STATUS_OF(expr);     \
    ASSERT_TRUE(vcp_test_status_.ok()) << vcp_test_status_.ToString();   \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(VCP_CONCAT(vcp_test_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                 \
  auto tmp = (expr);                                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();               \
  lhs = std::move(tmp).value()

namespace vcp::testing {

inline const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}

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

// A workload with a deterministic seed (bytes seed_byte + 13 i) for tests that compare two computations of it.
inline WorkloadParams MakeWorkload(WorkloadKind kind, uint32_t m, uint32_t n, uint32_t k, uint32_t tile,
                                   uint8_t seed_byte = 7) {
  WorkloadParams p;
  p.kind = kind;
  p.m = m;
  p.n = n;
  p.k = k;
  p.tile = tile;
  for (size_t i = 0; i < p.seed.size(); ++i) p.seed[i] = static_cast<uint8_t>(seed_byte + 13 * i);
  return p;
}

// Sets (or, with nullptr, unsets) an environment variable for one scope and restores it afterwards, also when an
// assertion ends the test early.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = std::string(old);
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace vcp::testing
