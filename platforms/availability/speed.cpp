// speed: speed volatility (stragglers, thermal or power throttling). Each node runs at nominal
// speed for an exponential time (mean mean_time_between), then at a ratio drawn uniformly in
// [ratio_min, ratio_max] for an episode duration, then back at nominal speed. Nodes stay up.
#include "platforms/availability/model_support.hpp"

namespace frugal::platforms {
namespace {

class SpeedModel final : public AvailabilityModel {
 public:
  explicit SpeedModel(const core::PluginParams& p)
      : AvailabilityModel(detail::stream_name(p)),
        between_s_(p.number("mean_time_between")),
        duration_(detail::duration_law(p, "duration")),
        ratio_min_(p.number("ratio_min")),
        ratio_max_(p.number("ratio_max")) {
    if (ratio_max_ < ratio_min_)
      detail::param_error("ratio_max", "ratio_max (" + detail::num(ratio_max_) + ") < ratio_min (" +
                                           detail::num(ratio_min_) + ")");
  }

  std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>& nodes, double horizon_s,
                                          std::uint64_t seed) const override {
    std::vector<AvailabilityEvent> out;
    for (const AvailabilityNode& n : nodes) {
      Rng rng(seed, n.id.value, stream());
      for (double t = 0;;) {
        t += rng.exponential(between_s_);
        const double ratio = rng.uniform(ratio_min_, ratio_max_);
        const double length = duration_.sample(rng);
        if (!(t < horizon_s)) break;
        const std::string cause = "slowdown to " + detail::num(ratio) + " of nominal speed for " + detail::num(length) + " s";
        out.push_back({t, n.id, AvailabilityKind::kSpeedChange, ratio, 0.0, cause, 0});
        t += length;
        if (!(t < horizon_s)) break;
        out.push_back({t, n.id, AvailabilityKind::kSpeedChange, 1.0, 0.0, "end of " + cause, 0});
      }
    }
    detail::sort_events(out);
    return out;
  }

  double interruption_rate_per_s(int) const override { return 0; }
  double expected_events_per_s(int node_count) const override { return node_count / between_s_; }

 private:
  double between_s_;
  detail::DurationLaw duration_;
  double ratio_min_;
  double ratio_max_;
};

}  // namespace

core::PluginInfo speed_availability_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"speed", "stragglers and throttling: episodes of reduced speed per node", {}};
  info.params = {
      ParamSpec{"mean_time_between", ParamType::kQuantity, core::Dimension::kTime, 86400.0, 1e-3, 1e15, {},
                "mean time at nominal speed between two slow episodes of one node"},
  };
  for (auto& p : detail::duration_params("duration", 1800, "exponential", "length of a slow episode"))
    info.params.push_back(std::move(p));
  info.params.push_back(ParamSpec{"ratio_min", ParamType::kNumber, {}, 0.5, 1e-6, 1, {},
                                  "lowest speed ratio (of nominal) during an episode"});
  info.params.push_back(ParamSpec{"ratio_max", ParamType::kNumber, {}, 0.5, 1e-6, 1, {},
                                  "highest speed ratio during an episode (ratio drawn uniformly in [min, max])"});
  info.params.push_back(detail::label_param());
  return info;
}

std::unique_ptr<AvailabilityModel> make_speed_availability(const core::PluginParams& params) {
  return std::make_unique<SpeedModel>(params);
}

}  // namespace frugal::platforms
