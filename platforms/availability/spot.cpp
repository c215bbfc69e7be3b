// spot: cloud spot/preemptible instances. Each node is preempted at a rate per node-hour while
// it holds an allocation; the provider first sends a notice (120 s on AWS, 30 s on GCP), takes
// the node notice seconds later, and a replacement is usable after a re-allocation delay.
// Preemptions may come in bursts of several nodes at once, as in public spot traces.
#include <algorithm>
#include <cmath>
#include <limits>

#include "platforms/availability/model_support.hpp"

namespace frugal::platforms {
namespace {

class SpotModel final : public AvailabilityModel {
 public:
  explicit SpotModel(const core::PluginParams& p)
      : AvailabilityModel(detail::stream_name(p)),
        rate_per_s_(p.number("rate_per_node_hour") / 3600.0),
        notice_s_(p.number("notice")),
        reallocation_(detail::duration_law(p, "reallocation_delay")),
        burst_max_(p.integer("burst_max")) {}

  std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>& given, double horizon_s,
                                          std::uint64_t seed) const override {
    std::vector<AvailabilityEvent> out;
    if (rate_per_s_ <= 0 || given.empty()) return out;
    std::vector<AvailabilityNode> nodes = given;
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    if (burst_max_ == 1) {
      // Independent nodes, one stream each: time to the next notice is exponential from the
      // moment the node is (again) allocated.
      for (const AvailabilityNode& n : nodes) {
        Rng rng(seed, n.id.value, stream());
        for (double t = 0;;) {
          t += rng.exponential(1.0 / rate_per_s_);
          const double back = preempt(out, n.id, t, reallocation_.sample(rng), horizon_s, "spot preemption");
          if (std::isnan(back)) break;
          t = back;
        }
      }
    } else {
      bursts(out, nodes, horizon_s, seed);
    }
    detail::sort_events(out);
    return out;
  }

  /// Independent instances are the machine's (a new instance is preempted on its own); bursts
  /// are the provider's, across the slots.
  bool per_machine() const override { return burst_max_ == 1; }

  /// Episodes per second: N·r / E[burst size], E[burst] = (1 + burst_max) / 2.
  double interruption_rate_per_s(int node_count) const override {
    return node_count * rate_per_s_ / ((1.0 + static_cast<double>(burst_max_)) / 2.0);
  }

 private:
  /// Emits notice (t), preempt (t + notice), return (t + notice + delay) while before the
  /// horizon; returns the time the node is allocated again, or NaN when that is past the horizon.
  double preempt(std::vector<AvailabilityEvent>& out, core::NodeId node, double t, double delay_s, double horizon_s,
                 const std::string& cause) const {
    const double nan = std::nan("");
    if (!(t < horizon_s)) return nan;
    const std::string why = cause + " (notice " + detail::num(notice_s_) + " s, re-allocation " +
                            detail::num(delay_s) + " s)";
    out.push_back({t, node, AvailabilityKind::kPreemptNotice, 1.0, notice_s_, why, 0});
    const double gone = t + notice_s_;
    if (!(gone < horizon_s)) return nan;
    out.push_back({gone, node, AvailabilityKind::kPreempt, 0.0, 0.0, why, 0});
    const double back = gone + delay_s;
    if (!(back < horizon_s)) return nan;
    out.push_back({back, node, AvailabilityKind::kReturn, 1.0, 0.0, why, 0});
    return back;
  }

  /// Bursts: episodes arrive at rate N·r/E[B]; an episode at t is kept with probability
  /// (allocated nodes)/N (thinning, so the rate stays r per allocated node-hour) and preempts
  /// min(B, allocated) distinct allocated nodes, B uniform on [1, burst_max].
  void bursts(std::vector<AvailabilityEvent>& out, const std::vector<AvailabilityNode>& nodes, double horizon_s,
              std::uint64_t seed) const {
    const double n = static_cast<double>(nodes.size());
    const double episode_rate = interruption_rate_per_s(static_cast<int>(nodes.size()));
    Rng rng(seed, nodes.front().id.value, stream() + "#bursts");
    std::vector<double> busy_until(nodes.size(), 0.0);  // allocated again at this time
    for (double t = 0;;) {
      t += rng.exponential(1.0 / episode_rate);
      if (!(t < horizon_s)) return;
      std::vector<std::size_t> allocated;
      for (std::size_t i = 0; i < nodes.size(); ++i)
        if (busy_until[i] <= t) allocated.push_back(i);
      const double keep = rng.uniform();
      const auto burst = rng.integer(1, burst_max_);
      if (keep >= static_cast<double>(allocated.size()) / n) continue;
      const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(burst), allocated.size());
      // Partial Fisher–Yates: the first `count` entries become a uniform sample.
      for (std::size_t k = 0; k < count; ++k) {
        const auto j = static_cast<std::size_t>(rng.integer(static_cast<std::int64_t>(k),
                                                            static_cast<std::int64_t>(allocated.size() - 1)));
        std::swap(allocated[k], allocated[j]);
      }
      std::sort(allocated.begin(), allocated.begin() + static_cast<std::ptrdiff_t>(count));
      const std::string cause = "spot preemption, burst of " + std::to_string(count) + " nodes";
      for (std::size_t k = 0; k < count; ++k) {
        const std::size_t i = allocated[k];
        const double back = preempt(out, nodes[i].id, t, reallocation_.sample(rng), horizon_s, cause);
        busy_until[i] = std::isnan(back) ? std::numeric_limits<double>::infinity() : back;
      }
    }
  }

  double rate_per_s_;
  double notice_s_;
  detail::DurationLaw reallocation_;
  std::int64_t burst_max_;
};

}  // namespace

core::PluginInfo spot_availability_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"spot", "spot preemptions with a notice period, re-allocation after a delay, optional bursts", {}};
  info.params = {
      ParamSpec{"rate_per_node_hour", ParamType::kNumber, {}, 0.55, 0, 1e6, {},
                "preemptions per allocated node-hour (about 0.55-0.61 on AWS V100/T4, 2021 traces)"},
      ParamSpec{"notice", ParamType::kQuantity, core::Dimension::kTime, 120.0, 0, 1e9, {},
                "warning before the node is taken (120 s on AWS, 30 s on GCP)"},
  };
  for (auto& p : detail::duration_params("reallocation_delay", 45, "fixed",
                                         "time from preemption until a replacement node is usable (about 45 s after "
                                         "allocation; longer when capacity is scarce)"))
    info.params.push_back(std::move(p));
  info.params.push_back(ParamSpec{"burst_max", ParamType::kInteger, {}, 1, 1, 1e9, {},
                                  "largest burst: each preemption takes 1..burst_max nodes (uniform); 1: independent nodes"});
  info.params.push_back(detail::label_param());
  return info;
}

std::unique_ptr<AvailabilityModel> make_spot_availability(const core::PluginParams& params) {
  return std::make_unique<SpotModel>(params);
}

}  // namespace frugal::platforms
