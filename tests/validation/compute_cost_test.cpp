// Compute ops against their closed form: time = flops / (peak(precision) × matmul_efficiency)
// + memory_bytes / bandwidth(memory_bytes), summed over the ops of the compute stream; a device
// with serial streams runs its communication after its compute instead of beside it.
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

/// A calibrated table: 1 MB at 50 GB/s, 100 MB at 10 GB/s; log-linear in between, clamped outside.
TEST(ComputeCost, MemoryBoundWorkAtTheBandwidthMeasuredForItsSize) {
  platforms::GpuSpec gpu = testing::test_gpu(100e12, /*hbm=*/10e9, 50, 400, 1.0);
  gpu.memory_bandwidth_by_size = {{1e6, 50e9}, {1e8, 10e9}};
  EXPECT_DOUBLE_EQ(gpu.memory_bandwidth_at(1e5), 50e9);
  EXPECT_DOUBLE_EQ(gpu.memory_bandwidth_at(1e7), 30e9);
  EXPECT_DOUBLE_EQ(gpu.memory_bandwidth_at(1e9), 10e9);
  program::Program p = testing::make_program(1);
  program::RankBuilder b(p.ranks[0]);
  for (double bytes : {1e5, 1e6, 1e7, 1e8, 1e9}) b.compute("stream", testing::compute_op(0, bytes));
  const engine::SimulationResult r = engine::simulate(one_gpu(gpu), p, {});
  const double expected_s = 1e5 / 50e9 + 1e6 / 50e9 + 1e7 / 30e9 + 1e8 / 10e9 + 1e9 / 10e9;
  EXPECT_NEAR(r.makespan_s, expected_s, 1e-9 * expected_s);
  ASSERT_EQ(r.timeline.size(), 5u);
  EXPECT_NEAR(r.timeline[2].end_s - r.timeline[2].start_s, 1e7 / 30e9, 1e-12);
}

/// Two ranks each compute 10 ms and all-reduce 80 MB (ring of 2: 2 steps of 40 MB at 10 GB/s,
/// 8 ms) with no dependency between the two. Concurrent streams overlap them (10 ms); a serial
/// device runs them one after the other in program order (18 ms), and the timeline still names
/// each op's own stream. One simulation per process: one TEST each.
/// Two GPUs of 100 TFLOP/s (efficiency 1) joined by 10 GB/s links without latency.
platforms::Cluster two_gpus(bool serial) {
  platforms::GpuSpec gpu = testing::test_gpu(100e12, 2e12, 50, 400, 1.0);
  gpu.serial_streams = serial;
  testing::ClusterShape shape;
  shape.gpus_per_node = 2;
  shape.gpu_link = {10e9, 0};
  shape.gpu = gpu;
  return testing::make_cluster(shape);
}

void expect_compute_then_allreduce(bool serial) {
  program::Program p = testing::make_program(2);
  const int world = testing::add_world_group(p);
  for (int r = 0; r < 2; ++r) {
    program::RankBuilder b(p.ranks[r]);
    b.compute("fwd", testing::compute_op(1e12));
    b.collective("allreduce", testing::collective(program::CollectiveKind::kAllReduce, world, 0, 80e6));
  }
  const engine::SimulationResult r = engine::simulate(two_gpus(serial), p, {});
  EXPECT_NEAR(r.makespan_s, serial ? 0.010 + 0.008 : 0.010, 1e-9);
  int collectives = 0;
  for (const auto& e : r.timeline)
    if (e.name == "allreduce") {
      ++collectives;
      EXPECT_EQ(e.stream, program::Stream::kComm);
      EXPECT_NEAR(e.start_s, serial ? 0.010 : 0.0, 1e-12);
    }
  EXPECT_EQ(collectives, 2);
}

TEST(ComputeCost, ConcurrentStreamsOverlapCommunicationWithCompute) { expect_compute_then_allreduce(false); }

TEST(ComputeCost, SerialStreamsRunCommunicationAfterCompute) { expect_compute_then_allreduce(true); }

/// On a serial device a send starts in program order but completes in the background (as MPI's
/// eager sends): rank 0 computes a (10 ms), sends 80 MB (8 ms) and computes b at once; rank 1's
/// receive completes at 18 ms and its compute c, which needs it, ends at 28 ms.
TEST(ComputeCost, SerialStreamsSendInTheBackground) {
  program::Program p = testing::make_program(2);
  program::RankBuilder(p.ranks[0]).compute("a", testing::compute_op(1e12));
  testing::add_send(p.ranks[0], 1, 0, 80e6);
  program::RankBuilder(p.ranks[0]).compute("b", testing::compute_op(1e12));
  const program::OpId recv = testing::add_recv(p.ranks[1], 0, 0, 80e6);
  program::RankBuilder(p.ranks[1]).compute("c", testing::compute_op(1e12), {recv});
  const engine::SimulationResult r = engine::simulate(two_gpus(true), p, {});
  EXPECT_NEAR(r.makespan_s, 0.028, 1e-9);
  for (const auto& e : r.timeline) {
    if (e.name == "b") {
      EXPECT_NEAR(e.start_s, 0.010, 1e-12);
    } else if (e.name == "send") {
      EXPECT_NEAR(e.end_s, 0.018, 1e-9);
    } else if (e.name == "c") {
      EXPECT_NEAR(e.start_s, 0.018, 1e-9);
    }
  }
}

}  // namespace
}  // namespace frugal
