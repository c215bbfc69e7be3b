// none: every layer stores everything its backward needs; no recomputation.
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {
namespace {

class NoneMemory final : public MemoryPolicy {
 public:
  MemoryDecision decide(const MemoryView& view) const override {
    return uniform_decision(view, workloads::Recompute::kNone, "none", "every activation stored");
  }
};

}  // namespace

core::PluginInfo none_memory_info() {
  return core::PluginInfo{"none", "store every activation the backward needs (no recomputation)", {}};
}

std::unique_ptr<MemoryPolicy> make_none_memory(const core::PluginParams&) { return std::make_unique<NoneMemory>(); }

}  // namespace frugal::policies
