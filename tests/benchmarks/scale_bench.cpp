// Scale benchmark (not a test): one case per process (SimGrid's engine is one per process),
// printing wall time per phase, activities simulated and the simulator's peak memory (RSS).
// Cases: 1 GiB ring all-reduces over 1,024 / 16,384 GPUs and 3D-parallel training iterations
// (GPT-3 175B on 1,024 GPUs, Llama-3-70B on 4,096). Run through run_scale_bench.sh.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "policies/lowering/lowering.hpp"
#include "sim/app/command_line.hpp"
#include "sim/app/commands.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/study/study.hpp"
#include "tests/benchmarks/bench_support.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using bench::Clock;
using bench::peak_rss_mib;

double seconds_since(Clock::time_point t0) { return bench::seconds(t0, Clock::now()); }

/// 1 GiB ring all-reduce over `gpus` GPUs: 8 per node, NVLink 300 GB/s, one 50 GB/s NIC per node
/// (one ring, which crosses each node boundary through it; with a NIC per GPU the ring would run
/// as 8 rail channels, 8 times the transfers).
int ring_case(int gpus, engine::CollectiveModel model, engine::IdenticalRanks dedup) {
  const auto t0 = Clock::now();
  testing::ClusterShape s;
  s.gpus_per_node = 8;
  s.nodes = gpus / 8;
  s.gpu_link = {300e9, 1e-6};
  s.nic = {50e9, 4e-6};
  s.nics_per_node = 1;
  s.switch_latency_s = 2e-6;
  const platforms::Cluster cluster = testing::make_cluster(s);
  program::Program p = testing::make_program(cluster.gpu_count());
  const int world = testing::add_world_group(p);
  const double bytes = testing::kGiB;
  testing::add_collective_to_members(p, testing::collective(program::CollectiveKind::kAllReduce, world, 0, bytes));
  const double build_s = seconds_since(t0);

  engine::EngineOptions options;
  options.record_timeline = false;
  options.collective_model = model;
  options.identical_ranks = dedup;
  const auto t1 = Clock::now();
  const engine::SimulationResult r = engine::simulate(cluster, p, options);
  const double sim_s = seconds_since(t1);
  const int n = cluster.gpu_count();
  // Ring edges that leave a node set the pace: α = 4 µs + 2 µs + 4 µs, β = 50 GB/s.
  const double alpha_beta_s = 2.0 * (n - 1) * (10e-6 + bytes / n / 50e9);
  std::printf("ring-allreduce gpus=%d model=%s: simulated %.6f s (alpha-beta %.6f s, error %+.4f %%)\n", n,
              engine::to_string(r.collective_model).c_str(), r.makespan_s, alpha_beta_s,
              100.0 * (r.makespan_s - alpha_beta_s) / alpha_beta_s);
  std::printf("  wall: program %.3f s, simulate %.3f s, total %.3f s; activities %llu; simulated ranks %d of %d; "
              "peak RSS %.0f MiB\n",
              build_s, sim_s, seconds_since(t0), static_cast<unsigned long long>(r.activities), r.simulated_ranks, n,
              peak_rss_mib());
  return 0;
}

/// One training iteration of a study (a file, or a shipped case) with the given overrides.
int study_case(const std::string& file, const std::vector<study::Override>& overrides, engine::CollectiveModel model,
               engine::IdenticalRanks dedup) {
  const auto t0 = Clock::now();
  const study::Study s = study::load_study(file, overrides);
  const auto t1 = Clock::now();
  const program::Program prog = app::plan_study(s).program;
  const double plan_s = seconds_since(t1);
  std::size_t ops = 0;
  for (const auto& rp : prog.ranks) ops += rp.ops.size();
  const auto t2 = Clock::now();
  const auto memory = metrics::check_memory(prog, s.cluster);
  const double memory_s = seconds_since(t2);

  engine::EngineOptions options = s.engine_options();
  options.iterations = 1;
  options.record_timeline = false;
  options.collective_model = model;
  options.identical_ranks = dedup;
  const auto t3 = Clock::now();
  const engine::SimulationResult r = engine::simulate(s.cluster, prog, options);
  const double sim_s = seconds_since(t3);
  std::printf("study %s: %zu ranks, %zu ops, fits=%d; iteration %.6f s (model=%s, simulated ranks %d)\n",
              s.name.c_str(), prog.ranks.size(), ops, memory.fits() ? 1 : 0, r.makespan_s,
              engine::to_string(r.collective_model).c_str(), r.simulated_ranks);
  std::printf("  wall: load %.3f s, plan+lower+validate %.3f s, memory check %.3f s, simulate %.3f s, total %.3f s; "
              "activities %llu; peak RSS %.0f MiB\n",
              bench::seconds(t0, t1), plan_s, memory_s, sim_s, seconds_since(t0),
              static_cast<unsigned long long>(r.activities), peak_rss_mib());
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: frugal_scale_bench ring GPUS [step_by_step|aggregate|auto] [all|representatives|auto]\n"
               "       frugal_scale_bench study STUDY.json [step_by_step|aggregate|auto] [all|representatives|auto] "
               "[--set /pointer=value]...\n");
  return 1;
}

}  // namespace
}  // namespace frugal

int main(int argc, char** argv) {
  using namespace frugal;
  app::tune_allocator();  // as frugalsim does
  if (argc < 3) return usage();
  try {
    const std::string what = argv[1];
    const engine::CollectiveModel model = engine::collective_model_from_string(argc > 3 ? argv[3] : "auto");
    const engine::IdenticalRanks dedup = engine::identical_ranks_from_string(argc > 4 ? argv[4] : "auto");
    if (what == "ring") return ring_case(std::atoi(argv[2]), model, dedup);
    if (what == "study") {
      const auto overrides = bench::parse_sets(argc, argv, 5);
      if (!overrides) return usage();
      return study_case(argv[2], *overrides, model, dedup);
    }
    return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "frugal_scale_bench: %s\n", e.what());
    return 2;
  }
}
