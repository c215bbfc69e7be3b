// none: nodes never fail, are never preempted and never slow down.
#include "platforms/availability/model_support.hpp"

namespace frugal::platforms {
namespace {

class NoneModel final : public AvailabilityModel {
 public:
  using AvailabilityModel::AvailabilityModel;
  std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>&, double, std::uint64_t) const override {
    return {};
  }
  double interruption_rate_per_s(int) const override { return 0; }
};

}  // namespace

core::PluginInfo none_availability_info() {
  return core::PluginInfo{"none", "always available: no failures, preemptions or slowdowns", {detail::label_param()}};
}

std::unique_ptr<AvailabilityModel> make_none_availability(const core::PluginParams& params) {
  return std::make_unique<NoneModel>(detail::stream_name(params));
}

}  // namespace frugal::platforms
