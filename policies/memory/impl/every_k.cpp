// every_k: checkpoint the input of every k-th layer of a pipeline stage and, before the backward
// of each segment of k layers, replay its forward once keeping everything (Chen et al. 2016;
// Megatron-LM's --recompute-method uniform --recompute-num-layers k). k = 1: every layer keeps
// its input and replays itself, with the replayed activations counted as allocations. The
// schedule ignores the memory: what does not fit is an out-of-memory result.
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {
namespace {

class EveryK final : public MemoryPolicy {
 public:
  explicit EveryK(const core::PluginParams& p) : k_(static_cast<int>(p.integer("k"))) {}

  MemoryDecision decide(const MemoryView& view) const override {
    return same_for_every_layer(view, workloads::Recompute::kNone, "every_k",
                                "the input of every " + std::to_string(k_) + (k_ == 1 ? "st" : "th") +
                                    " layer of each stage checkpointed; each segment replayed once before its backward");
  }
  bool schedules_stages() const override { return true; }
  std::optional<std::vector<RematOp>> schedule(const StageMemoryView& view) const override {
    return every_k_schedule(static_cast<int>(view.stages.size()), k_);
  }

 private:
  int k_;
};

}  // namespace

core::PluginInfo every_k_memory_info() {
  return core::PluginInfo{
      "every_k",
      "checkpoint every k-th layer's input; replay each segment of k layers once before its backward (Chen et al. 2016, "
      "Megatron's uniform recompute method)",
      {core::keys::integer("k", "layers per segment (the chain layers of a pipeline stage, embedding and head included)",
                           1, 1, 100000)}};
}

std::unique_ptr<MemoryPolicy> make_every_k_memory(const core::PluginParams& p) { return std::make_unique<EveryK>(p); }

}  // namespace frugal::policies
