// selective: Megatron's selective recomputation (Korthikanti et al. 2022 §5): the attention
// scores, softmax and attention dropout are recomputed in the backward; the rest is stored. The
// fused attention kernel stores none of them, so under it selective changes nothing.
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {

core::PluginInfo selective_memory_info() {
  return core::PluginInfo{
      "selective", "recompute attention scores and softmax in the backward (Korthikanti et al. 2022, selective); "
      "a no-op under the flash attention kernel, which stores no scores", {}};
}

std::unique_ptr<MemoryPolicy> make_selective_memory(const core::PluginParams&) {
  return std::make_unique<UniformMemoryPolicy>(workloads::Recompute::kSelective, "selective",
                                               "attention scores/softmax recomputed in every transformer layer");
}

}  // namespace frugal::policies
