// correlated: groups of nodes that fail together — a whole node (group of one), a rack of
// rack_size consecutive nodes (power, top-of-rack switch), or all the nodes behind one switch.
// Each group fails with exponential time to failure (mean mtbf per group), stays down for a
// repair time, and is renewed. Groups are consecutive blocks of the nodes in id order.
#include <algorithm>

#include "platforms/availability/model_support.hpp"

namespace frugal::platforms {
namespace {

class CorrelatedModel final : public AvailabilityModel {
 public:
  explicit CorrelatedModel(const core::PluginParams& p)
      : AvailabilityModel(detail::stream_name(p)),
        scope_(p.string("scope")),
        rack_size_(p.integer("rack_size")),
        switch_size_(p.integer("switch_size")),
        mtbf_s_(p.number("mtbf")),
        repair_(detail::duration_law(p, "repair")) {}

  /// Nodes per group for `node_count` nodes (the last group may be smaller).
  std::int64_t group_size(int node_count) const {
    if (scope_ == "node") return 1;
    if (scope_ == "rack") return rack_size_;
    return switch_size_ > 0 ? switch_size_ : std::max(node_count, 1);
  }

  std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>& given, double horizon_s,
                                          std::uint64_t seed) const override {
    std::vector<AvailabilityNode> nodes = given;
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    const std::int64_t size = group_size(static_cast<int>(nodes.size()));
    std::vector<AvailabilityEvent> out;
    for (std::size_t first = 0, g = 0; first < nodes.size(); first += static_cast<std::size_t>(size), ++g) {
      const std::size_t last = std::min(nodes.size(), first + static_cast<std::size_t>(size));
      const std::string cause = "correlated " + scope_ + " failure: group " + std::to_string(g) + " (" +
                                nodes[first].name + ".." + nodes[last - 1].name + ", " +
                                std::to_string(last - first) + " nodes, mtbf " + detail::num(mtbf_s_) + " s)";
      // One stream per group, keyed by its first node's id: stable while the group is.
      Rng rng(seed, nodes[first].id.value, stream() + "#group");
      std::vector<AvailabilityEvent> group;
      detail::renewal_events(group, core::NodeId(-1), horizon_s, rng, [&](Rng& r) { return r.exponential(mtbf_s_); },
                             repair_, cause);
      for (const AvailabilityEvent& e : group) {
        for (std::size_t i = first; i < last; ++i) {
          AvailabilityEvent copy = e;
          copy.node = nodes[i].id;
          out.push_back(copy);
        }
      }
    }
    detail::sort_events(out);
    return out;
  }

  /// A group of one is the machine's own failures; a rack's or a switch's go on with the slot.
  bool per_machine() const override { return scope_ == "node"; }

  double interruption_rate_per_s(int node_count) const override {
    const std::int64_t size = group_size(node_count);
    const std::int64_t groups = (node_count + size - 1) / size;
    return static_cast<double>(groups) / mtbf_s_;
  }

 private:
  std::string scope_;
  std::int64_t rack_size_;
  std::int64_t switch_size_;
  double mtbf_s_;
  detail::DurationLaw repair_;
};

}  // namespace

core::PluginInfo correlated_availability_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"correlated", "groups of nodes (node, rack or switch) that fail and come back together", {}};
  info.params = {
      ParamSpec{"scope", ParamType::kChoice, {}, "rack", -1e300, 1e300, {"node", "rack", "switch"},
                "what fails together: one node, a rack of rack_size nodes, or switch_size nodes behind a switch"},
      ParamSpec{"rack_size", ParamType::kInteger, {}, 8, 1, 1e9, {}, "nodes per rack (scope rack)"},
      ParamSpec{"switch_size", ParamType::kInteger, {}, 0, 0, 1e9, {},
                "nodes per switch (scope switch); 0: every node of this node type behind one switch"},
      ParamSpec{"mtbf", ParamType::kQuantity, core::Dimension::kTime, nullptr, 1e-3, 1e15, {},
                "mean time between failures of one group"},
  };
  for (auto& p : detail::duration_params("repair", 3600, "fixed", "time until the whole group is usable again"))
    info.params.push_back(std::move(p));
  info.params.push_back(detail::label_param());
  return info;
}

std::unique_ptr<AvailabilityModel> make_correlated_availability(const core::PluginParams& params) {
  return std::make_unique<CorrelatedModel>(params);
}

}  // namespace frugal::platforms
