// Helpers shared by the availability model implementations in this folder (not a public
// interface): common parameters, duration laws, renewal processes and event sorting.
#pragma once

#include <string>
#include <vector>

#include "platforms/availability/availability_model.hpp"
#include "platforms/availability/random.hpp"

namespace frugal::platforms::detail {

/// "label": names a model's random streams, so two models of the same impl on one node type
/// draw different numbers.
core::ParamSpec label_param();
/// The model's stream name: impl, or impl/label.
std::string stream_name(const core::PluginParams& params);

/// A number for messages and causes, 6 significant digits ("3600", "0.55", "1.5e+06").
std::string num(double v);

/// core::ParamError(param, message); the registry adds the file and pointer.
[[noreturn]] void param_error(const std::string& param, const std::string& message);

/// A duration drawn once per event: fixed, or exponential with the given mean.
struct DurationLaw {
  double mean_s = 0;
  bool exponential = false;
  double sample(Rng& rng) const { return exponential && mean_s > 0 ? rng.exponential(mean_s) : mean_s; }
  std::string describe() const;  ///< "fixed 3600 s" / "exponential, mean 3600 s"
};

/// Declares `name` (a duration, default `default_s`) and `name`_distribution (fixed | exponential).
std::vector<core::ParamSpec> duration_params(const std::string& name, double default_s,
                                             const std::string& default_distribution, const std::string& description);
DurationLaw duration_law(const core::PluginParams& params, const std::string& name);

/// Stable sort by (time_s, node id): ties keep the order in which they were produced, which is
/// each node's causal order.
void sort_events(std::vector<AvailabilityEvent>& events);

/// An alternating renewal process for one node (as good as new after each repair): up for
/// up_time(rng), then a kFail, down for repair.sample(rng), then a kRepair; until the horizon.
template <class UpTime>
void renewal_events(std::vector<AvailabilityEvent>& out, core::NodeId node, double horizon_s, Rng& rng,
                    UpTime&& up_time, const DurationLaw& repair, const std::string& cause) {
  double t = 0;
  for (;;) {
    t += up_time(rng);
    if (!(t < horizon_s)) return;
    out.push_back({t, node, AvailabilityKind::kFail, 0.0, 0.0, cause, 0});
    t += repair.sample(rng);
    if (!(t < horizon_s)) return;
    out.push_back({t, node, AvailabilityKind::kRepair, 1.0, 0.0, cause, 0});
  }
}

}  // namespace frugal::platforms::detail
