// optimal: per pipeline stage, the fastest rematerialization schedule whose activations fit the
// GPU's memory (or `memory_budget`) beside the resident state, by the dynamic program of Beaumont
// et al. (remat_schedule.hpp): each layer's forward keeps nothing, its input, or everything its
// backward needs, and forwards are replayed from the nearest kept input. Equals keeping
// everything when that fits; with one micro-batch in flight, never slower than an every_k
// schedule that fits the same memory (at the slot granularity; on stages of hundreds of layers
// the slots are reduced to bound its time and memory; pipelines: stage_schedules.hpp). Where nothing fits, the least-memory schedule runs and the result is out of
// memory, with the smallest budget that would fit in the plan.
#include <algorithm>

#include "policies/memory/memory_policy.hpp"

namespace frugal::policies {
namespace {

constexpr double kMaxCells = 2e7;
constexpr double kMaxSteps = 2e9;

class Optimal final : public MemoryPolicy {
 public:
  explicit Optimal(const core::PluginParams& p)
      : budget_bytes_(p.number("memory_budget")), slots_(static_cast<int>(p.integer("slots"))) {}

  MemoryDecision decide(const MemoryView& view) const override {
    return same_for_every_layer(view, workloads::Recompute::kNone, "optimal",
                                "per stage, the fastest rematerialization schedule within the memory left to "
                                "activations (" + std::to_string(slots_) + " memory slots)");
  }
  bool schedules_stages() const override { return true; }
  bool budget_driven() const override { return true; }
  std::optional<std::vector<RematOp>> schedule(const StageMemoryView& view) const override {
    if (!(view.budget_bytes > 0)) return std::nullopt;
    // The program's table has n²/2 × slots cells and takes n³/6 × slots steps: on very long
    // stages fewer slots keep it under about 160 MB and a few seconds.
    const double n = static_cast<double>(view.stages.size());
    const double cap = std::min(kMaxCells / (n * (n + 1) / 2), kMaxSteps / (n * n * n / 6 + 1));
    const int slots = std::max(1, static_cast<int>(std::min<double>(slots_, cap)));
    OptimalSchedule s = optimal_schedule(view.stages, view.budget_bytes, slots);
    if (!s.feasible) return std::nullopt;
    return std::move(s.ops);
  }
  double memory_budget_bytes() const override { return budget_bytes_; }

 private:
  double budget_bytes_;
  int slots_;
};

}  // namespace

core::PluginInfo optimal_memory_info() {
  return core::PluginInfo{
      "optimal",
      "per stage, the fastest rematerialization schedule that fits the memory (Beaumont et al., optimal checkpointing "
      "for heterogeneous chains): each layer keeps nothing, its input or all, forwards replayed as needed",
      {core::keys::quantity("memory_budget", core::Dimension::kBytes,
                            "memory per GPU to fit in, as if every GPU had at most this much (0: each GPU's own)", 0.0),
       core::keys::integer("slots", "memory granularity of the dynamic program: the budget in this many units (sizes "
                                    "round up; time and memory grow linearly)", 500, 10, 20000)}};
}

std::unique_ptr<MemoryPolicy> make_optimal_memory(const core::PluginParams& p) { return std::make_unique<Optimal>(p); }

}  // namespace frugal::policies
