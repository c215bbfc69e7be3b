// Availability models: when nodes fail, come back, are preempted (with notice) or slow down.
// A model is a plug-in ({"impl": name, ...}) attached to a node type; it turns (nodes, horizon,
// seed) into a time-ordered list of events. Pure and deterministic: no SimGrid here — the engine
// replays the events as host state and speed changes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/core/ids.hpp"
#include "sim/core/plugin.hpp"

namespace frugal::platforms {

enum class AvailabilityKind {
  kFail,           ///< the node stops (hardware or software failure); it is down until kRepair
  kRepair,         ///< the node (or its replacement in the same slot) is usable again
  kPreemptNotice,  ///< the provider announced a preemption at time_s + notice_s; still up
  kPreempt,        ///< the node is taken away; it is down until kReturn
  kReturn,         ///< a preempted node slot is allocated again and usable
  kSpeedChange,    ///< the node's speed becomes `value` × nominal (straggler, throttling, recovery)
};

/// "fail", "repair", "preempt_notice", "preempt", "return", "speed_change".
std::string_view to_string(AvailabilityKind kind);

/// True for kFail and kPreempt (the node goes down); kRepair and kReturn bring it back.
constexpr bool is_down(AvailabilityKind k) { return k == AvailabilityKind::kFail || k == AvailabilityKind::kPreempt; }
constexpr bool is_up(AvailabilityKind k) { return k == AvailabilityKind::kRepair || k == AvailabilityKind::kReturn; }

struct AvailabilityEvent {
  double time_s = 0;
  core::NodeId node;
  AvailabilityKind kind = AvailabilityKind::kFail;
  /// Speed ratio of the node after the event as seen by this model: 0 after fail/preempt,
  /// 1 after repair/return and at a notice, the new ratio after speed_change.
  double value = 0;
  double notice_s = 0;  ///< kPreemptNotice only: seconds until the announced preemption
  std::string cause;    ///< human-readable: model, group, trace file and line
  int source = 0;       ///< index of the model in its node type's list (set by generate_events)

  bool operator==(const AvailabilityEvent&) const = default;
};

/// A node as the models see it: its cluster id and the name traces use for it.
struct AvailabilityNode {
  core::NodeId id;
  std::string name;  ///< "node<id>", the SimGrid host prefix of the platform builder
};

/// Node `id` as the models see it ("node<id>").
inline AvailabilityNode availability_node(core::NodeId id) { return {id, "node" + std::to_string(id.value)}; }
/// The nodes of `cluster` whose type is `node_type` (index into cluster.node_types), by id.
std::vector<AvailabilityNode> availability_nodes(const Cluster& cluster, int node_type);
/// All nodes of `cluster`, by id.
std::vector<AvailabilityNode> availability_nodes(const Cluster& cluster);

class AvailabilityModel {
 public:
  /// `stream` names the model's random streams: the impl name, plus "/<label>" when labelled.
  explicit AvailabilityModel(std::string stream) : stream_(std::move(stream)) {}
  virtual ~AvailabilityModel() = default;

  /// Contract: events with 0 ≤ time_s < horizon_s, sorted by time_s (ties: by node id, then in
  /// causal order), only for `nodes`. Per node, down events (fail/preempt) and up events
  /// (repair/return) alternate, starting with a down event; a preempt follows its notice.
  /// A down event whose matching up event falls at or past the horizon leaves the node down.
  /// Deterministic in (nodes, horizon_s, seed); per-node models draw each node from its own
  /// stream (stream_seed(seed, node id, stream())), so a node's events do not depend on the
  /// other nodes listed. Throws core::ConfigError for trace files that do not fit `nodes`
  /// (unknown node names: file and "line N").
  virtual std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>& nodes, double horizon_s,
                                                  std::uint64_t seed) const = 0;

  /// Expected number of interruptions (events that take at least one of `node_count` nodes
  /// down) per second, for the job MTBF prior M = 1 / Σ rates. 0 when the model never takes a
  /// node down; NaN when it cannot say (traces).
  virtual double interruption_rate_per_s(int node_count) const = 0;

  /// Expected events per second on `node_count` nodes, for the memory guard of
  /// generate_events; by default the interruption rate (models with other events override it).
  virtual double expected_events_per_s(int node_count) const { return interruption_rate_per_s(node_count); }

  /// True when the model's events belong to the machine in a node's slot (its own failures,
  /// its spot instance): a replacement machine a campaign provisions draws new ones from its
  /// provisioning date (replacement_events). False when they belong to the slot or its
  /// surroundings (a rack's power, a recorded trace, speed episodes) and go on whatever machine
  /// fills it. Contract for true: each node is drawn from its own stream and no speed_change
  /// events are emitted.
  virtual bool per_machine() const { return false; }

  const std::string& stream() const { return stream_; }

 private:
  std::string stream_;
};

/// The registered availability models (explicit list in registry.cpp).
const core::Registry<AvailabilityModel>& availability_models();

/// Bound on the events one model may generate for one call (memory guard, see generate_events).
inline constexpr double kMaxAvailabilityEvents = 1e7;  // about 1.5 GB of events

/// The availability of one node type: one model or several combined (e.g. failures + spot +
/// stragglers). Shared pointers keep it copyable alongside the other cluster data.
struct AvailabilitySpec {
  std::vector<std::shared_ptr<const AvailabilityModel>> models;
  core::Json resolved = core::Json::array();  ///< each model's parameters in SI units
  std::string file;     ///< where it was read (for errors raised when generating)
  std::string pointer;
};

/// Reads `value`: one model object {"impl": ...} or an array of them. Errors name `file` and
/// the JSON pointer of the key at fault (cross-field errors too). Two models with the same impl
/// need distinct "label"s (their random streams must differ). A trace "file" is resolved
/// relative to the directory of `file` first, then the working directory.
AvailabilitySpec read_availability(const core::Json& value, const std::string& file, const std::string& pointer);

/// Events of every model of `spec` for `nodes`, merged: sorted by (time_s, node) and, within a
/// tie, by model order then each model's causal order; `source` = the model's index.
/// Throws ConfigError(spec.file, spec.pointer, ...) when a model would produce more than
/// kMaxAvailabilityEvents events on average (an MTBF far too small for the horizon), before
/// drawing them.
std::vector<AvailabilityEvent> generate_events(const AvailabilitySpec& spec, const std::vector<AvailabilityNode>& nodes,
                                               double horizon_s, std::uint64_t seed);

/// The events of the `replacement`-th machine (1, 2, ...) put in `node`'s slot at from_s by a
/// campaign: each per-machine model of `spec` generates `node` alone over [0, horizon_s − from_s)
/// with the seed stream_seed(seed, replacement, "replacement machine") — a stream no other
/// machine uses — and its dates are shifted by from_s; `source` set, sorted. `sources` receives
/// the indices of the per-machine models (whose later events of the old machine no longer apply).
std::vector<AvailabilityEvent> replacement_events(const AvailabilitySpec& spec, const AvailabilityNode& node,
                                                  double from_s, double horizon_s, std::uint64_t seed,
                                                  int replacement, std::vector<int>& sources);

/// Σ of the models' interruption rates for `node_count` nodes (NaN if any is unknown).
double interruption_rate_per_s(const AvailabilitySpec& spec, int node_count);

/// Effective state of nodes under merged events of several models: a node is up when no model
/// holds it down; its speed is the product of the ratios of the models' latest speed_change.
class AvailabilityState {
 public:
  /// Applies one event; true when the node's effective up/down state or speed changed.
  bool apply(const AvailabilityEvent& event);
  bool up(core::NodeId node) const;
  /// Releases every hold on `node` (a new machine in its slot): up until a model takes it down
  /// again; a later up event of a released hold changes nothing.
  void release(core::NodeId node);
  double speed(core::NodeId node) const;

 private:
  struct Node {
    std::vector<int> down_by;                       ///< sources holding it down
    std::vector<std::pair<int, double>> ratio_by;   ///< source → latest speed ratio
  };
  std::map<std::int64_t, Node> nodes_;  ///< by node id; absent: up at full speed
};

/// SimGrid speed profile ("date ratio" lines) of `node`'s effective speed; only changes.
std::string speed_profile(const std::vector<AvailabilityEvent>& events, core::NodeId node);

}  // namespace frugal::platforms
