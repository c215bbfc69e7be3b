// frugalsim run | plan | sweep | list | calibrate | validate | collective: argument parsing and
// orchestration.
#include "sim/app/commands.hpp"

#include <chrono>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "policies/lowering/lowering.hpp"
#include "policies/memory/stage_schedules.hpp"
#include "sim/app/calibration_commands.hpp"
#include "sim/app/collective_command.hpp"
#include "sim/app/command_line.hpp"
#include "sim/app/reference.hpp"
#include "sim/app/search_command.hpp"
#include "sim/app/sweep.hpp"
#include "sim/campaign/campaign.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/metrics/campaign_summary.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/metrics/timeline.hpp"
#include "sim/study/plugin_families.hpp"
#include "workloads/layer_chain.hpp"
#include "sim/core/build_info.hpp"

namespace frugal::app {
namespace {

namespace po = boost::program_options;
using core::Json;

constexpr const char* kUsage =
    "usage: frugalsim <command> [options]\n"
    "commands:\n"
    "  run STUDY.json [-o DIR] [--set /pointer=value]... [-q]   simulate a study, write results\n"
    "  sweep SWEEP.json [-o DIR] [-j N] [--resume] [-q]         run a grid of variants of a study, one table\n"
    "        [--shard K/N | --collect | --slurm [--submit]]      ... as a Slurm job array, collected\n"
    "  search STUDY.json [-o DIR] [-j N] [--objective O] ...     the best layouts: screen all, simulate the finalists\n"
    "  plan STUDY.json [-o PROGRAM.json] [--set ...] [--expand] write the lowered program (one per class of\n"
    "                                                           identical ranks; --expand: every rank's)\n"
    "  list [--markdown]                                        models, GPUs, clusters, plug-in families;\n"
    "                                                           --markdown: the reference page (docs/reference.md)\n"
    "  calibrate BENCH.json... --platform P -o P_CAL.json       fit a platform to frugal-real benchmarks\n"
    "  validate --platform P --program PROG --measurements M    simulated vs measured error\n"
    "  collective CLUSTER [--op K] [-b MIN -e MAX -f F] [-n N]  one collective by size, nccl-tests' columns\n"
    "  version                                                  version and git revision\n"
    "exit codes: 0 ok, 1 usage, 2 bad input, 3 internal error or output not written\n";

std::vector<study::Override> parse_overrides(const std::vector<std::string>& sets) {
  std::vector<study::Override> out;
  for (const auto& s : sets) out.push_back(study::parse_override(s));
  return out;
}

struct CommandLine {
  std::string study;
  std::string output;
  std::vector<std::string> sets;
  bool expand = false;  ///< plan: every rank's ops instead of one program per class
  bool quiet = false;   ///< run: no progress on stderr
};

/// Parses `STUDY [-o X] [--set P=V]...`; returns false (after printing help) on --help.
bool parse_study_command(const std::vector<std::string>& args, const std::string& command, CommandLine& cl) {
  po::options_description opts(command + " options");
  opts.add_options()("output,o", po::value(&cl.output), "output path")(
      "set", po::value(&cl.sets)->composing(),
      "override: /json/pointer=value (repeatable; a relative model or cluster path is resolved from the study's "
      "folder)");
  if (command == "run")
    opts.add_options()("quiet,q", po::bool_switch(&cl.quiet),
                       "no progress on stderr (phases, elapsed time, campaign progress in simulated time)");
  if (command == "plan")
    opts.add_options()("expand", po::bool_switch(&cl.expand),
                       "write every rank's ops (default: one program per class of identical ranks)");
  if (!parse_command_line(args, "frugalsim " + command + " STUDY.json [options]", opts, {"study", po::value(&cl.study)}))
    return false;
  if (cl.study.empty()) throw po::error("missing STUDY.json");
  return true;
}

std::string manifest_text(const study::Study& s, const RunOptions& options, const std::string& simgrid_version,
                          double wall_s) {
  Json manifest = {{"frugalsim_version", core::frugalsim_version()},
                   {"git_revision", core::git_revision()},
                   {"argv", options.argv},
                   {"study_file", std::filesystem::absolute(options.study).string()},
                   {"seed", s.seed},
                   {"simgrid_version", simgrid_version},
                   {"wall_time_s", wall_s}};
  return manifest.dump(2) + "\n";
}

int cmd_list(const std::vector<std::string>& args) {
  bool markdown = false;
  po::options_description opts("list options");
  opts.add_options()("markdown", po::bool_switch(&markdown),
                     std::string("print the reference page instead (").append(kRegenerateReference).append(")").c_str());
  if (!parse_command_line(args, "frugalsim list [--markdown]", opts)) return 0;
  if (markdown) {
    std::cout << reference_markdown();
    return 0;
  }
  std::cout << "models (workloads/models):\n";
  for (const auto& name : workloads::list_models()) {
    const auto m = workloads::load_model(name);
    std::printf("  %-14s %8.2fB params  L=%-3lld h=%-6lld heads=%-3lld kv=%-3lld ffn=%-6lld V=%lld%s\n", name.c_str(),
                workloads::parameter_count(m) / 1e9, static_cast<long long>(m.num_hidden_layers),
                static_cast<long long>(m.hidden_size), static_cast<long long>(m.num_attention_heads),
                static_cast<long long>(m.num_key_value_heads), static_cast<long long>(m.intermediate_size),
                static_cast<long long>(m.vocab_size), m.gated_mlp ? " gated" : "");
  }
  std::cout << "GPUs (platforms/gpus.json):\n";
  for (const auto& [name, g] : platforms::GpuCatalogue::shipped().all()) {
    std::printf("  %-16s %6.0f GB  %6.0f GB/s", name.c_str(), g.memory_bytes / 1e9, g.hbm_bandwidth_bytes_per_s / 1e9);
    for (const auto& [p, f] : g.peak_flops_per_s) std::printf("  %s %.1f TFLOPS", core::to_string(p).c_str(), f / 1e12);
    std::printf("  %.0f-%.0f W\n", g.idle_power_w, g.max_power_w);
  }
  std::cout << "clusters (platforms/clusters):\n";
  for (const auto& name : platforms::list_clusters()) {
    const auto c = platforms::load_cluster(name, platforms::GpuCatalogue::shipped());
    std::printf("  %-20s %3d nodes %4d GPUs:", name.c_str(), c.node_count(), c.gpu_count());
    for (const auto& t : c.node_types) std::printf(" %s(%d×%s)", t.name.c_str(), t.gpus_per_node, t.gpu.name.c_str());
    std::printf("\n");
  }
  std::cout << "plug-in families (family (where in a study): meaning; then {\"impl\": name, ...} and its parameters):\n";
  for (const auto& family : study::plugin_families()) std::cout << core::describe_family(family);
  return 0;
}

int cmd_plan(const std::vector<std::string>& args) {
  CommandLine cl;
  if (!parse_study_command(args, "plan", cl)) return 0;
  const auto s = study::load_study(cl.study, parse_overrides(cl.sets));
  const auto prog = plan_study(s).program;
  const std::filesystem::path out = cl.output.empty() ? std::filesystem::path("program.json") : std::filesystem::path(cl.output);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  const bool expand = cl.expand;
  commit_files(out.parent_path(), {{out, "", [&prog, expand](std::ostream& o) { program::write_program_json(prog, o, expand); }}});
  std::cout << "program: " << prog.ranks.size() << " ranks, " << prog.groups.size() << " groups";
  if (prog.compact() && !expand) std::cout << ", " << prog.classes.size() << " classes of identical ranks";
  std::cout << " -> " << out.string() << "\n";
  return 0;
}

int cmd_run(const std::vector<std::string>& args, int argc, char** argv) {
  CommandLine cl;
  if (!parse_study_command(args, "run", cl)) return 0;
  RunOptions options;
  options.study = cl.study;
  options.output_dir = cl.output;
  options.overrides = parse_overrides(cl.sets);
  options.argv.assign(argv, argv + argc);
  core::ProgressOptions shown;
  shown.mode = core::stderr_progress_mode(cl.quiet);
  core::Progress progress(std::cerr, shown);
  options.progress = &progress;
  const Json summary = run_study(options);
  std::cout << "status: " << summary.at("status").get<std::string>() << "\n";
  if (summary.at("status") == "ok") {
    std::printf("iteration: %.4f s  tokens/s: %.0f  MFU: %.3f  exposed communication: %.4f s  max peak memory: %.2f GiB\n",
                summary.at("iteration_time_s").get<double>(), summary.at("tokens_per_s").get<double>(),
                summary.at("mfu").get<double>(), summary.value("exposed_communication_s", Json(0.0)).is_null()
                                                     ? 0.0
                                                     : summary.at("exposed_communication_s").get<double>(),
                summary.at("max_peak_memory_bytes").get<double>() / 1073741824.0);
  } else {
    std::cout << "reason: " << summary.at("reason").get<std::string>() << "\n";
  }
  if (summary.contains("wall_clock_s")) {
    std::printf("campaign: %s  wall clock: %.1f h  ETTR: %.4f  goodput: %.0f tokens/s  failures: %d  restarts: %d  "
                "lost work: %.1f h  GPU-hours: %.0f\n",
                summary.at("campaign").at("status").get<std::string>().c_str(),
                summary.at("wall_clock_s").get<double>() / 3600, summary.at("ettr").get<double>(),
                summary.at("goodput_tokens_per_s").get<double>(), summary.at("failures").get<int>(),
                summary.at("restarts").get<int>(), summary.at("lost_work_s").get<double>() / 3600,
                summary.at("gpu_hours").get<double>());
  }
  return 0;
}

}  // namespace

PlannedStudy plan_study(const study::Study& s) {
  PlannedStudy out;
  try {
    out.plan = s.parallelism->plan(s.model, s.cluster, s.training, *s.memory);
  } catch (const core::ParamError& e) {
    // One of the policy's parameters, where the study gave it (a Study built in code has none).
    const core::ConfigError located =
        s.parallelism_params ? s.parallelism_params->locate(e)
                             : core::ConfigError(s.file.string(), "/parallelism/" + core::pointer_escape(e.param()), e.message());
    throw InfeasiblePlan(s.file.string(), located.pointer(), located.message());
  } catch (const core::ConfigError& e) {
    // Another section of the study (/training/...): policies do not know the file; name it here.
    throw InfeasiblePlan(s.file.string(), e.pointer(), e.message());
  }
  try {
    policies::schedule_rematerialization(out.plan, s.model, s.cluster, s.training, *s.memory);
  } catch (const core::ParamError& e) {
    const core::ConfigError located =
        s.memory_params ? s.memory_params->locate(e)
                        : core::ConfigError(s.file.string(), "/memory/" + core::pointer_escape(e.param()), e.message());
    throw InfeasiblePlan(s.file.string(), located.pointer(), located.message());
  }
  out.program = policies::lower_compact(out.plan, s.model, s.training);
  program::validate(out.program, "<lowered program>");
  return out;
}

core::Json run_study(const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const auto s = study::load_study(options.study, options.overrides);
  const std::filesystem::path dir =
      options.output_dir.empty() ? options.study.parent_path() / "out" : options.output_dir;
  core::Progress* progress = options.progress;
  if (progress) progress->begin("planning", 0, "", true);
  PlannedStudy planned;
  std::string infeasible;  // why the policies cannot plan the study: a result, not an error
  try {
    planned = plan_study(s);
  } catch (const InfeasiblePlan& e) {
    infeasible = e.what();
  }
  const policies::Plan& plan = planned.plan;
  const program::Program& prog = planned.program;
  if (progress && infeasible.empty()) progress->begin("checking memory", 0, "", true);
  const auto memory = infeasible.empty() ? metrics::check_memory(prog, s.cluster) : metrics::MemoryCheck{};

  Json summary;
  std::optional<Json> timeline;
  std::optional<Json> events;
  std::string simgrid_version;
  if (!infeasible.empty()) {
    summary = metrics::make_infeasible_summary(s, infeasible);
  } else if (!memory.fits()) {
    summary = metrics::make_oom_summary(s, plan, prog, memory);
  } else if (s.campaign) {
    // The op-by-op iterations run in forked children; this process hosts the campaign engine.
    const auto outcome = campaign::run_campaign(s, plan, prog, &memory, progress);
    simgrid_version = outcome.result.simgrid_version;
    summary = outcome.iteration ? metrics::make_summary(s, plan, prog, *outcome.iteration)
                                : metrics::make_given_iteration_summary(s, plan, prog, memory, outcome);
    metrics::add_campaign_summary(summary, s, outcome);
    if (s.write_timeline) timeline = metrics::make_campaign_timeline(s, plan, prog, outcome);
    events = metrics::make_campaign_events(s, outcome);
  } else {
    if (progress) progress->begin("simulating", 0, "", true);  // one process, no fork: ticks
    const auto result = engine::simulate(s.cluster, prog, s.engine_options());
    simgrid_version = result.simgrid_version;
    summary = metrics::make_summary(s, plan, prog, result);
    if (s.write_timeline) timeline = metrics::make_timeline(s, plan, prog, result);
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::vector<PendingFile> files = {
      {dir / "summary.json", summary.dump(2) + "\n"},
      {dir / "config.resolved.json", s.resolved().dump(2) + "\n"},
      {dir / "manifest.json", manifest_text(s, options, simgrid_version, wall_s)},
  };
  if (timeline) files.push_back({dir / "timeline.json", timeline->dump() + "\n"});
  if (events) files.push_back({dir / "events.json", events->dump(1) + "\n"});
  if (progress) progress->begin("writing results");
  commit_files(dir, files);
  if (progress) progress->end();
  std::cout << "results: " << std::filesystem::absolute(dir).lexically_normal().string() << "\n";
  return summary;
}

int run_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      std::cout << kUsage;
      return args.empty() ? 1 : 0;
    }
    const std::string command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "run") return cmd_run(rest, argc, argv);
    if (command == "plan") return cmd_plan(rest);
    if (command == "sweep") return cmd_sweep(rest);
    if (command == "search") return cmd_search(rest);
    if (command == "list") return cmd_list(rest);
    if (command == "calibrate") return cmd_calibrate(rest);
    if (command == "validate") return cmd_validate(rest);
    if (command == "collective") return cmd_collective(rest);
    if (command == "version") {
      std::cout << "frugalsim " << core::frugalsim_version() << " (" << core::git_revision() << ")\n";
      return 0;
    }
    std::cerr << "frugalsim: unknown command \"" << command << "\"\n" << kUsage;
    return 1;
  } catch (const po::error& e) {
    std::cerr << "frugalsim: " << e.what() << "\n" << kUsage;
    return 1;
  } catch (const core::ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const OutputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace frugal::app
