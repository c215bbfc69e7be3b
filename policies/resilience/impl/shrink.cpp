// shrink: when lost nodes cannot be replaced at once, drop data-parallel replicas and re-plan
// with the parallelism policy on the nodes left (elastic training, as in Oobleck / Bamboo-style
// systems); grow back when nodes return. Below min_data_parallel replicas, fall back to restart
// after provisioning.
#include <algorithm>

#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class ShrinkPolicy final : public RecoveryPolicy {
 public:
  explicit ShrinkPolicy(const core::PluginParams& p)
      : costs_(detail::recovery_costs(p)),
        min_dp_(static_cast<int>(p.integer("min_data_parallel"))),
        prefer_spares_(p.boolean("prefer_spares")),
        grow_back_(p.boolean("grow_back")),
        straggler_threshold_(p.number("straggler_threshold")) {}

  RecoveryAction on_failure(const Failure& failure, const Progress& progress, const ClusterView& cluster) override {
    using detail::num;
    const int n = static_cast<int>(failure.nodes.size());
    const std::string what = detail::nodes_text(failure.nodes);
    const bool slow = failure.kind == platforms::AvailabilityKind::kSpeedChange;
    if (slow && !(failure.speed_ratio < straggler_threshold_))
      return detail::continue_action(cluster, "shrink: " + what + " at speed ratio " + num(failure.speed_ratio) +
                                                  " (threshold " + num(straggler_threshold_) + "): keep running");
    // Stragglers are still up: leave them out of the usable nodes, without a rollback.
    const int usable = cluster.nodes_up - (slow ? n : 0);
    const int per = std::max(cluster.nodes_per_replica, 1);
    const int fit = std::min(cluster.max_data_parallel, usable / per);
    RecoveryAction a;
    std::string why;
    if (prefer_spares_ && cluster.spare_nodes >= n) {
      why = "shrink: " + what + (slow ? " too slow" : " lost") + ", " + std::to_string(cluster.spare_nodes) +
            " spares: replace them";
      a.kind = RecoveryKind::kRestartFromSpares;
      a.data_parallel = cluster.data_parallel;
      a.spares_used = n;
    } else if (fit >= min_dp_ && fit > 0) {
      why = "shrink: " + what + (slow ? " too slow" : " lost") + "; " + std::to_string(usable) + " usable nodes / " +
            std::to_string(per) + " per replica = " + std::to_string(fit) + " data-parallel replicas (was " +
            std::to_string(cluster.data_parallel) + ", min " + std::to_string(min_dp_) + "): re-plan";
      a.kind = fit >= cluster.data_parallel ? RecoveryKind::kRestartFromSpares : RecoveryKind::kShrink;
      a.data_parallel = std::min(fit, cluster.data_parallel);
      a.spares_used = a.kind == RecoveryKind::kRestartFromSpares ? n : 0;
    } else {
      why = "shrink: " + what + " lost; " + std::to_string(usable) + " usable nodes / " + std::to_string(per) +
            " per replica = " + std::to_string(fit) + " replicas < min_data_parallel " + std::to_string(min_dp_) +
            ": provision new nodes (" + num(costs_.provisioning_s) + " s)";
      a.kind = RecoveryKind::kRestartAfterProvisioning;
      a.data_parallel = cluster.data_parallel;
      a.spares_used = cluster.spare_nodes;
      a.wait_s = costs_.provisioning_s;
    }
    if (slow) {
      a.restart_s = costs_.restart_s;
      a.checkpoint_first = true;
      a.exclude = failure.nodes;
      a.reason = why + "; checkpoint the live state first (no rollback)";
      return a;
    }
    RecoveryAction r = detail::rollback_action(a.kind, failure, progress, cluster, costs_, why);
    r.data_parallel = a.data_parallel;
    r.spares_used = a.spares_used;
    r.wait_s = a.wait_s;
    return r;
  }

  RecoveryAction on_nodes_returned(const std::vector<core::NodeId>& nodes, const Progress&,
                                   const ClusterView& cluster) override {
    const int per = std::max(cluster.nodes_per_replica, 1);
    const int fit = std::min(cluster.max_data_parallel, cluster.nodes_up / per);
    const std::string what = detail::nodes_text(nodes) + " back";
    if (!grow_back_ || fit <= cluster.data_parallel)
      return detail::continue_action(cluster, "shrink: " + what + "; " + std::to_string(cluster.nodes_up) +
                                                  " nodes up fit " + std::to_string(fit) + " replicas, running " +
                                                  std::to_string(cluster.data_parallel) +
                                                  (grow_back_ ? ": keep the layout" : " (grow_back false)"));
    RecoveryAction a;
    a.kind = RecoveryKind::kGrow;
    a.data_parallel = fit;
    a.restart_s = costs_.restart_s;
    a.checkpoint_first = true;
    a.reason = "shrink: " + what + "; " + std::to_string(cluster.nodes_up) + " nodes up / " + std::to_string(per) +
               " per replica: grow from " + std::to_string(cluster.data_parallel) + " to " + std::to_string(fit) +
               " data-parallel replicas (checkpoint, re-plan, restart)";
    return a;
  }

  int min_data_parallel(int max_data_parallel) const override { return std::clamp(min_dp_, 1, max_data_parallel); }

 private:
  detail::RecoveryCosts costs_;
  int min_dp_;
  bool prefer_spares_;
  bool grow_back_;
  double straggler_threshold_;
};

}  // namespace

core::PluginInfo shrink_recovery_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"shrink", "drop data-parallel replicas on failure, re-plan, grow back when nodes return", {}};
  info.params = detail::recovery_cost_params();
  info.params.push_back(ParamSpec{"min_data_parallel", ParamType::kInteger, {}, 1, 1, 1e9, {},
                                  "fewest replicas worth running; below it, restart after provisioning"});
  info.params.push_back(ParamSpec{"prefer_spares", ParamType::kBoolean, {}, true, -1e300, 1e300, {},
                                  "replace lost nodes from spares when there are enough, instead of shrinking"});
  info.params.push_back(ParamSpec{"grow_back", ParamType::kBoolean, {}, true, -1e300, 1e300, {},
                                  "re-plan with more replicas when returned nodes allow it"});
  info.params.push_back(detail::straggler_param());
  return info;
}

std::unique_ptr<RecoveryPolicy> make_shrink_recovery(const core::PluginParams& params) {
  return std::make_unique<ShrinkPolicy>(params);
}

}  // namespace frugal::policies
