// Streams and iterations: an op waits for its dependencies on other streams, independent
// streams overlap (makespan below the serial sum, exposed communication from intervals), and
// iterations repeat the program (serial chains scale linearly).
#include <gtest/gtest.h>

#include <cstdio>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveKind;

// 2 GPUs in one node at 100 TFLOP/s; all-reduce of S over 2 ranks: T = 2α + S/β.
constexpr platforms::LinkSpec kGpuLink{100e9, 1e-6};
constexpr double kSpeed = 100e12;
constexpr double kAlpha = 2 * kGpuLink.latency_s;
double all_reduce_s(double bytes) { return 2 * kAlpha + bytes / kGpuLink.bandwidth_bytes_per_s; }

platforms::Cluster cluster() { return testing::single_node_cluster(2, kGpuLink); }

const engine::TimelineEvent& event(const engine::SimulationResult& r, int rank, const std::string& name,
                                   int iteration = 0) {
  for (const auto& e : r.timeline)
    if (e.rank == rank && e.name == name && e.iteration == iteration) return e;
  throw std::runtime_error("no event " + name);
}

TEST(Streams, CollectiveWaitsForItsComputeDependency) {
  program::Program p = testing::make_program(2);
  const int world = testing::add_world_group(p);
  const double flops[2] = {1e12, 2e12};  // 10 ms and 20 ms
  const double bytes = 1e9;
  for (int r = 0; r < 2; ++r) {
    program::RankBuilder b(p.ranks[r]);
    const auto c = b.compute("grad", testing::compute_op(flops[r]));
    b.collective("ar", testing::collective(CollectiveKind::kAllReduce, world, 0, bytes), {c});
  }
  const engine::SimulationResult r = engine::simulate(cluster(), p, {});
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_GE(event(r, rank, "ar").start_s, event(r, rank, "grad").end_s);
    EXPECT_EQ(event(r, rank, "ar").stream, program::Stream::kComm);
  }
  EXPECT_NEAR(event(r, 0, "ar").start_s, 0.010, 1e-12);  // rank 0 posts at 10 ms, then waits for rank 1
  const double expected = 0.020 + all_reduce_s(bytes);
  EXPECT_NEAR(r.makespan_s, expected, 1e-9);
  EXPECT_NEAR(r.collective_busy_s.at("all_reduce"), (expected - 0.010) + (expected - 0.020), 1e-9);
}

// A (10 ms) → all-reduce of A's gradients (15 ms, comm stream) while B (10 ms) computes.
TEST(Streams, OverlapHidesCommunication) {
  program::Program p = testing::make_program(2);
  const int world = testing::add_world_group(p);
  const double bytes = 1.5e9;
  for (auto& rp : p.ranks) {
    program::RankBuilder b(rp);
    const auto a = b.compute("A", testing::compute_op(1e12));
    b.collective("ar", testing::collective(CollectiveKind::kAllReduce, world, 0, bytes), {a});
    b.compute("B", testing::compute_op(1e12));
  }
  const engine::SimulationResult r = engine::simulate(cluster(), p, {});
  const double t_ar = all_reduce_s(bytes);
  const double overlapped = 0.010 + std::max(0.010, t_ar);
  const double serial = 0.020 + t_ar;
  std::printf("overlap: makespan %.9g s (closed form %.9g s, serial %.9g s)\n", r.makespan_s, overlapped, serial);
  EXPECT_NEAR(r.makespan_s, overlapped, 1e-9);
  EXPECT_LT(r.makespan_s, serial - 0.009);
  for (const auto& s : r.ranks) {
    EXPECT_NEAR(s.compute_busy_s, 0.020, 1e-9);
    EXPECT_NEAR(s.communication_busy_s, t_ar, 1e-9);
    EXPECT_NEAR(s.exposed_communication_s, t_ar - 0.010, 1e-9);  // only the part after B ends
    EXPECT_NEAR(s.finish_s, overlapped, 1e-9);
  }
}

/// A (10 ms), then an all-reduce of `bytes` after it on `stream` and B (10 ms), on 2 GPUs whose
/// compute slows by s = 0.25 while a collective runs off their compute stream.
engine::SimulationResult all_reduce_beside_b(program::Stream stream, double bytes) {
  testing::ClusterShape shape;
  shape.gpus_per_node = 2;
  shape.gpu_link = kGpuLink;
  shape.gpu.overlap_slowdown = 0.25;
  program::Program p = testing::make_program(2);
  const int world = testing::add_world_group(p);
  for (auto& rp : p.ranks) {
    program::RankBuilder b(rp);
    const auto a = b.compute("A", testing::compute_op(1e12));
    b.collective("ar", testing::collective(CollectiveKind::kAllReduce, world, 0, bytes), {a}, stream);
    b.compute("B", testing::compute_op(1e12));
  }
  return engine::simulate(testing::make_cluster(shape), p, {});
}

// As above with the slowdown: B runs at 1/(1 + s) of its speed during the all-reduce (t_ar < B),
// so it ends t_ar·s/(1 + s) later; A, before the all-reduce, and the all-reduce itself are unchanged.
TEST(Streams, ComputeSlowsWhileACollectiveOverlapsIt) {
  const double bytes = 0.5e9;
  const engine::SimulationResult r = all_reduce_beside_b(program::Stream::kComm, bytes);
  const double t_ar = all_reduce_s(bytes), s = 0.25;
  std::printf("slowed overlap: makespan %.9g s (free overlap %.9g s)\n", r.makespan_s, 0.020);
  EXPECT_NEAR(r.makespan_s, 0.020 + t_ar * s / (1 + s), 1e-9);
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_NEAR(event(r, rank, "A").end_s, 0.010, 1e-9);
    EXPECT_NEAR(event(r, rank, "ar").end_s, 0.010 + t_ar, 1e-9);
    EXPECT_NEAR(event(r, rank, "B").end_s, 0.020 + t_ar * s / (1 + s), 1e-9);
  }
}

// A collective on the compute stream (fp8's amax all-reduce) holds it: B starts when the
// all-reduce ends, and the GPU's overlap slowdown does not apply (nothing runs beside it).
TEST(Streams, ACollectiveOnTheComputeStreamHoldsIt) {
  const double bytes = 0.5e9;
  const engine::SimulationResult r = all_reduce_beside_b(program::Stream::kCompute, bytes);
  const double t_ar = all_reduce_s(bytes);
  EXPECT_NEAR(r.makespan_s, 0.020 + t_ar, 1e-9);
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_EQ(event(r, rank, "ar").stream, program::Stream::kCompute);
    EXPECT_NEAR(event(r, rank, "B").start_s, 0.010 + t_ar, 1e-9);
  }
}

TEST(Streams, IterationsOfASerialChainScaleLinearly) {
  program::Program p = testing::make_program(2);
  const int world = testing::add_world_group(p);
  const double bytes = 0.5e9;
  for (auto& rp : p.ranks) {
    program::RankBuilder b(rp);
    const auto f = b.compute("fwd", testing::compute_op(1e12));
    const auto ar = b.collective("ar", testing::collective(CollectiveKind::kAllReduce, world, 0, bytes), {f});
    b.compute("step", testing::compute_op(0.5e12), {ar});
  }
  engine::EngineOptions options;
  options.iterations = 3;
  const engine::SimulationResult r = engine::simulate(cluster(), p, options);
  const double one = 0.010 + all_reduce_s(bytes) + 0.005;
  EXPECT_EQ(r.iterations, 3);
  EXPECT_NEAR(r.makespan_s, 3 * one, 1e-9);
  EXPECT_EQ(r.timeline.size(), 2u * 3u * 3u);
  EXPECT_NEAR(event(r, 1, "fwd", 2).start_s, 2 * one, 1e-9);
  EXPECT_NEAR(event(r, 1, "step", 2).end_s, 3 * one, 1e-9);
  // 2 execs + 2 ring steps per rank and iteration.
  EXPECT_EQ(r.activities, 3u * 2u * (2u + 2u));
}

TEST(Streams, NoTimelineWhenNotAsked) {
  program::Program p = testing::make_program(1);
  program::RankBuilder(p.ranks[0]).compute("c", testing::compute_op(1e12));
  engine::EngineOptions options;
  options.record_timeline = false;
  const engine::SimulationResult r = engine::simulate(cluster(), p, options);
  EXPECT_TRUE(r.timeline.empty());
  EXPECT_NEAR(r.makespan_s, 1e12 / kSpeed, 1e-12);
  EXPECT_DOUBLE_EQ(r.ranks[0].finish_s, r.makespan_s);
}

}  // namespace
}  // namespace frugal
