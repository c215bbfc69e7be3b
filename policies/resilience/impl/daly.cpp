// daly: checkpoint at Daly's higher-order optimum τ = √(2CM)[1 + ⅓√(C/2M) + (1/9)(C/2M)] − C
// (Daly, "A higher order estimate of the optimum checkpoint interval for restart dumps", FGCS
// 2006), or at the exact optimum of the same cost M[1 + W₀(−e^{−(1+C/M)})] (variant "exact").
#include "policies/resilience/checkpoint_math.hpp"
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class DalyPolicy final : public detail::PeriodicPolicy {
 public:
  explicit DalyPolicy(const core::PluginParams& p)
      : PeriodicPolicy(p, true), mtbf_s_(p.number("mtbf")), exact_(p.string("variant") == "exact") {}

 protected:
  bool interval_depends_on_cost_and_mtbf_only() const override { return true; }
  double interval_s(const Progress& progress, const ClusterView& cluster, std::string& why) const override {
    const double m = detail::mtbf_for(mtbf_s_, cluster);
    if (!(m > 0)) {
      why = "daly: job MTBF unknown (set \"mtbf\", or use the adaptive policy)";
      return std::numeric_limits<double>::infinity();
    }
    const double c = progress.checkpoint_s;
    if (exact_) {
      const double tau = exact_interval_s(c, m);
      why = "daly (exact): τ = M·[1 + W₀(−e^{−(1+C/M)})] with C = " + detail::num(c) + " s, M = " + detail::num(m) +
            " s: " + detail::num(tau) + " s";
      return tau;
    }
    const double tau = daly_interval_s(c, m);
    why = c < 2 * m ? "daly: τ = √(2CM)·[1 + ⅓√(C/2M) + (C/2M)/9] − C with C = " + detail::num(c) +
                          " s, M = " + detail::num(m) + " s: " + detail::num(tau) + " s"
                    : "daly: C = " + detail::num(c) + " s ≥ 2M = " + detail::num(2 * m) + " s: τ = M = " +
                          detail::num(tau) + " s";
    return tau;
  }

 private:
  double mtbf_s_;
  bool exact_;
};

}  // namespace

core::PluginInfo daly_checkpoint_info() {
  core::PluginInfo info{"daly", "checkpoint at Daly's higher-order (or the exact) optimum interval (Daly 2006)", {}};
  info.params = {
      core::ParamSpec{"mtbf", core::ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e15, {},
                      "job MTBF M; 0: from the availability models of the job's nodes"},
      core::ParamSpec{"variant", core::ParamType::kChoice, {}, "higher_order", -1e300, 1e300, {"higher_order", "exact"},
                      "higher_order: Daly's closed form; exact: M·[1 + W₀(−e^{−(1+C/M)})]"},
      detail::async_param(),
  };
  for (auto& p : detail::notice_params(false)) info.params.push_back(std::move(p));
  return info;
}

std::unique_ptr<CheckpointPolicy> make_daly_checkpoint(const core::PluginParams& params) {
  return std::make_unique<DalyPolicy>(params);
}

}  // namespace frugal::policies
