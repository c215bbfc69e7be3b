// exponential: each node fails independently with exponential time to failure (mean mtbf, the
// memoryless model behind Young 1974 and Daly 2006), is down for a repair time, then is as good
// as new (an alternating renewal process).
#include <cmath>

#include "platforms/availability/model_support.hpp"

namespace frugal::platforms {
namespace {

class ExponentialModel final : public AvailabilityModel {
 public:
  explicit ExponentialModel(const core::PluginParams& p)
      : AvailabilityModel(detail::stream_name(p)), mtbf_s_(p.number("mtbf")), repair_(detail::duration_law(p, "repair")) {}

  std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>& nodes, double horizon_s,
                                          std::uint64_t seed) const override {
    std::vector<AvailabilityEvent> out;
    const std::string cause = "exponential failure (mtbf " + detail::num(mtbf_s_) + " s, repair " + repair_.describe() + ")";
    for (const AvailabilityNode& n : nodes) {
      Rng rng(seed, n.id.value, stream());
      detail::renewal_events(out, n.id, horizon_s, rng, [&](Rng& r) { return r.exponential(mtbf_s_); }, repair_, cause);
    }
    detail::sort_events(out);
    return out;
  }

  double interruption_rate_per_s(int node_count) const override { return node_count / mtbf_s_; }
  bool per_machine() const override { return true; }  // a new machine fails on its own

 private:
  double mtbf_s_;
  detail::DurationLaw repair_;
};

}  // namespace

core::PluginInfo exponential_availability_info() {
  core::PluginInfo info{"exponential", "independent node failures, exponential time to failure, then a repair time", {}};
  info.params.push_back(core::ParamSpec{"mtbf", core::ParamType::kQuantity, core::Dimension::kTime, nullptr, 1e-3, 1e15,
                                        {}, "mean time between failures of one node (e.g. \"50000 h\" per GPU / GPUs per node)"});
  for (auto& p : detail::duration_params("repair", 3600, "fixed",
                                         "time until the node (or its replacement in the same slot) is usable again"))
    info.params.push_back(std::move(p));
  info.params.push_back(detail::label_param());
  return info;
}

std::unique_ptr<AvailabilityModel> make_exponential_availability(const core::PluginParams& params) {
  return std::make_unique<ExponentialModel>(params);
}

}  // namespace frugal::platforms
