// Benchmark of the optimal rematerialization schedule (policies/memory/remat_schedule): wall time
// of the dynamic program on transformer-like chains of 32 to 256 stages at 100 to 1,000 memory
// slots, and what the schedule costs against keeping everything and against checkpointing every
// stage; then the combined rematerialization + offloading heuristic (offload_schedule): its
// wall time and gain on the same chains with copies 0.5× to 4× a stage's forward, and its gap to
// the best offload set on random chains of 6 to 12 stages. Prints figures, asserts nothing.
// usage: frugal_remat_bench [STAGES...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <algorithm>
#include <random>

#include "policies/memory/offload_schedule.hpp"
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
  std::printf("\nrematerialization + offloading (500 slots, budget as above)\n%7s %10s %12s %12s %12s %10s\n", "stages",
              "copy/fwd", "remat/keep", "mixed/keep", "offloaded", "wall (s)");
  for (const int n : sizes) {
    const auto stages = gpt_like_chain(n);
    const auto all = frugal::policies::evaluate(stages, frugal::policies::keep_all_schedule(n));
    const auto every = frugal::policies::evaluate(stages, frugal::policies::every_k_schedule(n, 1));
    const double budget = every.peak_bytes + 0.25 * (all.peak_bytes - every.peak_bytes);
    const auto remat = frugal::policies::optimal_schedule(stages, budget, 500);
    for (const double copy_over_forward : {0.5, 1.0, 2.0, 4.0}) {
      const frugal::policies::HostLink host{94.0 / copy_over_forward, 1e30};  // a layer's 94 units in copy × forward
      const auto start = std::chrono::steady_clock::now();
      const auto mixed = frugal::policies::remat_offload_schedule(stages, budget, 500, host);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto cost = frugal::policies::evaluate(stages, mixed.ops, host);
      std::printf("%7d %10.1f %12.4f %12.4f %11.0f%% %10.3f\n", n, copy_over_forward, remat.time_s / all.time_s,
                  mixed.time_s / all.time_s, 100 * cost.offloaded_bytes / all.peak_bytes, wall);
    }
  }
  // The heuristic against every offload set (random chains as the unit test draws them).
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> small(1, 3), extra(0, 12), f(1, 5), b(1, 9);
  std::printf("\nheuristic vs best offload set (random chains, budgets 20/50/80 %% of the way to keep-all, copies "
              "0.5 to 8 bytes/s)\n%7s %8s %10s %12s %12s\n", "stages", "cases", "at best", "mean gap", "worst gap");
  for (int n = 6; n <= 12; n += 2) {
    int cases = 0, exact = 0;
    double sum = 0, worst = 0;
    for (int chain = 0; chain < 12; ++chain) {
      std::vector<ChainStage> stages;
      for (int i = 0; i < n; ++i) {
        const double in = small(rng);
        stages.push_back({static_cast<double>(f(rng)), static_cast<double>(b(rng)), in, in + extra(rng)});
      }
      double total = 0;
      for (const auto& s : stages) total += s.all_bytes;
      const double least = frugal::policies::least_memory_bytes(stages);
      for (const double bandwidth : {0.5, 2.0, 8.0})
        for (const double share : {0.2, 0.5, 0.8}) {
          const double budget = least + share * (total - least);
          const frugal::policies::HostLink host{bandwidth, 1e30};
          const auto h = frugal::policies::remat_offload_schedule(stages, budget, 300, host);
          const auto best = frugal::policies::best_offload_set_schedule(stages, budget, 300, host);
          if (!h.feasible || !best.feasible) continue;
          const double gap = h.time_s / best.time_s - 1;
          ++cases, sum += gap, worst = std::max(worst, gap);
          if (gap <= 1e-12) ++exact;
        }
    }
    std::printf("%7d %8d %9.1f%% %11.2f%% %11.2f%%\n", n, cases, 100.0 * exact / std::max(cases, 1), 100 * sum / std::max(cases, 1),
                100 * worst);
  }
  return 0;
}
