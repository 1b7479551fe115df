// Backend selection, running a workload (through the one pipeline, lib/pipeline.cpp), and the verifier's check
// of an opening.
#include "vcp/engine.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "backend.h"
#include "parallel.h"
#include "pipeline.h"
#include "tile_recompute.h"
#include "vcp/bytes.h"

namespace vcp {

std::string_view BackendChoiceName(BackendChoice choice) {
  switch (choice) {
    case BackendChoice::kAuto: return "auto";
    case BackendChoice::kCpu: return "cpu";
    case BackendChoice::kCuda: return "cuda";
  }
  return "unknown";
}

Result<BackendChoice> ParseBackendChoice(std::string_view name) {
  if (name == "auto") return BackendChoice::kAuto;
  if (name == "cpu") return BackendChoice::kCpu;
  if (name == "cuda") return BackendChoice::kCuda;
  return Status::InvalidArgument("unknown backend '" + std::string(name) + "'; allowed: auto, cpu, cuda");
}

namespace {

Result<DeviceInfo> Probe(const BackendStages& backend, const RunOptions& options) {
  VCP_ASSIGN_OR_RETURN(DeviceInfo info, backend.probe(options.device));
  if (&backend == &CpuBackend()) info.compute_units = ResolveThreads(options.threads);
  return info;
}

Result<DeviceInfo> ProbeCuda(const RunOptions& options) {
  VCP_ASSIGN_OR_RETURN(const BackendStages* cuda, CudaBackend());
  return Probe(*cuda, options);
}

Status CheckOptions(const RunOptions& options) {
  if (options.threads < 0) {
    return Status::InvalidArgument("threads = " + std::to_string(options.threads) +
                                   " is negative; use 0 for all hardware threads or a positive count");
  }
  if (options.device < 0) {
    return Status::InvalidArgument("device = " + std::to_string(options.device) +
                                   " is negative; CUDA device ordinals start at 0");
  }
  return Status::Ok();
}

// The backend that will run, and its description; explicit choices beat VCP_BACKEND, which beats auto. An
// ordinal out of range (kInvalidArgument from the probe) is the caller's mistake, never a reason to fall back.
Result<std::pair<const BackendStages*, DeviceInfo>> Resolve(const RunOptions& options) {
  VCP_RETURN_IF_ERROR(CheckOptions(options));
  BackendChoice choice = options.backend;
  std::string why;
  if (choice == BackendChoice::kAuto) {
    if (const char* env = std::getenv("VCP_BACKEND"); env != nullptr && *env != '\0') {
      auto parsed = ParseBackendChoice(env);
      if (!parsed.ok()) return parsed.status().WithContext("VCP_BACKEND");
      choice = *parsed;
      why = std::string("VCP_BACKEND=") + env;
    }
  } else {
    why = std::string("--backend ") + std::string(BackendChoiceName(choice));
  }
  if (choice == BackendChoice::kCpu) {
    VCP_ASSIGN_OR_RETURN(DeviceInfo info, Probe(CpuBackend(), options));
    info.selection_note = "CPU engine (" + why + ")";
    return std::make_pair(&CpuBackend(), info);
  }
  auto cuda = ProbeCuda(options);
  if (!cuda.ok() && cuda.status().code() == StatusCode::kInvalidArgument) return cuda.status();
  if (choice == BackendChoice::kCuda) {
    if (!cuda.ok()) {
      return Status::Unavailable("the CUDA backend was requested (" + why + ") but cannot run here: " +
                                 std::string(cuda.status().message()) + "; use --backend cpu or auto");
    }
    cuda->selection_note = "CUDA backend (" + why + ")";
    return std::make_pair(*CudaBackend(), *cuda);
  }
  if (cuda.ok()) {
    cuda->selection_note = "CUDA backend (auto: a usable GPU was found)";
    return std::make_pair(*CudaBackend(), *cuda);
  }
  VCP_ASSIGN_OR_RETURN(DeviceInfo info, Probe(CpuBackend(), options));
  info.selection_note = "CPU engine (auto: " + std::string(cuda.status().message()) + ")";
  return std::make_pair(&CpuBackend(), info);
}

}  // namespace

Result<DeviceInfo> SelectBackend(const RunOptions& options) {
  VCP_ASSIGN_OR_RETURN(auto resolved, Resolve(options));
  return resolved.second;
}

Result<std::vector<DeviceInfo>> ListDevices(BackendChoice backend) {
  const BackendStages* stages = nullptr;
  switch (backend) {
    case BackendChoice::kCpu: stages = &CpuBackend(); break;
    case BackendChoice::kCuda: {
      auto cuda = CudaBackend();
      if (!cuda.ok()) {
        return Status::Unavailable("no CUDA device can be listed: " + std::string(cuda.status().message()));
      }
      stages = *cuda;
      break;
    }
    case BackendChoice::kAuto: {
      VCP_ASSIGN_OR_RETURN(auto resolved, Resolve(RunOptions{}));
      stages = resolved.first;
      break;
    }
  }
  return stages->list_devices();
}

Result<std::unique_ptr<Commitment>> RunWorkload(const WorkloadParams& params, const RunOptions& options) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(params));
  VCP_ASSIGN_OR_RETURN(auto resolved, Resolve(options));
  // Buffers are sized by the (validated) workload and checked against memory by each backend, but a container's
  // limit can still refuse them: that is an error to report, not an exception to let escape.
  try {
    return RunPipeline(*resolved.first, params, resolved.second, options.threads);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory running " + std::string(WorkloadName(params.kind)) + " " +
                                     std::to_string(params.m) + " x " + std::to_string(params.n) + " x " +
                                     std::to_string(params.k) + " on the " + resolved.second.backend +
                                     " backend; use a smaller shape");
  }
}

Status ValidateOpening(const WorkloadParams& params, const MultiProof& proof) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(params));
  const uint64_t leaves = TileGridOf(params).leaf_count();
  if (proof.tree_size != leaves) {
    return Status::Rejected("the proof is for a tree of " + std::to_string(proof.tree_size) +
                            " leaves but this workload has " + std::to_string(leaves) + " tiles");
  }
  if (proof.indices.empty()) return Status::Rejected("the proof opens no tile");
  for (size_t i = 0; i < proof.indices.size(); ++i) {
    if (proof.indices[i] >= leaves || (i > 0 && proof.indices[i] <= proof.indices[i - 1])) {
      return Status::Rejected("the proof's tile indices must be strictly increasing and below " +
                              std::to_string(leaves) + "; entry " + std::to_string(i) + " is " +
                              std::to_string(proof.indices[i]));
    }
  }
  return Status::Ok();
}

Status RecomputeLeafHashes(std::span<const OpenedTile> tiles, int threads, std::span<Hash32> hashes) {
  std::vector<Status> errors(tiles.size());
  ParallelFor(tiles.size(), threads, 1, [&](uint64_t i0, uint64_t i1) {
    // One set of buffers per worker, reused for each of its tiles (see lib/tile_recompute.h).
    TileScratch scratch;
    std::vector<uint32_t> tile;
    for (uint64_t i = i0; i < i1; ++i) {
      const WorkloadParams& params = *tiles[i].params;
      errors[i] = ComputeTileInto(params, tiles[i].index, scratch, tile);
      if (errors[i].ok()) hashes[i] = LeafHashOfTile(params, TileAt(params, tiles[i].index), tile);
    }
  });
  for (const Status& s : errors) VCP_RETURN_IF_ERROR(s);
  return Status::Ok();
}

Status VerifyOpenedTiles(const MultiProof& proof, std::span<const Hash32> hashes, const Hash32& root) {
  Status verified = VerifyMulti(proof, hashes, root);
  if (verified.ok()) return verified;
  std::string tiles;
  for (size_t i = 0; i < proof.indices.size() && i < 8; ++i) {
    if (i > 0) tiles += ',';
    tiles += std::to_string(proof.indices[i]);
  }
  if (proof.indices.size() > 8) tiles += ",...";
  return Status::Rejected("the recomputed tiles [" + tiles + "] do not match the commitment: " +
                          std::string(verified.message()));
}

Status CheckOpening(const WorkloadParams& params, const Hash32& root, const MultiProof& proof, int threads) {
  VCP_RETURN_IF_ERROR(ValidateOpening(params, proof));
  // Recompute every opened tile from the seed alone, in parallel across tiles.
  std::vector<OpenedTile> tiles;
  tiles.reserve(proof.indices.size());
  for (uint64_t index : proof.indices) tiles.push_back({&params, index});
  std::vector<Hash32> hashes(tiles.size());
  VCP_RETURN_IF_ERROR(RecomputeLeafHashes(tiles, threads, hashes));
  return VerifyOpenedTiles(proof, hashes, root);
}

}  // namespace vcp
