// Chrome trace events on an exact time grid, with lanes so that no two slices of a track overlap
// (see trace_events.hpp).
#include "sim/program/trace_events.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

namespace frugal::program {

using core::Json;

namespace {

constexpr int kLaneTidStep = 100;        // tid of extra lane n of track t: t + 100·n
constexpr int kBackgroundTidBase = 1000;  // background lanes: t + 1000 + 100·n

double ticks_to_us(long long ticks) { return static_cast<double>(ticks) * kTraceTickUs; }

std::string lane_name(const std::string& track, bool background, int lane) {
  if (background) return track + ": background" + (lane > 0 ? " " + std::to_string(lane + 1) : "");
  return track + " (" + std::to_string(lane + 1) + ")";
}

}  // namespace

long long trace_ticks(double time_s) { return std::llround(time_s * 1e6 / kTraceTickUs); }

std::string memory_counter_name(Location where) { return to_string(where) + " memory"; }

void TraceBuilder::process(int pid, const std::string& name, int sort_index) {
  processes_.push_back({pid, 0, name, sort_index});
}

void TraceBuilder::track(int pid, int tid, const std::string& name) { tracks_.push_back({pid, tid, name, tid}); }

void TraceBuilder::stream_tracks(int pid, const RankProgram& rp) {
  const bool host = std::any_of(rp.ops.begin(), rp.ops.end(), [](const Op& op) { return op.stream == Stream::kHost; });
  for (int s = 0; s < kStreamCount; ++s)
    if (static_cast<Stream>(s) != Stream::kHost || host) track(pid, s, to_string(static_cast<Stream>(s)));
}

void TraceBuilder::slice(int pid, int tid, std::string name, std::string category, double start_s, double end_s,
                         Json args, bool background) {
  const long long start = trace_ticks(start_s);
  slices_.push_back({pid, tid, std::move(name), std::move(category), start, std::max(start, trace_ticks(end_s)),
                     std::move(args), background});
}

void TraceBuilder::instant(int pid, int tid, std::string name, std::string category, double time_s, Json args,
                           const std::string& scope) {
  instants_.push_back({pid, tid, std::move(name), std::move(category), scope, trace_ticks(time_s), std::move(args)});
}

void TraceBuilder::counter(int pid, const std::string& name, const std::string& series, double time_s, double value) {
  samples_.push_back({pid, name, series, trace_ticks(time_s), value});
}

Json TraceBuilder::events() const {
  Json out = Json::array();
  for (const Named& p : processes_) {
    out.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", p.pid}, {"args", {{"name", p.name}}}});
    out.push_back({{"name", "process_sort_index"}, {"ph", "M"}, {"pid", p.pid}, {"args", {{"sort_index", p.sort_index}}}});
  }
  std::map<std::pair<int, int>, std::string> track_names;
  for (const Named& t : tracks_) track_names[{t.pid, t.tid}] = t.name;

  // Lanes: per (pid, tid, background), slices by start (then end, then order given) go to the
  // first lane whose last slice has ended.
  std::vector<std::size_t> order(slices_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
    const Slice &x = slices_[a], &y = slices_[b];
    return std::tie(x.pid, x.tid, x.background, x.start, x.end) < std::tie(y.pid, y.tid, y.background, y.start, y.end);
  });
  std::map<std::tuple<int, int, bool>, std::vector<long long>> lane_ends;
  std::map<std::pair<int, int>, std::vector<Json>> by_track;  // final (pid, tid) → events
  for (std::size_t i : order) {
    const Slice& s = slices_[i];
    auto& ends = lane_ends[{s.pid, s.tid, s.background}];
    std::size_t lane = 0;
    while (lane < ends.size() && ends[lane] > s.start) ++lane;
    if (lane == ends.size()) ends.push_back(s.end);
    ends[lane] = s.end;
    const int tid = s.tid + (s.background ? kBackgroundTidBase : 0) + kLaneTidStep * static_cast<int>(lane);
    if (tid != s.tid && !track_names.count({s.pid, tid})) {
      const auto base = track_names.find({s.pid, s.tid});
      track_names[{s.pid, tid}] =
          lane_name(base != track_names.end() ? base->second : std::to_string(s.tid), s.background, static_cast<int>(lane));
    }
    by_track[{s.pid, tid}].push_back({{"name", s.name},
                                      {"cat", s.category},
                                      {"ph", "X"},
                                      {"pid", s.pid},
                                      {"tid", tid},
                                      {"ts", ticks_to_us(s.start)},
                                      {"dur", ticks_to_us(s.end - s.start)},
                                      {"args", s.args}});
  }
  for (const auto& [key, name] : track_names) {
    out.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", key.first}, {"tid", key.second}, {"args", {{"name", name}}}});
    out.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", key.first}, {"tid", key.second},
                   {"args", {{"sort_index", key.second}}}});
  }
  // Instants join their track's slices; each track's events in time order (stable).
  for (const Instant& e : instants_)
    by_track[{e.pid, e.tid}].push_back({{"name", e.name},
                                        {"cat", e.category},
                                        {"ph", "i"},
                                        {"s", e.scope},
                                        {"pid", e.pid},
                                        {"tid", e.tid},
                                        {"ts", ticks_to_us(e.at)},
                                        {"args", e.args}});
  for (auto& [key, events] : by_track) {
    std::stable_sort(events.begin(), events.end(),
                     [](const Json& a, const Json& b) { return a.at("ts").get<double>() < b.at("ts").get<double>(); });
    for (Json& e : events) out.push_back(std::move(e));
  }
  // Counters: per (pid, name), samples in time order, the last one of each tick.
  std::map<std::pair<int, std::string>, std::vector<const Sample*>> counters;
  for (const Sample& s : samples_) counters[{s.pid, s.name}].push_back(&s);
  for (auto& [key, samples] : counters) {
    std::stable_sort(samples.begin(), samples.end(), [](const Sample* a, const Sample* b) { return a->at < b->at; });
    for (std::size_t k = 0; k < samples.size(); ++k) {
      if (k + 1 < samples.size() && samples[k + 1]->at == samples[k]->at) continue;
      out.push_back({{"name", key.second},
                     {"ph", "C"},
                     {"pid", key.first},
                     {"ts", ticks_to_us(samples[k]->at)},
                     {"args", {{samples[k]->series, samples[k]->value}}}});
    }
  }
  return out;
}

Json trace_document(Json events, Json other_data) {
  other_data["time_unit"] = "microseconds";
  other_data["time_tick_us"] = kTraceTickUs;
  return Json{{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}, {"otherData", std::move(other_data)}};
}

}  // namespace frugal::program
