// optimal: per pipeline stage, the fastest rematerialization schedule whose activations fit the
// GPU's memory (or `memory_budget`) beside the resident state, by the dynamic program of Beaumont
// et al. (remat_schedule.hpp): each layer's forward keeps nothing, its input, or everything its
// backward needs, and forwards are replayed from the nearest kept input. With `offload`, a layer
// may also keep everything in host memory (offload_schedule.hpp's heuristic chooses which, timed
// with its copies over the GPU's host link). Equals keeping
// everything when that fits; with one micro-batch in flight, never slower than an every_k
// schedule that fits the same memory (at the slot granularity; on stages of hundreds of layers
// the slots are reduced to bound its time and memory; pipelines: stage_schedules.hpp). Where nothing fits, the least-memory schedule runs and the result is out of
// memory, with the smallest budget that would fit in the plan.
#include <algorithm>
#include <cmath>
#include <map>

#include "policies/memory/memory_policy.hpp"
#include "sim/core/units.hpp"

namespace frugal::policies {
namespace {

constexpr double kMaxCells = 2e7;
constexpr double kMaxSteps = 2e9;

class Optimal final : public MemoryPolicy {
 public:
  explicit Optimal(const core::PluginParams& p)
      : budget_bytes_(p.number("memory_budget")), slots_(static_cast<int>(p.integer("slots"))),
        offload_(p.boolean("offload")) {
    if (!p.has("memory_budget_per_gpu")) return;
    const core::Json& budgets = p.object("memory_budget_per_gpu");
    for (auto it = budgets.begin(); it != budgets.end(); ++it) {
      double bytes = 0;
      try {
        bytes = it->is_string() ? core::parse_quantity(it->get<std::string>(), core::Dimension::kBytes)
                                : it->is_number() ? it->get<double>() : -1;
      } catch (const std::exception& e) {
        throw core::ParamError("memory_budget_per_gpu", "\"" + it.key() + "\": " + e.what());
      }
      if (!(bytes > 0) || !std::isfinite(bytes))
        throw core::ParamError("memory_budget_per_gpu", "\"" + it.key() + "\": expected a positive memory size (\"24 GiB\" or bytes), got " +
                                                            it->dump());
      per_gpu_bytes_[it.key()] = bytes;
    }
  }

  MemoryDecision decide(const MemoryView& view) const override {
    return same_for_every_layer(view, workloads::Recompute::kNone, "optimal",
                                std::string("per stage, the fastest ") +
                                    (offload_ ? "mix of rematerialization and offloading to host memory" : "rematerialization schedule") +
                                    " within the memory left to activations (" + std::to_string(slots_) + " memory slots)");
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
    OptimalSchedule s = offload_ && view.host.bandwidth_Bps > 0
                            ? remat_offload_schedule(view.stages, view.budget_bytes, slots, view.host)
                            : optimal_schedule(view.stages, view.budget_bytes, slots);
    if (!s.feasible) return std::nullopt;
    return std::move(s.ops);
  }
  double memory_budget_bytes(const std::string& gpu) const override {
    const auto it = per_gpu_bytes_.find(gpu);
    return it != per_gpu_bytes_.end() ? it->second : budget_bytes_;
  }
  std::vector<std::string> budgeted_gpu_types() const override {
    std::vector<std::string> out;
    for (const auto& [gpu, bytes] : per_gpu_bytes_) out.push_back(gpu);
    return out;
  }

 private:
  double budget_bytes_;
  int slots_;
  bool offload_;
  std::map<std::string, double> per_gpu_bytes_;  ///< GPU catalogue name → budget
};

}  // namespace

core::PluginInfo optimal_memory_info() {
  return core::PluginInfo{
      "optimal",
      "per stage, the fastest rematerialization schedule that fits the memory (Beaumont et al., optimal checkpointing "
      "for heterogeneous chains): each layer keeps nothing, its input or all, forwards replayed as needed",
      {core::keys::quantity("memory_budget", core::Dimension::kBytes,
                            "memory per GPU to fit in, as if every GPU had at most this much (0: each GPU's own)", 0.0),
       core::keys::object("memory_budget_per_gpu",
                          "per GPU type of a mixed cluster, {\"A100-80GB\": \"40 GiB\", \"V100-32GB\": \"16 GiB\"}: that type's "
                          "budget instead of memory_budget (each type named must be in the cluster)"),
       core::keys::integer("slots", "memory granularity of the dynamic program: the budget in this many units (sizes "
                                    "round up; time and memory grow linearly)", 500, 10, 20000),
       core::keys::boolean("offload", "also let a layer keep everything its backward needs in host memory (copied out "
                                      "after its forward, prefetched back before its backward), chosen per layer with "
                                      "the recomputation by their cost over the GPU's host link", false)}};
}

std::unique_ptr<MemoryPolicy> make_optimal_memory(const core::PluginParams& p) { return std::make_unique<Optimal>(p); }

}  // namespace frugal::policies
