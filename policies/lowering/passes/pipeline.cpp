// Pipeline pass: a unit receives its input from the previous virtual stage (forward) or its
// output gradient from the next one (backward) and sends its result on. Receives block the
// compute stream (the next layer needs the data); sends go on the comm stream once the data is
// computed (the last compute op and its tensor-parallel collectives) and do not block it.
// With Plan::scatter_gather_tensors_in_pipeline (Megatron-LM's scatter/gather optimization,
// Narayanan et al. SC'21 §4.1) a boundary tensor that every tensor-parallel rank holds whole
// (t ≥ 2 without sequence parallelism) travels as t slices, each rank sending 1/t to its peer of
// the next stage (each over its own NIC), and the receiver all-gathers the slices over its
// tensor-parallel group (NVLink) before computing on them.
#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::OpId;
using program::OpKind;
using program::Stream;

class PipelinePass final : public LoweringPass {
 public:
  std::string name() const override { return "pipeline"; }

  void before_unit(RankContext& ctx, const UnitStep& u) override {
    const int vs = u.virtual_stage;
    if (u.unit.forward && vs > 0)
      receive(ctx, vs - 1, tag(ctx, u.unit.micro_batch, vs, true), boundary_bytes(ctx, vs - 1, u.samples),
              join({"activations ", u.mb}));
    if (!u.unit.forward && vs < u.virtual_stages - 1)
      receive(ctx, vs + 1, tag(ctx, u.unit.micro_batch, vs, false), boundary_bytes(ctx, vs, u.samples),
              join({"gradients ", u.mb}));
  }

  void after_unit(RankContext& ctx, const UnitStep& u) override {
    const int vs = u.virtual_stage;
    if (u.unit.forward && vs < u.virtual_stages - 1)
      p2p(ctx, OpKind::kSend, vs + 1, tag(ctx, u.unit.micro_batch, vs + 1, true),
          boundary_bytes(ctx, vs, u.samples) / slices(ctx), join({"send activations ", u.mb}));
    if (!u.unit.forward && vs > 0)
      p2p(ctx, OpKind::kSend, vs - 1, tag(ctx, u.unit.micro_batch, vs - 1, false),
          boundary_bytes(ctx, vs - 1, u.samples) / slices(ctx), join({"send gradients ", u.mb}));
  }

 private:
  /// Tag of the message that arrives at `virtual_stage` for micro-batch `mb`.
  static std::int64_t tag(const RankContext& ctx, int mb, int virtual_stage, bool forward) {
    const std::int64_t stages = static_cast<std::int64_t>(ctx.plan.pipeline_parallel()) * ctx.plan.virtual_pipeline;
    return ((static_cast<std::int64_t>(mb) * stages + virtual_stage) * 2) + (forward ? 0 : 1);
  }

  /// Bytes leaving virtual stage `virtual_stage` (its last layer's output) for `samples`.
  static double boundary_bytes(const RankContext& ctx, int virtual_stage, std::int64_t samples) {
    const auto [first, end] = stage_layers(ctx.plan, virtual_stage, static_cast<int>(ctx.chain.layers.size()));
    return ctx.chain.layers[static_cast<std::size_t>(end - 1)].output_bytes * static_cast<double>(samples);
  }

  /// Slices a boundary tensor travels in: t under the scatter/gather optimization, else 1.
  static int slices(const RankContext& ctx) { return ctx.plan.scatters_pipeline_tensors() ? ctx.plan.tensor_parallel() : 1; }

  /// Receives `bytes` from `peer_stage` (its slice of them, then the all-gather of the slices,
  /// which the next compute op waits for).
  static void receive(RankContext& ctx, int peer_stage, std::int64_t t, double bytes, const std::string& what) {
    const OpId recv = p2p(ctx, OpKind::kRecv, peer_stage, t, bytes / slices(ctx), "recv " + what);
    if (slices(ctx) > 1)
      ctx.pending.push_back(ctx.collective(ctx.tensor_group(), program::CollectiveKind::kAllGather, bytes,
                                           "pp allgather ", what, {recv}, program::CollectiveAlgorithm::kRing));
  }

  static OpId p2p(RankContext& ctx, OpKind kind, int peer_stage, std::int64_t t, double bytes, std::string name) {
    std::vector<OpId> deps;
    if (kind == OpKind::kSend) {
      deps.reserve(ctx.pending.size() + 1);
      deps = ctx.pending;
      if (ctx.computes > 0) deps.push_back(ctx.last_compute);
    }
    return ctx.builder().add(kind, kind == OpKind::kRecv ? Stream::kCompute : Stream::kComm, std::move(name),
                             std::move(deps), program::PointToPoint{ctx.rank_of_stage(peer_stage), t, bytes});
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_pipeline_pass() { return std::make_unique<PipelinePass>(); }

}  // namespace frugal::policies::lowering
