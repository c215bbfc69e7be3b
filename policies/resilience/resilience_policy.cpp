// Shared pieces of the resilience policies: names, Progress arithmetic, reading the policies
// from JSON, the newest restorable checkpoint and the preemption-notice rule.
#include "policies/resilience/resilience_policy.hpp"

#include <algorithm>
#include <optional>
#include <sstream>

#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {

std::string_view to_string(StorageLevel level) {
  switch (level) {
    case StorageLevel::kHostMemory: return "host_memory";
    case StorageLevel::kPeer: return "peer";
    case StorageLevel::kPersistent: return "persistent";
  }
  return "?";
}

std::string_view to_string(RecoveryKind kind) {
  switch (kind) {
    case RecoveryKind::kContinue: return "continue";
    case RecoveryKind::kRestartFromSpares: return "restart_from_spares";
    case RecoveryKind::kRestartAfterProvisioning: return "restart_after_provisioning";
    case RecoveryKind::kWaitForRepair: return "wait_for_repair";
    case RecoveryKind::kShrink: return "shrink";
    case RecoveryKind::kGrow: return "grow";
  }
  return "?";
}

double Progress::since_s(const CheckpointRecord& record) const {
  return time_s - std::max(record.exists() ? record.time_s : resumed_s, resumed_s);
}

std::int64_t Progress::iterations_since(const CheckpointRecord& record) const {
  return iteration - std::max<std::int64_t>(record.iteration, 0);
}

CheckpointAction CheckpointAction::none(std::string reason, double interval_s) {
  CheckpointAction a;
  a.reason = std::move(reason);
  a.interval_s = interval_s;
  return a;
}

CheckpointAction CheckpointAction::write_to(StorageLevel level, bool async, std::string reason, double interval_s) {
  CheckpointAction a;
  a.write = true;
  a.level = level;
  a.async = async;
  a.reason = std::move(reason);
  a.interval_s = interval_s;
  return a;
}

std::unique_ptr<CheckpointPolicy> read_checkpoint_policy(const core::Json& value, const std::string& file,
                                                         const std::string& pointer, core::Json* resolved) {
  std::optional<core::PluginParams> params;
  auto policy = checkpoint_policies().create(value, file, pointer, &params);
  if (resolved) *resolved = params->to_json();
  return policy;
}

std::unique_ptr<RecoveryPolicy> read_recovery_policy(const core::Json& value, const std::string& file,
                                                     const std::string& pointer, core::Json* resolved) {
  std::optional<core::PluginParams> params;
  auto policy = recovery_policies().create(value, file, pointer, &params);
  if (resolved) *resolved = params->to_json();
  return policy;
}

ResiliencePolicy read_resilience_policy(const core::Json& value, const std::string& file, const std::string& pointer,
                                        core::Json* resolved) {
  core::ObjectReader reader(value, file, pointer);
  const core::Json checkpoint = reader.has("checkpoint") ? reader.value("checkpoint") : core::Json{{"impl", "none"}};
  const core::Json recovery = reader.has("recovery") ? reader.value("recovery") : core::Json{{"impl", "restart"}};
  reader.finish();
  core::Json checkpoint_resolved, recovery_resolved;
  auto c = read_checkpoint_policy(checkpoint, file, reader.pointer_of("checkpoint"), &checkpoint_resolved);
  auto r = read_recovery_policy(recovery, file, reader.pointer_of("recovery"), &recovery_resolved);
  if (resolved) *resolved = core::Json{{"checkpoint", checkpoint_resolved}, {"recovery", recovery_resolved}};
  return ResiliencePolicy(std::move(c), std::move(r));
}

std::pair<StorageLevel, std::int64_t> newest_restorable(const Progress& progress, const Failure& failure) {
  std::pair<StorageLevel, std::int64_t> best{StorageLevel::kPersistent, progress.persistent.iteration};
  if (progress.peer.exists() && !failure.peer_copy_lost && progress.peer.iteration > best.second)
    best = {StorageLevel::kPeer, progress.peer.iteration};
  return best;
}

CheckpointAction decide_on_notice(const Notice& notice, const Progress& progress, double safety_factor) {
  using detail::num;
  if (progress.persistent.exists() && progress.iteration <= progress.persistent.iteration) {
    return CheckpointAction::none("preemption notice: nothing new since the checkpoint at iteration " +
                                  std::to_string(progress.persistent.iteration));
  }
  const std::string at_risk = std::to_string(progress.iterations_since(progress.persistent)) + " iterations (" +
                              num(progress.since_s(progress.persistent)) + " s) since the last checkpoint";
  if (progress.checkpoint_s <= 0) {
    return CheckpointAction::write_to(StorageLevel::kPersistent, false,
                                      "preemption notice of " + num(notice.notice_s) +
                                          " s, write time not measured yet: try to save " + at_risk);
  }
  const double needed = safety_factor * progress.checkpoint_s;
  if (notice.notice_s >= needed) {
    return CheckpointAction::write_to(StorageLevel::kPersistent, false,
                                      "preemption notice " + num(notice.notice_s) + " s >= " + num(safety_factor) +
                                          " x write time " + num(progress.checkpoint_s) + " s: save " + at_risk);
  }
  return CheckpointAction::none("preemption notice " + num(notice.notice_s) + " s < " + num(safety_factor) +
                                " x write time " + num(progress.checkpoint_s) + " s: a checkpoint would not finish; " +
                                at_risk + " will be lost");
}

}  // namespace frugal::policies
