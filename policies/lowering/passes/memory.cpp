// Memory pass: the rank's resident buffers (model state under its ZeRO sharding, the largest
// layer workspace, the reserve), the lifetime of each layer's stored activations (allocated
// before its forward, freed after its backward), and the recomputation the plan's memory
// decision asks for (a recompute op before the layer's backward); under a rematerialization
// schedule, what each forward and replayed forward keeps, until the layer's backward.
#include <algorithm>
#include <map>
#include <utility>

#include "policies/lowering/pass.hpp"
#include "sim/cost/compute_cost.hpp"

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
    held_.clear();
    const Plan& plan = ctx.plan;
    double transient = 0;
    for (const workloads::Layer* l : ctx.own_layers()) transient = std::max(transient, l->transient_bytes);
    const auto sharded = sharded_model_state(ctx.parameters(), ctx.state, plan.zero_stage, plan.gradient_replicas());
    const auto& mbs = ctx.rank().micro_batches;
    const double largest_mb = mbs.empty() ? 0.0 : static_cast<double>(*std::max_element(mbs.begin(), mbs.end()));
    // First in the list, before what earlier passes (the ZeRO prefetch window) hold.
    auto& resident = ctx.program().resident;
    resident.insert(resident.begin(), {
        Memory{MemoryTag::kParameters, "weights", sharded.weights_bytes, plan.parameter_state},
        // Streamed to host memory bucket by bucket, the gradients accumulate there.
        Memory{MemoryTag::kGradients, "gradients", sharded.gradients_bytes,
               ctx.streams_gradients_to_host() ? program::Location::kHost : program::Location::kDevice},
        Memory{MemoryTag::kOptimizer, "optimizer_state", sharded.optimizer_bytes,
               plan.optimizer_state},
        Memory{MemoryTag::kWorkspace, "workspace", transient * largest_mb},
        Memory{MemoryTag::kReserved, "reserved", ctx.setup.reserved_memory_bytes},
    });
  }

  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    const auto& layer = step.layer;
    const double scale = static_cast<double>(step.unit.samples);
    if (step.keep) {
      keep(ctx, step, *step.keep);
      return;
    }
    if (step.unit.unit.forward) {
      if (layer.activation_bytes > 0)
        ctx.builder().alloc(Memory{MemoryTag::kActivations, join({layer.name, "/", step.unit.mb}), layer.activation_bytes * scale});
      return;
    }
    if (layer.recompute_flops > 0) {
      ctx.compute(join({"recompute ", layer.name, " ", step.unit.mb}), cost::recompute_op(layer, step.unit.samples),
                  std::move(compute_deps));
      compute_deps.clear();
    }
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId) override {
    const auto& layer = step.layer;
    if (!step.runs_backward()) return;
    if (!ctx.plan.memory.schedules.empty()) {
      release(ctx, step);
      return;
    }
    if (layer.activation_bytes > 0)
      ctx.builder().free(Memory{MemoryTag::kActivations, join({layer.name, "/", step.unit.mb}),
                                layer.activation_bytes * static_cast<double>(step.unit.samples)});
  }

 private:
  /// What a layer of one micro-batch holds under a rematerialization schedule: its input
  /// (buffer "<layer>/<mb>/input") and the rest of what its backward needs ("<layer>/<mb>").
  struct Held {
    double input_bytes = 0, rest_bytes = 0;
  };

  /// A forward or replay keeping `what`: allocates what the layer does not hold yet
  /// (remat_schedule.hpp's rules: keeping all after the input adds all − input; keeping it in
  /// host memory allocates all on the device, which the offload pass moves to the host).
  void keep(RankContext& ctx, const LayerStep& step, Keep what) {
    if (what == Keep::kNothing) return;
    const double scale = static_cast<double>(step.unit.samples);
    Held& h = held_[key(step)];
    if (h.input_bytes == 0 && h.rest_bytes == 0 && what == Keep::kInput && step.layer.input_bytes > 0) {
      h.input_bytes = step.layer.input_bytes * scale;
      ctx.builder().alloc(Memory{MemoryTag::kActivations, join({step.layer.name, "/", step.unit.mb, "/input"}), h.input_bytes});
    } else if ((what == Keep::kAll || what == Keep::kHost) && h.rest_bytes == 0) {  // kHost: the offload pass copies it
      h.rest_bytes = step.layer.activation_bytes * scale - h.input_bytes;
      if (h.rest_bytes > 0)
        ctx.builder().alloc(Memory{MemoryTag::kActivations, join({step.layer.name, "/", step.unit.mb}), h.rest_bytes});
    }
  }

  /// After the layer's backward: frees what it held.
  void release(RankContext& ctx, const LayerStep& step) {
    const auto it = held_.find(key(step));
    if (it == held_.end()) return;
    if (it->second.rest_bytes > 0)
      ctx.builder().free(Memory{MemoryTag::kActivations, join({step.layer.name, "/", step.unit.mb}), it->second.rest_bytes});
    if (it->second.input_bytes > 0)
      ctx.builder().free(
          Memory{MemoryTag::kActivations, join({step.layer.name, "/", step.unit.mb, "/input"}), it->second.input_bytes});
    held_.erase(it);
  }

  static std::pair<int, int> key(const LayerStep& step) { return {step.index, step.unit.unit.micro_batch}; }

  std::map<std::pair<int, int>, Held> held_;  ///< (chain layer, micro-batch) → held under a schedule
};

}  // namespace

std::unique_ptr<LoweringPass> make_memory_pass() { return std::make_unique<MemoryPass>(); }

}  // namespace frugal::policies::lowering
