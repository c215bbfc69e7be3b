// Point-to-point and host transfers: a send/recv pair takes α + S/β from the later post;
// device↔host copies and checkpoint writes cross the GPU's PCIe link (α_pcie + S/β_pcie).
#include <gtest/gtest.h>

#include "sim/engine/platform_builder.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using testing::kMiB;

testing::ClusterShape shape() {
  testing::ClusterShape s;
  s.nodes = 2;
  s.gpus_per_node = 2;
  s.gpu_link = {200e9, 1e-6};
  s.host_link = {20e9, 3e-6};
  s.nic = {25e9, 4e-6};
  s.switch_latency_s = 2e-6;
  return s;
}

TEST(PointToPoint, SendRecvAcrossNodesAfterLatePost) {
  program::Program p = testing::make_program(4);
  const double bytes = 64 * kMiB;
  // Rank 0 computes 5 ms, then sends to rank 3 (other node), which posted its recv at t = 0.
  program::RankBuilder b0(p.ranks[0]);
  const auto c = b0.compute("c", testing::compute_op(0.5e12));
  testing::add_send(p.ranks[0], 3, 7, bytes, {c});
  testing::add_recv(p.ranks[3], 0, 7, bytes);
  const platforms::Cluster cluster = testing::make_cluster(shape());
  const engine::SimulationResult r = engine::simulate(cluster, p, {});
  const double alpha = 4e-6 + 2e-6 + 4e-6;  // NIC, switch (two half-uplinks), NIC
  const double beta = 25e9;
  EXPECT_DOUBLE_EQ(engine::gpu_path(cluster, 0, 3).latency_s, alpha);
  const double t = alpha + bytes / beta;
  EXPECT_NEAR(r.makespan_s, 0.005 + t, 1e-9);
  EXPECT_NEAR(r.ranks[3].finish_s, 0.005 + t, 1e-9);
  // The recv was posted at t = 0 but waited 5 ms for its sender: that wait is idle time, only
  // the transfer counts as communication.
  EXPECT_NEAR(r.ranks[3].communication_busy_s, t, 1e-9);
  EXPECT_NEAR(r.ranks[0].communication_busy_s, t, 1e-9);
  EXPECT_EQ(r.activities, 2u);  // one exec, one communication
}

TEST(PointToPoint, AReceivePostedAheadLetsItsStreamMoveOnAndItsConsumerWaitsForTheData) {
  // Ranks 0 and 3 (two nodes) each post their receive ahead on the comm stream, compute 5 ms,
  // send on the same stream and then compute 1 ms on what they received. The comm stream moves
  // past the posted receive, so each send leaves at 5 ms (a receive that blocked the stream would
  // hold the send behind it: both ranks would wait for each other); each consumer starts when
  // its data has arrived, α + S/β later.
  program::Program p = testing::make_program(4);
  const double bytes = 64 * kMiB;
  for (const int r : {0, 3}) {
    const int peer = 3 - r;
    program::RankBuilder b(p.ranks[static_cast<std::size_t>(r)]);
    const auto in = b.add(program::OpKind::kRecv, program::Stream::kComm, "recv ahead", {},
                          program::PointToPoint{core::RankId(peer), peer, bytes, true});
    const auto c = b.compute("c", testing::compute_op(0.5e12));
    testing::add_send(p.ranks[static_cast<std::size_t>(r)], peer, r, bytes, {c});
    program::RankBuilder(p.ranks[static_cast<std::size_t>(r)]).compute("use", testing::compute_op(0.1e12), {in});
  }
  program::validate(p);
  const platforms::Cluster cluster = testing::make_cluster(shape());
  const engine::SimulationResult r = engine::simulate(cluster, p, {});
  const double t = engine::gpu_path(cluster, 0, 3).latency_s + bytes / 25e9;
  EXPECT_NEAR(r.makespan_s, 0.005 + t + 0.001, 1e-9);
  for (const int rank : {0, 3}) {
    EXPECT_NEAR(r.ranks[static_cast<std::size_t>(rank)].finish_s, 0.005 + t + 0.001, 1e-9);
    // Waiting for the sender is idle time: the two transfers run at once.
    EXPECT_NEAR(r.ranks[static_cast<std::size_t>(rank)].communication_busy_s, t, 1e-9);
  }
}

TEST(PointToPoint, TagsMatchSendsToTheirRecvs) {
  program::Program p = testing::make_program(4);
  // Rank 0 posts both sends at t = 0 on two streams; rank 1 receives tag 2 first, then tag 1.
  // Sends complete on delivery (rendezvous), so tag 1 waits for rank 1's second recv.
  testing::add_send(p.ranks[0], 1, 1, 100 * kMiB);
  program::RankBuilder(p.ranks[0]).add(program::OpKind::kSend, program::Stream::kCopy, "send2", {},
                                       program::PointToPoint{core::RankId(1), 2, 10 * kMiB});
  const auto first = testing::add_recv(p.ranks[1], 0, 2, 10 * kMiB);
  testing::add_recv(p.ranks[1], 0, 1, 100 * kMiB, {first});
  const engine::SimulationResult r = engine::simulate(testing::make_cluster(shape()), p, {});
  const double alpha = 2e-6, beta = 200e9;
  const double t_small = alpha + 10 * kMiB / beta;
  for (const auto& e : r.timeline)
    if (e.name == "send2") {
      EXPECT_NEAR(e.end_s, t_small, 1e-12);
    }
  EXPECT_NEAR(r.makespan_s, t_small + alpha + 100 * kMiB / beta, 1e-12);
}

TEST(HostTransfers, CopiesAndCheckpointUsePcie) {
  program::Program p = testing::make_program(4);
  program::RankProgram& rp = p.ranks[2];
  const auto d2h = testing::add_copy(rp, program::CopyDirection::kDeviceToHost, 400 * kMiB);
  const auto h2d = testing::add_copy(rp, program::CopyDirection::kHostToDevice, 200 * kMiB, {d2h});
  program::RankBuilder(rp).add(program::OpKind::kCheckpointWrite, program::Stream::kCopy, "ckpt", {h2d},
                               program::CheckpointWrite{1e9});
  const platforms::Cluster cluster = testing::make_cluster(shape());
  const engine::SimulationResult r = engine::simulate(cluster, p, {});
  const engine::PathCost pcie = engine::host_path(cluster, 2);
  EXPECT_DOUBLE_EQ(pcie.latency_s, 3e-6);
  EXPECT_DOUBLE_EQ(pcie.bandwidth_bytes_per_s, 20e9);
  const double expected = 3 * 3e-6 + (600 * kMiB + 1e9) / 20e9;
  EXPECT_NEAR(r.makespan_s, expected, 1e-9);
  EXPECT_NEAR(r.ranks[2].communication_busy_s, expected, 1e-9);
  ASSERT_EQ(r.timeline.size(), 3u);
  EXPECT_EQ(r.timeline[0].category, "copy");
  EXPECT_EQ(r.timeline[2].category, "checkpoint_write");
  EXPECT_EQ(r.timeline[2].stream, program::Stream::kCopy);
  EXPECT_EQ(r.activities, 3u);
}

TEST(PointToPoint, BackboneIsOneSharedLink) {
  // 2 nodes, backbone 5 GB/s below the 25 GB/s NICs; two transfers in opposite directions
  // share it (one link for both directions), each getting 2.5 GB/s.
  testing::ClusterShape s = shape();
  s.backbone_bandwidth_bytes_per_s = 5e9;
  const platforms::Cluster cluster = testing::make_cluster(s);
  EXPECT_DOUBLE_EQ(engine::gpu_path(cluster, 0, 2).bandwidth_bytes_per_s, 5e9);
  program::Program p = testing::make_program(4);
  const double bytes = 100 * kMiB;
  testing::add_send(p.ranks[0], 2, 0, bytes);
  testing::add_recv(p.ranks[2], 0, 0, bytes);
  testing::add_send(p.ranks[3], 1, 0, bytes);
  testing::add_recv(p.ranks[1], 3, 0, bytes);
  const engine::SimulationResult r = engine::simulate(cluster, p, {});
  const double alpha = 4e-6 + 2e-6 + 4e-6;
  EXPECT_NEAR(r.makespan_s, alpha + bytes / 2.5e9, 1e-9);
}

TEST(PointToPoint, ZeroBytesCompleteAtOnce) {
  program::Program p = testing::make_program(4);
  testing::add_send(p.ranks[0], 3, 0, 0);
  testing::add_recv(p.ranks[3], 0, 0, 0);
  testing::add_collective_to_members(
      p, testing::collective(program::CollectiveKind::kAllReduce, testing::add_world_group(p), 0, 0));
  const engine::SimulationResult r = engine::simulate(testing::make_cluster(shape()), p, {});
  EXPECT_DOUBLE_EQ(r.makespan_s, 0);
  EXPECT_EQ(r.activities, 0u);
}

}  // namespace
}  // namespace frugal
