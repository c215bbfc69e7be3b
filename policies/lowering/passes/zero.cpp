// ZeRO pass (Rajbhandari et al., SC'20): stage 3 all-gathers each layer's weights over the
// data-parallel group before its forward and its backward, on the comm stream and at most
// Plan::prefetch_layers layers ahead of compute (a resident window of that many layers' weights),
// and frees them after; stages 1–2 all-gather the updated weight shards
// after the optimizer step, or with Plan::overlap_param_gather layer by layer at the start of the
// iteration, each layer's first forward waiting for its own gather (the weights the previous
// iteration's step updated). With the weight shards off the device (Plan::parameter_state), each
// layer's shard is first copied up on the copy stream, one layer ahead of the compute (from the
// NVMe through a host buffer), and the gather (or, without replicas, the layer's compute) waits
// for it; the next iteration's copies wait for the optimizer step. (Gradient reduce-scatter is
// the gradient-sync pass's.)
#include <algorithm>
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

  void begin_rank(RankContext& ctx) override {
    gathered_.clear();
    // The prefetched layers' weights: resident, so budgets (resident_device_bytes) count them.
    if (const double window = prefetch_window_bytes(ctx); window > 0)
      ctx.program().resident.push_back(Memory{MemoryTag::kBuffers, "zero3 prefetch window", window});
  }

  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    if (updates_weight_shards(ctx) && ctx.plan.overlap_param_gather && step.unit.unit.forward &&
        step.layer.parameters > 0 && gathered_.insert(step.index).second) {
      compute_deps.push_back(ctx.collective(ctx.data_group(), program::CollectiveKind::kAllGather,
                                            step.layer.parameters * ctx.state.weights, "allgather updated weights ",
                                            step.layer.name, {}, ctx.plan.gradient_algorithm));
      return;
    }
    const bool gather = gathers(ctx, step.layer), staged = stages_shard(ctx, step.layer);
    if (!gather && !staged) return;
    const std::string key = key_of(step);
    const double bytes = step.layer.parameters * ctx.state.weights;
    std::vector<OpId> deps;  // prefetch_layers ahead of the compute
    if (const OpId ahead = ctx.compute_back(ctx.plan.prefetch_layers); ahead.valid()) deps.push_back(ahead);
    if (staged) deps = {stage_shard(ctx, key, bytes / ctx.plan.gradient_replicas(), deps)};
    if (!gather) {
      compute_deps.insert(compute_deps.end(), deps.begin(), deps.end());
      return;
    }
    ctx.builder().add(OpKind::kAlloc, ctx.stream_of(ctx.data_group()), join({"alloc gathered ", key}), {},
                      Memory{MemoryTag::kBuffers, join({"gathered/", key}), bytes});
    const OpId gathered = ctx.collective(ctx.data_group(), program::CollectiveKind::kAllGather, bytes, "zero3 allgather ",
                                         key, deps, ctx.plan.gradient_algorithm);
    compute_deps.push_back(gathered);
    if (staged)
      ctx.builder().add(OpKind::kFree, ctx.stream_of(ctx.data_group()), join({"free shard/", key}), {gathered},
                        Memory{MemoryTag::kBuffers, join({"shard/", key}), bytes / ctx.plan.gradient_replicas()});
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId) override {
    const double bytes = step.layer.parameters * ctx.state.weights;
    if (gathers(ctx, step.layer))
      ctx.builder().free(Memory{MemoryTag::kBuffers, join({"gathered/", key_of(step)}), bytes});
    else if (stages_shard(ctx, step.layer))  // no replicas: the compute used the staged shard itself
      ctx.builder().free(Memory{MemoryTag::kBuffers, join({"shard/", key_of(step)}), bytes});
  }

  void after_step(RankContext& ctx) override {
    // The next iteration's shards come up after the step updated them.
    if (ctx.plan.parameter_state != program::Location::kDevice && ctx.plan.zero_stage >= 3)
      ctx.hold_stream(program::Stream::kCopy, ctx.step, "updated weight shards");
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
  /// The device bytes the prefetch window holds: prefetch_layers × the largest of this rank's
  /// layers' gathered weights (and staged shard); 0 without ZeRO-3 gathers or staging.
  static double prefetch_window_bytes(const RankContext& ctx) {
    double largest = 0;
    for (const workloads::Layer* layer : ctx.own_layers()) {
      const double bytes = layer->parameters * ctx.state.weights;
      largest = std::max(largest, (gathers(ctx, *layer) ? bytes : 0.0) +
                                      (stages_shard(ctx, *layer) ? bytes / ctx.plan.gradient_replicas() : 0.0));
    }
    return ctx.plan.prefetch_layers * largest;
  }
  /// ZeRO 1–2 over several replicas: each rank updates its shard, then the weights are gathered.
  static bool updates_weight_shards(const RankContext& ctx) {
    return ctx.plan.zero_stage >= 1 && ctx.plan.zero_stage <= 2 && ctx.plan.gradient_replicas() > 1;
  }
  static bool gathers(const RankContext& ctx, const workloads::Layer& layer) {
    return ctx.plan.zero_stage >= 3 && ctx.plan.gradient_replicas() >= 2 && layer.parameters > 0;
  }
  /// ZeRO-3 with the weight shards off the device: each layer's shard is copied up before use.
  static bool stages_shard(const RankContext& ctx, const workloads::Layer& layer) {
    return ctx.plan.zero_stage >= 3 && ctx.plan.parameter_state != program::Location::kDevice && layer.parameters > 0;
  }
  /// Copies `bytes` of a layer's shard up into the device buffer "shard/<key>" after `deps` (from
  /// the NVMe through the host buffer "shard_staged/<key>" for kNvme); returns the copy up.
  static OpId stage_shard(RankContext& ctx, const std::string& key, double bytes, std::vector<OpId> deps) {
    auto& b = ctx.builder();
    const OpId room = b.add(OpKind::kAlloc, program::Stream::kCopy, join({"alloc shard/", key}), {},
                            Memory{MemoryTag::kBuffers, join({"shard/", key}), bytes});
    deps.push_back(room);
    if (ctx.plan.parameter_state == program::Location::kNvme) {
      const Memory host{MemoryTag::kParameters, join({"shard_staged/", key}), bytes, program::Location::kHost};
      deps.push_back(b.add(OpKind::kAlloc, program::Stream::kHost, join({"alloc shard_staged/", key}), {}, host));
      const OpId read = b.copy(join({"weight shard from nvme ", key}),
                               program::Copy{program::CopyDirection::kNvmeToHost, bytes, "", ""}, deps);
      const OpId up = b.copy(join({"weight shard to device ", key}),
                             program::Copy{program::CopyDirection::kHostToDevice, bytes, "", ""}, {read});
      b.add(OpKind::kFree, program::Stream::kHost, join({"free shard_staged/", key}), {up}, host);
      return up;
    }
    return b.copy(join({"weight shard to device ", key}), program::Copy{program::CopyDirection::kHostToDevice, bytes, "", ""},
                  std::move(deps));
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
