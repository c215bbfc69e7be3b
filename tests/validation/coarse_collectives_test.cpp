// The aggregate collective model (one transfer per member and phase, sim/engine/
// coarse_collectives.hpp) against the α-β closed forms within 1 % for several sizes and member
// counts, and against the step-by-step reference within 2 % where flows contend for NICs or a
// backbone (the reference runs in a forked child: one SimGrid engine per process).
#include <gtest/gtest.h>

#include <algorithm>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "sim/engine/platform_builder.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/forked_run.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using engine::CollectiveModel;
using engine::IdenticalRanks;
using program::CollectiveAlgorithm;
using program::CollectiveKind;
using testing::kGiB;
using testing::kKiB;
using testing::kMiB;

/// Collectives on `groups` (each member calls every one of them; even-numbered groups on the
/// comm stream, odd-numbered ones on the compute stream), one cluster.
struct Scenario {
  testing::ClusterShape shape;
  std::vector<std::vector<int>> groups;  ///< ring orders; empty: one group of all ranks
  CollectiveKind kind = CollectiveKind::kAllReduce;
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::kRing;
  double bytes = 0;
};

engine::SimulationResult simulate(const Scenario& s, CollectiveModel model, IdenticalRanks ranks) {
  const platforms::Cluster cluster = testing::make_cluster(s.shape);
  program::Program p = testing::make_program(cluster.gpu_count());
  std::vector<std::vector<int>> groups = s.groups;
  if (groups.empty()) {
    groups.emplace_back();
    for (int r = 0; r < cluster.gpu_count(); ++r) groups.back().push_back(r);
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const int id = testing::add_group(p, "g" + std::to_string(g), groups[g]);
    const program::Collective c = testing::collective(s.kind, id, 0, s.bytes, s.algorithm, groups[g].front());
    // Alternate streams, so that collectives of overlapping groups run at the same time.
    const program::Stream stream = g % 2 == 0 ? program::Stream::kComm : program::Stream::kCompute;
    for (const int r : groups[g]) program::RankBuilder(p.ranks[r]).add(program::OpKind::kCollective, stream, "coll", {}, c);
  }
  engine::EngineOptions options;
  options.record_timeline = false;
  options.collective_model = model;
  options.identical_ranks = ranks;
  return engine::simulate(cluster, p, options);
}

// --- Aggregate vs the α-β closed forms ---------------------------------------------------------

struct ClosedFormCase {
  std::string name;
  Scenario scenario;
  double expected_s;
  IdenticalRanks ranks = IdenticalRanks::kSimulateAll;
  int channels = 1;  ///< rings each member runs at once (rail channels)
};

std::ostream& operator<<(std::ostream& out, const ClosedFormCase& c) { return out << c.name; }

testing::ClusterShape nodes_of(int nodes, int gpus, int nics, platforms::LinkSpec nic) {
  testing::ClusterShape s;
  s.nodes = nodes;
  s.gpus_per_node = gpus;
  s.nics_per_node = nics;
  s.gpu_link = {300e9, 1e-6};
  s.nic = nic;
  s.switch_latency_s = 2e-6;
  return s;
}

/// Ring over n members whose slowest edge has latency α and bandwidth β: k steps of S/n.
double ring_s(int n, int steps, double bytes, double alpha, double beta) { return steps * (alpha + bytes / n / beta); }

std::vector<ClosedFormCase> closed_form_cases() {
  std::vector<ClosedFormCase> out;
  const double a_nv = 2e-6, b_nv = 300e9;  // same node: 2 × 1 µs, 300 GB/s
  {
    Scenario s{nodes_of(1, 8, 1, {25e9, 5e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 64 * kMiB};
    out.push_back({"AllReduce8GpusOneNode64MiB", s, ring_s(8, 14, 64 * kMiB, a_nv, b_nv)});
  }
  {
    Scenario s{nodes_of(16, 1, 1, {50e9, 4e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, kGiB};
    out.push_back({"AllReduce16NodesOneGiB", s, ring_s(16, 30, kGiB, 10e-6, 50e9)});
  }
  {
    // 8 nodes × 8 GPUs, one NIC per GPU: the ring runs as 8 rail channels of S/8, each member
    // sending 7 chunks over its GPU link and one through its NIC per step; the NICs set the pace.
    Scenario s{nodes_of(8, 8, 8, {25e9, 4e-6}), {}, CollectiveKind::kReduceScatter, CollectiveAlgorithm::kRing, 256 * kMiB};
    const double chunk = 256 * kMiB / (64 * 8);
    out.push_back({"ReduceScatter64Gpus256MiB", s, 63 * std::max(a_nv + 7 * chunk / b_nv, 10e-6 + chunk / 25e9),
                   IdenticalRanks::kSimulateAll, 8});
  }
  {
    Scenario s{nodes_of(3, 1, 1, {25e9, 5e-6}), {}, CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, kKiB};
    out.push_back({"AllGather3NodesOneKiBLatencyBound", s, ring_s(3, 2, kKiB, 12e-6, 25e9)});
  }
  {
    // 4 nodes × 4 GPUs, 4 NICs: intra RS (3 steps of S/4), inter AR among equal local indices
    // on S/4 (6 steps of S/16), intra AG (3 steps of S/4).
    Scenario s{nodes_of(4, 4, 4, {25e9, 5e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical,
               512 * kMiB};
    const double expected = 2 * ring_s(4, 3, 512 * kMiB, a_nv, b_nv) + ring_s(16, 6, 512 * kMiB, 12e-6, 25e9);
    out.push_back({"HierarchicalAllReduce16Gpus512MiB", s, expected});
  }
  {
    // Chain broadcast of 64 MiB in 16 chunks of 4 MiB: (n − 2 + k)·(α + S/(k·β)).
    Scenario s{nodes_of(1, 8, 1, {25e9, 5e-6}), {}, CollectiveKind::kBroadcast, CollectiveAlgorithm::kRing, 64 * kMiB};
    out.push_back({"Broadcast8Gpus64MiB", s, (8 - 2 + 16) * (a_nv + 4 * kMiB / b_nv)});
  }
  {
    // The same 1 GiB ring with one representative injecting every member's transfer.
    Scenario s{nodes_of(16, 1, 1, {50e9, 4e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, kGiB};
    out.push_back({"AllReduce16NodesOneGiBRepresentative", s, ring_s(16, 30, kGiB, 10e-6, 50e9),
                   IdenticalRanks::kRepresentatives});
  }
  return out;
}

class AggregateClosedForm : public ::testing::TestWithParam<ClosedFormCase> {};

TEST_P(AggregateClosedForm, WithinOnePercentOfAlphaBeta) {
  const ClosedFormCase& c = GetParam();
  const engine::SimulationResult r = simulate(c.scenario, CollectiveModel::kAggregate, c.ranks);
  std::printf("%s: aggregate %.9g s, alpha-beta %.9g s (%+.5f %%), %llu activities\n", c.name.c_str(), r.makespan_s,
              c.expected_s, 100 * (r.makespan_s / c.expected_s - 1), static_cast<unsigned long long>(r.activities));
  EXPECT_EQ(r.collective_model, CollectiveModel::kAggregate);
  EXPECT_NEAR(r.makespan_s / c.expected_s, 1.0, 0.01) << "simulated " << r.makespan_s << " s, α-β " << c.expected_s;
  if (c.ranks == IdenticalRanks::kRepresentatives) {
    EXPECT_EQ(r.simulated_ranks, 1);
  }
  // One transfer per member (and at most one sleep), instead of one per member and step.
  EXPECT_LE(r.activities, (c.channels + 1u) * r.ranks.size() * (c.scenario.algorithm == CollectiveAlgorithm::kHierarchical ? 3 : 1));
}

INSTANTIATE_TEST_SUITE_P(Cases, AggregateClosedForm, ::testing::ValuesIn(closed_form_cases()),
                         [](const auto& info) { return info.param.name; });

// --- Aggregate vs step by step, with contention ------------------------------------------------

/// Both models' makespans and the aggregate run's activity count; the reference in a child.
void expect_agreement(const Scenario& s, IdenticalRanks ranks = IdenticalRanks::kSimulateAll) {
  const std::vector<double> reference = testing::run_forked([&s] {
    const engine::SimulationResult r = simulate(s, CollectiveModel::kStepByStep, IdenticalRanks::kSimulateAll);
    return std::vector<double>{r.makespan_s, static_cast<double>(r.activities)};
  });
  ASSERT_EQ(reference.size(), 2u);
  const engine::SimulationResult coarse = simulate(s, CollectiveModel::kAggregate, ranks);
  std::printf("aggregate %.9g s (%llu activities), step by step %.9g s (%.0f activities): %+.4f %%\n",
              coarse.makespan_s, static_cast<unsigned long long>(coarse.activities), reference[0], reference[1],
              100 * (coarse.makespan_s / reference[0] - 1));
  EXPECT_NEAR(coarse.makespan_s / reference[0], 1.0, 0.02)
      << "aggregate " << coarse.makespan_s << " s, step by step " << reference[0] << " s";
  EXPECT_LT(static_cast<double>(coarse.activities), reference[1]);
}

/// 4 nodes × 4 GPUs behind ONE NIC each: the 4 rings of equal local index (data-parallel style)
/// all cross every NIC at once, each getting a quarter of it.
TEST(AggregateVsStepByStep, RingsSharingOneNicPerNode) {
  Scenario s{nodes_of(4, 4, 1, {25e9, 5e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 128 * kMiB};
  for (int l = 0; l < 4; ++l) s.groups.push_back({l, 4 + l, 8 + l, 12 + l});
  expect_agreement(s);
}

/// Same with a representative per class: one actor injects its ring and its copies (the other
/// three rings), so the shared NICs still see four rings.
TEST(AggregateVsStepByStep, RingsSharingOneNicPerNodeWithRepresentatives) {
  Scenario s{nodes_of(4, 4, 1, {25e9, 5e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 128 * kMiB};
  for (int l = 0; l < 4; ++l) s.groups.push_back({l, 4 + l, 8 + l, 12 + l});
  expect_agreement(s, IdenticalRanks::kRepresentatives);
}

/// 8 single-GPU nodes behind a backbone of 2 NICs' worth: all 8 ring flows share it.
TEST(AggregateVsStepByStep, RingThroughOversubscribedBackbone) {
  Scenario s{nodes_of(8, 1, 1, {25e9, 5e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 256 * kMiB};
  s.shape.backbone_bandwidth_bytes_per_s = 50e9;
  expect_agreement(s);
}

/// Hierarchical all-reduce on 4 nodes × 4 GPUs with one NIC per node: the 4 cross-node rings
/// share the NICs while the node-local phases run on NVLink.
TEST(AggregateVsStepByStep, HierarchicalAllReduceSharingNics) {
  Scenario s{nodes_of(4, 4, 1, {25e9, 5e-6}), {}, CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical,
             256 * kMiB};
  expect_agreement(s);
}

/// Ring over 2 nodes × 4 GPUs (fast NVLink edges, slow NIC edges) and, at the same time, an
/// all-gather among the first GPU of each node over the same NICs.
TEST(AggregateVsStepByStep, UnequalEdgesAndAConcurrentCollective) {
  Scenario s{nodes_of(2, 4, 1, {25e9, 5e-6}), {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 4}}, CollectiveKind::kAllGather,
             CollectiveAlgorithm::kRing, 64 * kMiB};
  expect_agreement(s);
}

}  // namespace
}  // namespace frugal
