// Ring all-reduce, reduce-scatter and all-gather against the α-β closed forms (Thakur,
// Rabenseifner, Gropp 2005): T_AR = 2(n−1)α + 2(n−1)/n·S/β, T_RS = T_AG = (n−1)α + (n−1)/n·S/β,
// for n ∈ {2, 4, 8}, S ∈ {1 MiB, 256 MiB}, GPUs in one node or one GPU per node. α and β are
// derived here by hand from the links on the route (and checked against gpu_path()).
#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>
#include <string>
#include <tuple>

#include "sim/engine/platform_builder.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveKind;
using testing::kMiB;

enum class Layout { kOneNode, kOnePerNode };

// NVLink-like links inside a node; InfiniBand-like NICs and a switch between nodes.
constexpr platforms::LinkSpec kGpuLink{150e9, 1.5e-6};
constexpr platforms::LinkSpec kNic{25e9, 4e-6};
constexpr double kSwitchLatencyS = 3e-6;

struct Case {
  CollectiveKind kind;
  Layout layout;
  int n;
  double bytes;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info);

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string s = program::to_string(c.kind);
  s += c.layout == Layout::kOneNode ? "_one_node_n" : "_per_node_n";
  s += std::to_string(c.n);
  s += "_";
  s += std::to_string(static_cast<long long>(c.bytes / kMiB));
  s += "MiB";
  return s;
}

// Keeps ctest's test names readable (gtest would dump the bytes of Case otherwise).
void PrintTo(const Case& c, std::ostream* os) { *os << case_name({c, 0}); }

class RingClosedForm : public ::testing::TestWithParam<Case> {};

TEST_P(RingClosedForm, MatchesAlphaBeta) {
  const Case c = GetParam();
  platforms::Cluster cluster = c.layout == Layout::kOneNode
                                   ? testing::single_node_cluster(c.n, kGpuLink)
                                   : testing::one_gpu_per_node_cluster(c.n, kNic, kSwitchLatencyS);
  // By hand: one node → GPU link UP of the sender + DOWN of the receiver; across nodes →
  // NIC, uplink (switch/2), uplink (switch/2), NIC; uplink bandwidth = 1 NIC here.
  const double alpha = c.layout == Layout::kOneNode ? 2 * kGpuLink.latency_s : 2 * kNic.latency_s + kSwitchLatencyS;
  const double beta = c.layout == Layout::kOneNode ? kGpuLink.bandwidth_bytes_per_s : kNic.bandwidth_bytes_per_s;
  const engine::PathCost path = engine::gpu_path(cluster, 0, 1);
  EXPECT_DOUBLE_EQ(path.latency_s, alpha);
  EXPECT_DOUBLE_EQ(path.bandwidth_bytes_per_s, beta);

  program::Program p = testing::make_program(c.n);
  const int world = testing::add_world_group(p);
  testing::add_collective_to_members(p, testing::collective(c.kind, world, 0, c.bytes));

  engine::EngineOptions options;
  options.record_timeline = false;
  const engine::SimulationResult r = engine::simulate(cluster, p, options);

  const double n = c.n;
  const double steps = c.kind == CollectiveKind::kAllReduce ? 2 * (n - 1) : n - 1;
  const double expected_s = steps * alpha + steps / n * c.bytes / beta;
  std::printf("%s: simulated %.9g s, closed form %.9g s, relative error %.3g\n", case_name({c, 0}).c_str(),
              r.makespan_s, expected_s, r.makespan_s / expected_s - 1);
  EXPECT_NEAR(r.makespan_s, expected_s, 0.02 * expected_s);
  // Every rank is busy communicating for the whole collective and never computes.
  for (const auto& rank : r.ranks) {
    EXPECT_NEAR(rank.communication_busy_s, expected_s, 0.02 * expected_s);
    EXPECT_DOUBLE_EQ(rank.compute_busy_s, 0);
    EXPECT_NEAR(rank.exposed_communication_s, rank.communication_busy_s, 1e-12);
  }
  // One communication per member and step.
  EXPECT_EQ(r.activities, static_cast<std::uint64_t>(steps * n));
  EXPECT_EQ(r.collective_busy_s.count(program::to_string(c.kind)), 1u);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (auto kind : {CollectiveKind::kAllReduce, CollectiveKind::kReduceScatter, CollectiveKind::kAllGather})
    for (auto layout : {Layout::kOneNode, Layout::kOnePerNode})
      for (int n : {2, 4, 8})
        for (double bytes : {1 * kMiB, 256 * kMiB}) cases.push_back({kind, layout, n, bytes});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Ring, RingClosedForm, ::testing::ValuesIn(all_cases()), case_name);

// CM02 caps a flow at TCP-gamma / (2·latency) unless the engine lifts the window: with the
// default 4 MiB window and 10 µs of route latency that cap is 210 GB/s, below this 900 GB/s link.
TEST(RingClosedForm, TcpWindowDoesNotCapFastLinks) {
  constexpr platforms::LinkSpec kFastSlowLink{900e9, 5e-6};
  const platforms::Cluster cluster = testing::single_node_cluster(2, kFastSlowLink);
  program::Program p = testing::make_program(2);
  const int world = testing::add_world_group(p);
  const double bytes = 256 * kMiB;
  testing::add_collective_to_members(p, testing::collective(CollectiveKind::kAllReduce, world, 0, bytes));
  const engine::SimulationResult r = engine::simulate(cluster, p, {});
  const double alpha = 2 * kFastSlowLink.latency_s;
  const double expected_s = 2 * alpha + bytes / kFastSlowLink.bandwidth_bytes_per_s;
  std::printf("fast link: simulated %.9g s, closed form %.9g s\n", r.makespan_s, expected_s);
  EXPECT_NEAR(r.makespan_s, expected_s, 0.02 * expected_s);
}

}  // namespace
}  // namespace frugal
