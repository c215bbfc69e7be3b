// weibull: independent node failures with Weibull time to failure (shape k < 1: infant
// mortality, failures cluster after a repair; Schroeder & Gibson, DSN 2006, fit k ≈ 0.7–0.8 to
// LANL time between failures). Each repair renews the node. Mean time to failure = scale·Γ(1+1/k).
#include <cmath>

#include "platforms/availability/model_support.hpp"

namespace frugal::platforms {
namespace {

class WeibullModel final : public AvailabilityModel {
 public:
  explicit WeibullModel(const core::PluginParams& p)
      : AvailabilityModel(detail::stream_name(p)), shape_(p.number("shape")), repair_(detail::duration_law(p, "repair")) {
    const double scale = p.number("scale"), mtbf = p.number("mtbf");
    if ((scale > 0) == (mtbf > 0))
      detail::param_error(scale > 0 ? "mtbf" : "scale", "give exactly one of scale and mtbf (> 0)");
    scale_s_ = scale > 0 ? scale : mtbf / std::tgamma(1.0 + 1.0 / shape_);
  }

  std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>& nodes, double horizon_s,
                                          std::uint64_t seed) const override {
    std::vector<AvailabilityEvent> out;
    const std::string cause = "weibull failure (shape " + detail::num(shape_) + ", scale " + detail::num(scale_s_) +
                              " s, repair " + repair_.describe() + ")";
    for (const AvailabilityNode& n : nodes) {
      Rng rng(seed, n.id.value, stream());
      detail::renewal_events(out, n.id, horizon_s, rng, [&](Rng& r) { return r.weibull(shape_, scale_s_); }, repair_,
                             cause);
    }
    detail::sort_events(out);
    return out;
  }

  bool per_machine() const override { return true; }  // a new machine starts at age 0

  /// Long-run rate of a renewal process: one failure per mean time to failure per node.
  double interruption_rate_per_s(int node_count) const override {
    return node_count / (scale_s_ * std::tgamma(1.0 + 1.0 / shape_));
  }

 private:
  double shape_;
  double scale_s_ = 0;
  detail::DurationLaw repair_;
};

}  // namespace

core::PluginInfo weibull_availability_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"weibull", "independent node failures, Weibull time to failure (renewed at repair)", {}};
  info.params = {
      ParamSpec{"shape", ParamType::kNumber, {}, 0.7, 0.05, 20, {},
                "Weibull shape k (< 1: decreasing hazard; 1: exponential); 0.7 after Schroeder & Gibson 2006"},
      ParamSpec{"scale", ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e15, {},
                "Weibull scale λ; give this or mtbf"},
      ParamSpec{"mtbf", ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e15, {},
                "mean time to failure of one node; scale = mtbf / Γ(1 + 1/shape); give this or scale"},
  };
  for (auto& p : detail::duration_params("repair", 3600, "fixed", "time until the node is usable again"))
    info.params.push_back(std::move(p));
  info.params.push_back(detail::label_param());
  return info;
}

std::unique_ptr<AvailabilityModel> make_weibull_availability(const core::PluginParams& params) {
  return std::make_unique<WeibullModel>(params);
}

}  // namespace frugal::platforms
