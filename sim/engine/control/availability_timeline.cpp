// The campaign's availability timeline (see availability_timeline.hpp): a heap of the down/up
// events still to apply, an ordered set of hints, per-node transitions for causes, and
// replacements that drop the old machine's future and add the new machine's.
#include "sim/engine/control/availability_timeline.hpp"

#include <algorithm>
#include <limits>

#include "sim/core/error.hpp"

namespace frugal::engine {

using platforms::AvailabilityEvent;
using platforms::AvailabilityKind;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

bool is_transition(const AvailabilityEvent& e) { return platforms::is_down(e.kind) || platforms::is_up(e.kind); }
bool is_hint(const AvailabilityEvent& e) {
  return e.kind == AvailabilityKind::kPreemptNotice || platforms::is_up(e.kind) || e.kind == AvailabilityKind::kSpeedChange;
}
}  // namespace

AvailabilityTimeline::AvailabilityTimeline(std::vector<AvailabilityEvent> events, int n_nodes, ReplacementDrawer drawer)
    : n_nodes_(n_nodes), drawer_(std::move(drawer)), of_node_(n_nodes), replacements_(n_nodes, 0) {
  events_.reserve(events.size());
  for (AvailabilityEvent& e : events)
    if (e.node.value >= 0 && e.node.value < n_nodes_) add(std::move(e));
}

std::size_t AvailabilityTimeline::add(AvailabilityEvent e) {
  const std::size_t k = events_.size();
  events_.push_back(std::move(e));
  cancelled_.push_back(0);
  const AvailabilityEvent& ev = events_.back();
  if (is_transition(ev)) pending_state_.emplace(ev.time_s, k);
  if (is_hint(ev)) hints_.emplace(ev.time_s, k);
  // Per node, kept in time order: an added event goes after those at or before its date.
  auto& mine = of_node_[ev.node.value];
  mine.insert(std::upper_bound(mine.begin(), mine.end(), ev.time_s,
                               [this](double t, std::size_t j) { return t < events_[j].time_s; }),
              k);
  return k;
}

// --- state --------------------------------------------------------------------------------------

double AvailabilityTimeline::next_state_time() {
  while (!pending_state_.empty() && !live(pending_state_.top().second)) pending_state_.pop();  // dropped ones
  return pending_state_.empty() ? kInf : pending_state_.top().first;
}

std::optional<AvailabilityTimeline::StateChange> AvailabilityTimeline::next_change(double now_s) {
  while (next_state_time() <= now_s) {
    const std::size_t k = pending_state_.top().second;
    pending_state_.pop();
    const AvailabilityEvent& e = events_[k];
    const bool was_up = up(e.node.value);
    state_.apply(e);
    if (up(e.node.value) != was_up) return StateChange{static_cast<int>(e.node.value), !was_up};
  }
  return std::nullopt;
}

std::vector<AvailabilityTimeline::StateChange> AvailabilityTimeline::apply_until(double now_s) {
  std::vector<StateChange> changes;
  while (const auto c = next_change(now_s)) changes.push_back(*c);
  return changes;
}

// --- hints --------------------------------------------------------------------------------------

double AvailabilityTimeline::next_hint_time() const {
  for (const Key& key : hints_)
    if (live(key.second)) return key.first;
  return kInf;
}

std::vector<AvailabilityEvent> AvailabilityTimeline::take_hints_until(double now_s) {
  std::vector<AvailabilityEvent> out;
  while (!hints_.empty() && hints_.begin()->first <= now_s) {
    const std::size_t k = hints_.begin()->second;
    hints_.erase(hints_.begin());
    if (live(k)) out.push_back(events_[k]);
  }
  return out;
}

void AvailabilityTimeline::drop_hints_before(double now_s) {
  while (!hints_.empty() && hints_.begin()->first < now_s) hints_.erase(hints_.begin());
}

double AvailabilityTimeline::next_return_after(double now_s) const {
  for (auto it = hints_.upper_bound(Key(now_s, std::numeric_limits<std::size_t>::max())); it != hints_.end(); ++it) {
    const AvailabilityEvent& e = events_[it->second];
    if (live(it->second) && (platforms::is_up(e.kind) || e.kind == AvailabilityKind::kSpeedChange)) return it->first;
  }
  return kInf;
}

// --- causes -------------------------------------------------------------------------------------

const AvailabilityEvent* AvailabilityTimeline::latest_down(int node, double now_s) const {
  const auto& mine = of_node_[node];
  for (auto it = mine.rbegin(); it != mine.rend(); ++it) {
    const AvailabilityEvent& e = events_[*it];
    if (e.time_s <= now_s && platforms::is_down(e.kind)) return &e;
  }
  return nullptr;
}

const AvailabilityEvent* AvailabilityTimeline::transition_at(int node, double now_s, bool down, double tolerance_s) const {
  const auto& mine = of_node_[node];
  auto it = std::lower_bound(mine.begin(), mine.end(), now_s - tolerance_s,
                             [this](std::size_t k, double t) { return events_[k].time_s < t; });
  for (; it != mine.end() && events_[*it].time_s <= now_s + tolerance_s; ++it) {
    const AvailabilityEvent& e = events_[*it];
    if (down ? platforms::is_down(e.kind) : platforms::is_up(e.kind)) return &e;
  }
  return nullptr;
}

// --- replacements -------------------------------------------------------------------------------

int AvailabilityTimeline::replace(int node, double now_s) {
  const int number = ++replacements_[node];
  ReplacementDraw draw = drawer_ ? drawer_(node, now_s, number) : ReplacementDraw{};
  // The old machine's future from the redrawn models: dropped (lazily from the heap and hints;
  // from the node's list at once, so causes never name it).
  auto redrawn = [&](const AvailabilityEvent& e) {
    return std::find(draw.redrawn_sources.begin(), draw.redrawn_sources.end(), e.source) != draw.redrawn_sources.end();
  };
  auto& mine = of_node_[node];
  for (std::size_t k : mine)
    if (events_[k].time_s > now_s && redrawn(events_[k])) cancelled_[k] = 1;
  mine.erase(std::remove_if(mine.begin(), mine.end(), [this](std::size_t k) { return cancelled_[k] != 0; }), mine.end());
  state_.release(core::NodeId(node));
  for (AvailabilityEvent& e : draw.events) {
    if (e.node.value != node || e.time_s < now_s || !redrawn(e) || e.kind == AvailabilityKind::kSpeedChange)
      throw core::InternalError("availability: a replacement draw for node " + std::to_string(node) +
                                " returned an event of another node, date, model or kind");
    e.cause += " (replacement machine " + std::to_string(number) + " in this slot)";
    add(std::move(e));
    ++replacement_events_;
  }
  return number;
}

}  // namespace frugal::engine
