// full: full activation recomputation — each transformer layer keeps only its input
// (2·s·b·h bytes) and replays its whole forward before its backward (about +33 % FLOPs).
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {
namespace {

class FullMemory final : public MemoryPolicy {
 public:
  MemoryDecision decide(const MemoryView& view) const override {
    return uniform_decision(view, workloads::Recompute::kFull, "full",
                            "every transformer layer keeps its input and recomputes its forward");
  }
};

}  // namespace

core::PluginInfo full_memory_info() {
  return core::PluginInfo{"full", "keep only each transformer layer's input and recompute its forward in the backward", {}};
}

std::unique_ptr<MemoryPolicy> make_full_memory(const core::PluginParams&) { return std::make_unique<FullMemory>(); }

}  // namespace frugal::policies
