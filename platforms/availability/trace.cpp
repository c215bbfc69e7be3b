// trace: replays a recorded availability trace (formats in trace_formats.hpp). Nodes are named
// as in the platform ("node<id>") or by their integer id. A profile file applies to every node
// of the node type, or to one node each when the path holds "{node}" (replaced by the name).
// Nodes a trace never mentions stay up; a node whose first event is "add" starts absent.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "platforms/availability/model_support.hpp"
#include "platforms/availability/trace_formats.hpp"
#include "sim/core/input_files.hpp"

namespace frugal::platforms {
namespace {

class TraceModel final : public AvailabilityModel {
 public:
  explicit TraceModel(const core::PluginParams& p)
      : AvailabilityModel(detail::stream_name(p)),
        path_(p.string("file")),
        notice_s_(p.number("notice")),
        shift_s_(p.number("time_shift")) {
    const std::string format = p.string("format");
    if (format == "auto") {
      const auto ext = std::filesystem::path(path_).extension().string();
      format_ = ext == ".json" ? TraceFormat::kCountJson : ext == ".csv" ? TraceFormat::kEventCsv : TraceFormat::kStateProfile;
    } else {
      format_ = trace_format_from_name(format);
    }
    const std::string down_as = p.string("down_as");
    preempt_ = down_as == "auto" ? (format_ == TraceFormat::kEventCsv || format_ == TraceFormat::kCountJson)
                                 : down_as == "preempt";
    per_node_ = path_.find("{node}") != std::string::npos;
    if (per_node_ && format_ != TraceFormat::kStateProfile && format_ != TraceFormat::kSpeedProfile)
      detail::param_error("file", "\"{node}\" in the path is for state and speed profiles (one file per node)");
    if (!per_node_) trace_ = load_trace(path_, format_, shift_s_);  // errors now, not mid-campaign
    else note_per_node_files();
  }

  /// The files a "{node}" pattern may name (read later, node by node), for the input log.
  void note_per_node_files() const {
    const std::filesystem::path pattern(path_);
    const std::string name = pattern.filename().string();
    const auto at = name.find("{node}");
    if (at == std::string::npos) return;  // "{node}" names a folder: recorded as each file is read
    const std::string prefix = name.substr(0, at), suffix = name.substr(at + 6);
    const auto folder = pattern.has_parent_path() ? pattern.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
      const std::string f = entry.path().filename().string();
      if (f.size() >= prefix.size() + suffix.size() && f.compare(0, prefix.size(), prefix) == 0 &&
          f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) core::InputFileLog::note(f);
  }

  std::vector<AvailabilityEvent> generate(const std::vector<AvailabilityNode>& nodes, double horizon_s,
                                          std::uint64_t) const override {
    Emitter out{*this, horizon_s, {}, {}};
    switch (format_) {
      case TraceFormat::kStateProfile:
      case TraceFormat::kSpeedProfile:
        for (const AvailabilityNode& n : nodes) {
          if (per_node_) {
            std::string path = path_;
            for (auto at = path.find("{node}"); at != std::string::npos; at = path.find("{node}"))
              path.replace(at, 6, n.name);
            replay_profile(out, n.id, load_trace(path, format_, shift_s_), horizon_s);
          } else {
            replay_profile(out, n.id, *trace_, horizon_s);
          }
        }
        break;
      case TraceFormat::kEventCsv: replay_events(out, nodes); break;
      case TraceFormat::kFta: replay_intervals(out, nodes); break;
      case TraceFormat::kCountJson: replay_counts(out, nodes); break;
    }
    detail::sort_events(out.events);
    return std::move(out.events);
  }

  double interruption_rate_per_s(int) const override { return std::nan(""); }

 private:
  struct NodeState {
    bool up = true;
    double up_since_s = 0;
    double speed = 1;
    int down_line = 0;
  };

  /// Collects events before the horizon and keeps each node's state.
  struct Emitter {
    const TraceModel& model;
    double horizon_s;
    std::vector<AvailabilityEvent> events;
    std::map<std::int64_t, NodeState> state;

    void set_up(core::NodeId node, double t, bool up, const std::string& cause, bool with_notice = true) {
      NodeState& s = state[node.value];
      s.up = up;
      if (up) s.up_since_s = t;
      if (!(t < horizon_s)) return;
      if (up) {
        events.push_back({t, node, model.preempt_ ? AvailabilityKind::kReturn : AvailabilityKind::kRepair, 1.0, 0.0, cause, 0});
        return;
      }
      if (model.preempt_ && model.notice_s_ > 0 && with_notice) {
        const double at = std::max(t - model.notice_s_, s.up_since_s);
        events.push_back({at, node, AvailabilityKind::kPreemptNotice, 1.0, t - at, cause, 0});
      }
      events.push_back({t, node, model.preempt_ ? AvailabilityKind::kPreempt : AvailabilityKind::kFail, 0.0, 0.0, cause, 0});
    }
  };

  std::string cause(const Trace& trace, int line) const {
    return "trace " + trace.file + " line " + std::to_string(line);
  }

  /// Records repeat with period (last date + LOOPAFTER) when LOOPAFTER > 0 (SimGrid semantics).
  void replay_profile(Emitter& out, core::NodeId node, const Trace& trace, double horizon_s) const {
    if (trace.records.empty()) return;
    const double period = trace.loop_after_s > 0 ? trace.records.back().time_s + trace.loop_after_s : 0;
    for (double offset = 0;; offset += period) {
      for (const TraceRecord& r : trace.records) {
        const double t = r.time_s + offset;
        if (!(t < horizon_s)) return;
        NodeState& s = out.state[node.value];
        if (trace.format == TraceFormat::kSpeedProfile) {
          if (r.value != s.speed) {
            s.speed = r.value;
            out.events.push_back({t, node, AvailabilityKind::kSpeedChange, r.value, 0.0, cause(trace, r.line), 0});
          }
        } else if ((r.value != 0) != s.up) {
          out.set_up(node, t, r.value != 0, cause(trace, r.line));
        }
      }
      if (period <= 0) return;
    }
  }

  /// Node names ("node3") and ids ("3") of the node type, for the records' node fields.
  struct NodeIndex {
    std::map<std::string, core::NodeId> by_key;
    std::string valid;  ///< for the error message
    explicit NodeIndex(const std::vector<AvailabilityNode>& nodes) {
      for (const AvailabilityNode& n : nodes) {
        by_key.emplace(n.name, n.id);
        by_key.emplace(std::to_string(n.id.value), n.id);
      }
      for (std::size_t i = 0; i < nodes.size() && i < 8; ++i) valid += (i ? ", " : "") + nodes[i].name;
      if (nodes.size() > 8) valid += ", ... " + nodes.back().name;
      valid = std::to_string(nodes.size()) + " nodes: " + valid;
    }
    core::NodeId at(const Trace& trace, const TraceRecord& r) const {
      const auto it = by_key.find(r.node);
      if (it != by_key.end()) return it->second;
      throw core::ConfigError(trace.file, "line " + std::to_string(r.line),
                              "unknown node \"" + r.node + "\" (this node type has " + valid + "; by name or by id)");
    }
  };

  void replay_events(Emitter& out, const std::vector<AvailabilityNode>& nodes) const {
    const Trace& trace = *trace_;
    const NodeIndex index(nodes);
    std::map<std::int64_t, bool> seen;
    // A node whose first event adds it was absent from the start.
    for (const TraceRecord& r : trace.records) {
      const core::NodeId node = index.at(trace, r);
      if (seen.emplace(node.value, true).second && r.value != 0)
        out.set_up(node, 0.0, false, cause(trace, r.line) + " (first event adds the node: absent at start)", false);
    }
    for (const TraceRecord& r : trace.records) {
      const core::NodeId node = index.at(trace, r);
      NodeState& s = out.state[node.value];
      const bool add = r.value != 0;
      if (add == s.up) {
        throw core::ConfigError(trace.file, "line " + std::to_string(r.line),
                                (add ? "adds node \"" : "removes node \"") + r.node + "\", which is already " +
                                    (add ? "present" : "removed (line " + std::to_string(s.down_line) + ")"));
      }
      if (!add) s.down_line = r.line;
      out.set_up(node, r.time_s, add, cause(trace, r.line));
    }
  }

  void replay_intervals(Emitter& out, const std::vector<AvailabilityNode>& nodes) const {
    // Records are per node in order but interleaved across nodes: replay by time, node.
    const NodeIndex index(nodes);
    std::vector<const TraceRecord*> order;
    for (const TraceRecord& r : trace_->records) order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->time_s < b->time_s; });
    for (const TraceRecord* r : order)
      out.set_up(index.at(*trace_, *r), r->time_s, r->value != 0, cause(*trace_, r->line));
  }

  /// Tick i: the first data[i] nodes (by id) are available, the others are not.
  void replay_counts(Emitter& out, const std::vector<AvailabilityNode>& given) const {
    std::vector<AvailabilityNode> nodes = given;
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    std::size_t up = nodes.size();
    for (const TraceRecord& r : trace_->records) {
      const auto count = static_cast<std::size_t>(r.value);
      if (count > nodes.size()) {
        throw core::ConfigError(trace_->file, "/data/" + std::to_string(r.line),
                                std::to_string(count) + " available nodes, but this node type has " +
                                    std::to_string(nodes.size()));
      }
      const std::string why = "trace " + trace_->file + " tick " + std::to_string(r.line) + ": " +
                              std::to_string(count) + " nodes available";
      for (std::size_t i = count; i < up; ++i) out.set_up(nodes[i].id, r.time_s, false, why);
      for (std::size_t i = up; i < count; ++i) out.set_up(nodes[i].id, r.time_s, true, why);
      up = count;
    }
  }

  std::string path_;
  TraceFormat format_ = TraceFormat::kStateProfile;
  bool preempt_ = false;
  bool per_node_ = false;
  double notice_s_;
  double shift_s_;
  std::optional<Trace> trace_;
};

}  // namespace

core::PluginInfo trace_availability_info() {
  using core::ParamSpec;
  using core::ParamType;
  std::vector<std::string> formats = {"auto"};
  for (const auto& f : trace_format_names()) formats.push_back(f);
  core::PluginInfo info{"trace", "replay of a recorded trace (SimGrid profile, event CSV, count JSON, FTA table)", {}};
  info.params = {
      ParamSpec{"file", ParamType::kString, {}, nullptr, -1e300, 1e300, {},
                "trace path, relative to the file that names it; \"{node}\" in a profile path stands for each "
                "node's name"},
      ParamSpec{"format", ParamType::kChoice, {}, "auto", -1e300, 1e300, formats,
                "auto: .json → count_json, .csv → event_csv, else state_profile"},
      ParamSpec{"down_as", ParamType::kChoice, {}, "auto", -1e300, 1e300, {"auto", "fail", "preempt"},
                "what a node going away is: auto: preempt for event_csv and count_json (spot traces), fail otherwise"},
      ParamSpec{"notice", ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e9, {},
                "preemption notice sent this long before each preemption (down_as preempt)"},
      ParamSpec{"time_shift", ParamType::kQuantity, core::Dimension::kTime, 0.0, -1e18, 1e18, {},
                "added to every time of the trace (e.g. minus its epoch); times must then be >= 0"},
      detail::label_param(),
  };
  return info;
}

std::unique_ptr<AvailabilityModel> make_trace_availability(const core::PluginParams& params) {
  return std::make_unique<TraceModel>(params);
}

}  // namespace frugal::platforms
