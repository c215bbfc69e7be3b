// Determinism: a mixed program (compute, ring all-reduce, send/recv, 2 iterations on 4 nodes)
// gives exactly the hand-computed timeline (one simulation per process, so the reference is
// arithmetic, not a second run).
#include <gtest/gtest.h>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using testing::kMiB;

TEST(Determinism, TimelineMatchesHandComputation) {
  constexpr platforms::LinkSpec kNic{25e9, 5e-6};
  const platforms::Cluster cluster = testing::one_gpu_per_node_cluster(4, kNic, 2e-6);
  const double alpha = 12e-6, beta = 25e9;
  const double ar_bytes = 64 * kMiB, p2p_bytes = 16 * kMiB;

  program::Program p = testing::make_program(4);
  const int world = testing::add_world_group(p);
  for (int r = 0; r < 4; ++r) {
    program::RankBuilder b(p.ranks[r]);
    const auto c = b.compute("C", testing::compute_op(1e12));  // 10 ms at 100 TFLOP/s
    const auto ar = b.collective("AR", testing::collective(program::CollectiveKind::kAllReduce, world, 0, ar_bytes), {c});
    if (r == 0) testing::add_send(p.ranks[r], 3, 0, p2p_bytes, {ar});
    if (r == 3) testing::add_recv(p.ranks[r], 0, 0, p2p_bytes, {ar});
  }
  engine::EngineOptions options;
  options.iterations = 2;
  const engine::SimulationResult r = engine::simulate(cluster, p, options);

  // Compute runs back to back (10k..10k+10 ms); AR_k starts when C_k ends and hides under
  // C_{k+1} except in the last iteration; the p2p follows AR on the comm stream.
  const double t_ar = 6 * alpha + 1.5 * ar_bytes / beta;
  const double t_p2p = alpha + p2p_bytes / beta;
  ASSERT_LT(t_ar + t_p2p, 0.010);
  for (const auto& e : r.timeline) {
    const double k = e.iteration;
    double start = 0, end = 0;
    if (e.name == "C") start = 0.010 * k, end = start + 0.010;
    else if (e.name == "AR") start = 0.010 * (k + 1), end = start + t_ar;
    else start = 0.010 * (k + 1) + t_ar, end = start + t_p2p;
    EXPECT_NEAR(e.start_s, start, 1e-12) << e.name << " rank " << e.rank << " iteration " << e.iteration;
    EXPECT_NEAR(e.end_s, end, 1e-12) << e.name << " rank " << e.rank << " iteration " << e.iteration;
  }
  EXPECT_EQ(r.timeline.size(), 2u * (4u * 2u + 2u));
  EXPECT_NEAR(r.makespan_s, 0.020 + t_ar + t_p2p, 1e-12);
  EXPECT_EQ(r.activities, 2u * (4u + 4u * 6u + 1u));
  for (int rank = 0; rank < 4; ++rank) {
    const bool p2p = rank == 0 || rank == 3;
    EXPECT_NEAR(r.ranks[rank].compute_busy_s, 0.020, 1e-12);
    EXPECT_NEAR(r.ranks[rank].communication_busy_s, 2 * (t_ar + (p2p ? t_p2p : 0)), 1e-12);
    EXPECT_NEAR(r.ranks[rank].exposed_communication_s, t_ar + (p2p ? t_p2p : 0), 1e-12);
  }
  EXPECT_NEAR(r.collective_busy_s.at("all_reduce"), 2 * 4 * t_ar, 1e-12);
}

}  // namespace
}  // namespace frugal
