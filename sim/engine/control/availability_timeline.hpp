// The nodes' availability as a campaign lives it (no SimGrid): the events the models drew,
// replayed in time order, plus the events of replacement machines drawn while the campaign
// runs. The controller asks it which nodes turn off or on at a date (and turns the hosts), which
// notices, repairs and speed changes to look at (hints), and what took a node down (causes).
//
// A replacement: when the campaign provisions a new machine in a down node's slot, the models
// whose events belong to the machine (AvailabilityModel::per_machine: a node's own failures,
// its spot instance) stop replaying the old machine's future and draw the new machine's from the
// provisioning date, from a stream of its own; the slot's other events (a rack's power, a
// recorded trace, speed episodes) go on. The node is up from the provisioning date whatever
// held it down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <set>
#include <utility>
#include <vector>

#include "platforms/availability/availability_model.hpp"
#include "sim/engine/control/campaign_types.hpp"

namespace frugal::engine {

class AvailabilityTimeline {
 public:
  /// A change of a node's effective up/down state (every model considered).
  struct StateChange {
    int node = 0;
    bool up = false;
    bool operator==(const StateChange&) const = default;
  };

  /// `events`: sorted by time (platforms::generate_events merged over node types); events of
  /// nodes outside [0, n_nodes) are ignored.
  AvailabilityTimeline(std::vector<platforms::AvailabilityEvent> events, int n_nodes, ReplacementDrawer drawer);

  // --- state (fail/repair/preempt/return) ----------------------------------------------------
  /// Date of the next down or up event not yet applied (infinity when none).
  double next_state_time();
  /// Applies down/up events dated ≤ now_s, in order, up to the first that changes a node's
  /// effective state, and returns that change (none: every event dated ≤ now_s is applied).
  /// One at a time, so that whoever turns the hosts may be interrupted and another caller
  /// continue where it stopped.
  std::optional<StateChange> next_change(double now_s);
  /// Every change next_change gives up to now_s, in order.
  std::vector<StateChange> apply_until(double now_s);
  /// True when no model holds the node down (after apply_until).
  bool up(int node) const { return state_.up(core::NodeId(node)); }

  // --- hints (notices, up events, speed changes) ---------------------------------------------
  double next_hint_time() const;
  /// Removes and returns the hints dated ≤ now_s, in order.
  std::vector<platforms::AvailabilityEvent> take_hints_until(double now_s);
  /// Drops hints dated before now_s (the job was down while they happened).
  void drop_hints_before(double now_s);
  /// Date of the first up or speed-change hint after now_s (infinity when none).
  double next_return_after(double now_s) const;

  // --- causes --------------------------------------------------------------------------------
  /// The latest down event of `node` dated ≤ now_s (null when none).
  const platforms::AvailabilityEvent* latest_down(int node, double now_s) const;
  /// A down (or up) event of `node` dated within tolerance_s of now_s (null when none).
  const platforms::AvailabilityEvent* transition_at(int node, double now_s, bool down, double tolerance_s) const;

  // --- replacements --------------------------------------------------------------------------
  /// A new machine in `node`'s slot from now_s: redraws its per-machine events (see the file
  /// comment) and releases every hold on the node. Returns the replacement's number (1, 2, ...).
  int replace(int node, double now_s);
  /// Events added by replacements so far.
  std::int64_t replacement_events() const { return replacement_events_; }

 private:
  using Key = std::pair<double, std::size_t>;  ///< (date, index into events_): time order, ties by index
  std::size_t add(platforms::AvailabilityEvent e);
  bool live(std::size_t k) const { return !cancelled_[k]; }

  std::vector<platforms::AvailabilityEvent> events_;  ///< append-only: indices stay valid
  std::vector<char> cancelled_;                        ///< by index: dropped by a replacement
  int n_nodes_;
  ReplacementDrawer drawer_;
  platforms::AvailabilityState state_;
  std::priority_queue<Key, std::vector<Key>, std::greater<>> pending_state_;
  std::set<Key> hints_;
  std::vector<std::vector<std::size_t>> of_node_;  ///< per node: its events' indices, time-ordered
  std::vector<int> replacements_;                      ///< per node
  std::int64_t replacement_events_ = 0;
};

}  // namespace frugal::engine
