// frugalsim sweep (see sweep.hpp): strict reading of the sweep file, grid expansion, one forked
// child per point running app::run_study, and the result table.
#include "sim/app/sweep.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>

#include "sim/app/command_line.hpp"
#include "sim/app/commands.hpp"
#include "sim/app/slurm.hpp"
#include "sim/app/sweep_keys.hpp"
#include "sim/campaign/iteration_probe.hpp"
#include "sim/core/build_info.hpp"
#include "sim/core/input_files.hpp"
#include "sim/core/paths.hpp"

namespace frugal::app {
namespace {

namespace po = boost::program_options;
using core::ConfigError;
using core::Json;
using core::ObjectReader;
using OrderedJson = nlohmann::ordered_json;

constexpr std::size_t kMaxPoints = 1'000'000;
constexpr std::size_t kMaxErrorBytes = 8192;  // a child's reply stays far below a pipe's buffer

const std::set<std::string> kReservedColumns = {"point", "seed", "status", "error", "dir"};
const std::set<std::string> kResultStatuses = {"ok", "out_of_memory", "infeasible"};

/// Fails `reader` at `key` unless a value can be set at `pointer` in `base`.
void check_pointer(const std::string& pointer, const Json& base, const ObjectReader& reader, const std::string& key,
                   const std::string& study_file) {
  const std::string problem = study::settable_pointer_problem(pointer, base, study_file, false);
  if (!problem.empty()) reader.fail(key, problem);
}

SweepParameter read_parameter(ObjectReader r, const Json& base, const std::string& study_file) {
  SweepParameter p;
  p.pointer = r.string("pointer");
  check_pointer(p.pointer, base, r, "pointer", study_file);
  p.name = r.string_or("name", p.pointer);
  if (p.name.empty()) r.fail("name", "a column name must not be empty");
  if (kReservedColumns.count(p.name))
    r.fail("name", "\"" + p.name + "\" is a column of its own (reserved: point, seed, status, error, dir)");
  const Json& values = r.array("values");
  if (values.empty()) r.fail("values", "expected at least one value");
  p.values.assign(values.begin(), values.end());
  core::finish_declared(r, sweep_axis_keys());
  return p;
}

/// True when one pointer is the other or lies inside it.
bool overlaps(const std::string& a, const std::string& b) {
  const auto inside = [](const std::string& outer, const std::string& inner) {
    return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/';
  };
  return a == b || inside(a, b) || inside(b, a);
}

std::string shown_columns(const SweepPoint& p) {
  std::string out;
  for (const auto& [name, value] : p.columns) {
    if (!out.empty()) out += ", ";
    out += name + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

/// The child: runs the point's study into `dir` with stdout and stderr in dir/log.txt, replies
/// {"status", "error"?} on `fd`, and _exit()s.
[[noreturn]] void run_point_child(const Sweep& sweep, const SweepPoint& point, const std::filesystem::path& dir,
                                  int fd) {
  const int log = ::open((dir / "log.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log >= 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::close(log);
  }
  Json reply;
  int code = 0;
  try {
    RunOptions options;
    options.study = sweep.study;
    options.output_dir = dir;
    // The manifest records the equivalent single run.
    options.argv = {"frugalsim", "run", sweep.study.string(), "-o", dir.string()};
    for (const auto& [pointer, value] : point.overrides) {
      options.overrides.push_back(study::Override{pointer, value.dump()});
      options.argv.push_back("--set");
      options.argv.push_back(pointer + "=" + value.dump());
    }
    const Json summary = run_study(options);
    // Campaign event logs run to megabytes per point: kept only when the sweep asks for them.
    if (!sweep.point_events) std::filesystem::remove(dir / "events.json");
    reply = Json{{"status", summary.at("status")}};
  } catch (const ConfigError& e) {
    reply = Json{{"status", "invalid"}, {"error", std::string(e.what()).substr(0, kMaxErrorBytes)}};
    code = 2;
  } catch (const std::exception& e) {
    reply = Json{{"status", "error"}, {"error", std::string(e.what()).substr(0, kMaxErrorBytes)}};
    code = 3;
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  campaign::write_fully(fd, reply.dump());
  ::close(fd);
  ::_exit(code);
}

/// The reply stored in `dir` by a finished run of the point whose key is `key`: its status, and
/// its error message when that is a string (whatever else an edited point.json holds is not
/// trusted). A result (ok, out_of_memory, infeasible) also needs its summary still there.
std::optional<Json> stored_reply(const Json& key, const std::filesystem::path& dir) {
  Json stored;
  try {
    stored = core::load_json_file(dir / "point.json");
  } catch (const std::exception&) {
    return std::nullopt;  // never finished, or unreadable
  }
  if (!stored.is_object() || !stored.contains("key") || !stored.contains("reply") || stored.at("key") != key)
    return std::nullopt;
  const Json& reply = stored.at("reply");
  if (!reply.is_object() || !reply.contains("status") || !reply.at("status").is_string()) return std::nullopt;
  const std::string status = reply.at("status").get<std::string>();
  if (kResultStatuses.count(status)) {
    if (!core::is_regular_file(dir / "summary.json")) return std::nullopt;
    return Json{{"status", status}};  // a result's reply holds nothing else
  }
  Json out{{"status", status}};
  if (reply.contains("error") && reply.at("error").is_string()) out["error"] = reply.at("error");
  return out;
}

/// The reply of an earlier run of `point` into `dir` when it can stand for a new run: same key and
/// a result. Invalid and failed points run again (an invalid one stops while its study loads: it
/// costs nothing).
std::optional<Json> reusable_reply(const Json& key, const std::filesystem::path& dir) {
  auto reply = stored_reply(key, dir);
  if (reply && !kResultStatuses.count(reply->at("status").get<std::string>())) return std::nullopt;
  return reply;
}

/// This executable's size and modification time: a rebuild changes them even where the git
/// revision (taken at configure time) does not. Read once per process.
const std::string& build_identity() {
  static const std::string identity = [] {
    std::error_code error;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) return std::string("unknown");
    const auto size = std::filesystem::file_size(exe, error);
    const auto time = std::filesystem::last_write_time(exe, error);
    if (error) return std::string("unknown");
    return std::to_string(size) + " bytes, modified " + std::to_string(time.time_since_epoch().count());
  }();
  return identity;
}

void print_progress(std::size_t done, std::size_t of, const std::vector<SweepPoint>& points, std::size_t index,
                    const Json& reply, bool reused) {
  std::printf("[%zu/%zu] point %s %s%s  %s\n", done, of, point_dir_name(index, points.size()).c_str(),
              reply.at("status").get<std::string>().c_str(), reused ? " (reused)" : "",
              shown_columns(points[index]).c_str());
  if (reply.contains("error")) std::printf("    %s\n", reply.at("error").get<std::string>().c_str());
  std::fflush(stdout);
}

/// Runs the `selected` points, `jobs` children at a time (reusing earlier ones under --resume);
/// returns the replies by point (null for the points not selected).
std::vector<Json> run_points(const Sweep& sweep, const std::vector<SweepPoint>& points,
                             const std::vector<std::size_t>& selected, const std::filesystem::path& out_dir,
                             const SweepOptions& options, SweepReport& report) {
  const int jobs = std::max(1, options.jobs);
  std::vector<Json> replies(points.size());
  struct Child {
    std::size_t point;
    int fd;    ///< read end of its pipe
    Json key;  ///< point_key, stored with its reply
  };
  std::map<pid_t, Child> running;
  std::map<std::string, std::string> fingerprints;  // the files the points read, each hashed once
  std::size_t next = 0, done = 0;
  core::Progress* progress = options.progress;
  if (progress) progress->begin("sweep", static_cast<double>(selected.size()), "points");
  // The line per point goes to stdout; the status line (stderr) makes way for it on a terminal.
  const auto finished = [&](std::size_t index, bool reused) {
    if (progress) progress->clear();
    if (!options.quiet) print_progress(done, selected.size(), points, index, replies[index], reused);
    if (progress) progress->update(static_cast<double>(done));
  };
  while (next < selected.size() || !running.empty()) {
    while (next < selected.size() && static_cast<int>(running.size()) < jobs) {
      const std::size_t i = selected[next++];
      if (options.deadline && std::chrono::steady_clock::now() > *options.deadline) {
        replies[i] = Json{{"status", "skipped"}, {"error", "not started: the time budget was spent"}};
        ++done;
        finished(i, false);
        continue;
      }
      const auto dir = out_dir / "points" / point_dir_name(i, points.size());
      Json key = point_key(sweep, points[i], &fingerprints);
      if (options.resume) {
        if (auto reply = reusable_reply(key, dir)) {
          replies[i] = *reply;
          ++report.reused;
          ++done;
          finished(i, true);
          continue;
        }
      }
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      int fds[2];
      if (::pipe(fds) != 0) throw core::InternalError(std::string("sweep: pipe() failed: ") + std::strerror(errno));
      std::cout.flush();
      std::fflush(nullptr);  // or the child would flush the parent's buffered output again
      const pid_t pid = ::fork();
      if (pid < 0) throw core::InternalError(std::string("sweep: fork() failed: ") + std::strerror(errno));
      if (pid == 0) {
        ::close(fds[0]);
        for (const auto& [other, child] : running) ::close(child.fd);
        run_point_child(sweep, points[i], dir, fds[1]);
      }
      ::close(fds[1]);
      running[pid] = Child{i, fds[0], std::move(key)};
    }
    if (running.empty()) continue;  // the last points were reused: nothing to wait for
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw core::InternalError(std::string("sweep: waitpid() failed: ") + std::strerror(errno));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    Child child = std::move(it->second);
    running.erase(it);
    const std::size_t index = child.point;
    const int fd = child.fd;
    const std::string text = campaign::read_fully(fd);
    ::close(fd);
    Json reply;
    try {
      reply = Json::parse(text);
    } catch (const Json::exception&) {
      reply = Json{{"status", "error"},
                   {"error", WIFSIGNALED(status) ? "the point's process was killed by signal " + std::to_string(WTERMSIG(status))
                                                 : "the point's process exited with status " +
                                                       std::to_string(WEXITSTATUS(status)) + " without a result"}};
    }
    replies[index] = reply;
    // Written last, once the point's outputs are complete: what --resume trusts.
    write_atomically(out_dir / "points" / point_dir_name(index, points.size()) / "point.json",
                     Json{{"key", std::move(child.key)}, {"reply", reply}}.dump(1) + "\n");
    ++done;
    finished(index, false);
  }
  if (progress) progress->end();
  return replies;
}

}  // namespace

Sweep read_sweep(const Json& document, const std::string& file, const std::filesystem::path& base_dir) {
  ObjectReader r(document, file, "");
  Sweep sweep;
  sweep.file = file;
  sweep.name = r.string_or("name", std::filesystem::path(file).stem().string());
  const std::string study_ref = r.string("study");
  sweep.study = std::filesystem::path(study_ref).is_relative() ? (base_dir / study_ref).lexically_normal()
                                                               : std::filesystem::path(study_ref);
  if (!core::is_regular_file(sweep.study))
    r.fail("study", "no study file at \"" + sweep.study.string() + "\"");
  // Absolute: the points' keys (which name the files they read) are the same whichever folder
  // the sweep runs from, so a shard on a cluster node and --collect agree.
  std::error_code absolute_error;
  const auto absolute_study = std::filesystem::absolute(sweep.study, absolute_error);
  if (!absolute_error) sweep.study = absolute_study.lexically_normal();
  sweep.base_study = core::load_json_file(sweep.study);
  const Json& base = sweep.base_study;
  if (!base.is_object()) throw ConfigError(sweep.study.string(), "", "a study is a JSON object");
  const std::string study_file = sweep.study.string();

  std::vector<std::pair<std::string, std::string>> seen;  // pointer → where it was given
  auto claim = [&](const std::string& pointer, const ObjectReader& at, const std::string& key) {
    for (const auto& [other, where] : seen)
      if (overlaps(pointer, other))
        at.fail(key, "\"" + pointer + "\" " + (pointer == other ? "is also set" : "overlaps \"" + other + "\" set") +
                         " at " + where);
    seen.emplace_back(pointer, at.pointer_of(key));
  };
  std::set<std::string> names;
  auto name_once = [&](const SweepParameter& p, const ObjectReader& at) {
    if (!names.insert(p.name).second) at.fail(at.json().contains("name") ? "name" : "pointer", "column \"" + p.name + "\" is given twice");
  };

  if (r.has("parameters")) {
    const Json& params = r.array("parameters");
    for (std::size_t i = 0; i < params.size(); ++i) {
      ObjectReader axis_reader(params[i], file, r.pointer_of("parameters") + "/" + std::to_string(i));
      SweepAxis axis;
      if (axis_reader.has("zip")) {
        const Json& members = axis_reader.array("zip");
        if (members.empty()) axis_reader.fail("zip", "expected at least one {\"pointer\", \"values\"} member");
        for (std::size_t k = 0; k < members.size(); ++k) {
          ObjectReader m(members[k], file, axis_reader.pointer_of("zip") + "/" + std::to_string(k));
          SweepParameter p = read_parameter(m, base, study_file);
          claim(p.pointer, m, "pointer");
          name_once(p, m);
          if (k > 0 && p.values.size() != axis.size())
            m.fail("values", std::to_string(p.values.size()) + " values, but " + axis_reader.pointer_of("zip") +
                                 "/0/values has " + std::to_string(axis.size()) +
                                 " (the members of a zip take their values together)");
          axis.parameters.push_back(std::move(p));
        }
        core::finish_declared(axis_reader, sweep_axis_keys());
      } else {
        ObjectReader m(params[i], file, axis_reader.pointer());
        SweepParameter p = read_parameter(m, base, study_file);
        claim(p.pointer, m, "pointer");
        name_once(p, m);
        axis.parameters.push_back(std::move(p));
      }
      sweep.axes.push_back(std::move(axis));
    }
  }

  if (auto set = r.optional_object("set")) {
    for (auto it = set->json().begin(); it != set->json().end(); ++it) {
      set->has(it.key());
      check_pointer(it.key(), base, *set, it.key(), study_file);
      claim(it.key(), *set, it.key());
      sweep.fixed.emplace_back(it.key(), it.value());
    }
    set->finish();
  }

  const bool has_seeds = r.has("seeds"), has_reps = r.has("repetitions");
  if (has_seeds && has_reps) r.fail("repetitions", "give either \"seeds\" or \"repetitions\", not both");
  if (has_seeds || has_reps) {
    claim("/seed", r, has_seeds ? "seeds" : "repetitions");
    names.insert("seed");
  }
  if (has_seeds) {
    const Json& seeds = r.array("seeds");
    if (seeds.empty()) r.fail("seeds", "expected at least one seed");
    std::set<std::uint64_t> distinct;
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      if (!seeds[i].is_number_unsigned() && !(seeds[i].is_number_integer() && seeds[i].get<std::int64_t>() >= 0))
        throw ConfigError(file, r.pointer_of("seeds") + "/" + std::to_string(i),
                          "expected a non-negative integer seed, got " + seeds[i].dump());
      if (!distinct.insert(seeds[i].get<std::uint64_t>()).second)
        throw ConfigError(file, r.pointer_of("seeds") + "/" + std::to_string(i), "seed " + seeds[i].dump() + " is given twice");
      sweep.seeds.push_back(seeds[i].get<std::uint64_t>());
    }
  } else if (has_reps) {
    const auto reps = r.integer("repetitions", 1, static_cast<std::int64_t>(kMaxPoints));
    const Json& seed = base.contains("seed") ? base.at("seed") : Json(0);
    const std::uint64_t first = seed.is_number_unsigned() ? seed.get<std::uint64_t>() : 0;
    for (std::int64_t i = 0; i < reps; ++i) sweep.seeds.push_back(first + static_cast<std::uint64_t>(i));
  }

  if (auto outputs = r.optional_object("outputs")) {
    sweep.point_timelines = outputs->boolean_or("timeline", false);
    sweep.point_events = outputs->boolean_or("events", false);
    core::finish_declared(*outputs, sweep_outputs_keys());
  }
  core::finish_declared(r, sweep_file_keys());

  std::size_t count = std::max<std::size_t>(sweep.seeds.size(), 1);
  for (const auto& axis : sweep.axes) {
    if (count > kMaxPoints / axis.size())
      r.fail("parameters", "more than " + std::to_string(kMaxPoints) + " points; split the sweep");
    count *= axis.size();
  }
  return sweep;
}

Sweep load_sweep(const std::filesystem::path& path) {
  return read_sweep(core::load_json_file(path), path.string(), path.parent_path());
}

std::vector<SweepPoint> expand(const Sweep& sweep) {
  std::size_t count = std::max<std::size_t>(sweep.seeds.size(), 1);
  for (const auto& axis : sweep.axes) count *= axis.size();
  std::vector<SweepPoint> points(count);
  // Points write no timeline unless the sweep asks for them or sets /outputs itself.
  bool sets_timeline = false;
  for (const auto& [pointer, value] : sweep.fixed) sets_timeline |= overlaps(pointer, "/outputs/timeline");
  for (const auto& axis : sweep.axes)
    for (const auto& param : axis.parameters) sets_timeline |= overlaps(param.pointer, "/outputs/timeline");
  for (std::size_t i = 0; i < count; ++i) {
    SweepPoint& p = points[i];
    p.index = i;
    // Mixed-radix digits of i: the last axis (seeds) varies fastest.
    std::size_t rest = i;
    const std::size_t seed_index = sweep.seeds.empty() ? 0 : rest % sweep.seeds.size();
    if (!sweep.seeds.empty()) rest /= sweep.seeds.size();
    std::vector<std::size_t> digit(sweep.axes.size());
    for (std::size_t a = sweep.axes.size(); a-- > 0;) {
      digit[a] = rest % sweep.axes[a].size();
      rest /= sweep.axes[a].size();
    }
    for (const auto& [pointer, value] : sweep.fixed) p.overrides.emplace_back(pointer, value);
    for (std::size_t a = 0; a < sweep.axes.size(); ++a)
      for (const auto& param : sweep.axes[a].parameters) {
        p.columns.emplace_back(param.name, param.values[digit[a]]);
        p.overrides.emplace_back(param.pointer, param.values[digit[a]]);
      }
    if (!sweep.seeds.empty()) {
      p.columns.emplace_back("seed", sweep.seeds[seed_index]);
      p.overrides.emplace_back("/seed", sweep.seeds[seed_index]);
    }
    if (!sweep.point_timelines && !sets_timeline) p.overrides.emplace_back("/outputs/timeline", false);
  }
  return points;
}

Json flatten_scalars(const Json& summary) {
  Json out = Json::object();
  auto walk = [&out](auto&& self, const Json& v, const std::string& prefix) -> void {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
      if (it->is_object()) self(self, *it, key);
      else if (!it->is_array()) out[key] = *it;
    }
  };
  if (summary.is_object()) walk(walk, summary, "");
  return out;
}

Json point_key(const Sweep& sweep, const SweepPoint& point, std::map<std::string, std::string>* fingerprints) {
  Json overrides = Json::array();
  std::vector<study::Override> sets;
  for (const auto& [pointer, value] : point.overrides) {
    overrides.push_back({pointer, value});
    sets.push_back(study::Override{pointer, value.dump()});
  }
  // Every file the point's study reads (models, clusters, GPU catalogue, traces) by content: an
  // edited file reruns the points that read it. A study that does not load records what it read
  // before the error (its point is reported invalid by its run).
  Json inputs = Json::array();
  {
    core::InputFileLog log;
    try {
      (void)study::load_study(sweep.study, sets);
    } catch (const std::exception&) {
    }
    for (const auto& file : log.files()) {
      const std::string path = file.string();
      if (!fingerprints) {
        inputs.push_back({path, core::content_fingerprint(file)});
        continue;
      }
      auto it = fingerprints->find(path);
      if (it == fingerprints->end()) it = fingerprints->emplace(path, core::content_fingerprint(file)).first;
      inputs.push_back({path, it->second});
    }
  }
  return Json{{"frugalsim", core::frugalsim_version() + " " + core::git_revision()},
              {"build", build_identity()},
              {"keep_events", sweep.point_events},
              {"study", sweep.base_study},
              {"overrides", overrides},
              {"inputs", inputs}};
}

namespace {

/// Counts the replies of the `selected` points by kind into `report`.
void count_replies(const std::vector<Json>& replies, const std::vector<std::size_t>& selected, SweepReport& report) {
  report.statuses.assign(replies.size(), "");
  for (const std::size_t i : selected) {
    const std::string status = replies[i].at("status").get<std::string>();
    report.statuses[i] = status;
    if (kResultStatuses.count(status)) ++report.results;
    else if (status == "invalid") ++report.invalid;
    else if (status == "skipped") ++report.skipped;
    else ++report.failed;
  }
}

/// Writes sweep.csv and sweep.jsonl: one row per point, in point order; metric columns: every
/// scalar any point's summary has, sorted.
void write_table(const Sweep& sweep, const std::vector<SweepPoint>& points, const std::vector<Json>& replies,
                 const std::filesystem::path& out_dir) {
  std::vector<Json> metrics(points.size());
  std::set<std::string> metric_keys;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!kResultStatuses.count(replies[i].at("status").get<std::string>())) continue;
    const auto file = out_dir / "points" / point_dir_name(i, points.size()) / "summary.json";
    metrics[i] = flatten_scalars(core::load_json_file(file));
    metrics[i].erase("status");
    for (auto it = metrics[i].begin(); it != metrics[i].end(); ++it) metric_keys.insert(it.key());
  }

  std::ostringstream csv, jsonl;
  csv << "point";
  for (const auto& [name, value] : points.front().columns) csv << "," << csv_field(name);
  csv << ",status,error,dir";
  // A summary key that is also a parameter's column name ("cluster") is headed "summary.<key>":
  // a CSV reader keeps one column per name.
  std::set<std::string> parameter_names;
  for (const auto& [name, value] : points.front().columns) parameter_names.insert(name);
  for (const auto& key : metric_keys) csv << "," << csv_field(parameter_names.count(key) ? "summary." + key : key);
  csv << "\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string dir = "points/" + point_dir_name(i, points.size());
    const Json& reply = replies[i];
    const Json error = reply.contains("error") ? reply.at("error") : Json();
    csv << i;
    for (const auto& [name, value] : points[i].columns) csv << "," << csv_field(value);
    csv << "," << csv_field(reply.at("status")) << "," << csv_field(error) << "," << dir;
    for (const auto& key : metric_keys)
      csv << "," << (metrics[i].is_object() && metrics[i].contains(key) ? csv_field(metrics[i].at(key)) : "");
    csv << "\n";

    OrderedJson row;
    row["point"] = i;
    OrderedJson params = OrderedJson::object();
    for (const auto& [name, value] : points[i].columns)
      if (name != "seed") params[name] = OrderedJson::parse(value.dump());
    row["parameters"] = params;
    if (!sweep.seeds.empty()) row["seed"] = points[i].columns.back().second.get<std::uint64_t>();
    row["status"] = reply.at("status").get<std::string>();
    if (!error.is_null()) row["error"] = error.get<std::string>();
    row["dir"] = dir;
    row["metrics"] = metrics[i].is_object() ? OrderedJson::parse(metrics[i].dump()) : OrderedJson::object();
    jsonl << row.dump() << "\n";
  }
  write_atomically(out_dir / "sweep.csv", csv.str());
  write_atomically(out_dir / "sweep.jsonl", jsonl.str());
}

/// The replies of every point's finished run of its current key (collect); the others are
/// listed in report.missing_points.
std::vector<Json> collect_replies(const Sweep& sweep, const std::vector<SweepPoint>& points,
                                  const std::filesystem::path& out_dir, SweepReport& report) {
  std::vector<Json> replies(points.size());
  std::map<std::string, std::string> fingerprints;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto dir = out_dir / "points" / point_dir_name(i, points.size());
    if (auto reply = stored_reply(point_key(sweep, points[i], &fingerprints), dir)) replies[i] = std::move(*reply);
    else report.missing_points.push_back(i);
  }
  report.missing = report.missing_points.size();
  return replies;
}

}  // namespace

std::string csv_field(const Json& v) {
  std::string text;
  if (v.is_null()) return "";
  if (v.is_string()) text = v.get<std::string>();
  else text = v.dump();
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}


std::string point_dir_name(std::size_t index, std::size_t count) {
  std::size_t width = 4;
  for (std::size_t n = count > 0 ? count - 1 : 0; n >= 10000; n /= 10) ++width;
  std::string s = std::to_string(index);
  return std::string(width > s.size() ? width - s.size() : 0, '0') + s;
}

std::filesystem::path sweep_output_dir(const SweepOptions& options) {
  return options.output_dir.empty() ? options.sweep.parent_path() / "out" : options.output_dir;
}

SweepReport run_sweep(const SweepOptions& options) {
  const Sweep sweep = load_sweep(options.sweep);
  return run_sweep_points(sweep, expand(sweep), options);
}

SweepReport run_sweep_points(const Sweep& sweep, const std::vector<SweepPoint>& points, const SweepOptions& options) {
  const std::filesystem::path out_dir = sweep_output_dir(options);
  const bool sharded = options.shard_count > 1;
  if (options.shard_count == 0 || options.shard_index >= options.shard_count)
    throw core::InternalError("run_sweep: shard " + std::to_string(options.shard_index) + " of " +
                              std::to_string(options.shard_count));
  std::vector<std::size_t> selected;
  for (std::size_t i = options.shard_index; i < points.size(); i += options.shard_count) selected.push_back(i);
  SweepReport report;
  report.points = selected.size();
  std::vector<Json> replies;
  if (options.collect) {
    report.points = points.size();
    replies = collect_replies(sweep, points, out_dir, report);
    if (report.missing > 0) return report;
    count_replies(replies, selected, report);
  } else {
    std::filesystem::create_directories(out_dir / "points");
    if (!options.quiet) {
      std::printf("sweep %s: %zu points of %s", sweep.name.c_str(), points.size(), sweep.study.string().c_str());
      if (sharded) std::printf(", shard %zu/%zu: %zu of them", options.shard_index, options.shard_count, selected.size());
      std::printf(", %d at a time%s -> %s\n", std::max(1, options.jobs), options.resume ? ", resuming" : "",
                  std::filesystem::absolute(out_dir).lexically_normal().c_str());
    }
    replies = run_points(sweep, points, selected, out_dir, options, report);
    count_replies(replies, selected, report);
  }
  if (!sharded) write_table(sweep, points, replies, out_dir);
  if (!options.quiet) {
    std::printf("sweep %s%s: %zu points, %zu results, %zu invalid, %zu failed", sweep.name.c_str(),
                sharded ? (" shard " + std::to_string(options.shard_index) + "/" + std::to_string(options.shard_count)).c_str()
                        : "",
                report.points, report.results, report.invalid, report.failed);
    if (report.skipped) std::printf(", %zu skipped", report.skipped);
    if (options.resume) std::printf(" (%zu reused)", report.reused);
    std::printf("\n");
    if (!sharded) std::printf("results: %s\n", std::filesystem::absolute(out_dir / "sweep.csv").lexically_normal().c_str());
  }
  return report;
}

namespace {

/// "K/N" with 0 ≤ K < N.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  std::size_t k = 0, n = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    std::size_t used = 0;
    k = std::stoul(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument(text);
    n = std::stoul(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    throw po::error("--shard expects K/N (task K of N, 0 <= K < N), got \"" + text + "\"");
  }
  if (n < 1 || k >= n) throw po::error("--shard K/N needs 0 <= K < N, got \"" + text + "\"");
  return {k, n};
}

/// --slurm [--submit]: writes (and submits) the job array's script; returns the exit code.
int write_slurm_array(const SweepOptions& options, std::size_t tasks, const std::vector<std::string>& sbatch, bool submit) {
  const Sweep sweep = load_sweep(options.sweep);
  const std::size_t points = expand(sweep).size();
  const auto absolute = [](const std::filesystem::path& p) { return std::filesystem::absolute(p).lexically_normal(); };
  SlurmArray array;
  array.job_name = sweep.name;
  array.frugalsim = std::filesystem::read_symlink("/proc/self/exe");
  array.sweep = absolute(options.sweep);
  array.output_dir = absolute(sweep_output_dir(options));
  array.work_dir = std::filesystem::current_path();
  array.points = points;
  array.tasks = std::min(tasks == 0 ? std::size_t{100} : tasks, points);
  array.cpus_per_task = std::max(1, options.jobs);
  array.sbatch_options = sbatch;
  const auto script = array.output_dir / "sweep.sbatch";
  write_slurm_array_script(array, script);
  std::printf("wrote %s: %zu points in %zu array tasks of %d CPU%s\n", script.c_str(), points, array.tasks,
              array.cpus_per_task, array.cpus_per_task > 1 ? "s" : "");
  const std::string collect = "frugalsim sweep " + array.sweep.string() + " -o " + array.output_dir.string() + " --collect";
  if (!submit) {
    std::printf("submit: sbatch %s\nthen:   %s\n", script.c_str(), collect.c_str());
    return 0;
  }
  try {
    const std::string job = submit_slurm_script(script);
    std::printf("submitted job array %s (logs: %s)\nwhen it is done: %s\n", job.c_str(),
                (array.output_dir / "slurm").c_str(), collect.c_str());
  } catch (const SubmitError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  }
  return 0;
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  SweepOptions options;
  std::string sweep_file, output, shard;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool resume = false, quiet = false, collect = false, slurm = false, submit = false;
  long tasks = 0;  // 0: not given
  std::vector<std::string> sbatch;
  po::options_description opts("sweep options");
  opts.add_options()("output,o", po::value(&output), "output folder (default: <sweep folder>/out)")(
      "jobs,j", po::value(&jobs), "points run at once (default: the number of CPUs; with --slurm: per array task)")(
      "resume", po::bool_switch(&resume),
      "reuse the finished points of an earlier run into the same folder (same study, overrides and build)")(
      "quiet,q", po::bool_switch(&quiet), "no line per point, no progress on stderr")(
      "shard", po::value(&shard),
      "K/N: run only the points whose index is K modulo N (0 <= K < N; one task of a job array), no table")(
      "collect", po::bool_switch(&collect),
      "run nothing: write the table from the points' folders (after the shards); fails listing the points "
      "without a finished run")(
      "slurm", po::bool_switch(&slurm),
      "write <output>/sweep.sbatch, a Slurm job array whose tasks run the shards (resumable)")(
      "submit", po::bool_switch(&submit), "with --slurm: submit it with sbatch")(
      "tasks", po::value(&tasks), "with --slurm: array tasks (default: min(points, 100))")(
      "sbatch", po::value(&sbatch)->composing(),
      "with --slurm: a further #SBATCH option, e.g. --sbatch=--partition=gpu (repeatable)");
  if (!parse_command_line(args, "frugalsim sweep SWEEP.json [options]", opts, {"sweep", po::value(&sweep_file)}))
    return 0;
  if (sweep_file.empty()) throw po::error("missing SWEEP.json");
  if (jobs < 1) throw po::error("--jobs must be at least 1");
  if (submit) slurm = true;
  if (static_cast<int>(collect) + static_cast<int>(slurm) + static_cast<int>(!shard.empty()) > 1)
    throw po::error("--shard, --collect and --slurm exclude each other");
  if (!slurm && (tasks != 0 || !sbatch.empty())) throw po::error("--tasks and --sbatch go with --slurm");
  if (tasks < 0 || (tasks == 0 && option_given(args, "--tasks"))) throw po::error("--tasks must be at least 1");
  options.sweep = sweep_file;
  options.output_dir = output;
  options.jobs = jobs;
  options.quiet = quiet;
  options.resume = resume;
  options.collect = collect;
  if (!shard.empty()) std::tie(options.shard_index, options.shard_count) = parse_shard(shard);
  if (slurm) return write_slurm_array(options, static_cast<std::size_t>(tasks), sbatch, submit);
  core::ProgressOptions shown;
  shown.mode = core::stderr_progress_mode(quiet);
  core::Progress progress(std::cerr, shown);
  options.progress = &progress;
  const SweepReport report = run_sweep(options);
  if (report.missing > 0) {
    std::string list;
    for (std::size_t k = 0; k < report.missing_points.size() && k < 20; ++k)
      list += (k ? ", " : "") + std::to_string(report.missing_points[k]);
    if (report.missing_points.size() > 20) list += ", ...";
    std::cerr << "error: " << report.missing << " of " << report.points
              << " points have no finished run of their current study, overrides and build (points " << list
              << "); no table written. Run them (resubmit the job array: its tasks reuse the finished points, "
                 "or run the sweep with --resume) and collect again\n";
    return 3;
  }
  if (report.failed > 0) {
    std::cerr << "error: " << report.failed << " of " << report.points
              << " points failed (internal error); see the error column of sweep.csv\n";
    return 3;
  }
  if (report.invalid > 0) {
    std::cerr << "error: " << report.invalid << " of " << report.points
              << " points have an invalid study; see the error column of sweep.csv\n";
    return 2;
  }
  return 0;
}

}  // namespace frugal::app
