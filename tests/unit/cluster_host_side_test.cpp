// Cluster files: the node's shared host side ("host_memory_bandwidth") and NVMe ("nvme"), read
// strictly with units, defaulted when absent, and kept by the resolved form.
#include <gtest/gtest.h>

#include "platforms/cluster_spec.hpp"
#include "sim/core/error.hpp"

using namespace frugal;
using namespace frugal::platforms;
using core::Json;

namespace {

Json cluster_with(const Json& extra) {
  Json c = Json::parse(R"({
    "name": "t",
    "node_types": { "a": {
      "gpu": "A100-80GB", "gpus_per_node": 4,
      "intra_node": {"kind": "nvlink", "bandwidth": "300 GB/s", "latency": "1 us"},
      "host_link": {"bandwidth": "25 GB/s", "latency": "1 us"}, "host_memory": "1 TiB",
      "nic": {"bandwidth": "200 Gbps", "latency": "1 us"}, "nics_per_node": 1,
      "cpu": {"speed": "2 TFLOPS", "idle_power": "100 W", "max_power": "400 W"} } },
    "nodes": [ {"type": "a", "count": 2} ],
    "network": {"topology": "star"} })");
  for (const auto& [key, value] : extra.items()) c["node_types"]["a"][key] = value;
  return c;
}

std::string error_at(const Json& cluster) {
  try {
    read_cluster(cluster, "c.json", "", GpuCatalogue::shipped());
  } catch (const core::ConfigError& e) {
    return e.pointer() + ": " + e.message();
  }
  return "";
}

}  // namespace

TEST(ClusterHostSide, UndeclaredHostSideCarriesEveryPcieLink) {
  const Cluster c = read_cluster(cluster_with(Json::object()), "c.json", "", GpuCatalogue::shipped());
  const NodeType& t = c.node_types[0];
  EXPECT_EQ(t.host_memory_bandwidth_bytes_per_s, 0);
  EXPECT_DOUBLE_EQ(t.host_side_bandwidth_bytes_per_s(), 4 * 25e9);
  EXPECT_FALSE(t.has_nvme());
  EXPECT_FALSE(to_json(c).at("node_types").at("a").contains("nvme"));
}

TEST(ClusterHostSide, DeclaredHostSideAndNvmeReadWithUnitsAndRoundTrip) {
  const Cluster c = read_cluster(
      cluster_with({{"host_memory_bandwidth", "60 GB/s"}, {"nvme", {{"capacity", "30 TB"}, {"bandwidth", "8 GB/s"}}}}),
      "c.json", "", GpuCatalogue::shipped());
  const NodeType& t = c.node_types[0];
  EXPECT_DOUBLE_EQ(t.host_side_bandwidth_bytes_per_s(), 60e9);
  EXPECT_TRUE(t.has_nvme());
  EXPECT_DOUBLE_EQ(t.nvme.capacity_bytes, 30e12);
  EXPECT_DOUBLE_EQ(t.nvme.bandwidth_bytes_per_s, 8e9);
  EXPECT_EQ(read_cluster(to_json(c), "", "", GpuCatalogue::shipped()), c);
  EXPECT_EQ(read_cluster(Json::parse(to_json(c).dump()), "", "", GpuCatalogue::shipped()), c);
}

TEST(ClusterHostSide, StrictErrorsNameThePointer) {
  EXPECT_NE(error_at(cluster_with({{"nvme", {{"capacity", "30 TB"}}}})).find("/node_types/a/nvme/bandwidth: missing required key"),
            std::string::npos);
  EXPECT_NE(error_at(cluster_with({{"nvme", {{"capacity", "30 TB"}, {"bandwidth", "8 GB/s"}, {"latncy", "1 us"}}}}))
                .find("/node_types/a/nvme/latncy: unknown key"),
            std::string::npos);
  EXPECT_NE(error_at(cluster_with({{"nvme", {{"capacity", "8 GB/s"}, {"bandwidth", "8 GB/s"}}}}))
                .find("/node_types/a/nvme/capacity"),
            std::string::npos);
  EXPECT_NE(error_at(cluster_with({{"host_memory_bandwidth", "0 GB/s"}})).find("/node_types/a/host_memory_bandwidth"),
            std::string::npos);
}
