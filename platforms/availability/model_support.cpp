// Shared parameters and helpers of the availability model implementations.
#include "platforms/availability/model_support.hpp"

#include <algorithm>
#include <sstream>

namespace frugal::platforms::detail {

core::ParamSpec label_param() {
  return core::ParamSpec{"label", core::ParamType::kString, {}, "", -1e300, 1e300, {},
                         "names this model's random streams; required to tell apart two models of the same "
                         "impl on one node type"};
}

std::string stream_name(const core::PluginParams& params) {
  const std::string label = params.string("label");
  return label.empty() ? params.impl() : params.impl() + "/" + label;
}

std::string num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void param_error(const std::string& param, const std::string& message) {
  throw core::ParamError(param, message);
}

std::string DurationLaw::describe() const {
  std::ostringstream out;
  out << (exponential ? "exponential, mean " : "fixed ") << num(mean_s) << " s";
  return out.str();
}

std::vector<core::ParamSpec> duration_params(const std::string& name, double default_s,
                                             const std::string& default_distribution, const std::string& description) {
  return {
      core::ParamSpec{name, core::ParamType::kQuantity, core::Dimension::kTime, default_s, 0, 1e12, {}, description},
      core::ParamSpec{name + "_distribution", core::ParamType::kChoice, {}, default_distribution, -1e300, 1e300,
                      {"fixed", "exponential"}, "law of " + name + ": fixed, or exponential with " + name + " as mean"},
  };
}

DurationLaw duration_law(const core::PluginParams& params, const std::string& name) {
  return DurationLaw{params.number(name), params.string(name + "_distribution") == "exponential"};
}

void sort_events(std::vector<AvailabilityEvent>& events) {
  std::stable_sort(events.begin(), events.end(), [](const AvailabilityEvent& a, const AvailabilityEvent& b) {
    if (a.time_s != b.time_s) return a.time_s < b.time_s;
    return a.node.value < b.node.value;
  });
}

}  // namespace frugal::platforms::detail
