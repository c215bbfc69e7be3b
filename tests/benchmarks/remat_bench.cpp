// Benchmark of the optimal rematerialization schedule (policies/memory/remat_schedule): wall time
// of the dynamic program on transformer-like chains of 32 to 256 stages at 100 to 1,000 memory
// slots, and what the schedule costs against keeping everything and against checkpointing every
// stage. Prints figures, asserts nothing.
// usage: frugal_remat_bench [STAGES...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "policies/memory/remat_schedule.hpp"
#include "tests/benchmarks/bench_support.hpp"

using frugal::policies::ChainStage;

namespace {

/// A GPT layer per stage, in units of s·b·h bytes and of one layer's forward: input 2, everything
/// its backward needs 34 + 5·a·s/h (a·s/h = 12 here), backward 2× forward; the first and last
/// stages (embedding, head) lighter and heavier.
std::vector<ChainStage> gpt_like_chain(int n) {
  std::vector<ChainStage> stages(static_cast<std::size_t>(n), ChainStage{1.0, 2.0, 2.0, 94.0});
  stages.front() = ChainStage{0.05, 0.1, 0.0, 2.0};
  stages.back() = ChainStage{0.6, 1.2, 2.0, 26.0};
  return stages;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {32, 64, 128, 256};
  std::printf("%7s %6s %10s %12s %12s %12s %10s\n", "stages", "slots", "budget", "time/keep-all", "every-1/keep-all",
              "wall (s)", "peak MiB");
  for (const int n : sizes) {
    const auto stages = gpt_like_chain(n);
    const auto all = frugal::policies::evaluate(stages, frugal::policies::keep_all_schedule(n));
    const auto every = frugal::policies::evaluate(stages, frugal::policies::every_k_schedule(n, 1));
    for (const int slots : {100, 500, 1000}) {
      // A budget between checkpointing every stage and keeping all: where the choice matters.
      const double budget = every.peak_bytes + 0.25 * (all.peak_bytes - every.peak_bytes);
      const auto start = std::chrono::steady_clock::now();
      const auto opt = frugal::policies::optimal_schedule(stages, budget, slots);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("%7d %6d %10.0f %12.4f %12.4f %12.3f %10.0f\n", n, slots, budget,
                  opt.feasible ? opt.time_s / all.time_s : -1.0, every.time_s / all.time_s, wall,
                  frugal::bench::peak_rss_mib());
    }
  }
  return 0;
}
