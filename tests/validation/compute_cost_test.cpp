// Compute ops against their closed form: time = flops / (peak(precision) × matmul_efficiency)
// + memory_bytes / hbm_bandwidth, summed over the ops of the compute stream.
#include <gtest/gtest.h>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

platforms::Cluster one_gpu(const platforms::GpuSpec& gpu) {
  testing::ClusterShape shape;
  shape.gpu = gpu;
  return testing::make_cluster(shape);
}

TEST(ComputeCost, FlopsAndHbmTrafficAtEffectiveSpeed) {
  platforms::GpuSpec gpu = testing::test_gpu(/*flops_per_s=*/200e12, /*hbm=*/2e12, 50, 400, /*efficiency=*/0.5);
  program::Program p = testing::make_program(1);
  program::RankBuilder b(p.ranks[0]);
  b.compute("gemm", testing::compute_op(3e12));                 // 3e12 / 1e14 = 30 ms
  b.compute("softmax", testing::compute_op(1e12, 4e9));         // 10 ms + 4e9 / 2e12 = 2 ms
  b.compute("layernorm", testing::compute_op(0, 1e9));          // 0.5 ms, memory only
  const engine::SimulationResult r = engine::simulate(one_gpu(gpu), p, {});
  const double expected_s = 3e12 / 1e14 + (1e12 / 1e14 + 4e9 / 2e12) + 1e9 / 2e12;
  std::printf("compute: simulated %.12g s, closed form %.12g s\n", r.makespan_s, expected_s);
  EXPECT_NEAR(r.makespan_s, expected_s, 1e-9 * expected_s);
  EXPECT_NEAR(r.ranks[0].compute_busy_s, expected_s, 1e-9 * expected_s);
  EXPECT_DOUBLE_EQ(r.ranks[0].communication_busy_s, 0);
  EXPECT_EQ(r.activities, 3u);
  ASSERT_EQ(r.timeline.size(), 3u);
  EXPECT_NEAR(r.timeline[1].end_s - r.timeline[1].start_s, 0.012, 1e-12);
  EXPECT_EQ(r.timeline[1].category, "compute");
  EXPECT_DOUBLE_EQ(r.timeline[1].flops, 1e12);
  EXPECT_EQ(r.simgrid_version.rfind("3.", 0), 0u);
}

TEST(ComputeCost, PrecisionSelectsPeak) {
  platforms::GpuSpec gpu = testing::test_gpu(300e12, 2e12, 50, 400, 0.8);
  gpu.peak_flops_per_s[core::Precision::kFp32] = 20e12;  // effective 16 TFLOP/s
  program::Program p = testing::make_program(1);
  program::RankBuilder(p.ranks[0]).compute("gemm", testing::compute_op(8e12));
  engine::EngineOptions options;
  options.precision = core::Precision::kFp32;
  const engine::SimulationResult r = engine::simulate(one_gpu(gpu), p, options);
  EXPECT_NEAR(r.makespan_s, 8e12 / 16e12, 1e-12);
}

}  // namespace
}  // namespace frugal
