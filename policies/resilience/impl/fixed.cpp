// fixed: a persistent checkpoint every N iterations or every T seconds of training, whatever the
// failure rate — the baseline the interval sweeps compare Young and Daly against.
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class FixedPolicy final : public detail::PeriodicPolicy {
 public:
  explicit FixedPolicy(const core::PluginParams& p)
      : PeriodicPolicy(p, false), every_(p.integer("every_iterations")), interval_s_(p.number("interval")) {
    if ((every_ > 0) == (interval_s_ > 0))
      detail::param_error(every_ > 0 ? "interval" : "every_iterations",
                          "give exactly one of every_iterations and interval (> 0)");
  }

  CheckpointAction on_iteration_end(const Progress& progress, const ClusterView& cluster) override {
    if (every_ <= 0) return PeriodicPolicy::on_iteration_end(progress, cluster);
    if (async() && progress.persist_in_flight)
      return CheckpointAction::none("fixed: previous asynchronous persist still in flight");
    const std::int64_t since = progress.iterations_since(progress.persistent);
    const double tau = static_cast<double>(every_) * progress.iteration_time_s;
    const std::string why = "fixed: every " + std::to_string(every_) + " iterations; " + std::to_string(since) +
                            " since the last checkpoint";
    if (since >= every_) return CheckpointAction::write_to(StorageLevel::kPersistent, async(), why + ": write", tau);
    return CheckpointAction::none(why, tau);
  }

 protected:
  bool interval_depends_on_cost_and_mtbf_only() const override { return true; }
  double interval_s(const Progress&, const ClusterView&, std::string& why) const override {
    why = "fixed: every " + detail::num(interval_s_) + " s";
    return interval_s_;
  }

 private:
  std::int64_t every_;
  double interval_s_;
};

}  // namespace

core::PluginInfo fixed_checkpoint_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"fixed", "persistent checkpoint every N iterations or every T seconds", {}};
  info.params = {
      ParamSpec{"every_iterations", ParamType::kInteger, {}, 0, 0, 1e15, {}, "checkpoint every N iterations (or give interval)"},
      ParamSpec{"interval", ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e12, {},
                "checkpoint every T seconds of training (or give every_iterations)"},
      detail::async_param(),
  };
  for (auto& p : detail::notice_params(false)) info.params.push_back(std::move(p));
  return info;
}

std::unique_ptr<CheckpointPolicy> make_fixed_checkpoint(const core::PluginParams& params) {
  return std::make_unique<FixedPolicy>(params);
}

}  // namespace frugal::policies
