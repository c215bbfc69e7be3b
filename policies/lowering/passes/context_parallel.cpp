// Context-parallel pass (Megatron-Core's context parallelism, all-gather form): each rank of a
// c-way context group holds s/c tokens of every sequence; a transformer layer's attention needs
// the keys and values of all s tokens, so its forward all-gathers K and V over the group (the
// whole buffer is 2·s·kv_dim/t elements per sample) and its backward reduce-scatters their
// gradients. The layer is one op here: the gather is posted once the previous compute op is
// done and the layer waits for it; the reduce-scatter follows the layer's backward and its
// tensor-parallel collectives (this pass runs after the tensor-parallel pass: on the shared comm
// stream the reduce-scatter queues behind the collectives that overlap the backward) and the next
// compute op waits for it. (Ring attention overlaps these with the attention blocks; that finer
// schedule would split the layer's op.)
#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;
using program::OpId;

class ContextParallelPass final : public LoweringPass {
 public:
  std::string name() const override { return "context_parallel"; }

  /// The forward's gather; under full recomputation also the replayed forward's, after the
  /// recompute op (the memory pass emits it first) and before the layer's backward, as the
  /// tensor-parallel pass replays its collectives.
  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    if (!applies(ctx, step) || !(step.runs_forward() || step.replays_full_forward())) return;
    std::vector<OpId> deps;
    if (ctx.computes > 0) deps.push_back(ctx.last_compute);
    const std::string name = what(step, step.unit.unit.forward ? " fwd " : " recompute ");
    compute_deps.push_back(ctx.collective(ctx.context_group(), CollectiveKind::kAllGather, kv_bytes(ctx, step),
                                          "cp allgather kv ", name, std::move(deps), CollectiveAlgorithm::kRing));
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId compute) override {
    if (!applies(ctx, step) || !step.runs_backward()) return;
    const OpId after = ctx.pending.empty() ? compute : ctx.pending.back();
    ctx.pending.push_back(ctx.collective(ctx.context_group(), CollectiveKind::kReduceScatter, kv_bytes(ctx, step),
                                         "cp reducescatter dkv ", what(step, " bwd "), {after}, CollectiveAlgorithm::kRing));
  }

 private:
  static bool applies(const RankContext& ctx, const LayerStep& step) {
    return ctx.plan.context_parallel() > 1 && step.layer.kind == workloads::LayerKind::kTransformer;
  }
  /// K and V of the whole sequence (c ranks' tokens) for the micro-batch.
  static double kv_bytes(const RankContext& ctx, const LayerStep& step) {
    return step.layer.kv_bytes * ctx.plan.context_parallel() * static_cast<double>(step.unit.samples);
  }
  static std::string what(const LayerStep& step, std::string_view phase) {
    return join({step.layer.name, phase, step.unit.mb});
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_context_parallel_pass() { return std::make_unique<ContextParallelPass>(); }

}  // namespace frugal::policies::lowering
