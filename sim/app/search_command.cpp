// frugalsim search (see search_command.hpp): screen, exact memory check of the leaders,
// finalists simulated by the sweep runner, ranking and tables.
#include "sim/app/search_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "policies/memory/memory_policy.hpp"
#include "sim/app/command_line.hpp"
#include "sim/app/commands.hpp"
#include "sim/app/sweep.hpp"
#include "sim/core/units.hpp"
#include "sim/engine/memory_check.hpp"
#include "sim/program/program.hpp"
#include "sim/search/layout_space.hpp"

namespace frugal::app {
namespace {

namespace po = boost::program_options;
using core::ConfigError;
using core::Json;
using search::Fate;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// The study as the layout makes it: its policies, micro-batch size and cluster.
study::Study study_of(const study::Study& base, const search::LayoutSpec& spec, const platforms::Cluster& cluster) {
  study::Study s = base;
  const std::string file = base.file.string();
  s.parallelism = policies::parallelism_policies().create(spec.parallelism, file, "/parallelism", &s.parallelism_params);
  s.memory = policies::memory_policies().create(spec.memory, file, "/memory", &s.memory_params);
  s.training.micro_batch_size = spec.micro_batch_size;
  s.cluster = cluster;
  study::apply_memory_budgets(s.cluster, *s.memory, s.memory_params, file);
  return s;
}

/// A short label of a layout: "t=4 p=2 d=1 1f1b sp zero=1 b=2 selective".
std::string label(const search::LayoutSpec& spec, int gpus, bool show_gpus) {
  const Json& p = spec.parallelism;
  const int t = p.value("tensor_model_parallel_size", 1), pp = p.value("pipeline_model_parallel_size", 1),
            c = p.value("context_parallel_size", 1), v = p.value("virtual_pipeline_model_parallel_size", 1);
  std::ostringstream out;
  if (show_gpus) out << "gpus=" << gpus << " ";
  out << "t=" << t;
  if (c > 1) out << " c=" << c;
  out << " p=" << pp << " d=" << gpus / std::max(1, t * c * pp);
  if (v > 1) out << " v=" << v;
  if (pp > 1) out << " " << p.value("schedule", "1f1b");
  if (p.value("sequence_parallel", false)) out << " sp";
  out << " zero=" << p.value("zero_stage", 0) << " b=" << spec.micro_batch_size << " "
      << spec.memory.value("impl", "none");
  if (p.value("partition", "equal") != "equal") out << " " << p.value("partition", "");
  if (p.value("batch_split", "equal") != "equal") out << " " << p.value("batch_split", "");
  return out.str();
}

std::string fate_name(Fate f) {
  switch (f) {
    case Fate::kScreened: return "screened";
    case Fate::kInvalid: return "invalid";
    case Fate::kOverMemory: return "over_memory_estimate";
    case Fate::kOverCost: return "over_cost_estimate";
  }
  return "?";
}

struct Options {
  std::string study, output, objective, time_budget, max_memory;
  int jobs = 1, top = 0, finalists = 0, max_gpus = 0;
  double max_cost_per_token = -1;
  bool resume = false, quiet = false;
};

/// A finalist: its layout index, its spec and cluster, its estimate; after the run, its outcome.
struct Finalist {
  std::size_t index = 0;
  search::LayoutSpec spec;
  int gpus = 0;
  double price_per_s = 0;  ///< Σ billed price per GPU-hour / 3600
  std::string status;
  Json summary;
  double score = 0;
  bool ranked = false;
};

/// What a search decided so far: the space, every layout's screen, the finalists, and why the
/// others were dropped.
struct SearchState {
  const study::Study& study;
  const Json& document;
  const study::SearchSpec& spec;
  search::LayoutSpace space;
  std::vector<search::ScreenedLayout> screened;
  std::map<std::string, std::pair<std::size_t, std::string>> dropped;  ///< reason → count, an example
  std::map<std::size_t, std::string> exact_fate;  ///< layout → its fate after the exact check
  std::vector<Finalist> finalists;
  bool varies_gpus = false;

  const platforms::Cluster& cluster_for(int nodes) const { return space.clusters.at(nodes); }
  void drop(const std::string& reason, const std::string& example) {
    auto& [count, first] = dropped[reason];
    if (count++ == 0) first = example;
  }
};

/// The exact static memory check of the layouts in `order` (best estimate first) until
/// spec.finalists pass: the lowered program's peaks within the GPUs (and max_memory_per_gpu),
/// and a program no better layout already has. Returns the number of layouts checked.
std::size_t select_finalists(SearchState& st, const std::vector<std::size_t>& order) {
  std::size_t checked = 0;
  std::map<std::string, std::size_t> programs;  // program fingerprint → the layout that has it
  for (const std::size_t index : order) {
    if (static_cast<int>(st.finalists.size()) >= st.spec.finalists) break;
    Finalist f;
    f.index = index;
    f.spec = search::layout_spec(st.space, index, st.document);
    const platforms::Cluster& cluster = st.cluster_for(f.spec.nodes);
    const study::Study s = study_of(st.study, f.spec, cluster);
    ++checked;
    PlannedStudy planned;
    try {
      planned = plan_study(s);
    } catch (const InfeasiblePlan& e) {
      st.exact_fate[index] = "invalid_exact";
      st.drop("invalid when lowered", e.what());
      continue;
    }
    const auto memory = engine::check_memory(planned.program, s.cluster);
    const double peak = *std::max_element(memory.peak_bytes.begin(), memory.peak_bytes.end());
    if (!memory.fits() || (st.spec.max_memory_per_gpu_bytes > 0 && peak > st.spec.max_memory_per_gpu_bytes)) {
      st.exact_fate[index] = "over_memory_static";
      st.drop("over memory (static check of the lowered program)", label(f.spec, cluster.gpu_count(), st.varies_gpus));
      continue;
    }
    // Two layouts that lower to the same program (selective recomputation where the fused
    // attention kernel stores no scores, say) are one run: the better estimate stands for both.
    Json program = program::to_json(planned.program);
    program.erase("metadata");
    const std::string fingerprint =
        std::to_string(cluster.gpu_count()) + ":" + std::to_string(std::hash<std::string>{}(program.dump()));
    if (const auto [it, fresh] = programs.emplace(fingerprint, index); !fresh) {
      st.exact_fate[index] = "same_program";
      st.drop("same program as a better layout",
              label(f.spec, cluster.gpu_count(), st.varies_gpus) + " = layout " + std::to_string(it->second));
      continue;
    }
    st.exact_fate[index] = "finalist";
    f.gpus = cluster.gpu_count();
    for (int g = 0; g < cluster.gpu_count(); ++g) f.price_per_s += cluster.type_of_gpu(g).billed_price_per_gpu_hour() / 3600.0;
    st.finalists.push_back(std::move(f));
  }
  return checked;
}

/// The finalists as sweep points: the layout index and every dimension's value as columns, the
/// study's sections they replace as overrides.
std::vector<SweepPoint> finalist_points(SearchState& st) {
  std::vector<SweepPoint> points;
  for (std::size_t k = 0; k < st.finalists.size(); ++k) {
    const Finalist& f = st.finalists[k];
    SweepPoint p;
    p.index = k;
    const auto digit = st.space.digits(f.index);
    p.columns.emplace_back("layout", Json(f.index));
    for (std::size_t d = 0; d < st.space.dimensions.size(); ++d)
      p.columns.emplace_back(st.space.dimensions[d].name, st.space.dimensions[d].values[digit[d]]);
    p.overrides.emplace_back("/parallelism", f.spec.parallelism);
    p.overrides.emplace_back("/memory", f.spec.memory);
    p.overrides.emplace_back("/training/micro_batch_size", Json(f.spec.micro_batch_size));
    if (f.spec.nodes != st.study.cluster.node_count())
      p.overrides.emplace_back("/cluster", platforms::to_json(st.cluster_for(f.spec.nodes)));
    p.overrides.emplace_back("/outputs/timeline", false);
    points.push_back(std::move(p));
  }
  return points;
}

/// Reads each finalist's run (its status from the sweep report: a skipped or failed point's
/// folder may hold an older run's summary) and scores the ok ones within the constraints;
/// returns the finalists' indices, best first.
std::vector<std::size_t> rank_finalists(SearchState& st, const SweepReport& report, const std::filesystem::path& out_dir) {
  for (std::size_t k = 0; k < st.finalists.size(); ++k) {
    Finalist& f = st.finalists[k];
    f.status = k < report.statuses.size() ? report.statuses[k] : "";
    if (f.status != "ok" && f.status != "out_of_memory" && f.status != "infeasible") continue;
    f.summary = core::load_json_file(out_dir / "points" / point_dir_name(k, st.finalists.size()) / "summary.json");
    if (f.status != "ok") continue;
    const double tokens_per_s = st.spec.objective == "goodput" ? f.summary.value("goodput_tokens_per_s", 0.0)
                                                               : f.summary.value("tokens_per_s", 0.0);
    const double cost_per_token =
        f.price_per_s * f.summary.value("iteration_time_s", 0.0) / f.summary.value("tokens_per_iteration", 1.0);
    const double peak = f.summary.value("max_peak_memory_bytes", 0.0);
    if (st.spec.max_memory_per_gpu_bytes > 0 && peak > st.spec.max_memory_per_gpu_bytes) continue;
    if (st.spec.max_cost_per_token > 0 && cost_per_token > st.spec.max_cost_per_token) continue;
    f.score = search::objective_score(st.spec.objective, tokens_per_s, cost_per_token,
                                      f.summary.value("energy_j_per_token", 0.0));
    f.summary["cost_per_token"] = cost_per_token;
    f.ranked = true;
  }
  std::vector<std::size_t> ranking;
  for (std::size_t k = 0; k < st.finalists.size(); ++k)
    if (st.finalists[k].ranked) ranking.push_back(k);
  std::stable_sort(ranking.begin(), ranking.end(),
                   [&](std::size_t a, std::size_t b) { return st.finalists[a].score > st.finalists[b].score; });
  return ranking;
}

/// search.csv: every layout of the space, its fate, estimate and (finalists) simulated figures.
std::string search_csv(const SearchState& st, const std::vector<std::size_t>& ranking) {
  std::map<std::size_t, std::size_t> rank_of;  // finalist → rank (1-based)
  for (std::size_t r = 0; r < ranking.size(); ++r) rank_of[ranking[r]] = r + 1;
  std::map<std::size_t, std::size_t> finalist_of;  // layout → finalist
  for (std::size_t k = 0; k < st.finalists.size(); ++k) finalist_of[st.finalists[k].index] = k;
  std::ostringstream csv;
  csv << "layout";
  for (const auto& d : st.space.dimensions) csv << "," << csv_field(Json(d.name));
  csv << ",fate,reason,estimated_iteration_time_s,estimated_tokens_per_s,estimated_peak_memory_bytes,"
         "estimated_energy_j_per_token,estimated_cost_per_token,status,iteration_time_s,tokens_per_s,"
         "max_peak_memory_bytes,energy_j_per_token,cost_per_token,mfu,rank,dir\n";
  for (const auto& s : st.screened) {
    const auto digit = st.space.digits(s.index);
    csv << s.index;
    for (std::size_t d = 0; d < st.space.dimensions.size(); ++d) csv << "," << csv_field(st.space.dimensions[d].values[digit[d]]);
    const auto exact = st.exact_fate.find(s.index);
    csv << "," << (exact != st.exact_fate.end() ? exact->second : fate_name(s.fate)) << "," << csv_field(Json(s.message));
    if (s.fate == Fate::kInvalid) {
      csv << ",,,,,";
    } else {
      char buf[256];
      std::snprintf(buf, sizeof buf, ",%.9g,%.9g,%.9g,%.9g,%.9g", s.estimate.iteration_time_s, s.estimate.tokens_per_s,
                    s.estimate.peak_memory_bytes, s.estimate.energy_j_per_token, s.estimate.cost_per_token);
      csv << buf;
    }
    const auto f = finalist_of.find(s.index);
    if (f == finalist_of.end()) {
      csv << ",,,,,,,,,\n";
      continue;
    }
    const Finalist& fin = st.finalists[f->second];
    const auto field = [&](const char* key) {
      return fin.summary.is_object() && fin.summary.contains(key) ? csv_field(fin.summary.at(key)) : "";
    };
    csv << "," << fin.status << "," << field("iteration_time_s") << "," << field("tokens_per_s") << ","
        << field("max_peak_memory_bytes") << "," << field("energy_j_per_token") << "," << field("cost_per_token") << ","
        << field("mfu") << "," << (rank_of.count(f->second) ? std::to_string(rank_of.at(f->second)) : "") << ",points/"
        << point_dir_name(f->second, st.finalists.size()) << "\n";
  }
  return csv.str();
}

/// The top layouts by the simulated objective, then the finalists that gave no ranked result.
void print_top(const SearchState& st, const std::vector<std::size_t>& ranking, bool quiet) {
  std::printf("%s%zu of %zu finalists ranked by %s (simulated; the estimate in parentheses):\n", quiet ? "" : "\n",
              ranking.size(), st.finalists.size(), st.spec.objective.c_str());
  std::printf("%4s  %-52s %12s %12s %10s %9s %6s\n", "rank", "layout", "tokens/s", "(estimate)", "iteration", "peak GiB", "MFU");
  for (std::size_t r = 0; r < ranking.size() && static_cast<int>(r) < st.spec.top; ++r) {
    const Finalist& f = st.finalists[ranking[r]];
    const auto& est = st.screened[f.index].estimate;
    std::printf("%4zu  %-52s %12.0f %12.0f %9.4fs %9.2f %6.3f\n", r + 1, label(f.spec, f.gpus, st.varies_gpus).c_str(),
                f.summary.value("tokens_per_s", 0.0), est.tokens_per_s, f.summary.value("iteration_time_s", 0.0),
                f.summary.value("max_peak_memory_bytes", 0.0) / 1073741824.0, f.summary.value("mfu", 0.0));
    if (st.spec.objective == "cost")
      std::printf("      cost per million tokens: %.4f\n", f.summary.value("cost_per_token", 0.0) * 1e6);
    if (st.spec.objective == "energy") std::printf("      energy per token: %.4f J\n", f.summary.value("energy_j_per_token", 0.0));
    if (st.spec.objective == "goodput")
      std::printf("      goodput: %.0f tokens/s\n", f.summary.value("goodput_tokens_per_s", 0.0));
  }
  for (const Finalist& f : st.finalists)
    if (!f.ranked && !f.status.empty() && f.status != "ok")
      std::printf("      %s: %s\n", label(f.spec, f.gpus, st.varies_gpus).c_str(), f.status.c_str());
}

}  // namespace

int cmd_search(const std::vector<std::string>& args) {
  Options o;
  o.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  po::options_description opts("search options");
  opts.add_options()("output,o", po::value(&o.output), "output folder (default: <study folder>/out/search)")(
      "jobs,j", po::value(&o.jobs), "finalists simulated at once (default: the number of CPUs)")(
      "objective", po::value(&o.objective), "throughput, cost, energy or goodput (default: the study's /search, else throughput)")(
      "top", po::value(&o.top), "layouts printed (default 10)")(
      "finalists", po::value(&o.finalists), "layouts simulated (default 16)")(
      "max-gpus", po::value(&o.max_gpus), "at most this many GPUs (fewer nodes of a one-group cluster)")(
      "max-memory", po::value(&o.max_memory), "peak memory per GPU at most this, e.g. \"40 GiB\"")(
      "max-cost-per-token", po::value(&o.max_cost_per_token), "currency units per token at most this")(
      "time-budget", po::value(&o.time_budget), "no finalist starts after this, e.g. \"60 s\"")(
      "resume", po::bool_switch(&o.resume), "reuse finalists simulated by an earlier search into the same folder")(
      "quiet,q", po::bool_switch(&o.quiet), "no line per finalist, no progress on stderr");
  if (!parse_command_line(args, "frugalsim search STUDY.json [options]", opts, {"study", po::value(&o.study)})) return 0;
  if (o.study.empty()) throw po::error("missing STUDY.json");
  if (o.jobs < 1) throw po::error("--jobs must be at least 1");
  if (option_given(args, "--top") && o.top < 1) throw po::error("--top must be at least 1");
  if (option_given(args, "--finalists") && o.finalists < 1) throw po::error("--finalists must be at least 1");
  if (option_given(args, "--max-gpus") && o.max_gpus < 1) throw po::error("--max-gpus must be at least 1");

  const auto start = Clock::now();
  const std::filesystem::path study_path = std::filesystem::absolute(o.study).lexically_normal();
  const study::Study study = study::load_study(study_path);
  const Json document = core::load_json_file(study_path);
  study::SearchSpec spec = study.search.value_or(study::SearchSpec{});
  const auto option_quantity = [](const std::string& name, const std::string& text, core::Dimension dim) {
    try {
      return core::parse_quantity(text, dim);
    } catch (const std::exception& e) {
      throw ConfigError(name, "", e.what());
    }
  };
  if (!o.objective.empty()) {
    const auto& names = study::search_objectives();
    if (std::find(names.begin(), names.end(), o.objective) == names.end())
      throw po::error("--objective must be throughput, cost, energy or goodput, got \"" + o.objective + "\"");
    spec.objective = o.objective;
  }
  if (o.top > 0) spec.top = o.top;
  if (o.finalists > 0) spec.finalists = o.finalists;
  if (o.max_gpus > 0) spec.max_gpus = o.max_gpus;
  if (!o.max_memory.empty()) spec.max_memory_per_gpu_bytes = option_quantity("--max-memory", o.max_memory, core::Dimension::kBytes);
  if (o.max_cost_per_token >= 0) spec.max_cost_per_token = o.max_cost_per_token;
  if (!o.time_budget.empty()) spec.time_budget_s = option_quantity("--time-budget", o.time_budget, core::Dimension::kTime);
  if (spec.objective == "goodput" && !study.campaign)
    throw ConfigError(study_path.string(), "/search/objective", "goodput is a campaign's: the study has no \"campaign\" section");
  if (spec.objective == "cost")
    for (const auto& type : study.cluster.node_types)
      if (!type.has_price)
        throw ConfigError(study_path.string(), "/search/objective",
                          "cost needs a price for every node type; node type \"" + type.name + "\" has none");

  SearchState st{study, document, spec, search::make_space(study, document, spec)};
  st.varies_gpus = st.space.dimensions.front().values.size() > 1;
  if (!o.quiet) {
    std::printf("search %s: %zu layouts (", study.name.c_str(), st.space.size());
    for (std::size_t k = 0; k < st.space.dimensions.size(); ++k)
      std::printf("%s%s %zu", k ? " x " : "", st.space.dimensions[k].name.c_str(), st.space.dimensions[k].values.size());
    std::printf("), objective %s\n", spec.objective.c_str());
    std::fflush(stdout);
  }

  // 1. Screen every layout in-process; rank the survivors by their estimate.
  const auto screen_start = Clock::now();
  st.screened = search::screen(study, document, st.space, spec);
  const double screen_s = seconds_since(screen_start);
  std::vector<std::size_t> order;
  for (const auto& s : st.screened) {
    if (s.fate == Fate::kScreened) order.push_back(s.index);
    else st.drop(s.fate == Fate::kInvalid ? "invalid " + s.reason : fate_name(s.fate), s.message);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return st.screened[a].score > st.screened[b].score; });

  // 2. The exact static memory check of the leaders.
  const auto check_start = Clock::now();
  const std::size_t checked = select_finalists(st, order);
  const double check_s = seconds_since(check_start);
  const double per_s = static_cast<double>(st.space.size()) / std::max(screen_s, 1e-9);
  if (!o.quiet) {
    std::printf("screened %zu layouts in %.3f s (%.0f layouts/s): %zu within the constraints; exact memory check of %zu "
                "in %.3f s\n", st.space.size(), screen_s, per_s, order.size(), checked, check_s);
    for (const auto& [reason, entry] : st.dropped)
      std::printf("  dropped %6zu  %s  (e.g. %s)\n", entry.first, reason.c_str(), entry.second.c_str());
    std::fflush(stdout);
  }

  // 3. Simulate the finalists (the sweep runner: a process each, `jobs` at a time, resumable).
  Sweep sweep;
  sweep.file = study_path;
  sweep.name = study.name + "-search";
  sweep.study = study_path;
  sweep.base_study = document;
  const std::vector<SweepPoint> points = finalist_points(st);
  const std::filesystem::path out_dir =
      o.output.empty() ? study_path.parent_path() / "out" / "search" : std::filesystem::path(o.output);
  std::filesystem::create_directories(out_dir);
  SweepReport report;
  const auto simulate_start = Clock::now();
  if (!points.empty()) {
    SweepOptions options;
    options.sweep = study_path;
    options.output_dir = out_dir;
    options.jobs = o.jobs;
    options.quiet = o.quiet;
    options.resume = o.resume;
    if (spec.time_budget_s > 0)
      options.deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(spec.time_budget_s));
    core::ProgressOptions shown;
    shown.mode = core::stderr_progress_mode(o.quiet);
    core::Progress progress(std::cerr, shown);
    options.progress = &progress;
    report = run_sweep_points(sweep, points, options);
  }
  const double simulate_s = seconds_since(simulate_start);

  // 4. Rank by the simulated objective; the tables and the top layouts.
  const std::vector<std::size_t> ranking = rank_finalists(st, report, out_dir);
  write_atomically(out_dir / "search.csv", search_csv(st, ranking));
  print_top(st, ranking, o.quiet);
  std::printf("search: %zu layouts screened in %.3f s (%.0f/s), %zu simulated in %.1f s, %.1f s in all -> %s\n",
              st.space.size(), screen_s, per_s, report.results + report.invalid + report.failed, simulate_s,
              seconds_since(start), std::filesystem::absolute(out_dir / "search.csv").lexically_normal().c_str());
  if (report.failed > 0) {
    std::cerr << "error: " << report.failed << " finalists failed (internal error); see " << (out_dir / "sweep.csv").string() << "\n";
    return 3;
  }
  return 0;
}

}  // namespace frugal::app
