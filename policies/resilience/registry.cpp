// The explicit lists of checkpoint and recovery policies. Add one: write impl/<name>.cpp with a
// PluginInfo and a factory, declare both here, add one line to its list.
#include "policies/resilience/resilience_policy.hpp"

namespace frugal::policies {

#define FRUGAL_CHECKPOINT_POLICY(name)          \
  core::PluginInfo name##_checkpoint_info(); \
  std::unique_ptr<CheckpointPolicy> make_##name##_checkpoint(const core::PluginParams& params);
FRUGAL_CHECKPOINT_POLICY(none)
FRUGAL_CHECKPOINT_POLICY(fixed)
FRUGAL_CHECKPOINT_POLICY(young)
FRUGAL_CHECKPOINT_POLICY(daly)
FRUGAL_CHECKPOINT_POLICY(adaptive)
FRUGAL_CHECKPOINT_POLICY(on_notice)
FRUGAL_CHECKPOINT_POLICY(async)
FRUGAL_CHECKPOINT_POLICY(two_level)
#undef FRUGAL_CHECKPOINT_POLICY

#define FRUGAL_RECOVERY_POLICY(name)          \
  core::PluginInfo name##_recovery_info(); \
  std::unique_ptr<RecoveryPolicy> make_##name##_recovery(const core::PluginParams& params);
FRUGAL_RECOVERY_POLICY(restart)
FRUGAL_RECOVERY_POLICY(shrink)
FRUGAL_RECOVERY_POLICY(wait)
#undef FRUGAL_RECOVERY_POLICY

const core::Registry<CheckpointPolicy>& checkpoint_policies() {
  static const core::Registry<CheckpointPolicy> registry = [] {
    core::Registry<CheckpointPolicy> r;
    r.add(none_checkpoint_info(), make_none_checkpoint);
    r.add(fixed_checkpoint_info(), make_fixed_checkpoint);
    r.add(young_checkpoint_info(), make_young_checkpoint);
    r.add(daly_checkpoint_info(), make_daly_checkpoint);
    r.add(adaptive_checkpoint_info(), make_adaptive_checkpoint);
    r.add(on_notice_checkpoint_info(), make_on_notice_checkpoint);
    r.add(async_checkpoint_info(), make_async_checkpoint);
    r.add(two_level_checkpoint_info(), make_two_level_checkpoint);
    return r;
  }();
  return registry;
}

const core::Registry<RecoveryPolicy>& recovery_policies() {
  static const core::Registry<RecoveryPolicy> registry = [] {
    core::Registry<RecoveryPolicy> r;
    r.add(restart_recovery_info(), make_restart_recovery);
    r.add(shrink_recovery_info(), make_shrink_recovery);
    r.add(wait_recovery_info(), make_wait_recovery);
    return r;
  }();
  return registry;
}

}  // namespace frugal::policies
