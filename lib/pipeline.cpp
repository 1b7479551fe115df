// The pipeline of every backend, one tensor from seed to root, and the commitment it leaves behind.
#include "pipeline.h"

#include <utility>

#include "merkle_positions.h"

namespace vcp {

const char* BufferRoleName(BufferRole role) {
  switch (role) {
    case BufferRole::kA: return "A (M x K)";
    case BufferRole::kB: return "B (K x N)";
    case BufferRole::kC: return "C (M x N)";
    case BufferRole::kTree: return "the Merkle tree";
  }
  return "an unknown buffer";
}

TreeLayout LayoutTree(uint64_t leaf_count) {
  TreeLayout t;
  t.sizes = MerkleLevelSizes(leaf_count);
  for (uint64_t s : t.sizes) {
    t.offsets.push_back(t.nodes);
    t.nodes += s;
  }
  return t;
}

// ---- owners ----

StageBuffer::StageBuffer(StageBuffer&& other) noexcept
    : stages_(other.stages_), run_(other.run_), buffer_(std::exchange(other.buffer_, nullptr)) {}

StageBuffer& StageBuffer::operator=(StageBuffer&& other) noexcept {
  if (this != &other) {
    Reset();
    stages_ = other.stages_;
    run_ = other.run_;
    buffer_ = std::exchange(other.buffer_, nullptr);
  }
  return *this;
}

void StageBuffer::Reset() {
  if (buffer_ != nullptr) stages_->release(run_, buffer_);
  buffer_ = nullptr;
}

Result<StageRun> StageRun::Open(const BackendStages& stages, const WorkloadParams& params, const DeviceInfo& device,
                                int threads) {
  VCP_RETURN_IF_ERROR(ValidateWorkload(params));
  VCP_RETURN_IF_ERROR(stages.supports(params, device));
  VCP_ASSIGN_OR_RETURN(BackendRun * run, stages.open_run(params, threads, device.ordinal));
  StageRun owner;
  owner.stages_ = &stages;
  owner.run_ = run;
  owner.params_ = params;
  return owner;
}

StageRun::~StageRun() {
  if (run_ != nullptr) stages_->close_run(run_);
}

StageRun::StageRun(StageRun&& other) noexcept
    : stages_(other.stages_), run_(std::exchange(other.run_, nullptr)), params_(other.params_) {}

StageRun& StageRun::operator=(StageRun&& other) noexcept {
  if (this != &other) {
    if (run_ != nullptr) stages_->close_run(run_);
    stages_ = other.stages_;
    run_ = std::exchange(other.run_, nullptr);
    params_ = other.params_;
  }
  return *this;
}

Result<StageBuffer> StageRun::Allocate(BufferRole role) const {
  VCP_ASSIGN_OR_RETURN(BackendBuffer * buffer, stages_->allocate(run_, role));
  return StageBuffer(stages_, run_, buffer);
}

// ---- the commitment ----

namespace {

class PipelineCommitment final : public Commitment {
 public:
  PipelineCommitment(StageRun run, StageBuffer tree, TreeLayout layout, const Hash32& root, DeviceInfo device,
                     RunTimings timings)
      : run_(std::move(run)),
        tree_(std::move(tree)),
        layout_(std::move(layout)),
        root_(root),
        device_(std::move(device)),
        timings_(timings) {}

  const WorkloadParams& params() const override { return run_.params(); }
  const Hash32& root() const override { return root_; }
  uint64_t leaf_count() const override { return layout_.sizes[0]; }
  const DeviceInfo& device() const override { return device_; }
  const RunTimings& timings() const override { return timings_; }

  // The proof's node positions come from the host-side walk ProveMulti uses; only those nodes leave the backend.
  Result<MultiProof> Open(std::span<const uint64_t> leaf_indices) const override {
    VCP_ASSIGN_OR_RETURN(std::vector<NodePosition> positions, MultiProofNodePositions(leaf_count(), leaf_indices));
    MultiProof proof;
    proof.tree_size = leaf_count();
    proof.indices.assign(leaf_indices.begin(), leaf_indices.end());
    if (positions.empty()) return proof;  // a one-leaf tree: the leaf is the root
    std::vector<uint64_t> nodes(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) nodes[i] = layout_.offsets[positions[i].level] + positions[i].index;
    proof.hashes.resize(nodes.size());
    VCP_RETURN_IF_ERROR(run_.stages().gather_nodes(run_.get(), tree_.get(), nodes, proof.hashes));
    return proof;
  }

  Result<std::vector<Hash32>> LeafHashes() const override {
    std::vector<Hash32> leaves(leaf_count());
    VCP_RETURN_IF_ERROR(run_.stages().download(
        run_.get(), tree_.get(), 0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(leaves.data()), leaves.size() * 32)));
    return leaves;
  }

 private:
  StageRun run_;
  StageBuffer tree_;  // after run_: released first
  TreeLayout layout_;
  Hash32 root_;
  DeviceInfo device_;
  RunTimings timings_;
};

static_assert(sizeof(Hash32) == 32, "tree nodes are copied straight into Hash32 arrays");

}  // namespace

Result<std::unique_ptr<Commitment>> RunPipeline(const BackendStages& stages, const WorkloadParams& params,
                                                const DeviceInfo& device, int threads) {
  VCP_ASSIGN_OR_RETURN(StageRun run, StageRun::Open(stages, params, device, threads));
  const BackendStages& s = run.stages();
  BackendRun* r = run.get();
  TreeLayout layout = LayoutTree(TileGridOf(params).leaf_count());
  VCP_ASSIGN_OR_RETURN(StageBuffer tree, run.Allocate(BufferRole::kTree));
  Hash32 root{};
  {
    VCP_ASSIGN_OR_RETURN(StageBuffer a, run.Allocate(BufferRole::kA));
    VCP_ASSIGN_OR_RETURN(StageBuffer b, run.Allocate(BufferRole::kB));
    VCP_ASSIGN_OR_RETURN(StageBuffer c, run.Allocate(BufferRole::kC));
    VCP_RETURN_IF_ERROR(s.mark(r, RunMark::kStart));
    VCP_RETURN_IF_ERROR(s.generate(r, Matrix::kA, a.get()));
    VCP_RETURN_IF_ERROR(s.generate(r, Matrix::kB, b.get()));
    VCP_RETURN_IF_ERROR(s.mark(r, RunMark::kGenerated));
    VCP_RETURN_IF_ERROR(s.gemm(r, a.get(), b.get(), c.get()));
    VCP_RETURN_IF_ERROR(s.mark(r, RunMark::kMultiplied));
    VCP_RETURN_IF_ERROR(s.hash_leaves(r, c.get(), tree.get()));
    VCP_RETURN_IF_ERROR(s.build_levels(r, tree.get(), layout));
    VCP_RETURN_IF_ERROR(s.mark(r, RunMark::kCommitted));
    VCP_RETURN_IF_ERROR(s.finish(r));
    // The only bytes of the run that leave the backend.
    VCP_RETURN_IF_ERROR(s.download(r, tree.get(), 32 * layout.offsets.back(), root));
  }  // A, B and C are released here; only the tree stays
  RunTimings timings;
  VCP_ASSIGN_OR_RETURN(timings.generate_seconds, s.seconds_between(r, RunMark::kStart, RunMark::kGenerated));
  VCP_ASSIGN_OR_RETURN(timings.gemm_seconds, s.seconds_between(r, RunMark::kGenerated, RunMark::kMultiplied));
  VCP_ASSIGN_OR_RETURN(timings.commit_seconds, s.seconds_between(r, RunMark::kMultiplied, RunMark::kCommitted));
  VCP_ASSIGN_OR_RETURN(timings.total_seconds, s.seconds_between(r, RunMark::kStart, RunMark::kCommitted));
  timings.gemm_path = s.gemm_path(r);
  return std::unique_ptr<Commitment>(
      new PipelineCommitment(std::move(run), std::move(tree), std::move(layout), root, device, timings));
}

}  // namespace vcp
