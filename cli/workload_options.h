// The workload flags shared by run, open, check and the protocol commands that name a workload.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/workload.h"

namespace vcp::cli {

struct WorkloadFlags {
  std::string workload = "int8";
  uint32_t m = 0, n = 0, k = 0;
  uint32_t tile = kDefaultTile;
  std::string seed_hex;
  std::string backend = "auto";
  int threads = 0;
};

inline void AddWorkloadFlags(CLI::App* cmd, WorkloadFlags& f, bool with_backend) {
  cmd->add_option("--workload", f.workload, "int8 (exact int32 accumulation) or fp32-ordered (fixed FMA order)")
      ->capture_default_str();
  cmd->add_option("--m", f.m, "rows of A and C, 1 to 1048576")->required();
  cmd->add_option("--n", f.n, "columns of B and C, 1 to 1048576")->required();
  cmd->add_option("--k", f.k, "inner dimension K (columns of A, rows of B), 1 to 1048576 (int8: at most 131071)")
      ->required();
  cmd->add_option("--tile", f.tile, "tile size T: a power of two from 8 to 256")->capture_default_str();
  cmd->add_option("--seed", f.seed_hex, "workload seed, 64 hex digits (32 bytes), chosen by the verifier")->required();
  cmd->add_option("--threads", f.threads, "CPU threads, 0 = all")->capture_default_str();
  if (with_backend) {
    cmd->add_option("--backend", f.backend, "auto (CUDA when usable, else CPU), cpu or cuda; VCP_BACKEND overrides auto")
        ->capture_default_str();
  }
}

inline Result<WorkloadParams> ParamsFromFlags(const WorkloadFlags& f) {
  WorkloadParams p;
  VCP_ASSIGN_OR_RETURN(p.kind, ParseWorkloadKind(f.workload));
  p.m = f.m;
  p.n = f.n;
  p.k = f.k;
  p.tile = f.tile;
  VCP_ASSIGN_OR_RETURN(p.seed, FixedFromHex<32>(f.seed_hex, "--seed"));
  VCP_RETURN_IF_ERROR(ValidateWorkload(p));
  return p;
}

inline Result<RunOptions> RunOptionsFromFlags(const WorkloadFlags& f) {
  RunOptions o;
  VCP_ASSIGN_OR_RETURN(o.backend, ParseBackendChoice(f.backend));
  if (f.threads < 0) return Status::InvalidArgument("--threads must be 0 (all) or positive");
  o.threads = f.threads;
  return o;
}

}  // namespace vcp::cli
