// ZeRO pass (Rajbhandari et al., SC'20): stage 3 all-gathers each layer's weights over the
// data-parallel group before its forward and its backward, on the comm stream and at most one
// layer ahead of compute, and frees them after; stages 1–2 all-gather the updated weight shards
// after the optimizer step, or with Plan::overlap_param_gather layer by layer at the start of the
// iteration, each layer's first forward waiting for its own gather (the weights the previous
// iteration's step updated). (Gradient reduce-scatter is the gradient-sync pass's.)
#include <set>

#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::Memory;
using program::MemoryTag;
using program::OpId;
using program::OpKind;

class ZeroPass final : public LoweringPass {
 public:
  std::string name() const override { return "zero"; }

  void begin_rank(RankContext&) override { gathered_.clear(); }

  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    if (updates_weight_shards(ctx) && ctx.plan.overlap_param_gather && step.unit.unit.forward &&
        step.layer.parameters > 0 && gathered_.insert(step.index).second) {
      compute_deps.push_back(ctx.collective(ctx.data_group(), program::CollectiveKind::kAllGather,
                                            step.layer.parameters * ctx.state.weights, "allgather updated weights ",
                                            step.layer.name, {}, ctx.plan.gradient_algorithm));
      return;
    }
    if (!gathers(ctx, step.layer)) return;
    const std::string key = key_of(step);
    const double bytes = step.layer.parameters * ctx.state.weights;
    ctx.builder().add(OpKind::kAlloc, ctx.stream_of(ctx.data_group()), join({"alloc gathered ", key}), {},
                      Memory{MemoryTag::kBuffers, join({"gathered/", key}), bytes});
    std::vector<OpId> deps;
    if (ctx.computes >= 2) deps.push_back(ctx.previous_compute);
    compute_deps.push_back(ctx.collective(ctx.data_group(), program::CollectiveKind::kAllGather, bytes, "zero3 allgather ",
                                          key, deps, ctx.plan.gradient_algorithm));
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId) override {
    if (!gathers(ctx, step.layer)) return;
    ctx.builder().free(Memory{MemoryTag::kBuffers, join({"gathered/", key_of(step)}), step.layer.parameters * ctx.state.weights});
  }

  void after_step(RankContext& ctx) override {
    if (!updates_weight_shards(ctx)) return;
    if (ctx.plan.overlap_param_gather) {
      // The next iteration's gathers, queued on the data-parallel stream, start after this step.
      ctx.hold_stream(ctx.stream_of(ctx.data_group()), ctx.step, "updated weights ready");
      return;
    }
    const OpId gather = ctx.collective(ctx.data_group(), program::CollectiveKind::kAllGather,
                                       ctx.parameters() * ctx.state.weights, "allgather updated weights", "",
                                       {ctx.step}, ctx.plan.gradient_algorithm);
    // The next iteration's forward needs the gathered weights.
    ctx.hold_stream(program::Stream::kCompute, gather, "updated weights gathered");
  }

 private:
  /// ZeRO 1–2 over several replicas: each rank updates its shard, then the weights are gathered.
  static bool updates_weight_shards(const RankContext& ctx) {
    return ctx.plan.zero_stage >= 1 && ctx.plan.zero_stage <= 2 && ctx.plan.gradient_replicas() > 1;
  }
  static bool gathers(const RankContext& ctx, const workloads::Layer& layer) {
    return ctx.plan.zero_stage >= 3 && ctx.plan.gradient_replicas() >= 2 && layer.parameters > 0;
  }
  /// layer + "/" + micro-batch + "/" + pass
  static std::string key_of(const LayerStep& step) {
    return join({step.layer.name, "/", step.unit.mb, step.replay ? "/recompute" : step.unit.unit.forward ? "/fwd" : "/bwd"});
  }

  std::set<int> gathered_;  ///< chain layers whose updated weights this rank has gathered
};

}  // namespace

std::unique_ptr<LoweringPass> make_zero_pass() { return std::make_unique<ZeroPass>(); }

}  // namespace frugal::policies::lowering
