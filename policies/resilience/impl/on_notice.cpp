// on_notice: no periodic checkpoints; on a preemption notice, write one if the notice leaves
// time for the write (notice ≥ notice_safety × measured write time), else accept the loss.
// The strategy of spot-instance training systems that rely on the provider's warning.
#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class OnNoticePolicy final : public CheckpointPolicy {
 public:
  explicit OnNoticePolicy(const core::PluginParams& p) : safety_(p.number("notice_safety")) {}

  CheckpointAction on_iteration_end(const Progress&, const ClusterView&) override {
    return CheckpointAction::none("on_notice: checkpoints only on preemption notices");
  }
  CheckpointAction on_preemption_notice(const Notice& notice, const Progress& progress) override {
    return decide_on_notice(notice, progress, safety_);
  }

 private:
  double safety_;
};

}  // namespace

core::PluginInfo on_notice_checkpoint_info() {
  core::PluginInfo info{"on_notice", "checkpoint only on a preemption notice, when the notice leaves time to write", {}};
  info.params = {core::ParamSpec{"notice_safety", core::ParamType::kNumber, {}, 1.0, 0, 100, {},
                                 "write only if notice >= notice_safety x measured write time"}};
  return info;
}

std::unique_ptr<CheckpointPolicy> make_on_notice_checkpoint(const core::PluginParams& params) {
  return std::make_unique<OnNoticePolicy>(params);
}

}  // namespace frugal::policies
