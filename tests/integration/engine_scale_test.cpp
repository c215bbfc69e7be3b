// Scale: a step-by-step ring all-reduce over 256 ranks (32 nodes × 8 GPUs, 130 k
// communications; FRUGAL_SCALE_NODES=128 gives 1,024 ranks and 2.1 M) and an aggregate one over
// 1,024 ranks (2 k activities) still match their closed form. Print wall time and activities;
// no timing assertion (tests/benchmarks times the scale cases).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

/// A 1 GiB ring all-reduce over `nodes` × 8 GPUs (300 GB/s GPU links, 2 µs switch) with
/// `model`, every rank simulated. With one 50 GB/s NIC per node the ring crosses each node
/// boundary through it, and node-crossing edges (one in 8) set the pace: α = 2·4 µs + 2 µs,
/// β = 50 GB/s. With 8 NICs of 25 GB/s it runs as 8 rail channels of S/8 whose node-crossing
/// chunks each take a NIC of their own, and whose 7 node-local chunks share the GPU link:
/// a step takes max(2 µs + 7b/300 GB/s, 10 µs + b/25 GB/s), b = S/(8n). Prints the figures.
struct RingRun {
  engine::SimulationResult result;
  int ranks = 0;
  double closed_form_s = 0;
};

RingRun ring_all_reduce(int nodes, engine::CollectiveModel model, const char* label, bool rails) {
  testing::ClusterShape s;
  s.nodes = nodes;
  s.gpus_per_node = 8;
  s.gpu_link = {300e9, 1e-6};
  s.nic = {rails ? 25e9 : 50e9, 4e-6};
  s.nics_per_node = rails ? 8 : 1;
  s.switch_latency_s = 2e-6;
  const platforms::Cluster cluster = testing::make_cluster(s);
  RingRun run;
  run.ranks = cluster.gpu_count();
  program::Program p = testing::make_program(run.ranks);
  const int world = testing::add_world_group(p);
  const double bytes = 1024.0 * 1024 * 1024;
  testing::add_collective_to_members(p, testing::collective(program::CollectiveKind::kAllReduce, world, 0, bytes));
  engine::EngineOptions options;
  options.record_timeline = false;
  options.collective_model = model;
  options.identical_ranks = engine::IdenticalRanks::kSimulateAll;
  const auto t0 = std::chrono::steady_clock::now();
  run.result = engine::simulate(cluster, p, options);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int n = run.ranks;
  const double chunk = bytes / n / 8;
  run.closed_form_s = rails ? 2 * (n - 1) * std::max(2e-6 + 7 * chunk / 300e9, 10e-6 + chunk / 25e9)
                            : 2 * (n - 1) * (10e-6 + bytes / n / 50e9);
  std::printf("%d-rank %s ring all-reduce: simulated %.9g s (closed form %.9g s), %llu activities, wall %.2f s\n", n,
              label, run.result.makespan_s, run.closed_form_s, static_cast<unsigned long long>(run.result.activities),
              wall_s);
  return run;
}

TEST(Scale, RingAllReduceOverHundredsOfRanks) {
  const char* nodes = std::getenv("FRUGAL_SCALE_NODES");
  const RingRun r = ring_all_reduce(nodes != nullptr ? std::atoi(nodes) : 32, engine::CollectiveModel::kStepByStep,
                                    "step-by-step", false);  // the reference, whatever the size
  EXPECT_NEAR(r.result.makespan_s, r.closed_form_s, 0.02 * r.closed_form_s);
  EXPECT_EQ(r.result.activities, static_cast<std::uint64_t>(2 * (r.ranks - 1)) * r.ranks);
}

/// The aggregate model on 1,024 ranks: one transfer per member and rail channel, within 1 % of
/// α-β (the benchmark in tests/benchmarks times it).
TEST(Scale, AggregateRingAllReduceOverThousandRanks) {
  const RingRun r = ring_all_reduce(128, engine::CollectiveModel::kAggregate, "aggregate", true);
  EXPECT_NEAR(r.result.makespan_s, r.closed_form_s, 0.01 * r.closed_form_s);
  EXPECT_EQ(r.result.activities, static_cast<std::uint64_t>(9 * r.ranks));  // 8 transfers and one sleep each
}

}  // namespace
}  // namespace frugal
