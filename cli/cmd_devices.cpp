// vcp devices: the devices a backend sees, each as the evidence line a record would sign for it
// (DescribeDevice(EvidenceOf(info))), so that a provider knows what `vcp prove` will report and how many devices a
// lease may name on this machine.
#include <algorithm>
#include <iostream>
#include <memory>

#include "commands.h"
#include "vcp/engine.h"
#include "vcp/epoch.h"
#include "vcp/protocol.h"

namespace vcp::cli {

namespace {

using json = nlohmann::json;

int DoDevices(const CliState& state, const std::string& backend_name) {
  auto backend = ParseBackendChoice(backend_name);
  if (!backend.ok()) return ReportError(state, backend.status());
  auto devices = ListDevices(*backend);
  if (!devices.ok()) return ReportError(state, devices.status());
  if (state.json) {
    json list = json::array();
    for (const DeviceInfo& d : *devices) {
      list.push_back({{"ordinal", d.ordinal},
                      {"backend", d.backend},
                      {"name", d.name},
                      {"evidence", DescribeDevice(EvidenceOf(d))}});
    }
    PrintJson({{"ok", true}, {"devices", list}});
  } else {
    for (const DeviceInfo& d : *devices) {
      std::cout << "device " << d.ordinal << "  " << DescribeDevice(EvidenceOf(d)) << "\n";
    }
    if (!devices->empty() && devices->front().backend == "cpu") {
      std::cout << "the CPU runs a lease of 1 to " << kMaxDevices << " simulated devices, sharing its threads\n";
    } else {
      std::cout << devices->size() << (devices->size() == 1 ? " GPU" : " GPUs") << " seen: a lease may name up to "
                << std::min<size_t>(devices->size(), kMaxDevices) << " of them (vcp prove runs GPUs 0 to D-1)\n";
    }
  }
  return kExitOk;
}

}  // namespace

void RegisterDevicesCommand(CLI::App& app, CliState& state) {
  auto backend = std::make_shared<std::string>("auto");
  CLI::App* devices = app.add_subcommand(
      "devices", "list the devices a backend sees, each as the evidence line a record would sign for it");
  devices->add_option("--backend", *backend, "auto, cpu or cuda")->capture_default_str();
  devices->callback([&state, backend] { state.exit_code = DoDevices(state, *backend); });
}

}  // namespace vcp::cli
