// The campaign controller's state machine (see campaign_state.hpp): plain C++, no SimGrid, no
// clock of its own. References: Young 1974, Daly 2006 (intervals, via the policies), CheckFreq
// FAST'21 (async snapshot + background persist), Gemini SOSP'23 (peer in-memory replicas).
#include "sim/engine/control/campaign_state.hpp"

#include <algorithm>
#include <cmath>

#include "sim/core/error.hpp"

namespace frugal::engine {
namespace {

using core::Json;
using policies::CheckpointAction;
using policies::ClusterView;
using policies::Failure;
using policies::Progress;
using policies::RecoveryAction;
using policies::RecoveryKind;
using policies::StorageLevel;

std::string level_name(StorageLevel level) { return std::string(policies::to_string(level)); }

}  // namespace

CampaignState::CampaignState(const CampaignSetup& setup) : setup_(setup), policy_(*setup.policy) {
  stop_s_ = setup.horizon_s;
  if (setup.goal_wall_time_s > 0) stop_s_ = std::min(stop_s_, setup.goal_wall_time_s);
  result_.training_gpu_s_by_type.assign(setup.cluster->node_types.size(), 0.0);
  job_gpus_by_type_.assign(setup.cluster->node_types.size(), 0);
}

// --- time, goal and layout ----------------------------------------------------------------------

bool CampaignState::finished(double now) const {
  if (setup_.goal_iterations > 0 && iteration_ >= setup_.goal_iterations) return true;
  return stopped(now);
}

std::string CampaignState::status(double now) const {
  return setup_.goal_iterations > 0 && iteration_ >= setup_.goal_iterations           ? "ok"
         : setup_.goal_wall_time_s > 0 && now >= setup_.goal_wall_time_s - kTimeEps ? "ok"
                                                                                     : "horizon_reached";
}

void CampaignState::start(const std::vector<int>& nodes) {
  max_units_ = static_cast<int>(nodes.size()) / std::max(setup_.unit_nodes, 1);
  units_ = max_units_;
}

void CampaignState::set_job(const std::vector<int>& nodes) {
  job_ = nodes;
  std::fill(job_gpus_by_type_.begin(), job_gpus_by_type_.end(), 0);
  for (int n : job_)
    job_gpus_by_type_[setup_.cluster->node_type_of[n]] += setup_.cluster->type_of_node(core::NodeId(n)).gpus_per_node;
  job_mtbf_ = setup_.job_mtbf_s ? setup_.job_mtbf_s(job_) : std::numeric_limits<double>::infinity();
}

void CampaignState::apply_layout(double now, int units, const std::vector<int>& nodes, const std::string& why) {
  const int old_units = units_;
  units_ = units;
  if (old_units != units) {
    ++result_.replans;
    const CampaignLayout& l = layout();
    log(now, Json{{"event", "replan"}, {"from_units", old_units}, {"to_units", units}, {"data_parallel", l.data_parallel},
                  {"nodes", static_cast<int>(nodes.size())}, {"iteration_time_s", l.iteration_s}, {"origin", l.origin},
                  {"why", why}});
  }
}

int CampaignState::allowed_at_most(int units) const {
  for (int u = std::min(units, max_units_); u >= 1; --u)
    if (u < static_cast<int>(setup_.layouts.size()) && setup_.layouts[u].allowed) return u;
  return 0;
}

int CampaignState::job_gpus() const {
  int g = 0;
  for (int c : job_gpus_by_type_) g += c;
  return g;
}

// --- training -------------------------------------------------------------------------------------

const LayoutCosts& CampaignState::costs() const {
  static const LayoutCosts none;
  const auto it = costs_.find(units_);
  return it == costs_.end() ? none : it->second;
}

Progress CampaignState::progress(double now) const {
  Progress p;
  p.time_s = now;
  p.iteration = iteration_;
  p.iteration_time_s = last_iteration_s_;
  p.resumed_s = resumed_s_;
  p.persistent = persistent_.policy_view();
  p.peer = peer_.policy_view();
  p.host_memory = host_memory_.policy_view();
  p.persist_in_flight = persist_active_;
  const LayoutCosts& c = costs();
  // Measured blocking costs of this layout; before the first measurement, the uncontended
  // estimate from the platform's bandwidths (Progress allows an estimate).
  p.checkpoint_s = c.checkpoint_s > 0 ? c.checkpoint_s : estimate_checkpoint_s();
  p.snapshot_s = c.snapshot_s > 0 ? c.snapshot_s : estimate_snapshot_s();
  p.persist_s = c.persist_s > 0 ? c.persist_s : p.checkpoint_s;
  p.peer_checkpoint_s = c.peer_s > 0 ? c.peer_s : estimate_peer_s();
  p.failures = failures_;
  p.exposure_s = exposure_s_;
  return p;
}

Segment CampaignState::plan_segment(double t0, double t_stop, const ClusterView& view) {
  const double it = iteration_seconds();
  Progress p = progress(t0);
  Segment s;
  std::int64_t j = 0;
  double t_j = t0;
  while (j < kMaxSegmentIterations) {
    const double t_next = t0 + (1.0 - frac_) * it + static_cast<double>(j) * it;
    if (t_next > t_stop) break;
    ++j;
    t_j = t_next;
    p.time_s = t_j;
    p.iteration = iteration_ + j;
    p.iteration_time_s = it;
    s.action = policy_.on_iteration_end(p, view);
    const bool goal = setup_.goal_iterations > 0 && iteration_ + j >= setup_.goal_iterations;
    if (s.action.write || goal) {
      s.decided = true;
      break;
    }
  }
  if (j == kMaxSegmentIterations) s.decided = true;
  s.iterations = j;
  s.end_s = s.decided ? t_j : t_stop;
  return s;
}

void CampaignState::account_training(double t0, double t1, std::int64_t max_iterations, bool exact) {
  const double it = iteration_seconds();
  const double dt = std::max(0.0, t1 - t0);
  std::int64_t k = 0;
  if (exact) {
    k = max_iterations;
    frac_ = 0;
  } else {
    const double done = frac_ + dt / it;
    k = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(done + 1e-9)), max_iterations);
    frac_ = std::clamp(done - static_cast<double>(k), 0.0, 1.0 - 1e-12);
  }
  iteration_ += k;
  result_.iterations_executed += k;
  if (k > 0) last_iteration_s_ = it;
  work_s_ += dt;
  exposure_s_ += dt;
  // Energy: the layout's op-by-op energy per iteration, pro rata of the work done.
  result_.training_energy_j += layout().energy_j_per_iteration * dt / it;
  for (std::size_t t = 0; t < job_gpus_by_type_.size(); ++t) result_.training_gpu_s_by_type[t] += dt * job_gpus_by_type_[t];
  if (dt > 0) phase("job", "training", t0, t1, Json{{"iterations", k}, {"data_parallel_units", units_}});
}

void CampaignState::discard_partial(double now, const std::string& why) {
  if (frac_ <= 0) return;
  const double lost = frac_ * iteration_seconds();
  result_.lost_work_s += lost;
  work_s_ -= lost;
  log(now, Json{{"event", "partial_iteration_discarded"}, {"lost_work_s", lost}, {"reason", why}});
  frac_ = 0;
}

// --- checkpoints --------------------------------------------------------------------------------

void CampaignState::add_checkpoint_time(double duration_s) {
  result_.checkpoint_s += duration_s;
  exposure_s_ += duration_s;
}

bool CampaignState::checkpoint_written(StorageLevel level, double now) {
  const CheckpointState record{iteration_, now, work_s_};
  switch (level) {
    case StorageLevel::kPersistent:
      persistent_ = record;
      ++result_.checkpoints;
      return persist_active_ && persist_snapshot_.iteration <= iteration_;
    case StorageLevel::kPeer:
      peer_ = record;
      ++result_.peer_checkpoints;
      return false;
    case StorageLevel::kHostMemory:
      host_memory_ = record;
      return false;
  }
  return false;
}

void CampaignState::begin_persist(double now, double end_s, bool simulated) {
  persist_active_ = true;
  persist_snapshot_ = host_memory_;
  persist_start_s_ = now;
  persist_end_s_ = end_s;
  log(now, Json{{"event", "persist_start"}, {"iteration", iteration_}, {"simulated", simulated}});
}

void CampaignState::complete_persist(double now) {
  const double dt = now - persist_start_s_;
  if (costs().persist_s < 0) costs().persist_s = dt;
  if (persist_snapshot_.iteration > persistent_.iteration) persistent_ = persist_snapshot_;
  ++result_.checkpoints;
  log(now, Json{{"event", "persist_end"}, {"iteration", persist_snapshot_.iteration}, {"duration_s", dt}});
  phase("checkpoints", "persist", persist_start_s_, now, Json{{"iteration", persist_snapshot_.iteration}});
  persist_active_ = false;
  persist_snapshot_ = CheckpointState{};
  persist_start_s_ = 0;
  persist_end_s_ = std::numeric_limits<double>::infinity();
}

void CampaignState::abort_persist(double now, const std::string& why) {
  if (!persist_active_) return;
  ++result_.checkpoints_aborted;
  log(now, Json{{"event", "persist_aborted"}, {"iteration", persist_snapshot_.iteration}, {"why", why}});
  phase("checkpoints", "persist (aborted)", persist_start_s_, now, Json{{"iteration", persist_snapshot_.iteration}});
  persist_active_ = false;
  persist_snapshot_ = CheckpointState{};
  persist_start_s_ = 0;
  persist_end_s_ = std::numeric_limits<double>::infinity();
}

double CampaignState::estimate_checkpoint_s() const {
  const auto& cluster = *setup_.cluster;
  double per_node = 0, latency = 0;
  for (int n : job_) {
    const auto& t = cluster.type_of_node(core::NodeId(n));
    const double bw = setup_.local_disk ? cluster.storage.local_disk_bandwidth_bytes_per_s : t.nic.bandwidth_bytes_per_s;
    per_node = std::max(per_node, checkpoint_bytes_per_node() / bw);
    latency = std::max(latency, setup_.local_disk ? 0.0 : t.nic.latency_s);
  }
  if (setup_.local_disk || !cluster.storage.has_shared) return per_node;
  return std::max(per_node, setup_.checkpoint_bytes / cluster.storage.shared.bandwidth_bytes_per_s) + latency +
         std::max(0.0, cluster.network.switch_latency_s) + cluster.storage.shared.latency_s;
}

double CampaignState::estimate_snapshot_s() const {
  const auto& cluster = *setup_.cluster;
  double t = 0;
  const double per_gpu = setup_.checkpoint_bytes / std::max(job_gpus(), 1);
  for (int n : job_) {
    const auto& type = cluster.type_of_node(core::NodeId(n));
    // Each GPU's PCIe, or a declared host side shared by the node's GPUs, whichever binds.
    double bytes_per_s = type.host_link.bandwidth_bytes_per_s;
    if (type.host_memory_bandwidth_bytes_per_s > 0)
      bytes_per_s = std::min(bytes_per_s, type.host_memory_bandwidth_bytes_per_s / std::max(1, type.gpus_per_node));
    t = std::max(t, type.host_link.latency_s + per_gpu / bytes_per_s);
  }
  return t;
}

double CampaignState::estimate_peer_s() const {
  const auto& cluster = *setup_.cluster;
  double t = 0;
  for (int n : job_) {
    const auto& type = cluster.type_of_node(core::NodeId(n));
    t = std::max(t, 2 * type.nic.latency_s + checkpoint_bytes_per_node() / type.nic.bandwidth_bytes_per_s);
  }
  return t;
}

// --- failures and recovery ----------------------------------------------------------------------

RecoveryAction CampaignState::on_failure(double now, const Failure& failure, const ClusterView& view) {
  ++failures_;
  ++result_.failures;
  // The snapshot in host memory died with the nodes.
  host_memory_ = CheckpointState{};
  return policy_.on_failure(failure, progress(now), view);
}

RecoveryAction CampaignState::on_slowdown(double now, const Failure& failure, const ClusterView& view) {
  return policy_.on_failure(failure, progress(now), view);
}

CheckpointAction CampaignState::on_preemption_notice(const policies::Notice& notice) {
  return policy_.on_preemption_notice(notice, progress(notice.time_s));
}

RecoveryAction CampaignState::on_nodes_returned(double now, const std::vector<core::NodeId>& nodes,
                                                const ClusterView& view) {
  return policy_.on_nodes_returned(nodes, progress(now), view);
}

RecoveryPlan CampaignState::plan_recovery(const RecoveryAction& a) const {
  RecoveryPlan plan;
  plan.kind = a.kind;
  if (plan.kind == RecoveryKind::kContinue || plan.kind == RecoveryKind::kGrow) plan.kind = RecoveryKind::kWaitForRepair;
  plan.units = units_;
  if (plan.kind == RecoveryKind::kShrink) {
    plan.units = allowed_at_most(a.data_parallel);
    if (plan.units == 0) {
      plan.units = units_;
      plan.kind = RecoveryKind::kWaitForRepair;
      plan.shrink_refused = true;
    }
  }
  return plan;
}

int CampaignState::live_change_units(const RecoveryAction& a) const {
  int units = units_;
  if (a.kind == RecoveryKind::kGrow || a.kind == RecoveryKind::kShrink) units = allowed_at_most(a.data_parallel);
  return units == 0 ? units_ : units;
}

void CampaignState::rollback(double now, const RecoveryAction& a) {
  CheckpointState target{0, 0, 0};
  std::string level = "none";
  if (a.restore_iteration >= 0) {
    if (a.restore_from == StorageLevel::kPeer && peer_.iteration == a.restore_iteration) {
      target = peer_;
      level = "peer";
    } else if (persistent_.iteration == a.restore_iteration) {
      target = persistent_;
      level = "persistent";
    } else {
      throw core::InternalError("campaign: the recovery policy restores iteration " +
                                std::to_string(a.restore_iteration) + " from " + level_name(a.restore_from) +
                                ", which holds no such checkpoint");
    }
  }
  const std::int64_t lost_iterations = iteration_ - target.iteration;
  const double lost_s = std::max(0.0, work_s_ - target.work_s);
  result_.lost_work_s += lost_s;
  log(now, Json{{"event", "rollback"}, {"from_iteration", iteration_}, {"to_iteration", target.iteration},
                {"level", level}, {"lost_iterations", lost_iterations}, {"lost_work_s", lost_s}});
  iteration_ = target.iteration;
  work_s_ = target.work_s;
  frac_ = 0;
  // The replicas held by the failed nodes are gone: the peer level is incomplete until the next
  // peer checkpoint (Gemini re-replicates after recovery).
  peer_ = CheckpointState{};
}

void CampaignState::add_restart_time(double duration_s) {
  result_.restart_s += duration_s;
  exposure_s_ += duration_s;
}

// --- outputs ------------------------------------------------------------------------------------

void CampaignState::log(double now, Json entry) {
  entry["time_s"] = now;
  result_.events.push_back(std::move(entry));
}

void CampaignState::phase(const std::string& track, const std::string& name, double start_s, double end_s, Json args) {
  if (!setup_.record_phases) return;
  result_.phases.push_back(CampaignPhase{track, name, start_s, end_s, std::move(args)});
}

void CampaignState::finish(double now) {
  result_.wall_clock_s = now;
  result_.iterations = iteration_;
  result_.useful_s = work_s_;
  result_.costs = costs_;
}

}  // namespace frugal::engine
