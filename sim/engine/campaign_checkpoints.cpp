// The campaign driver's checkpoint I/O (see campaign_controller.hpp): checkpoints, snapshots,
// peer replicas and reloads are SimGrid communications (or disk I/O) from/to every job node, so
// large jobs contend on the storage link; later transfers of the same kind and layout may reuse
// the measured duration (study::TransferSimulation). What the records then hold is state_'s.
#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/engine/campaign_controller.hpp"

namespace frugal::engine::campaign_detail {
namespace {

using core::Json;
using policies::CheckpointAction;
using policies::StorageLevel;

std::string level_name(StorageLevel level) { return std::string(policies::to_string(level)); }

}  // namespace

bool Controller::do_checkpoint(const CheckpointAction& action) {
  if (action.level == StorageLevel::kPeer) return write_peer(action.reason);
  if (action.level == StorageLevel::kHostMemory) return write_host_memory(action.reason);
  return action.async ? write_async(action.reason) : write_persistent(action.reason);
}

std::vector<sg4::ActivityPtr> Controller::start_persistent_writes() {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(state_.checkpoint_bytes_per_node())));
  for (int n : job()) {
    if (setup_.local_disk)
      out.push_back(platform_.node_disks.at(n)->write_async(bytes));
    else
      out.push_back(sg4::Comm::sendto_async(platform_.cpu_hosts[n], platform_.storage_host, bytes));
  }
  state_.result().activities += out.size();
  return out;
}

std::vector<sg4::ActivityPtr> Controller::start_snapshots() {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(setup_.checkpoint_bytes / std::max(state_.job_gpus(), 1))));
  for (int n : job())
    for (sg4::Host* gpu : gpu_hosts_of_node_[n]) out.push_back(sg4::Comm::sendto_async(gpu, platform_.cpu_hosts[n], bytes));
  state_.result().activities += out.size();
  return out;
}

std::vector<sg4::ActivityPtr> Controller::start_peer_copies() {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(state_.checkpoint_bytes_per_node())));
  const std::vector<int>& job_nodes = job();
  for (std::size_t i = 0; i < job_nodes.size(); ++i) {
    const int holder = job_nodes[(i + 1) % job_nodes.size()];
    if (holder == job_nodes[i]) continue;  // a one-node job has no peer: the copy stays local
    out.push_back(sg4::Comm::sendto_async(platform_.cpu_hosts[job_nodes[i]], platform_.cpu_hosts[holder], bytes));
  }
  state_.result().activities += out.size();
  return out;
}

std::vector<sg4::ActivityPtr> Controller::start_reloads(StorageLevel level, const std::vector<int>& replaced,
                                                       const std::vector<int>& failed) {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(state_.checkpoint_bytes_per_node())));
  if (level == StorageLevel::kPeer) {
    // Each replacement node fetches the replica its failed predecessor left on a peer (Gemini);
    // the surviving nodes restore from their own host memory (PCIe-fast, not modelled).
    for (std::size_t i = 0; i < replaced.size() && i < failed.size(); ++i) {
      const int holder = peer_holder_[failed[i]];
      if (holder >= 0 && holder != replaced[i] && node_up(holder))
        out.push_back(sg4::Comm::sendto_async(platform_.cpu_hosts[holder], platform_.cpu_hosts[replaced[i]], bytes));
    }
  } else {
    for (int n : job()) {
      if (setup_.local_disk)
        out.push_back(platform_.node_disks.at(n)->read_async(bytes));
      else
        out.push_back(sg4::Comm::sendto_async(platform_.storage_host, platform_.cpu_hosts[n], bytes));
    }
  }
  state_.result().activities += out.size();
  return out;
}

Op Controller::blocking_write(StorageLevel level, double& measured, const std::string& reason,
                              const std::string& phase_name, TransferStarter start_transfers) {
  const std::string name = level_name(level);
  const double start_s = now();
  const bool simulate = setup_.simulate_all_transfers || measured < 0;
  log(Json{{"event", "checkpoint_start"}, {"level", name}, {"async", false}, {"iteration", state_.iteration()},
           {"simulated", simulate}, {"reason", reason}});
  Op op;
  std::vector<sg4::ActivityPtr> transfers;
  if (simulate) {
    transfers = (this->*start_transfers)();
    op = wait_transfers(transfers);
  } else {
    op = wait_timer(measured);
  }
  const double dt = now() - start_s;
  state_.add_checkpoint_time(dt);
  if (op != Op::kDone) {
    cancel_all(transfers);
    ++state_.result().checkpoints_aborted;
    log(Json{{"event", "checkpoint_aborted"}, {"level", name}, {"iteration", state_.iteration()}, {"duration_s", dt},
             {"why", op == Op::kFailure ? "failure during the write" : "campaign end"}});
    phase("job", phase_name + " (aborted)", start_s, now(), Json{{"level", name}});
    return op;
  }
  if (simulate && measured < 0) measured = dt;
  log(Json{{"event", "checkpoint_end"}, {"level", name}, {"iteration", state_.iteration()}, {"duration_s", dt},
           {"measured", simulate}});
  phase("job", phase_name, start_s, now(), Json{{"level", name}, {"iteration", state_.iteration()}});
  return op;
}

bool Controller::write_persistent(const std::string& reason) {
  state_.discard_partial(now(), "checkpoint of the last completed iteration");
  const Op op = blocking_write(StorageLevel::kPersistent, state_.costs().checkpoint_s, reason, "checkpoint",
                               &Controller::start_persistent_writes);
  if (op != Op::kDone) return op != Op::kFailure;
  if (state_.checkpoint_written(StorageLevel::kPersistent, now())) abort_persist("superseded by a synchronous checkpoint");
  return true;
}

bool Controller::write_host_memory(const std::string& reason) {
  state_.discard_partial(now(), "snapshot of the last completed iteration");
  const Op op = blocking_write(StorageLevel::kHostMemory, state_.costs().snapshot_s, reason, "snapshot",
                               &Controller::start_snapshots);
  if (op != Op::kDone) return op != Op::kFailure;
  state_.checkpoint_written(StorageLevel::kHostMemory, now());
  return true;
}

bool Controller::write_async(const std::string& reason) {
  if (state_.persist_active()) abort_persist("superseded by a newer snapshot");
  if (!write_host_memory(reason)) return false;
  if (state_.host_memory().iteration != state_.iteration()) return true;  // stopped
  const double measured = state_.costs().persist_s;
  const bool simulate = setup_.simulate_all_transfers || measured < 0;
  double end_s = std::numeric_limits<double>::infinity();
  if (simulate) {
    persist_transfers_ = start_persistent_writes();
    persist_batch_ = start_batch(persist_transfers_);
  } else {
    end_s = now() + measured;
  }
  state_.begin_persist(now(), end_s, simulate);
  return true;
}

void Controller::complete_persist() {
  state_.complete_persist(now());
  persist_transfers_.clear();
  persist_batch_.reset();
}

void Controller::abort_persist(const std::string& why) {
  if (!state_.persist_active()) return;
  cancel_all(persist_transfers_);
  persist_batch_.reset();
  state_.abort_persist(now(), why);
}

bool Controller::write_peer(const std::string& reason) {
  state_.discard_partial(now(), "replica of the last completed iteration");
  const Op op = blocking_write(StorageLevel::kPeer, state_.costs().peer_s, reason, "peer checkpoint",
                               &Controller::start_peer_copies);
  if (op != Op::kDone) return op != Op::kFailure;
  state_.checkpoint_written(StorageLevel::kPeer, now());
  std::fill(peer_holder_.begin(), peer_holder_.end(), -1);
  const std::vector<int>& job_nodes = job();
  for (std::size_t i = 0; i < job_nodes.size(); ++i) peer_holder_[job_nodes[i]] = job_nodes[(i + 1) % job_nodes.size()];
  return true;
}

}  // namespace frugal::engine::campaign_detail
