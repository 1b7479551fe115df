// Running the real vcp binary from a test: build/bin/vcp next to the test directory, or the VCP_CLI override.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace vcp::testing {

inline std::filesystem::path CliPath() {
  if (const char* env = std::getenv("VCP_CLI")) return env;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin" / "vcp";
}

struct CliOutcome {
  int code = -1;       // the exit status, or -1 when vcp did not exit normally (a crash is never a pass)
  std::string output;  // stdout and stderr together, or stdout alone
};

// Runs `vcp ARGS` through the shell; `output` is stdout and stderr together, or stdout alone (for JSON).
inline CliOutcome RunCli(const std::string& args, bool with_stderr = true) {
  const std::string command = CliPath().string() + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  CliOutcome o;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return o;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) o.output.append(buf, n);
  const int status = ::pclose(pipe);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

}  // namespace vcp::testing
