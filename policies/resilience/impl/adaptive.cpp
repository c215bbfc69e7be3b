// adaptive: re-estimates the job MTBF from the interruptions it has seen — posterior mean of a
// Gamma prior on the failure rate, M̂ = (w·M₀ + T)/(w + n) — and checkpoints at the Young, Daly
// or exact interval for M̂. Useful when the configured MTBF is wrong or unknown (traces).
#include <algorithm>

#include "policies/resilience/checkpoint_math.hpp"
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class AdaptivePolicy final : public detail::PeriodicPolicy {
 public:
  explicit AdaptivePolicy(const core::PluginParams& p)
      : PeriodicPolicy(p, true),
        prior_mtbf_s_(p.number("prior_mtbf")),
        prior_weight_(p.number("prior_weight")),
        formula_(p.string("formula")) {}

 protected:
  double interval_s(const Progress& progress, const ClusterView& cluster, std::string& why) const override {
    const double m0 = detail::mtbf_for(prior_mtbf_s_, cluster);
    const bool prior = prior_weight_ > 0 && m0 > 0 && std::isfinite(m0);
    double m = posterior_mtbf_s(prior ? m0 : 0, prior ? prior_weight_ : 0, progress.failures, progress.exposure_s);
    if (prior) {
      why = "adaptive: M̂ = (" + detail::num(prior_weight_) + " × " + detail::num(m0) + " s + " +
            detail::num(progress.exposure_s) + " s) / (" + detail::num(prior_weight_) + " + " +
            std::to_string(progress.failures) + ") = " + detail::num(m) + " s";
    } else if (progress.failures > 0) {
      why = "adaptive: M̂ = " + detail::num(progress.exposure_s) + " s / " + std::to_string(progress.failures) +
            " interruptions = " + detail::num(m) + " s";
    } else {
      // No prior and nothing seen yet: act as if an interruption were due now (cautious).
      m = std::max(progress.exposure_s, progress.checkpoint_s);
      why = "adaptive: no prior and no interruption yet, cautious M̂ = max(observed " + detail::num(progress.exposure_s) +
            " s, C) = " + detail::num(m) + " s";
    }
    const double c = progress.checkpoint_s;
    const double tau = formula_ == "young" ? young_interval_s(c, m) : formula_ == "exact" ? exact_interval_s(c, m)
                                                                                         : daly_interval_s(c, m);
    why += "; " + formula_ + " τ(C = " + detail::num(c) + " s) = " + detail::num(tau) + " s";
    return tau;
  }

 private:
  double prior_mtbf_s_;
  double prior_weight_;
  std::string formula_;
};

}  // namespace

core::PluginInfo adaptive_checkpoint_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"adaptive", "re-estimates the MTBF from observed interruptions, then Young/Daly", {}};
  info.params = {
      ParamSpec{"prior_mtbf", ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e15, {},
                "prior job MTBF M₀; 0: from the availability models of the job's nodes"},
      ParamSpec{"prior_weight", ParamType::kNumber, {}, 1.0, 0, 1e9, {},
                "weight of the prior in pseudo-interruptions (0: observations only)"},
      ParamSpec{"formula", ParamType::kChoice, {}, "daly", -1e300, 1e300, {"young", "daly", "exact"},
                "interval formula applied to the estimate"},
      detail::async_param(),
  };
  for (auto& p : detail::notice_params(false)) info.params.push_back(std::move(p));
  return info;
}

std::unique_ptr<CheckpointPolicy> make_adaptive_checkpoint(const core::PluginParams& params) {
  return std::make_unique<AdaptivePolicy>(params);
}

}  // namespace frugal::policies
