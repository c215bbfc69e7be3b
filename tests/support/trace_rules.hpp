// The Chrome trace-event format's rules, as the timeline tests check them on timeline.json and
// measurements.json: required fields per phase, metadata names, complete events that never
// overlap the next one on their track (in the viewers' double arithmetic), counters in time
// order, every used track and process named. Header-only; returns the problems found.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace frugal::test_support {

struct TraceCounts {
  int slices = 0, instants = 0, counter_samples = 0, metadata = 0;
  std::set<std::pair<int, std::string>> counters;  ///< (pid, counter name)
};

inline std::vector<std::string> trace_problems(const nlohmann::json& doc, TraceCounts* counts = nullptr) {
  using nlohmann::json;
  std::vector<std::string> bad;
  TraceCounts local;
  TraceCounts& n = counts ? *counts : local;
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc.at("traceEvents").is_array())
    return {"not an object with a traceEvents array"};
  if (doc.contains("displayTimeUnit") && doc.at("displayTimeUnit") != "ms" && doc.at("displayTimeUnit") != "ns")
    bad.push_back("displayTimeUnit must be \"ms\" or \"ns\"");
  auto is_int = [](const json& e, const char* k) { return e.contains(k) && e.at(k).is_number_integer(); };
  auto is_num = [](const json& e, const char* k) { return e.contains(k) && e.at(k).is_number(); };
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> tracks;  // X: (ts, dur) in file order
  std::map<std::pair<int, std::string>, double> last_sample;
  std::set<std::pair<int, int>> named_tracks, used_tracks;
  std::set<int> named_processes, used_processes;
  std::size_t i = 0;
  for (const json& e : doc.at("traceEvents")) {
    const std::string at = "event " + std::to_string(i++) + ": ";
    if (!e.is_object() || !e.contains("ph") || !e.at("ph").is_string() || !e.contains("name") || !e.at("name").is_string()) {
      bad.push_back(at + "needs string ph and name");
      continue;
    }
    const std::string ph = e.at("ph");
    if (!is_int(e, "pid")) bad.push_back(at + "pid must be an integer");
    const int pid = e.value("pid", 0);
    if (e.contains("args") && !e.at("args").is_object()) bad.push_back(at + "args must be an object");
    if (ph == "M") {
      ++n.metadata;
      const std::string name = e.at("name");
      const json args = e.value("args", json::object());
      if (name == "process_name" || name == "thread_name") {
        if (!args.contains("name") || !args.at("name").is_string()) bad.push_back(at + name + " needs args.name");
      } else if (name == "process_sort_index" || name == "thread_sort_index") {
        if (!is_int(args, "sort_index")) bad.push_back(at + name + " needs an integer args.sort_index");
      } else if (name != "process_labels") {
        bad.push_back(at + "unknown metadata name " + name);
      }
      if ((name == "thread_name" || name == "thread_sort_index") && !is_int(e, "tid")) bad.push_back(at + name + " needs tid");
      if (name == "process_name") named_processes.insert(pid);
      if (name == "thread_name") named_tracks.insert({pid, e.value("tid", 0)});
      continue;
    }
    if (!is_num(e, "ts") || e.at("ts").get<double>() < 0) {
      bad.push_back(at + "ts must be a number >= 0");
      continue;
    }
    const double ts = e.at("ts");
    used_processes.insert(pid);
    if (ph == "X") {
      ++n.slices;
      if (!is_int(e, "tid")) bad.push_back(at + "X needs tid");
      if (!is_num(e, "dur") || e.at("dur").get<double>() < 0) bad.push_back(at + "X needs dur >= 0");
      tracks[{pid, e.value("tid", 0)}].push_back({ts, e.value("dur", 0.0)});
      used_tracks.insert({pid, e.value("tid", 0)});
    } else if (ph == "i" || ph == "I") {
      ++n.instants;
      const std::string scope = e.value("s", "t");
      if (scope != "g" && scope != "p" && scope != "t") bad.push_back(at + "instant scope must be g, p or t");
      if (scope == "t" && !is_int(e, "tid")) bad.push_back(at + "thread instant needs tid");
    } else if (ph == "C") {
      ++n.counter_samples;
      const json args = e.value("args", json::object());
      if (args.empty()) bad.push_back(at + "counter needs args");
      for (const auto& [k, v] : args.items())
        if (!v.is_number()) bad.push_back(at + "counter series " + k + " is not a number");
      const std::pair<int, std::string> key{pid, e.at("name").get<std::string>()};
      n.counters.insert(key);
      const auto it = last_sample.find(key);
      if (it != last_sample.end() && !(ts > it->second))
        bad.push_back(at + "counter " + key.second + " of pid " + std::to_string(pid) + " not after its previous sample");
      last_sample[key] = ts;
    } else {
      bad.push_back(at + "unexpected phase " + ph);
    }
  }
  for (auto& [track, slices] : tracks) {
    std::stable_sort(slices.begin(), slices.end());
    for (std::size_t k = 0; k + 1 < slices.size(); ++k)
      if (slices[k].first + slices[k].second > slices[k + 1].first)
        bad.push_back("track (" + std::to_string(track.first) + ", " + std::to_string(track.second) + "): slice at " +
                      std::to_string(slices[k].first) + " us ends after the next one starts");
  }
  for (const auto& t : used_tracks)
    if (!named_tracks.count(t))
      bad.push_back("track (" + std::to_string(t.first) + ", " + std::to_string(t.second) + ") has no thread_name");
  for (int p : used_processes)
    if (!named_processes.count(p)) bad.push_back("pid " + std::to_string(p) + " has no process_name");
  return bad;
}

}  // namespace frugal::test_support
