// Optimizer pass: the Adam step over the parameters this rank updates (its ZeRO ≥ 1 shard, or
// all it holds), after every gradient collective and pending tensor-parallel collective.
// About 12 FLOPs per parameter; memory-bound: the framework's passes over the gradients, the
// fp32 master weights, m and v and the training-precision weights (policies::optimizer_step_bytes:
// gradient copy, unscale, norm, Adam, weight copy, zeroing of the gradient buffer).
// ZeRO-Offload (Plan::optimizer_state kHost): the shard's gradients go device → host on the copy
// stream (with ZeRO ≥ 2 streamed bucket by bucket during every backward by the gradient_sync
// pass, else in one copy after the last), the step runs on the node's CPU (host stream, its 12
// FLOPs per parameter at the CPU's speed), the updated weights come back host → device, and the
// next iteration's compute waits for them. ZeRO-Infinity (kNvme): before the step the shard's
// optimizer state is read from the NVMe into a host buffer (on the copy stream, beside the
// gradients' copy down), after it written back to the NVMe while the weights go up; the host
// buffer is freed once both are done.
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
    c.memory_bytes = optimizer_step_bytes(ctx.setup.precision, ctx.state, ctx.parameters(), ctx.plan.zero_stage,
                                          ctx.plan.gradient_replicas());
    c.kernels = kOptimizerKernels;
    std::vector<OpId> deps;
    deps.reserve(ctx.gradient_sync.size() + ctx.pending.size());
    deps = ctx.gradient_sync;
    deps.insert(deps.end(), ctx.pending.begin(), ctx.pending.end());
    const bool shards_off_device = ctx.plan.parameter_state != program::Location::kDevice && ctx.plan.zero_stage >= 3;
    if (ctx.plan.optimizer_state == program::Location::kDevice) {
      ctx.step = ctx.builder().compute("optimizer step", std::move(c), std::move(deps));
      // ZeRO-3 parameter offload: the updated shard goes back down to where it lives.
      if (shards_off_device) ctx.step = down_to_shard_home(ctx, params, ctx.step);
      return;
    }
    ctx.pending.clear();
    if (ctx.computes > 0) deps.push_back(ctx.last_compute);  // the copy stream does not follow the backward by itself
    auto& b = ctx.builder();
    const bool nvme = ctx.plan.optimizer_state == program::Location::kNvme;
    // The shard's gradients in host memory: streamed during the backward (gradient_sync pass), or
    // copied here in one piece.
    std::vector<OpId> step_deps = ctx.gradients_to_host;
    if (step_deps.empty())
      step_deps.push_back(b.copy(
          "gradients to host",
          program::Copy{program::CopyDirection::kDeviceToHost, params * ctx.state.gradients, "", ""}, deps));
    else
      step_deps.insert(step_deps.end(), deps.begin(), deps.end());
    const program::Memory staged{program::MemoryTag::kOptimizer, "optimizer_state_staged", params * ctx.state.optimizer,
                                 program::Location::kHost};
    if (nvme) {
      // The staging buffer lives in host memory: allocated and freed on the host stream, so the
      // GPU's streams never wait for the NVMe.
      const OpId room = b.add(program::OpKind::kAlloc, program::Stream::kHost, "alloc " + staged.buffer, deps, staged);
      step_deps.push_back(b.copy("optimizer state from nvme",
                                 program::Copy{program::CopyDirection::kNvmeToHost, staged.bytes, "", ""}, {room}));
    }
    c.memory_bytes = 0;  // the CPU's time is its FLOPs at the node CPU's speed
    c.kernels = 0;
    const OpId cpu_step = b.host_compute("cpu optimizer step", std::move(c), std::move(step_deps));
    // The CPU updated the weights in host memory: they go up, unless the shards live off the
    // device (the next iteration copies them up layer by layer; to the NVMe first for kNvme).
    ctx.step = !shards_off_device ? b.copy("weights to device",
                                           program::Copy{program::CopyDirection::kHostToDevice, params * ctx.state.weights, "", ""},
                                           {cpu_step})
               : ctx.plan.parameter_state == program::Location::kNvme
                   ? b.copy("weight shard to nvme", program::Copy{program::CopyDirection::kHostToNvme, params * ctx.state.weights, "", ""},
                            {cpu_step})
                   : cpu_step;
    if (nvme) {
      const OpId back = b.copy("optimizer state to nvme",
                               program::Copy{program::CopyDirection::kHostToNvme, staged.bytes, "", ""}, {cpu_step});
      b.add(program::OpKind::kFree, program::Stream::kHost, "free " + staged.buffer, {back}, staged);
    }
    ctx.hold_stream(program::Stream::kCompute, ctx.step, "updated weights on the device");
  }

 private:
  /// The updated weight shard from the device to its home (host memory, or the NVMe through the
  /// host); returns the last copy.
  static OpId down_to_shard_home(RankContext& ctx, double params, OpId after) {
    auto& b = ctx.builder();
    const double bytes = params * ctx.state.weights;
    const OpId down = b.copy("weight shard to host", program::Copy{program::CopyDirection::kDeviceToHost, bytes, "", ""}, {after});
    if (ctx.plan.parameter_state != program::Location::kNvme) return down;
    return b.copy("weight shard to nvme", program::Copy{program::CopyDirection::kHostToNvme, bytes, "", ""}, {down});
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_optimizer_pass() { return std::make_unique<OptimizerPass>(); }

}  // namespace frugal::policies::lowering
