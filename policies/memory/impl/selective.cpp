// selective: Megatron's selective recomputation (Korthikanti et al. 2022 §5): the attention
// scores, softmax and attention dropout are recomputed in the backward; the rest is stored.
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {
namespace {

class SelectiveMemory final : public MemoryPolicy {
 public:
  MemoryDecision decide(const MemoryView& view) const override {
    return uniform_decision(view, workloads::Recompute::kSelective, "selective",
                            "attention scores/softmax recomputed in every transformer layer");
  }
};

}  // namespace

core::PluginInfo selective_memory_info() {
  return core::PluginInfo{
      "selective", "recompute attention scores and softmax in the backward (Korthikanti et al. 2022, selective)", {}};
}

std::unique_ptr<MemoryPolicy> make_selective_memory(const core::PluginParams&) {
  return std::make_unique<SelectiveMemory>();
}

}  // namespace frugal::policies
