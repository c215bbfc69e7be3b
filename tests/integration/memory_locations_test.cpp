// Memory per location: the static check counts host memory and NVMe per node (the sum of the
// node's ranks), against host_memory and the node's NVMe capacity (none: 0 bytes); and ranks
// that differ only in where a buffer lives are not identical for the coarse replicas.
#include <gtest/gtest.h>

#include "sim/engine/coarse_replicas.hpp"
#include "sim/metrics/summary.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::Location;

/// 2 nodes × 2 GPUs (host memory 512e9 per node), one rank per GPU, each with a resident
/// buffer of `bytes` at `where`.
program::Program resident_everywhere(double bytes, Location where) {
  program::Program p = testing::make_program(4);
  for (auto& rp : p.ranks) {
    program::Memory m = testing::buffer(program::MemoryTag::kOptimizer, "state", bytes);
    m.location = where;
    rp.resident.push_back(m);
  }
  return p;
}

platforms::Cluster two_by_two() {
  testing::ClusterShape s;
  s.nodes = 2;
  s.gpus_per_node = 2;
  return testing::make_cluster(s);
}

TEST(MemoryLocations, HostMemoryIsSharedByTheNodesRanks) {
  const platforms::Cluster c = two_by_two();
  const auto fits = metrics::check_memory(resident_everywhere(200e9, Location::kHost), c);
  EXPECT_TRUE(fits.fits());
  EXPECT_EQ(fits.host_peak_bytes, (std::vector<double>{400e9, 400e9}));
  EXPECT_EQ(fits.host_capacity_bytes, (std::vector<double>{512e9, 512e9}));
  EXPECT_EQ(fits.peak_bytes, (std::vector<double>{0, 0, 0, 0}));
  // 300e9 per rank fits in 512e9 alone, but not twice: every node overflows, no GPU does.
  const auto over = metrics::check_memory(resident_everywhere(300e9, Location::kHost), c);
  EXPECT_FALSE(over.fits());
  EXPECT_TRUE(over.overflowing_ranks().empty());
  EXPECT_EQ(over.overflowing_host_nodes(), (std::vector<int>{0, 1}));
  EXPECT_TRUE(over.overflowing_nvme_nodes().empty());
}

TEST(MemoryLocations, NvmeNeedsANodeThatDeclaresOne) {
  platforms::Cluster c = two_by_two();
  const program::Program p = resident_everywhere(1e12, Location::kNvme);
  const auto none = metrics::check_memory(p, c);
  EXPECT_EQ(none.overflowing_nvme_nodes(), (std::vector<int>{0, 1}));
  EXPECT_EQ(none.nvme_capacity_bytes, (std::vector<double>{0, 0}));
  c.node_types[0].nvme = {3e12, 8e9};
  const auto some = metrics::check_memory(p, c);
  EXPECT_TRUE(some.fits());
  EXPECT_EQ(some.nvme_peak_bytes, (std::vector<double>{2e12, 2e12}));
  c.node_types[0].nvme = {1.5e12, 8e9};
  EXPECT_EQ(metrics::check_memory(p, c).overflowing_nvme_nodes(), (std::vector<int>{0, 1}));
}

TEST(MemoryLocations, DeviceCheckIsUnchanged) {
  const auto check = metrics::check_memory(resident_everywhere(90e9, Location::kDevice), two_by_two());
  EXPECT_EQ(check.overflowing_ranks(), (std::vector<int>{0, 1, 2, 3}));  // 80e9 per GPU
  EXPECT_TRUE(check.overflowing_host_nodes().empty());
  EXPECT_EQ(check.host_peak_bytes, (std::vector<double>{0, 0}));
}

TEST(MemoryLocations, OutOfMemorySummaryNamesTheNodes) {
  study::Study st;
  st.name = "t";
  st.cluster = two_by_two();
  program::Program p = resident_everywhere(300e9, Location::kHost);
  p.metadata = {{"model_flops_per_iteration", 1.0}, {"plan", core::Json::object()}};
  policies::Plan plan;  // 4 data-parallel ranks, one per GPU
  plan.layout = policies::Layout({1, 1, 1, 4, 1}, policies::kAllDims);
  plan.stage_first_layer = {0};
  for (int r = 0; r < 4; ++r) plan.ranks.push_back({core::RankId(r), r, {1}});
  const core::Json s = metrics::make_oom_summary(st, plan, p, metrics::check_memory(p, st.cluster));
  EXPECT_EQ(s.at("status"), "out_of_memory");
  EXPECT_EQ(s.at("reason").get<std::string>().rfind("2 of 2 nodes run out of host memory; node 0 needs ", 0), 0u)
      << s.at("reason");
  EXPECT_TRUE(s.at("out_of_memory_gpus").empty());
  ASSERT_EQ(s.at("out_of_memory_host").size(), 2u);
  EXPECT_EQ(s.at("out_of_memory_host").at(1).at("node"), 1);
  EXPECT_EQ(s.at("out_of_memory_host").at(1).at("peak_bytes"), 600e9);
  EXPECT_EQ(s.at("out_of_memory_host").at(1).at("capacity_bytes"), 512e9);
  EXPECT_FALSE(s.contains("out_of_memory_nvme"));
  // A GPU-only overflow keeps its summary: no node lists.
  program::Program g = resident_everywhere(90e9, Location::kDevice);
  g.metadata = p.metadata;
  const core::Json gs = metrics::make_oom_summary(st, plan, g, metrics::check_memory(g, st.cluster));
  EXPECT_EQ(gs.at("reason").get<std::string>().rfind("4 of 4 GPUs run out of memory; rank 0 ", 0), 0u) << gs.at("reason");
  EXPECT_FALSE(gs.contains("out_of_memory_host"));
  EXPECT_EQ(gs.at("out_of_memory_gpus").size(), 4u);
}

TEST(MemoryLocations, RanksWithBuffersElsewhereAreNotIdentical) {
  const platforms::Cluster c = two_by_two();
  program::Program same = resident_everywhere(1e9, Location::kDevice);
  EXPECT_TRUE(engine::find_representatives(c, same).applied);
  program::Program moved = same;
  for (int r = 0; r < 4; ++r) moved.ranks[r].resident[0].location = r % 2 ? Location::kHost : Location::kDevice;
  const auto reps = engine::find_representatives(c, moved);
  ASSERT_TRUE(reps.applied);
  EXPECT_EQ(reps.members.size(), 2u);  // device ranks {0, 2}, host ranks {1, 3}
  program::Program other = same;
  for (int r = 0; r < 4; ++r) other.ranks[r].resident[0].location = static_cast<Location>(r % 3);
  other.ranks[3].resident[0].location = Location::kNvme;
  EXPECT_EQ(engine::find_representatives(c, other).members.size(), 3u);
}

}  // namespace
}  // namespace frugal
