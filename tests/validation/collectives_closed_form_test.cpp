// Broadcast (pipelined chain) and all-to-all (pairwise exchange) against their closed forms on
// uniform links (α, β by hand from the route): broadcast T = (n − 2 + k)·(α + S/(k·β)) with
// k = broadcast_chunks(S); all-to-all T = (n−1)·α + (n−1)/n·S/β, S sent by each member in total.
#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>
#include <string>

#include "sim/engine/collectives.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveKind;
using testing::kMiB;

constexpr platforms::LinkSpec kGpuLink{200e9, 2e-6};
constexpr platforms::LinkSpec kNic{50e9, 3e-6};
constexpr double kSwitchLatencyS = 1e-6;

struct Case {
  CollectiveKind kind;
  bool one_node;
  int n;
  double bytes;
  int root;
};

std::string case_name(const Case& c) {
  std::string s = program::to_string(c.kind);
  s += c.one_node ? "_one_node_n" : "_per_node_n";
  s += std::to_string(c.n);
  s += "_";
  s += std::to_string(static_cast<long long>(c.bytes / kMiB));
  s += "MiB_root";
  s += std::to_string(c.root);
  return s;
}

void PrintTo(const Case& c, std::ostream* os) { *os << case_name(c); }

class ClosedForm : public ::testing::TestWithParam<Case> {};

TEST_P(ClosedForm, Matches) {
  const Case c = GetParam();
  const platforms::Cluster cluster = c.one_node ? testing::single_node_cluster(c.n, kGpuLink)
                                                : testing::one_gpu_per_node_cluster(c.n, kNic, kSwitchLatencyS);
  const double alpha = c.one_node ? 2 * kGpuLink.latency_s : 2 * kNic.latency_s + kSwitchLatencyS;
  const double beta = c.one_node ? kGpuLink.bandwidth_bytes_per_s : kNic.bandwidth_bytes_per_s;

  program::Program p = testing::make_program(c.n);
  const int world = testing::add_world_group(p);
  testing::add_collective_to_members(
      p, testing::collective(c.kind, world, 0, c.bytes, program::CollectiveAlgorithm::kRing, c.root));
  const engine::SimulationResult r = engine::simulate(cluster, p, {});

  const double n = c.n;
  double expected_s = 0;
  if (c.kind == CollectiveKind::kBroadcast) {
    const double k = engine::broadcast_chunks(c.bytes);
    expected_s = (n - 2 + k) * (alpha + c.bytes / k / beta);
  } else {
    expected_s = (n - 1) * alpha + (n - 1) / n * c.bytes / beta;
  }
  std::printf("%s: simulated %.9g s, closed form %.9g s, relative error %.3g\n", case_name(c).c_str(), r.makespan_s,
              expected_s, r.makespan_s / expected_s - 1);
  EXPECT_NEAR(r.makespan_s, expected_s, 0.02 * expected_s);
}

INSTANTIATE_TEST_SUITE_P(
    Collectives, ClosedForm,
    ::testing::Values(Case{CollectiveKind::kBroadcast, true, 4, 1 * kMiB, 0},
                      Case{CollectiveKind::kBroadcast, true, 4, 64 * kMiB, 2},
                      Case{CollectiveKind::kBroadcast, false, 8, 256 * kMiB, 5},
                      Case{CollectiveKind::kAllToAll, true, 4, 64 * kMiB, 0},
                      Case{CollectiveKind::kAllToAll, true, 8, 1 * kMiB, 0},
                      Case{CollectiveKind::kAllToAll, false, 8, 256 * kMiB, 0}),
    [](const ::testing::TestParamInfo<Case>& info) { return case_name(info.param); });

}  // namespace
}  // namespace frugal
