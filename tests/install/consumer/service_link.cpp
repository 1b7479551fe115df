// Links vcp::vcp_service from an installed copy: loading a configuration that does not exist must fail with a
// message (exit 0), which needs the agent's code, libvcp and the HTTP and SQLite libraries all resolved.
#include <cstdio>

#include "vcp/agent.h"

int main() {
  auto options = vcp::LoadAgentConfig("/nonexistent/vcp-install-test/agent.json");
  if (options.ok()) {
    std::fprintf(stderr, "LoadAgentConfig accepted a file that does not exist\n");
    return 1;
  }
  std::printf("service library linked: %s\n", options.status().ToString().c_str());
  return 0;
}
