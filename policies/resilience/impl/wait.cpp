// wait: never reconfigure. A slowed node is tolerated (the job runs at its pace until the speed
// comes back); a lost node is waited for — the job restarts on the same nodes once they are
// repaired or returned, from the newest surviving checkpoint.
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class WaitPolicy final : public RecoveryPolicy {
 public:
  explicit WaitPolicy(const core::PluginParams& p) : costs_(detail::recovery_costs(p)) {}

  RecoveryAction on_failure(const Failure& failure, const Progress& progress, const ClusterView& cluster) override {
    const std::string what = detail::nodes_text(failure.nodes);
    if (failure.kind == platforms::AvailabilityKind::kSpeedChange)
      return detail::continue_action(cluster, "wait: " + what + " at speed ratio " + detail::num(failure.speed_ratio) +
                                                  ": continue at its pace until the speed recovers");
    return detail::rollback_action(RecoveryKind::kWaitForRepair, failure, progress, cluster, costs_,
                                   "wait: " + what + " lost: wait until they are repaired or returned");
  }

  RecoveryAction on_nodes_returned(const std::vector<core::NodeId>& nodes, const Progress&,
                                   const ClusterView& cluster) override {
    return detail::continue_action(cluster, "wait: " + detail::nodes_text(nodes) + " back");
  }

 private:
  detail::RecoveryCosts costs_;
};

}  // namespace

core::PluginInfo wait_recovery_info() {
  core::PluginInfo info{"wait", "tolerate slowdowns; on a loss, wait for the same nodes to come back", {}};
  info.params = detail::recovery_cost_params();
  return info;
}

std::unique_ptr<RecoveryPolicy> make_wait_recovery(const core::PluginParams& params) {
  return std::make_unique<WaitPolicy>(params);
}

}  // namespace frugal::policies
