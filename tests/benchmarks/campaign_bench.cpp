// Campaign benchmark (not a test): one whole training campaign of a study with a "campaign"
// section (tests/benchmarks/campaign_16k_30d.json: 30 days on 16,384 GPUs), printing the
// simulator's wall time per phase and peak memory (RSS, this process and the forked op-by-op
// probes) next to what was simulated: days, failures, restarts, checkpoints, events.
// Run through run_campaign_bench.sh.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "sim/app/command_line.hpp"
#include "sim/app/commands.hpp"
#include "sim/campaign/campaign.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/study/study.hpp"
#include "tests/benchmarks/bench_support.hpp"

namespace frugal {
namespace {

using bench::Clock;
using bench::peak_rss_mib;
using bench::seconds;

int campaign_case(const std::string& file, const std::vector<study::Override>& overrides) {
  const auto t0 = Clock::now();
  const study::Study s = study::load_study(file, overrides);
  if (!s.campaign) throw std::invalid_argument(file + " has no campaign section");
  const auto t1 = Clock::now();
  const auto [plan, prog] = app::plan_study(s);
  const auto t2 = Clock::now();
  const auto memory = metrics::check_memory(prog, s.cluster);
  if (!memory.fits()) throw std::invalid_argument(file + ": the plan does not fit in GPU memory");
  const auto t3 = Clock::now();
  const campaign::CampaignOutcome o = campaign::run_campaign(s, plan, prog, &memory);
  const auto t4 = Clock::now();

  const engine::CampaignResult& r = o.result;
  const double days = r.wall_clock_s / 86400.0;
  std::printf("campaign %s: %zu GPUs in the job, %d nodes with spares; %s\n", s.name.c_str(), prog.ranks.size(),
              o.cluster.node_count(), r.status.c_str());
  std::printf("  simulated: %.2f days, %lld iterations (%lld executed), ETTR %.4f, failures %d, restarts %d, replans %d, "
              "checkpoints %d (aborted %d), lost work %.2f h, checkpointing %.2f h, restart %.2f h, downtime %.2f h\n",
              days, static_cast<long long>(r.iterations), static_cast<long long>(r.iterations_executed),
              r.wall_clock_s > 0 ? r.useful_s / r.wall_clock_s : 0.0, r.failures, r.restarts, r.replans, r.checkpoints,
              r.checkpoints_aborted, r.lost_work_s / 3600, r.checkpoint_s / 3600, r.restart_s / 3600,
              r.downtime_s / 3600);
  std::printf("  availability events %zu, logged events %zu, SimGrid activities %llu, fingerprint %s\n",
              o.availability_events, r.events.size(), static_cast<unsigned long long>(r.activities),
              o.events_fingerprint.c_str());
  std::printf("  wall: load %.3f s, plan+lower %.3f s, memory check %.3f s, campaign %.3f s, total %.3f s; "
              "peak RSS %.0f MiB (op-by-op probes %.0f MiB)\n",
              seconds(t0, t1), seconds(t1, t2), seconds(t2, t3), seconds(t3, t4), seconds(t0, t4),
              peak_rss_mib(RUSAGE_SELF), peak_rss_mib(RUSAGE_CHILDREN));
  return 0;
}

int usage() {
  std::fprintf(stderr, "usage: frugal_campaign_bench STUDY.json [--set /pointer=value]...\n");
  return 1;
}

}  // namespace
}  // namespace frugal

int main(int argc, char** argv) {
  using namespace frugal;
  app::tune_allocator();  // as frugalsim does
  if (argc < 2) return usage();
  try {
    const auto overrides = bench::parse_sets(argc, argv, 2);
    if (!overrides) return usage();
    return campaign_case(argv[1], *overrides);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "frugal_campaign_bench: %s\n", e.what());
    return 2;
  }
}
