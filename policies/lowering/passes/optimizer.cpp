// Optimizer pass: the Adam step over the parameters this rank updates (its ZeRO ≥ 1 shard, or
// all it holds), after every gradient collective and pending tensor-parallel collective.
// About 12 FLOPs per parameter; memory-bound: it reads gradients, fp32 master weights, m and v
// and writes master, m, v and the training-precision weights.
// ZeRO-Offload (Plan::offload_optimizer): the shard's gradients go device → host on the copy
// stream, the step runs on the node's CPU (host stream, its 12 FLOPs per parameter at the CPU's
// speed), the updated weights come back host → device, and the next iteration's compute waits
// for them.
#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::OpId;

/// A fused multi-tensor Adam: the gradient norm (clipping) and the update.
constexpr int kOptimizerKernels = 2;

class OptimizerPass final : public LoweringPass {
 public:
  std::string name() const override { return "optimizer"; }

  void step(RankContext& ctx) override {
    const double params =
        ctx.plan.zero_stage >= 1 ? ctx.parameters() / static_cast<double>(ctx.plan.gradient_replicas()) : ctx.parameters();
    program::Compute c;
    c.phase = program::Phase::kOptimizer;
    c.layer = "optimizer";
    c.flops = 12.0 * params;
    c.memory_bytes = params * (ctx.state.gradients + 2.0 * ctx.state.optimizer + ctx.state.weights);
    c.kernels = kOptimizerKernels;
    std::vector<OpId> deps;
    deps.reserve(ctx.gradient_sync.size() + ctx.pending.size());
    deps = ctx.gradient_sync;
    deps.insert(deps.end(), ctx.pending.begin(), ctx.pending.end());
    if (!ctx.plan.offload_optimizer) {
      ctx.step = ctx.builder().compute("optimizer step", std::move(c), std::move(deps));
      return;
    }
    ctx.pending.clear();
    if (ctx.computes > 0) deps.push_back(ctx.last_compute);  // the copy stream does not follow the backward by itself
    auto& b = ctx.builder();
    const OpId down = b.copy("gradients to host", program::Copy{program::CopyDirection::kDeviceToHost,
                                                                params * ctx.state.gradients, "", ""},
                             std::move(deps));
    c.memory_bytes = 0;  // the CPU's time is its FLOPs at the node CPU's speed
    c.kernels = 0;
    const OpId cpu_step = b.host_compute("cpu optimizer step", std::move(c), {down});
    ctx.step = b.copy("weights to device",
                      program::Copy{program::CopyDirection::kHostToDevice, params * ctx.state.weights, "", ""}, {cpu_step});
    ctx.hold_stream(program::Stream::kCompute, ctx.step, "updated weights on the device");
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_optimizer_pass() { return std::make_unique<OptimizerPass>(); }

}  // namespace frugal::policies::lowering
