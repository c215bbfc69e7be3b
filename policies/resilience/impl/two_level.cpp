// two_level: in-memory replicas in a peer node's CPU memory every k iterations (Gemini, Wang et
// al., "GEMINI: Fast Failure Recovery in Distributed Training with In-Memory Checkpoints",
// SOSP'23) plus persistent checkpoints every N iterations — or at Daly's interval (N = 0) — for
// failures that take a node and its peer together. A persistent write supersedes a peer one.
#include <algorithm>

#include "policies/resilience/checkpoint_math.hpp"
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class TwoLevelPolicy final : public CheckpointPolicy {
 public:
  explicit TwoLevelPolicy(const core::PluginParams& p)
      : peer_every_(p.integer("peer_every_iterations")),
        persistent_every_(p.integer("persistent_every_iterations")),
        mtbf_s_(p.number("mtbf")),
        async_(p.boolean("persistent_async")),
        write_on_notice_(p.boolean("write_on_notice")),
        notice_safety_(p.number("notice_safety")) {}

  CheckpointAction on_iteration_end(const Progress& progress, const ClusterView& cluster) override {
    using detail::num;
    const std::int64_t since_persistent = progress.iterations_since(progress.persistent);
    double tau = std::numeric_limits<double>::infinity();
    std::string persistent_why;
    bool persistent_due = false;
    if (persistent_every_ > 0) {
      tau = static_cast<double>(persistent_every_) * progress.iteration_time_s;
      persistent_due = since_persistent >= persistent_every_;
      persistent_why = "persistent every " + std::to_string(persistent_every_) + " iterations, " +
                       std::to_string(since_persistent) + " since the last";
    } else if (progress.checkpoint_s <= 0) {
      persistent_due = !progress.persistent.exists();
      persistent_why = "persistent checkpoint cost not measured yet";
    } else {
      const double m = detail::mtbf_for(mtbf_s_, cluster);
      tau = m > 0 ? daly_interval_s(progress.checkpoint_s, m) : std::numeric_limits<double>::infinity();
      const double since = progress.since_s(progress.persistent);
      persistent_due = detail::due(since, progress.iteration_time_s, tau);
      persistent_why = "persistent at Daly's τ = " + num(tau) + " s, " + num(since) + " s since the last";
    }
    if (persistent_due && !(async_ && progress.persist_in_flight))
      return CheckpointAction::write_to(StorageLevel::kPersistent, async_, "two_level: " + persistent_why + ": write", tau);

    const std::int64_t last = std::max<std::int64_t>({progress.peer.iteration, progress.persistent.iteration, 0});
    const std::int64_t since_any = progress.iteration - last;
    const std::string peer_why = "peer replica every " + std::to_string(peer_every_) + " iterations, " +
                                 std::to_string(since_any) + " since the last in-memory or persistent one";
    if (since_any >= peer_every_)
      return CheckpointAction::write_to(StorageLevel::kPeer, false, "two_level: " + peer_why + ": write", tau);
    return CheckpointAction::none("two_level: " + peer_why + "; " + persistent_why, tau);
  }

  CheckpointAction on_preemption_notice(const Notice& notice, const Progress& progress) override {
    if (!write_on_notice_) return CheckpointAction::none("preemption notice ignored (write_on_notice false)");
    return decide_on_notice(notice, progress, notice_safety_);
  }

 private:
  std::int64_t peer_every_;
  std::int64_t persistent_every_;
  double mtbf_s_;
  bool async_;
  bool write_on_notice_;
  double notice_safety_;
};

}  // namespace

core::PluginInfo two_level_checkpoint_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"two_level", "peer in-memory replicas every k iterations + persistent checkpoints (Gemini, SOSP'23)", {}};
  info.params = {
      ParamSpec{"peer_every_iterations", ParamType::kInteger, {}, 1, 1, 1e15, {},
                "replicate the state into a peer node's CPU memory every k iterations"},
      ParamSpec{"persistent_every_iterations", ParamType::kInteger, {}, 0, 0, 1e15, {},
                "persistent checkpoint every N iterations; 0: at Daly's interval for the job MTBF"},
      ParamSpec{"mtbf", ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e15, {},
                "job MTBF for Daly's interval; 0: from the availability models"},
      ParamSpec{"persistent_async", ParamType::kBoolean, {}, true, -1e300, 1e300, {},
                "persist from a host-memory snapshot in the background"},
  };
  for (auto& p : detail::notice_params(true)) info.params.push_back(std::move(p));
  return info;
}

std::unique_ptr<CheckpointPolicy> make_two_level_checkpoint(const core::PluginParams& params) {
  return std::make_unique<TwoLevelPolicy>(params);
}

}  // namespace frugal::policies
