// The explicit list of memory policies. Add a policy: write impl/<name>.cpp with a PluginInfo
// and a factory, declare both here, add one line to the list.
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {

#define FRUGAL_MEMORY_POLICY(name)     \
  core::PluginInfo name##_memory_info(); \
  std::unique_ptr<MemoryPolicy> make_##name##_memory(const core::PluginParams& params);
FRUGAL_MEMORY_POLICY(none)
FRUGAL_MEMORY_POLICY(selective)
FRUGAL_MEMORY_POLICY(full)
#undef FRUGAL_MEMORY_POLICY

const core::Registry<MemoryPolicy>& memory_policies() {
  static const core::Registry<MemoryPolicy> registry = [] {
    core::Registry<MemoryPolicy> r;
    r.add(none_memory_info(), make_none_memory);
    r.add(selective_memory_info(), make_selective_memory);
    r.add(full_memory_info(), make_full_memory);
    return r;
  }();
  return registry;
}

const MemoryPolicy& default_memory_policy() {
  static const std::unique_ptr<MemoryPolicy> none =
      memory_policies().create(core::Json{{"impl", "none"}}, "<default>", "/memory");
  return *none;
}

MemoryDecision uniform_decision(const MemoryView& view, workloads::Recompute recompute, std::string policy,
                                std::string reason) {
  MemoryDecision d;
  d.policy = std::move(policy);
  d.reason = std::move(reason);
  d.recompute.assign(static_cast<std::size_t>(view.model.num_hidden_layers), recompute);
  return d;
}

}  // namespace frugal::policies
