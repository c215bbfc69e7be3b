// GPU energy from SimGrid's host energy plugin (3.32, "idle:max" wattage, one core):
// P = max while an Exec runs, idle otherwise, so E = idle·(T − busy) + max·busy
//   = idle·T + (max − idle)·busy.
#include <gtest/gtest.h>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

constexpr double kIdleW = 60;
constexpr double kMaxW = 350;

platforms::Cluster cluster(int gpus) {
  testing::ClusterShape s;
  s.gpus_per_node = gpus;
  s.gpu = testing::test_gpu(100e12, 2e12, kIdleW, kMaxW, 0.5);  // effective 50 TFLOP/s
  s.host_link = {25e9, 2e-6};
  return testing::make_cluster(s);
}

TEST(Energy, IdlePlusDynamicTimesBusy) {
  program::Program p = testing::make_program(2);
  program::RankBuilder b(p.ranks[0]);
  const auto c = b.compute("c", testing::compute_op(1e13));  // 0.2 s busy
  // Then 0.1 s + 2 µs of PCIe copy, during which the GPU idles.
  testing::add_copy(p.ranks[0], program::CopyDirection::kDeviceToHost, 2.5e9, {c});
  const engine::SimulationResult r = engine::simulate(cluster(2), p, {});
  const double busy = 0.2;
  const double total = 0.2 + 2e-6 + 2.5e9 / 25e9;
  EXPECT_NEAR(r.makespan_s, total, 1e-9);
  EXPECT_NEAR(r.ranks[0].energy_j, kIdleW * total + (kMaxW - kIdleW) * busy, 1e-6);
  // Rank 1 had nothing to do: idle for the whole run.
  EXPECT_NEAR(r.ranks[1].energy_j, kIdleW * total, 1e-6);
}

}  // namespace
}  // namespace frugal
