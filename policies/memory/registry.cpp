// The explicit list of memory policies. Add a policy: write impl/<name>.cpp defining
// <name>_memory_info() and make_<name>_memory(), add one FRUGAL_PLUGIN line here.
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {

const core::Registry<MemoryPolicy>& memory_policies() {
  static const core::Registry<MemoryPolicy> registry = [] {
    core::Registry<MemoryPolicy> r;
    FRUGAL_PLUGIN(r, memory, none);
    FRUGAL_PLUGIN(r, memory, selective);
    FRUGAL_PLUGIN(r, memory, full);
    FRUGAL_PLUGIN(r, memory, every_k);
    FRUGAL_PLUGIN(r, memory, optimal);
    FRUGAL_PLUGIN(r, memory, offload);
    return r;
  }();
  return registry;
}

const MemoryPolicy& default_memory_policy() {
  static const std::unique_ptr<MemoryPolicy> none =
      memory_policies().create(core::Json{{"impl", "none"}}, "<default>", "/memory");
  return *none;
}

MemoryDecision same_for_every_layer(const MemoryView& view, workloads::Recompute recompute, std::string name,
                                    std::string reason) {
  MemoryDecision d;
  d.policy = std::move(name);
  d.reason = std::move(reason);
  d.recompute.assign(static_cast<std::size_t>(view.model.num_hidden_layers), recompute);
  return d;
}

MemoryDecision UniformMemoryPolicy::decide(const MemoryView& view) const {
  return same_for_every_layer(view, recompute_, name_, reason_);
}

}  // namespace frugal::policies
