// offload: transformer layers keep everything their backward needs, in host memory: after the
// layer's forward its activations are copied to the host and freed on the GPU; before its
// backward they are copied back, prefetched one layer ahead on the copy stream so the transfer
// overlaps the previous layer's backward (lowering pass `offload`). Copies cross the GPU's PCIe
// link and the node's shared host side; host memory is checked like GPU memory.
#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {
namespace {

class Offload final : public MemoryPolicy {
 public:
  explicit Offload(const core::PluginParams& p) : every_(static_cast<int>(p.integer("every"))) {}

  MemoryDecision decide(const MemoryView& view) const override {
    MemoryDecision d = same_for_every_layer(
        view, workloads::Recompute::kNone, "offload",
        every_ == 1 ? "every transformer layer's activations offloaded to host memory between its forward and backward"
                    : "the activations of every " + std::to_string(every_) +
                          "th transformer layer offloaded to host memory between its forward and backward");
    const auto layers = d.recompute.size();
    d.offload.assign(layers, false);
    for (std::size_t i = 0; i < layers; i += static_cast<std::size_t>(every_)) d.offload[i] = true;
    return d;
  }

 private:
  int every_;
};

}  // namespace

core::PluginInfo offload_memory_info() {
  return core::PluginInfo{
      "offload",
      "offload transformer layers' activations to host memory after the forward, prefetch them back one layer ahead of "
      "the backward on the copy stream",
      {core::keys::integer("every", "offload every n-th transformer layer (1: all of them)", 1, 1, 100000)}};
}

std::unique_ptr<MemoryPolicy> make_offload_memory(const core::PluginParams& p) { return std::make_unique<Offload>(p); }

}  // namespace frugal::policies
