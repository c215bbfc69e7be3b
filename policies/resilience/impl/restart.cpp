// restart: keep the same layout. Lost nodes are replaced from the spare pool when it has enough,
// else after a provisioning delay (or when the job's own nodes are repaired); the job rolls back
// to the newest checkpoint that survived. The default recovery of production training jobs.
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class RestartPolicy final : public RecoveryPolicy {
 public:
  explicit RestartPolicy(const core::PluginParams& p)
      : costs_(detail::recovery_costs(p)),
        provision_(p.string("without_spares") == "provision"),
        straggler_threshold_(p.number("straggler_threshold")) {}

  RecoveryAction on_failure(const Failure& failure, const Progress& progress, const ClusterView& cluster) override {
    using detail::num;
    const int n = static_cast<int>(failure.nodes.size());
    const std::string what = detail::nodes_text(failure.nodes);
    if (failure.kind == platforms::AvailabilityKind::kSpeedChange) {
      if (!(failure.speed_ratio < straggler_threshold_))
        return detail::continue_action(cluster, "restart: " + what + " at speed ratio " + num(failure.speed_ratio) +
                                                    " (threshold " + num(straggler_threshold_) + "): keep running");
      if (cluster.spare_nodes < n)
        return detail::continue_action(cluster, "restart: straggler " + what + " at speed ratio " +
                                                    num(failure.speed_ratio) + ", but only " +
                                                    std::to_string(cluster.spare_nodes) + " spares: keep running");
      RecoveryAction a;
      a.kind = RecoveryKind::kRestartFromSpares;
      a.data_parallel = cluster.data_parallel;
      a.spares_used = n;
      a.restart_s = costs_.restart_s;
      a.checkpoint_first = true;
      a.exclude = failure.nodes;
      a.reason = "restart: straggler " + what + " at speed ratio " + num(failure.speed_ratio) + " < " +
                 num(straggler_threshold_) + ": checkpoint, swap in " + std::to_string(n) + " spares, restart";
      return a;
    }
    if (cluster.spare_nodes >= n) {
      RecoveryAction a = detail::rollback_action(RecoveryKind::kRestartFromSpares, failure, progress, cluster, costs_,
                                                 "restart: " + what + " lost, " + std::to_string(cluster.spare_nodes) +
                                                     " spares: replace them");
      a.spares_used = n;
      return a;
    }
    const int missing = n - cluster.spare_nodes;
    if (provision_) {
      RecoveryAction a = detail::rollback_action(
          RecoveryKind::kRestartAfterProvisioning, failure, progress, cluster, costs_,
          "restart: " + what + " lost, " + std::to_string(cluster.spare_nodes) + " spares: provision " +
              std::to_string(missing) + " new nodes (" + num(costs_.provisioning_s) + " s)");
      a.spares_used = cluster.spare_nodes;
      a.wait_s = costs_.provisioning_s;
      return a;
    }
    RecoveryAction a = detail::rollback_action(RecoveryKind::kWaitForRepair, failure, progress, cluster, costs_,
                                               "restart: " + what + " lost, " + std::to_string(cluster.spare_nodes) +
                                                   " spares: wait until " + std::to_string(missing) +
                                                   " nodes are repaired or returned");
    a.spares_used = cluster.spare_nodes;
    return a;
  }

  RecoveryAction on_nodes_returned(const std::vector<core::NodeId>& nodes, const Progress&,
                                   const ClusterView& cluster) override {
    return detail::continue_action(cluster, "restart: " + detail::nodes_text(nodes) + " back: they join the spare pool");
  }

 private:
  detail::RecoveryCosts costs_;
  bool provision_;
  double straggler_threshold_;
};

}  // namespace

core::PluginInfo restart_recovery_info() {
  core::PluginInfo info{"restart", "same layout: replace lost nodes from spares or after provisioning, roll back", {}};
  info.params = detail::recovery_cost_params();
  info.params.push_back(core::ParamSpec{"without_spares", core::ParamType::kChoice, {}, "provision", -1e300, 1e300,
                                        {"provision", "wait_for_repair"},
                                        "when spares run out: provision new nodes, or wait for the lost ones to come back"});
  info.params.push_back(detail::straggler_param());
  return info;
}

std::unique_ptr<RecoveryPolicy> make_restart_recovery(const core::PluginParams& params) {
  return std::make_unique<RestartPolicy>(params);
}

}  // namespace frugal::policies
