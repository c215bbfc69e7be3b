// Memory pass: the rank's resident buffers (model state under its ZeRO sharding, the largest
// layer workspace, the reserve), the lifetime of each layer's stored activations (allocated
// before its forward, freed after its backward), and the recomputation the plan's memory
// decision asks for (a recompute op before the layer's backward).
#include <algorithm>

#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::Memory;
using program::MemoryTag;
using program::OpId;
using program::Phase;

class MemoryPass final : public LoweringPass {
 public:
  std::string name() const override { return "memory"; }

  void begin_rank(RankContext& ctx) override {
    const Plan& plan = ctx.plan;
    const int p = plan.pipeline_parallel(), n_layers = static_cast<int>(ctx.chain.layers.size());
    double transient = 0;
    for (int c = 0; c < plan.virtual_pipeline; ++c) {
      const auto [first, end] = stage_layers(plan, c * p + ctx.stage(), n_layers);
      for (int l = first; l < end; ++l) transient = std::max(transient, ctx.chain.layers[static_cast<std::size_t>(l)].transient_bytes);
    }
    const auto sharded = sharded_model_state(ctx.parameters(), ctx.state, plan.zero_stage, plan.gradient_replicas());
    const auto& mbs = ctx.rank().micro_batches;
    const double largest_mb = mbs.empty() ? 0.0 : static_cast<double>(*std::max_element(mbs.begin(), mbs.end()));
    ctx.program().resident = {
        Memory{MemoryTag::kParameters, "weights", sharded.weights_bytes},
        Memory{MemoryTag::kGradients, "gradients", sharded.gradients_bytes},
        Memory{MemoryTag::kOptimizer, "optimizer_state", sharded.optimizer_bytes},
        Memory{MemoryTag::kWorkspace, "workspace", transient * largest_mb},
        Memory{MemoryTag::kReserved, "reserved", ctx.setup.reserved_memory_bytes},
    };
  }

  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    const auto& layer = step.layer;
    const double scale = static_cast<double>(step.unit.samples);
    if (step.unit.unit.forward) {
      if (layer.activation_bytes > 0)
        ctx.builder().alloc(Memory{MemoryTag::kActivations, join({layer.name, "/", step.unit.mb}), layer.activation_bytes * scale});
      return;
    }
    if (layer.recompute_flops > 0) {
      program::Compute rc{Phase::kRecompute, layer.name, layer.recompute_flops * scale, layer.forward_memory_bytes * scale, {},
                          layer.recompute_kernels};
      ctx.compute(join({"recompute ", layer.name, " ", step.unit.mb}), std::move(rc), std::move(compute_deps));
      compute_deps.clear();
    }
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId) override {
    const auto& layer = step.layer;
    if (!step.unit.unit.forward && layer.activation_bytes > 0)
      ctx.builder().free(Memory{MemoryTag::kActivations, join({layer.name, "/", step.unit.mb}),
                                layer.activation_bytes * static_cast<double>(step.unit.samples)});
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_memory_pass() { return std::make_unique<MemoryPass>(); }

}  // namespace frugal::policies::lowering
