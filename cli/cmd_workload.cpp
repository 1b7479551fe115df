// vcp run | open | check: compute and commit a workload, open tiles of it, check an opening from the seed alone.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "fileio.h"
#include "vcp/merkle.h"
#include "workload_options.h"

namespace vcp::cli {

namespace {

nlohmann::json DeviceJson(const DeviceInfo& d) {
  nlohmann::json j = {{"backend", d.backend}, {"name", d.name}, {"compute_units", d.compute_units},
                      {"selection", d.selection_note}};
  if (d.backend == "cuda") {
    j["driver_version"] = d.driver_version;
    j["runtime_version"] = d.runtime_version;
  }
  return j;
}

std::string Describe(const WorkloadParams& p) {
  std::ostringstream s;
  s << WorkloadName(p.kind) << " M=" << p.m << " N=" << p.n << " K=" << p.k << " T=" << p.tile;
  return s.str();
}

std::string Sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", v);
  return buf;
}

// Parses "I,J,..." into sorted, distinct tile indices below leaf_count.
Result<std::vector<uint64_t>> ParseTiles(const std::string& text, uint64_t leaf_count) {
  std::vector<uint64_t> tiles;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || item.size() > 19) {
      return Status::InvalidArgument("--tiles entry '" + item + "' is not a tile index; give decimal indices like 0,5,17");
    }
    const uint64_t t = std::stoull(item);
    if (t >= leaf_count) {
      return Status::InvalidArgument("tile " + item + " is out of range; this workload has " +
                                     std::to_string(leaf_count) + " tiles (indices 0 to " + std::to_string(leaf_count - 1) + ")");
    }
    tiles.push_back(t);
  }
  if (tiles.empty()) return Status::InvalidArgument("--tiles is empty; give at least one tile index");
  std::sort(tiles.begin(), tiles.end());
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
  return tiles;
}

Result<std::unique_ptr<Commitment>> RunFromFlags(const WorkloadFlags& flags, WorkloadParams& params) {
  VCP_ASSIGN_OR_RETURN(params, ParamsFromFlags(flags));
  VCP_ASSIGN_OR_RETURN(RunOptions options, RunOptionsFromFlags(flags));
  return RunWorkload(params, options);
}

int DoRun(const CliState& state, const WorkloadFlags& flags) {
  WorkloadParams p;
  auto run = RunFromFlags(flags, p);
  if (!run.ok()) return ReportError(state, run.status());
  const Commitment& c = **run;
  const double ops = static_cast<double>(OperationCount(p));
  const RunTimings& t = c.timings();
  if (state.json) {
    PrintJson({{"ok", true},
               {"workload", WorkloadName(p.kind)}, {"m", p.m}, {"n", p.n}, {"k", p.k}, {"tile", p.tile},
               {"seed", ToHex(p.seed)}, {"root", ToHex(c.root())}, {"leaves", c.leaf_count()},
               {"operations", OperationCount(p)}, {"seconds", t.total_seconds},
               {"generate_seconds", t.generate_seconds}, {"gemm_seconds", t.gemm_seconds},
               {"commit_seconds", t.commit_seconds}, {"gemm_path", t.gemm_path},
               {"ops_per_second", ops / t.total_seconds},
               {"device", DeviceJson(c.device())}});
  } else {
    std::cout << "backend     " << c.device().selection_note << "\n"
              << "device      " << c.device().name << ", " << c.device().compute_units
              << (c.device().backend == "cuda" ? " SMs, driver " + c.device().driver_version + ", CUDA " +
                                                     c.device().runtime_version
                                               : " threads")
              << "\n"
              << "workload    " << Describe(p) << "\n"
              << "root        " << ToHex(c.root()) << "\n"
              << "leaves      " << c.leaf_count() << "\n"
              << "operations  " << Sci(ops) << "\n"
              << "seconds     " << t.total_seconds << " (generate " << t.generate_seconds << ", gemm "
              << t.gemm_seconds << ", commit " << t.commit_seconds << ")\n"
              << "gemm path   " << t.gemm_path << "\n"
              << "rate        " << Sci(ops / t.total_seconds) << " ops/s\n";
  }
  return kExitOk;
}

int DoOpen(const CliState& state, const WorkloadFlags& flags, const std::string& tiles_text, const std::string& out) {
  WorkloadParams p;
  auto params = ParamsFromFlags(flags);
  if (!params.ok()) return ReportError(state, params.status());
  auto tiles = ParseTiles(tiles_text, TileGridOf(*params).leaf_count());
  if (!tiles.ok()) return ReportError(state, tiles.status());
  auto run = RunFromFlags(flags, p);
  if (!run.ok()) return ReportError(state, run.status());
  auto proof = (*run)->Open(*tiles);
  if (!proof.ok()) return ReportError(state, proof.status());
  const std::vector<uint8_t> bytes = SerializeMultiProof(*proof);
  if (Status s = WriteFileAtomic(out, bytes); !s.ok()) return ReportError(state, s);
  if (state.json) {
    PrintJson({{"ok", true}, {"root", ToHex((*run)->root())}, {"tiles", *tiles}, {"proof", out},
               {"proof_bytes", bytes.size()}, {"proof_hashes", proof->hashes.size()}});
  } else {
    std::cout << "root        " << ToHex((*run)->root()) << "\n"
              << "opened      " << tiles->size() << " tiles\n"
              << "proof       " << out << " (" << bytes.size() << " bytes, " << proof->hashes.size() << " hashes)\n";
  }
  return kExitOk;
}

int DoCheck(const CliState& state, const WorkloadFlags& flags, const std::string& root_hex, const std::string& path) {
  auto params = ParamsFromFlags(flags);
  if (!params.ok()) return ReportError(state, params.status());
  auto root = FixedFromHex<32>(root_hex, "--root");
  if (!root.ok()) return ReportError(state, root.status());
  auto bytes = ReadFileBytes(path, 64u << 20);
  if (!bytes.ok()) return ReportError(state, bytes.status());
  auto proof = ParseMultiProof(*bytes);
  if (!proof.ok()) return ReportError(state, proof.status().WithContext("proof file " + path));
  const auto start = std::chrono::steady_clock::now();
  const Status verdict = CheckOpening(*params, *root, *proof, flags.threads);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!verdict.ok() && verdict.code() != StatusCode::kRejected) return ReportError(state, verdict);
  if (state.json) {
    PrintJson({{"ok", verdict.ok()}, {"accepted", verdict.ok()}, {"tiles", proof->indices},
               {"seconds", seconds}, {"reason", verdict.ok() ? "" : std::string(verdict.message())}});
  } else if (verdict.ok()) {
    std::cout << "accepted    " << proof->indices.size() << " tiles recomputed from the seed match root "
              << root_hex << " (" << seconds << " s)\n";
  } else {
    std::cerr << "vcp: rejected: " << verdict.message() << "\n";
  }
  return verdict.ok() ? kExitOk : kExitRejected;
}

}  // namespace

void RegisterWorkloadCommands(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<WorkloadFlags>();

  CLI::App* run = app.add_subcommand("run", "generate, compute and commit a workload; print its root and rate");
  AddWorkloadFlags(run, *flags, true);
  run->callback([&state, flags] { state.exit_code = DoRun(state, *flags); });

  auto open_flags = std::make_shared<WorkloadFlags>();
  auto tiles = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  CLI::App* open = app.add_subcommand("open", "compute and commit a workload, then write a multiproof for tiles");
  AddWorkloadFlags(open, *open_flags, true);
  open->add_option("--tiles", *tiles, "tile indices to open, comma-separated (row-major tile order)")->required();
  open->add_option("--out", *out, "proof file to write")->required();
  open->callback([&state, open_flags, tiles, out] { state.exit_code = DoOpen(state, *open_flags, *tiles, *out); });

  auto check_flags = std::make_shared<WorkloadFlags>();
  auto root = std::make_shared<std::string>();
  auto proof = std::make_shared<std::string>();
  CLI::App* check = app.add_subcommand(
      "check", "recompute the opened tiles on the CPU from the seed and verify them against a root; exit 0 accepted, "
               "1 rejected, 2 usage or input error, 3 I/O or internal error");
  AddWorkloadFlags(check, *check_flags, false);
  check->add_option("--root", *root, "the committed root, 64 hex digits")->required();
  check->add_option("--proof", *proof, "proof file written by vcp open")->required();
  check->callback([&state, check_flags, root, proof] {
    state.exit_code = DoCheck(state, *check_flags, *root, *proof);
  });
}

}  // namespace vcp::cli
