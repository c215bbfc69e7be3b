// The explicit list of availability models. Add one: write <name>.cpp in this folder with a
// PluginInfo and a factory, declare both here, add one line to the list.
#include "platforms/availability/availability_model.hpp"

namespace frugal::platforms {

#define FRUGAL_AVAILABILITY_MODEL(name)   \
  core::PluginInfo name##_availability_info(); \
  std::unique_ptr<AvailabilityModel> make_##name##_availability(const core::PluginParams& params);
FRUGAL_AVAILABILITY_MODEL(none)
FRUGAL_AVAILABILITY_MODEL(exponential)
FRUGAL_AVAILABILITY_MODEL(weibull)
FRUGAL_AVAILABILITY_MODEL(correlated)
FRUGAL_AVAILABILITY_MODEL(spot)
FRUGAL_AVAILABILITY_MODEL(trace)
FRUGAL_AVAILABILITY_MODEL(speed)
#undef FRUGAL_AVAILABILITY_MODEL

const core::Registry<AvailabilityModel>& availability_models() {
  static const core::Registry<AvailabilityModel> registry = [] {
    core::Registry<AvailabilityModel> r;
    r.add(none_availability_info(), make_none_availability);
    r.add(exponential_availability_info(), make_exponential_availability);
    r.add(weibull_availability_info(), make_weibull_availability);
    r.add(correlated_availability_info(), make_correlated_availability);
    r.add(spot_availability_info(), make_spot_availability);
    r.add(trace_availability_info(), make_trace_availability);
    r.add(speed_availability_info(), make_speed_availability);
    return r;
  }();
  return registry;
}

}  // namespace frugal::platforms
