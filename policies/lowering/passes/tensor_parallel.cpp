// Tensor-parallel pass (Megatron-LM): after each transformer layer's compute, its attention and
// MLP blocks each end in an all-reduce of the s·b·h activation (or, with sequence parallelism,
// an all-gather before and a reduce-scatter after: the same bytes in the nccl-tests
// convention). The next compute op and the next send wait for the last of them. Under full
// recomputation the replayed forward runs them again before the layer's backward.
#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;
using program::OpId;

class TensorParallelPass final : public LoweringPass {
 public:
  std::string name() const override { return "tensor_parallel"; }

  /// Full recomputation replays the layer's forward, tensor-parallel collectives included
  /// (Megatron's checkpointed forward runs the same code): after the recompute op (the memory
  /// pass emits it first), before the layer's backward.
  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    if (!applies(ctx, step) || step.unit.unit.forward || step.layer.recompute != workloads::Recompute::kFull) return;
    compute_deps.push_back(block_collectives(ctx, step, ctx.last_compute, "recompute"));
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId compute) override {
    if (!applies(ctx, step)) return;
    ctx.pending.assign(1, block_collectives(ctx, step, compute, step.unit.unit.forward ? "fwd" : "bwd"));
  }

 private:
  static bool applies(const RankContext& ctx, const LayerStep& step) {
    return ctx.plan.tensor_parallel() >= 2 && step.layer.kind == workloads::LayerKind::kTransformer;
  }

  /// The attention and MLP blocks' collectives after `after`; returns the last.
  static OpId block_collectives(RankContext& ctx, const LayerStep& step, OpId after, std::string_view phase) {
    const int group = ctx.tensor_group();
    const double bytes = ctx.tokens_per_sample() * static_cast<double>(ctx.hidden_size) *
                         core::bytes_per_element(ctx.setup.precision) * static_cast<double>(step.unit.samples);
    const std::string what = join({step.layer.name, " ", phase, " ", step.unit.mb});
    OpId last = after;
    for (int block = 0; block < 2; ++block) {  // attention, MLP
      if (ctx.plan.shard.sequence_parallel) {
        last = ctx.collective(group, CollectiveKind::kAllGather, bytes, "tp allgather ", what, {last}, CollectiveAlgorithm::kRing);
        last = ctx.collective(group, CollectiveKind::kReduceScatter, bytes, "tp reducescatter ", what, {last},
                              CollectiveAlgorithm::kRing);
      } else {
        last = ctx.collective(group, CollectiveKind::kAllReduce, bytes, "tp allreduce ", what, {last}, CollectiveAlgorithm::kRing);
      }
    }
    return last;
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_tensor_parallel_pass() { return std::make_unique<TensorParallelPass>(); }

}  // namespace frugal::policies::lowering
