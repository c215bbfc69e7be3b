// Reading availability specs, merging the events of several models, and the effective node
// state (up/down, speed) that the engine turns into SimGrid state and speed profiles.
#include "platforms/availability/availability_model.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "platforms/availability/model_support.hpp"
#include "sim/core/paths.hpp"

namespace frugal::platforms {
namespace {

/// A trace path relative to the file that names it, when it exists there (for a "{node}"
/// pattern: when its folder exists there); otherwise as written (working directory).
std::string resolve_trace_path(const std::string& path, const std::string& referrer) {
  const std::filesystem::path p(path);
  if (p.is_absolute() || referrer.empty()) return path;
  const std::filesystem::path candidate = std::filesystem::path(referrer).parent_path() / p;
  const bool pattern = path.find("{node}") != std::string::npos;
  const bool found = pattern ? core::is_directory(candidate.parent_path().empty() ? "." : candidate.parent_path())
                             : core::path_exists(candidate);
  return found ? candidate.lexically_normal().string() : path;
}

std::string shown(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::string_view to_string(AvailabilityKind kind) {
  switch (kind) {
    case AvailabilityKind::kFail: return "fail";
    case AvailabilityKind::kRepair: return "repair";
    case AvailabilityKind::kPreemptNotice: return "preempt_notice";
    case AvailabilityKind::kPreempt: return "preempt";
    case AvailabilityKind::kReturn: return "return";
    case AvailabilityKind::kSpeedChange: return "speed_change";
  }
  return "?";
}

std::vector<AvailabilityNode> availability_nodes(const Cluster& cluster, int node_type) {
  std::vector<AvailabilityNode> out;
  for (int n = 0; n < cluster.node_count(); ++n)
    if (node_type < 0 || cluster.node_type_of.at(static_cast<std::size_t>(n)) == node_type)
      out.push_back(availability_node(core::NodeId(n)));
  return out;
}

std::vector<AvailabilityNode> availability_nodes(const Cluster& cluster) { return availability_nodes(cluster, -1); }

AvailabilitySpec read_availability(const core::Json& value, const std::string& file, const std::string& pointer) {
  AvailabilitySpec spec;
  spec.file = file;
  spec.pointer = pointer;
  std::vector<std::pair<core::Json, std::string>> items;  // (model object, its pointer)
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) items.emplace_back(value[i], pointer + "/" + std::to_string(i));
  } else if (value.is_object()) {
    items.emplace_back(value, pointer);
  } else {
    throw core::ConfigError(file, pointer,
                            "expected an availability model {\"impl\": ...} or an array of them (" +
                                core::list_valid(availability_models().names()) + ")");
  }
  std::set<std::string> streams;
  for (auto& [item, item_pointer] : items) {
    if (item.is_object() && item.contains("impl") && item["impl"] == "trace" && item.contains("file") &&
        item["file"].is_string())
      item["file"] = resolve_trace_path(item["file"].get<std::string>(), file);
    std::optional<core::PluginParams> resolved;
    std::shared_ptr<const AvailabilityModel> model =
        availability_models().create(item, file, item_pointer, &resolved);
    if (!streams.insert(model->stream()).second) {
      throw core::ConfigError(file, item_pointer,
                              "a second \"" + model->stream() +
                                  "\" model on this node type: give each a distinct \"label\" so their random "
                                  "streams differ");
    }
    spec.models.push_back(std::move(model));
    spec.resolved.push_back(resolved->to_json());
  }
  return spec;
}

std::vector<AvailabilityEvent> generate_events(const AvailabilitySpec& spec, const std::vector<AvailabilityNode>& nodes,
                                               double horizon_s, std::uint64_t seed) {
  std::vector<AvailabilityEvent> all;
  for (std::size_t m = 0; m < spec.models.size(); ++m) {
    const AvailabilityModel& model = *spec.models[m];
    const double expected = model.expected_events_per_s(static_cast<int>(nodes.size())) * horizon_s;
    if (std::isfinite(expected) && expected > kMaxAvailabilityEvents) {
      throw core::ConfigError(spec.file, spec.pointer,
                              "availability model \"" + model.stream() + "\" would produce about " + shown(expected) +
                                  " events on " + std::to_string(nodes.size()) + " nodes over " + shown(horizon_s) +
                                  " s (limit " + shown(kMaxAvailabilityEvents) +
                                  "): its event rate is far too high for this campaign");
    }
    for (AvailabilityEvent& e : model.generate(nodes, horizon_s, seed)) {
      e.source = static_cast<int>(m);
      all.push_back(std::move(e));
    }
  }
  detail::sort_events(all);
  return all;
}

std::vector<AvailabilityEvent> replacement_events(const AvailabilitySpec& spec, const AvailabilityNode& node,
                                                  double from_s, double horizon_s, std::uint64_t seed,
                                                  int replacement, std::vector<int>& sources) {
  std::vector<AvailabilityEvent> all;
  sources.clear();
  const std::uint64_t machine_seed = stream_seed(seed, replacement, "replacement machine");
  for (std::size_t m = 0; m < spec.models.size(); ++m) {
    if (!spec.models[m]->per_machine()) continue;
    sources.push_back(static_cast<int>(m));
    if (!(from_s < horizon_s)) continue;
    for (AvailabilityEvent& e : spec.models[m]->generate({node}, horizon_s - from_s, machine_seed)) {
      e.time_s += from_s;
      e.source = static_cast<int>(m);
      all.push_back(std::move(e));
    }
  }
  detail::sort_events(all);
  return all;
}

double interruption_rate_per_s(const AvailabilitySpec& spec, int node_count) {
  double sum = 0;
  for (const auto& m : spec.models) sum += m->interruption_rate_per_s(node_count);
  return sum;
}

bool AvailabilityState::apply(const AvailabilityEvent& event) {
  const bool was_up = up(event.node);
  const double was_speed = speed(event.node);
  Node& n = nodes_[event.node.value];
  auto holder = std::find(n.down_by.begin(), n.down_by.end(), event.source);
  if (is_down(event.kind) && holder == n.down_by.end()) n.down_by.push_back(event.source);
  if (is_up(event.kind) && holder != n.down_by.end()) n.down_by.erase(holder);
  if (event.kind == AvailabilityKind::kSpeedChange) {
    auto it = std::find_if(n.ratio_by.begin(), n.ratio_by.end(), [&](const auto& p) { return p.first == event.source; });
    if (it == n.ratio_by.end()) n.ratio_by.emplace_back(event.source, event.value);
    else it->second = event.value;
  }
  return up(event.node) != was_up || speed(event.node) != was_speed;
}

void AvailabilityState::release(core::NodeId node) {
  const auto it = nodes_.find(node.value);
  if (it != nodes_.end()) it->second.down_by.clear();
}

bool AvailabilityState::up(core::NodeId node) const {
  const auto it = nodes_.find(node.value);
  return it == nodes_.end() || it->second.down_by.empty();
}

double AvailabilityState::speed(core::NodeId node) const {
  const auto it = nodes_.find(node.value);
  double ratio = 1.0;
  if (it != nodes_.end())
    for (const auto& [source, r] : it->second.ratio_by) ratio *= r;
  return ratio;
}

std::string speed_profile(const std::vector<AvailabilityEvent>& events, core::NodeId node) {
  AvailabilityState s;
  std::ostringstream out;
  out.precision(17);
  double last = s.speed(node);
  for (const AvailabilityEvent& e : events) {
    if (e.node != node) continue;
    s.apply(e);
    if (s.speed(node) != last) {
      last = s.speed(node);
      out << e.time_s << " " << last << "\n";
    }
  }
  return out.str();
}

}  // namespace frugal::platforms
