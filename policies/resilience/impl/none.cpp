// none (checkpoint policy): never checkpoints; every failure restarts training from iteration 0.
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class NoCheckpoint final : public CheckpointPolicy {
 public:
  CheckpointAction on_iteration_end(const Progress&, const ClusterView&) override {
    return CheckpointAction::none("checkpointing disabled (none)");
  }
  CheckpointAction on_preemption_notice(const Notice&, const Progress&) override {
    return CheckpointAction::none("checkpointing disabled (none): preemption notice ignored");
  }
};

}  // namespace

core::PluginInfo none_checkpoint_info() { return {"none", "never checkpoint (a failure restarts from scratch)", {}}; }

std::unique_ptr<CheckpointPolicy> make_none_checkpoint(const core::PluginParams&) {
  return std::make_unique<NoCheckpoint>();
}

}  // namespace frugal::policies
