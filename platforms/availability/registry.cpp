// The explicit list of availability models. Add one: write <name>.cpp in this folder defining
// <name>_availability_info() and make_<name>_availability(), add one FRUGAL_PLUGIN line here.
#include "platforms/availability/availability_model.hpp"

namespace frugal::platforms {

const core::Registry<AvailabilityModel>& availability_models() {
  static const core::Registry<AvailabilityModel> registry = [] {
    core::Registry<AvailabilityModel> r;
    FRUGAL_PLUGIN(r, availability, none);
    FRUGAL_PLUGIN(r, availability, exponential);
    FRUGAL_PLUGIN(r, availability, weibull);
    FRUGAL_PLUGIN(r, availability, correlated);
    FRUGAL_PLUGIN(r, availability, spot);
    FRUGAL_PLUGIN(r, availability, trace);
    FRUGAL_PLUGIN(r, availability, speed);
    return r;
  }();
  return registry;
}

}  // namespace frugal::platforms
