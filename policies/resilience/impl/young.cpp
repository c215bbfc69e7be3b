// young: checkpoint every τ = √(2·C·M) seconds (Young, "A first order approximation to the
// optimum checkpoint interval", CACM 1974), with C measured by the simulation and M the job MTBF.
#include "policies/resilience/checkpoint_math.hpp"
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class YoungPolicy final : public detail::PeriodicPolicy {
 public:
  explicit YoungPolicy(const core::PluginParams& p) : PeriodicPolicy(p, true), mtbf_s_(p.number("mtbf")) {}

 protected:
  bool interval_depends_on_cost_and_mtbf_only() const override { return true; }
  double interval_s(const Progress& progress, const ClusterView& cluster, std::string& why) const override {
    const double m = detail::mtbf_for(mtbf_s_, cluster);
    if (!(m > 0)) {
      why = "young: job MTBF unknown (set \"mtbf\", or use the adaptive policy)";
      return std::numeric_limits<double>::infinity();
    }
    const double tau = young_interval_s(progress.checkpoint_s, m);
    why = "young: τ = √(2·C·M) = √(2 × " + detail::num(progress.checkpoint_s) + " s × " + detail::num(m) +
          " s) = " + detail::num(tau) + " s";
    return tau;
  }

 private:
  double mtbf_s_;
};

}  // namespace

core::PluginInfo young_checkpoint_info() {
  core::PluginInfo info{"young", "checkpoint every √(2·C·M) (Young 1974)", {}};
  info.params = {
      core::ParamSpec{"mtbf", core::ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e15, {},
                      "job MTBF M; 0: from the availability models of the job's nodes"},
      detail::async_param(),
  };
  for (auto& p : detail::notice_params(false)) info.params.push_back(std::move(p));
  return info;
}

std::unique_ptr<CheckpointPolicy> make_young_checkpoint(const core::PluginParams& params) {
  return std::make_unique<YoungPolicy>(params);
}

}  // namespace frugal::policies
