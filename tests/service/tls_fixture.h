// Test fixtures shared by the service suites: a throw-away CA and server certificate made with the openssl
// command line, and a `promtool check metrics` wrapper.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"
#include "vcp/status.h"

namespace vcp::testing {

struct TestTls {
  std::filesystem::path dir, ca_cert, server_cert, server_key;
};

// Runs `command` through the shell with stdout and stderr captured; returns the output, with *exit_code set.
inline std::string RunCapturingOutput(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return "popen failed";
  }
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

// A CA (ca.pem, self-signed) and a server certificate (server.pem, server.key) for 127.0.0.1, ::1 and localhost
// (subjectAltName IP and DNS) signed by it; EC P-256 keys, valid 2 days. dir must exist. names: another
// subjectAltName list, for tests of a certificate that names some other host.
inline Result<TestTls> MakeTestTls(const std::filesystem::path& dir,
                                   const std::string& names = "IP:127.0.0.1,IP:::1,DNS:localhost") {
  TestTls tls{dir, dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  {
    std::ofstream ext(dir / "server.ext");
    ext << "subjectAltName=" << names << "\n"
           "basicConstraints=critical,CA:FALSE\n"
           "keyUsage=critical,digitalSignature\n"
           "extendedKeyUsage=serverAuth\n";
    if (!ext) return Status::IoError("cannot write " + (dir / "server.ext").string());
  }
  const std::string d = "'" + dir.string() + "/";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  const std::string steps[] = {
      "openssl req -x509" + ec + " -keyout " + d + "ca.key' -out " + d + "ca.pem' -days 2 -subj /CN=vcp-test-ca" +
          " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
      "openssl req -new" + ec + " -keyout " + d + "server.key' -out " + d + "server.csr' -subj /CN=vcp-test-server",
      "openssl x509 -req -in " + d + "server.csr' -CA " + d + "ca.pem' -CAkey " + d + "ca.key' -CAcreateserial" +
          " -out " + d + "server.pem' -days 2 -extfile " + d + "server.ext'",
  };
  for (const std::string& step : steps) {
    int code = 0;
    const std::string output = RunCapturingOutput(step, &code);
    if (code != 0) return Status::Internal("`" + step + "` failed (exit " + std::to_string(code) + "): " + output);
  }
  return tls;
}

inline bool HavePromtool() {
  int code = 0;
  RunCapturingOutput("promtool --version", &code);
  return code == 0;
}

// "" when `promtool check metrics` accepts text, else promtool's output (or why it could not run).
inline std::string PromtoolCheck(const std::string& text) {
  const std::filesystem::path dir = MakeTempDir("vcp-promtool-");
  if (dir.empty()) return "cannot make a temp dir";
  const std::filesystem::path file = dir / "metrics.txt";
  {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  int code = 0;
  std::string output = RunCapturingOutput("promtool check metrics < '" + file.string() + "'", &code);
  std::filesystem::remove_all(dir);
  if (code == 0) return "";
  return output.empty() ? "promtool exited with " + std::to_string(code) : output;
}

}  // namespace vcp::testing
