// Helpers shared by the resilience policy implementations (not a public interface): common
// parameters, number formatting for reasons, and the periodic-checkpoint skeleton.
#pragma once

#include <cmath>
#include <cstdio>
#include <sstream>
#include <algorithm>
#include <string>
#include <vector>

#include "policies/resilience/resilience_policy.hpp"

namespace frugal::policies::detail {

/// A number for reasons, 6 significant digits (as an ostream prints it). snprintf, not a
/// stream: periodic policies format reasons at every iteration end the campaign engine asks about
/// (millions in a 30-day campaign), and a stream per number dominated that loop.
inline std::string num(double v) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%g", v);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

/// core::ParamError(param, message); the registry adds the file and pointer.
[[noreturn]] inline void param_error(const std::string& param, const std::string& message) {
  throw core::ParamError(param, message);
}

/// At an iteration end, a checkpoint is due when the next boundary would be farther from the
/// target interval than this one: since + iteration/2 ≥ interval (nearest boundary to τ).
inline bool due(double since_s, double iteration_s, double interval_s) {
  return since_s + iteration_s / 2.0 >= interval_s;
}

/// "write_on_notice" and "notice_safety": shared by the periodic policies.
inline std::vector<core::ParamSpec> notice_params(bool write_by_default) {
  return {
      core::ParamSpec{"write_on_notice", core::ParamType::kBoolean, {}, write_by_default, -1e300, 1e300, {},
                      "on a preemption notice, write a checkpoint if the notice leaves time for it"},
      core::ParamSpec{"notice_safety", core::ParamType::kNumber, {}, 1.0, 0, 100, {},
                      "write on notice only if notice >= notice_safety x measured write time"},
  };
}

/// Job MTBF for the interval formulas: the policy's own "mtbf" when > 0, else the cluster's.
inline double mtbf_for(double override_s, const ClusterView& cluster) {
  return override_s > 0 ? override_s : cluster.job_mtbf_s;
}

/// Periodic checkpointing to persistent storage at a target interval τ (seconds of training
/// since the last checkpoint, or since the resume); subclasses say what τ is and why.
class PeriodicPolicy : public CheckpointPolicy {
 public:
  PeriodicPolicy(const core::PluginParams& p, bool needs_cost)
      : needs_cost_(needs_cost),
        async_(p.boolean("async")),
        write_on_notice_(p.boolean("write_on_notice")),
        notice_safety_(p.number("notice_safety")) {}

  CheckpointAction on_iteration_end(const Progress& progress, const ClusterView& cluster) override {
    if (needs_cost_ && progress.checkpoint_s <= 0)
      return CheckpointAction::write_to(StorageLevel::kPersistent, async_,
                                        "checkpoint cost not measured yet: checkpoint now to measure it");
    if (async_ && progress.persist_in_flight)
      return CheckpointAction::none("previous asynchronous persist still in flight");
    // The campaign engine asks at every iteration end (millions of times in a 30-day campaign):
    // an interval that depends on C and M only is computed, reason included, once per (C, M).
    const bool memo = interval_depends_on_cost_and_mtbf_only();
    if (!memo || progress.checkpoint_s != memo_c_ || cluster.job_mtbf_s != memo_m_ || memo_why_.empty()) {
      memo_why_.clear();
      memo_tau_ = interval_s(progress, cluster, memo_why_);
      memo_c_ = progress.checkpoint_s;
      memo_m_ = cluster.job_mtbf_s;
    }
    const std::string& why = memo_why_;
    const double tau = memo_tau_;
    const double since = progress.since_s(progress.persistent);
    if (!std::isfinite(tau)) return CheckpointAction::none(why + ": no periodic checkpoint", tau);
    if (due(since, progress.iteration_time_s, tau))
      return CheckpointAction::write_to(StorageLevel::kPersistent, async_,
                                        why + "; " + num(since) + " s since the last checkpoint: write", tau);
    return CheckpointAction::none(why + "; " + num(since) + " s since the last checkpoint", tau);
  }

  CheckpointAction on_preemption_notice(const Notice& notice, const Progress& progress) override {
    if (!write_on_notice_) return CheckpointAction::none("preemption notice ignored (write_on_notice false)");
    return decide_on_notice(notice, progress, notice_safety_);
  }

 protected:
  bool async() const { return async_; }
  /// Target interval τ in seconds (∞: never) and a reason showing the arithmetic.
  virtual double interval_s(const Progress& progress, const ClusterView& cluster, std::string& why) const = 0;
  /// True when interval_s() depends on nothing but progress.checkpoint_s and cluster.job_mtbf_s
  /// (and the policy's own parameters): its result is then reused while they do not change.
  virtual bool interval_depends_on_cost_and_mtbf_only() const { return false; }

 private:
  double memo_c_ = -1, memo_m_ = -1, memo_tau_ = 0;
  std::string memo_why_;
  bool needs_cost_;
  bool async_;
  bool write_on_notice_;
  double notice_safety_;
};

/// "async" parameter of the periodic policies.
inline core::ParamSpec async_param() {
  return core::ParamSpec{"async", core::ParamType::kBoolean, {}, false, -1e300, 1e300, {},
                         "snapshot to host memory, then persist in the background (CheckFreq style)"};
}

/// Times every recovery policy charges, from its configuration.
struct RecoveryCosts {
  double detection_s = 0;
  double restart_s = 0;
  double provisioning_s = 0;
};

inline std::vector<core::ParamSpec> recovery_cost_params() {
  using core::Dimension;
  using core::ParamSpec;
  using core::ParamType;
  return {
      ParamSpec{"detection", ParamType::kQuantity, Dimension::kTime, 30.0, 0, 1e9, {},
                "time to notice a failure (heartbeat / collective timeout)"},
      ParamSpec{"restart", ParamType::kQuantity, Dimension::kTime, 120.0, 0, 1e9, {},
                "rendezvous and process restart time (30-300 s in public reports); reload time is simulated"},
      ParamSpec{"provisioning_delay", ParamType::kQuantity, Dimension::kTime, 300.0, 0, 1e9, {},
                "time to get a new node when no spare is left"},
  };
}

inline RecoveryCosts recovery_costs(const core::PluginParams& p) {
  return {p.number("detection"), p.number("restart"), p.number("provisioning_delay")};
}

inline core::ParamSpec straggler_param() {
  return core::ParamSpec{"straggler_threshold", core::ParamType::kNumber, {}, 0.0, 0, 1, {},
                         "a node slowed below this speed ratio is treated as failed (0: never)"};
}

/// A restart from the newest checkpoint that survived `failure`, with the configured costs; the
/// reason ends with what is reloaded and how much work is lost.
inline RecoveryAction rollback_action(RecoveryKind kind, const Failure& failure, const Progress& progress,
                                      const ClusterView& cluster, const RecoveryCosts& costs, const std::string& why) {
  RecoveryAction a;
  a.kind = kind;
  a.data_parallel = cluster.data_parallel;
  a.detection_s = costs.detection_s;
  a.restart_s = costs.restart_s;
  a.rollback = true;
  const auto [level, iteration] = newest_restorable(progress, failure);
  a.restore_from = level;
  a.restore_iteration = iteration;
  const std::int64_t lost = progress.iteration - std::max<std::int64_t>(iteration, 0);
  a.reason = why + (iteration >= 0 ? "; roll back to the " + std::string(to_string(level)) + " checkpoint of iteration " +
                                         std::to_string(iteration)
                                   : std::string("; no checkpoint: start over from iteration 0")) +
             " (" + std::to_string(lost) + " iterations lost)";
  return a;
}

/// Keep running as is.
inline RecoveryAction continue_action(const ClusterView& cluster, std::string why) {
  RecoveryAction a;
  a.kind = RecoveryKind::kContinue;
  a.data_parallel = cluster.data_parallel;
  a.reason = std::move(why);
  return a;
}

/// "3 nodes (node4, node5, node6)" for reasons.
inline std::string nodes_text(const std::vector<core::NodeId>& nodes) {
  std::string out = std::to_string(nodes.size()) + (nodes.size() == 1 ? " node (" : " nodes (");
  for (std::size_t i = 0; i < nodes.size() && i < 6; ++i) out += (i ? ", node" : "node") + std::to_string(nodes[i].value);
  return out + (nodes.size() > 6 ? ", ...)" : ")");
}

}  // namespace frugal::policies::detail
