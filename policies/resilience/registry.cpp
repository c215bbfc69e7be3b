// The explicit lists of checkpoint and recovery policies. Add one: write impl/<name>.cpp defining
// <name>_checkpoint_info() and make_<name>_checkpoint() (or _recovery), add one FRUGAL_PLUGIN
// line to its list.
#include "policies/resilience/resilience_policy.hpp"

namespace frugal::policies {

const core::Registry<CheckpointPolicy>& checkpoint_policies() {
  static const core::Registry<CheckpointPolicy> registry = [] {
    core::Registry<CheckpointPolicy> r;
    FRUGAL_PLUGIN(r, checkpoint, none);
    FRUGAL_PLUGIN(r, checkpoint, fixed);
    FRUGAL_PLUGIN(r, checkpoint, young);
    FRUGAL_PLUGIN(r, checkpoint, daly);
    FRUGAL_PLUGIN(r, checkpoint, adaptive);
    FRUGAL_PLUGIN(r, checkpoint, on_notice);
    FRUGAL_PLUGIN(r, checkpoint, async);
    FRUGAL_PLUGIN(r, checkpoint, two_level);
    return r;
  }();
  return registry;
}

const core::Registry<RecoveryPolicy>& recovery_policies() {
  static const core::Registry<RecoveryPolicy> registry = [] {
    core::Registry<RecoveryPolicy> r;
    FRUGAL_PLUGIN(r, recovery, restart);
    FRUGAL_PLUGIN(r, recovery, shrink);
    FRUGAL_PLUGIN(r, recovery, wait);
    return r;
  }();
  return registry;
}

}  // namespace frugal::policies
