// Platform description (no SimGrid): the shipped GPU catalogue and clusters load, round-trip
// through their resolved JSON, and bad inputs fail with the JSON pointer of the fault.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "platforms/cluster_spec.hpp"
#include "platforms/gpu_catalogue.hpp"

namespace frugal::platforms {
namespace {

using core::ConfigError;
using core::Json;
using core::Precision;

const GpuCatalogue& cat() { return GpuCatalogue::shipped(); }

/// A valid one-node-type cluster; tests break one spot of it.
Json small_cluster() {
  return Json::parse(R"({
    "name": "t",
    "node_types": { "a": {
      "gpu": "A100-80GB", "gpus_per_node": 2,
      "intra_node": {"kind": "nvlink", "bandwidth": "300 GB/s", "latency": "1 us"},
      "host_link": {"bandwidth": "25 GB/s", "latency": "1 us"}, "host_memory": "1 TiB",
      "nic": {"bandwidth": "200 Gbps", "latency": "1 us"}, "nics_per_node": 2,
      "cpu": {"speed": "2 TFLOPS", "idle_power": "100 W", "max_power": "400 W"} } },
    "nodes": [ {"type": "a", "count": 3} ],
    "network": {"topology": "star", "switch_latency": "130 ns"} })");
}

/// Reads `cluster` expecting a ConfigError at `pointer`; returns its message.
std::string cluster_error(const Json& cluster, const std::string& pointer, const std::string& base = "") {
  try {
    read_cluster(cluster, "c.json", base, cat());
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), pointer) << e.what();
    EXPECT_EQ(e.file(), "c.json");
    return e.message();
  }
  ADD_FAILURE() << "no ConfigError, expected one at " << pointer;
  return "";
}

std::string gpu_error(const Json& gpu, const std::string& pointer) {
  try {
    core::ObjectReader reader(gpu, "g.json", "/gpus/X");
    read_gpu(reader, "V100-SXM2-32GB");
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), pointer) << e.what();
    return e.message();
  }
  ADD_FAILURE() << "no ConfigError, expected one at " << pointer;
  return "";
}

TEST(PlatformGpu, ShippedCatalogueHasTheSixGpus) {
  const std::vector<std::string> expected = {"A100-80GB", "H100-SXM", "L40S", "RTX-4090", "T4", "V100-SXM2-32GB"};
  EXPECT_EQ(cat().names(), expected);
  EXPECT_EQ(&cat(), &GpuCatalogue::shipped());  // loaded once
}

TEST(PlatformGpu, A100PeaksAndEffectiveRate) {
  const GpuSpec& a100 = cat().get("A100-80GB");
  EXPECT_DOUBLE_EQ(a100.peak(Precision::kBf16), 312e12);
  EXPECT_DOUBLE_EQ(a100.peak(Precision::kTf32), 156e12);
  EXPECT_DOUBLE_EQ(a100.peak(Precision::kFp32), 19.5e12);
  EXPECT_DOUBLE_EQ(a100.memory_bytes, 80e9);
  EXPECT_DOUBLE_EQ(a100.hbm_bandwidth_bytes_per_s, 2039e9);
  EXPECT_DOUBLE_EQ(a100.max_power_w, 400);
  EXPECT_DOUBLE_EQ(a100.matmul_efficiency, 0.7);  // default
  EXPECT_DOUBLE_EQ(a100.effective_flops_per_s(Precision::kBf16), 312e12 * 0.7);
  EXPECT_DOUBLE_EQ(cat().get("H100-SXM").peak(Precision::kBf16), 989e12);
}

TEST(PlatformGpu, UnsupportedPrecisionThrowsAndFallbackIsExplicit) {
  const GpuSpec& v100 = cat().get("V100-SXM2-32GB");
  EXPECT_FALSE(v100.supports(Precision::kBf16));
  try {
    v100.peak(Precision::kBf16);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("V100-SXM2-32GB"), std::string::npos) << what;
    EXPECT_NE(what.find("bf16"), std::string::npos) << what;
  }
  EXPECT_THROW(v100.effective_flops_per_s(Precision::kBf16), std::invalid_argument);
  EXPECT_EQ(v100.runs_as(Precision::kBf16), Precision::kFp16);
  EXPECT_DOUBLE_EQ(v100.effective_flops_per_s(v100.runs_as(Precision::kBf16)), 125e12 * 0.7);
  const GpuSpec& a100 = cat().get("A100-80GB");
  EXPECT_EQ(a100.runs_as(Precision::kBf16), Precision::kBf16);
  EXPECT_THROW(a100.runs_as(Precision::kFp8), std::invalid_argument);  // no fp8, no fallback
}

TEST(PlatformGpu, EveryShippedGpuRoundTrips) {
  for (const auto& [name, gpu] : cat().all()) {
    const Json j = to_json(gpu);
    core::ObjectReader reader(j, "", "");
    EXPECT_EQ(read_gpu(reader, name), gpu) << name;
    EXPECT_GT(gpu.idle_power_w, 0) << name;
    EXPECT_LT(gpu.idle_power_w, gpu.max_power_w) << name;
  }
}

TEST(PlatformGpu, UnknownGpuListsCatalogue) {
  try {
    cat().get("A100-40GB", "study.json", "/cluster/gpu");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "study.json");
    EXPECT_EQ(e.pointer(), "/cluster/gpu");
    EXPECT_NE(e.message().find("A100-80GB"), std::string::npos) << e.what();
  }
}

TEST(PlatformGpu, BadGpuObjectsNameTheSpot) {
  const Json good = to_json(cat().get("V100-SXM2-32GB"));
  Json j = good;
  j["peak"]["fp64_flops_per_s"] = 1e12;
  EXPECT_NE(gpu_error(j, "/gpus/X/peak/fp64_flops_per_s").find("valid: fp32, tf32, bf16, fp16, fp8"),
            std::string::npos);
  j = good;
  j["fallback"]["bf16"] = "fp8";  // target without a peak
  gpu_error(j, "/gpus/X/fallback/bf16");
  j = good;
  j["fallback"]["fp16"] = "fp32";  // fp16 has its own peak
  gpu_error(j, "/gpus/X/fallback/fp16");
  j = good;
  j["matmul_efficiency"] = 1.5;
  gpu_error(j, "/gpus/X/matmul_efficiency");
  j = good;
  j["memory_bytes"] = 0;
  gpu_error(j, "/gpus/X/memory_bytes");
  j = good;
  j["name"] = "Y";
  gpu_error(j, "/gpus/X/name");
  j = good;
  j["hbm_bandwith"] = "1 TB/s";
  gpu_error(j, "/gpus/X/hbm_bandwith");
  j = good;
  j["memory_bandwidth_by_size"] = Json::parse("[[1e6, 4e10], [1e5, 3e10]]");  // bytes must increase
  EXPECT_NE(gpu_error(j, "/gpus/X/memory_bandwidth_by_size/1").find("increasing bytes"), std::string::npos);
  j = good;
  j["gemm_efficiency"] = Json::parse("[[1e6, 1.2]]");  // an efficiency above 1
  gpu_error(j, "/gpus/X/gemm_efficiency/0");
  j = good;
  j["serial_streams"] = "yes";
  gpu_error(j, "/gpus/X/serial_streams");
}

TEST(PlatformGpu, CalibratedTablesAndSerialStreamsRoundTrip) {
  platforms::GpuSpec gpu = cat().get("A100-80GB");
  gpu.gemm_efficiency = {{1e6, 0.3}, {1e9, 0.8}};
  gpu.memory_bandwidth_by_size = {{1e6, 4e12}, {1e9, 1.8e12}};
  gpu.serial_streams = true;
  const Json j = to_json(gpu);
  core::ObjectReader reader(j, "", "");
  EXPECT_EQ(read_gpu(reader, gpu.name), gpu);
  EXPECT_DOUBLE_EQ(gpu.memory_bandwidth_at(1e12), 1.8e12);
  EXPECT_DOUBLE_EQ(cat().get("A100-80GB").memory_bandwidth_at(1e6), cat().get("A100-80GB").hbm_bandwidth_bytes_per_s);
}

TEST(PlatformCluster, EveryShippedClusterLoads) {
  struct Expect {
    int gpus;
    int nodes;
    std::set<std::string> types;
  };
  const std::map<std::string, Expect> expected = {
      {"dgx-a100", {32, 4, {"a100"}}},
      {"dgx-h100", {32, 4, {"h100"}}},
      {"mixed-a100-v100", {32, 4, {"a100", "v100"}}},
      {"mixed-a100-rtx4090", {32, 4, {"a100", "rtx4090"}}},
      {"quickstart", {8, 2, {"a100", "rtx4090"}}},
  };
  const auto names = list_clusters();
  for (const auto& [name, want] : expected) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    const Cluster c = load_cluster(name, cat());
    EXPECT_EQ(c.name, name);
    EXPECT_EQ(c.gpu_count(), want.gpus) << name;
    EXPECT_EQ(c.node_count(), want.nodes) << name;
    std::set<std::string> types;
    for (const NodeType& t : c.node_types) types.insert(t.name);
    EXPECT_EQ(types, want.types) << name;
  }
}

TEST(PlatformCluster, NumbersAndNodeMajorExpansion) {
  const Cluster a = load_cluster("dgx-a100", cat());
  const NodeType& t = a.type_of_node(core::NodeId(0));
  EXPECT_EQ(t.gpu, cat().get("A100-80GB"));
  EXPECT_DOUBLE_EQ(t.gpu_link.bandwidth_bytes_per_s, 300e9);
  EXPECT_DOUBLE_EQ(t.gpu_link.latency_s, 1e-6);
  EXPECT_DOUBLE_EQ(t.host_link.bandwidth_bytes_per_s, 25e9);
  EXPECT_DOUBLE_EQ(t.nic.bandwidth_bytes_per_s, 25e9);  // 200 Gb/s
  EXPECT_EQ(t.nics_per_node, 8);
  EXPECT_DOUBLE_EQ(a.network.switch_latency_s, 130e-9);

  const Cluster m = load_cluster("mixed-a100-v100", cat());
  EXPECT_EQ(m.type_of_node(core::NodeId(1)).name, "a100");
  EXPECT_EQ(m.type_of_node(core::NodeId(2)).name, "v100");
  EXPECT_EQ(m.gpus[17], (GpuSlot{core::NodeId(2), 1, m.node_type_of[2]}));
  EXPECT_EQ(m.gpu_spec(17).name, "V100-SXM2-32GB");
  EXPECT_EQ(load_cluster("mixed-a100-rtx4090", cat()).type_of_gpu(31).intra_node_kind, "pcie");
}

TEST(PlatformCluster, ResolvedJsonRoundTrips) {
  for (const std::string& name : list_clusters()) {
    const Cluster c = load_cluster(name, cat());
    EXPECT_EQ(read_cluster(to_json(c), "", "", cat()), c) << name;
    // Through text too, as config.resolved.json is written and read back.
    EXPECT_EQ(read_cluster(Json::parse(to_json(c).dump()), "", "", cat()), c) << name;
  }
  // Non-contiguous runs of one type keep their order.
  Json j = small_cluster();
  j["node_types"]["b"] = j["node_types"]["a"];
  j["node_types"]["b"]["gpu"] = "T4";
  j["nodes"] = Json::parse(R"([{"type": "a", "count": 1}, {"type": "b", "count": 2}, {"type": "a", "count": 1}])");
  const Cluster c = read_cluster(j, "c.json", "", cat());
  EXPECT_EQ(c.node_type_of, (std::vector<int>{0, 1, 1, 0}));
  EXPECT_EQ(read_cluster(to_json(c), "", "", cat()), c);
}

TEST(PlatformCluster, LoadByPathAndUnknownName) {
  const auto path = platform_data_dir() / "clusters" / "quickstart.json";
  EXPECT_EQ(load_cluster(path.string(), cat()), load_cluster("quickstart", cat()));
  try {
    load_cluster("dgx-b200", cat(), "study.json", "/cluster");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "study.json");
    EXPECT_EQ(e.pointer(), "/cluster");
    EXPECT_NE(e.message().find("dgx-a100"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_cluster("no/such/file.json", cat(), "study.json", "/cluster"), ConfigError);
}

TEST(PlatformClusterErrors, PointersNameTheFault) {
  Json j = small_cluster();
  j["nodez"] = 1;
  cluster_error(j, "/nodez");

  j = small_cluster();
  j["node_types"]["a"]["nic"]["bandwdith"] = "1 Gbps";
  cluster_error(j, "/node_types/a/nic/bandwdith");

  j = small_cluster();
  j["node_types"]["a"]["gpu"] = "A100-40GB";
  EXPECT_NE(cluster_error(j, "/node_types/a/gpu").find("A100-80GB"), std::string::npos);

  j = small_cluster();
  j["nodes"][0]["type"] = "b";
  EXPECT_NE(cluster_error(j, "/nodes/0/type").find("valid: a"), std::string::npos);

  j = small_cluster();
  j["nodes"][0]["count"] = -2;
  cluster_error(j, "/nodes/0/count");

  j = small_cluster();
  j["node_types"]["a"]["nic"]["bandwidth"] = "200 Gbpx";
  EXPECT_NE(cluster_error(j, "/node_types/a/nic/bandwidth").find("Gbps"), std::string::npos);

  j = small_cluster();
  j["node_types"]["a"].erase("host_memory");
  cluster_error(j, "/node_types/a/host_memory");

  j = small_cluster();
  j["node_types"]["a"]["intra_node"]["bandwidth"] = "0 GB/s";
  cluster_error(j, "/node_types/a/intra_node/bandwidth");

  j = small_cluster();
  j["node_types"]["a"]["host_link"]["latency"] = "-1 us";
  cluster_error(j, "/node_types/a/host_link/latency");

  j = small_cluster();
  j["node_types"]["a"]["intra_node"]["kind"] = "infinity-fabric";
  EXPECT_NE(cluster_error(j, "/node_types/a/intra_node/kind").find("nvlink, pcie"), std::string::npos);

  j = small_cluster();
  j["network"]["topology"] = "fat-tree";
  cluster_error(j, "/network/topology");

  j = small_cluster();
  j["node_types"]["a"]["gpus_per_node"] = 0;
  cluster_error(j, "/node_types/a/gpus_per_node");

  j = small_cluster();  // an inline cluster inside a study: pointers keep the base
  j["nodes"][0]["type"] = "b";
  cluster_error(j, "/cluster/nodes/0/type", "/cluster");
}

TEST(PlatformCluster, NvlsBandwidthOnNvlinkNodesOnly) {
  EXPECT_DOUBLE_EQ(load_cluster("dgx-h100", cat()).node_types.at(0).nvls_bandwidth_bytes_per_s, 275e9);
  EXPECT_DOUBLE_EQ(load_cluster("dgx-a100", cat()).node_types.at(0).nvls_bandwidth_bytes_per_s, 0);  // no NVLS
  Json j = small_cluster();
  j["node_types"]["a"]["intra_node"]["nvls_bandwidth"] = "0 GB/s";
  cluster_error(j, "/node_types/a/intra_node/nvls_bandwidth");
  j = small_cluster();
  j["node_types"]["a"]["intra_node"]["kind"] = "pcie";
  j["node_types"]["a"]["intra_node"]["nvls_bandwidth"] = "100 GB/s";
  EXPECT_NE(cluster_error(j, "/node_types/a/intra_node/nvls_bandwidth").find("NVLink SHARP needs"), std::string::npos);
}

TEST(PlatformCluster, LinkSizeFactorsReadRoundTripAndApplyBySize) {
  Json j = small_cluster();
  j["node_types"]["a"]["nic"]["factors"] = Json::parse(R"([
    {"from": "0 B", "latency": 2.5, "bandwidth": 0.3},
    {"from": "64 KiB", "latency": 1.2, "bandwidth": 0.8}])");
  const Cluster c = read_cluster(j, "c.json", "", cat());
  const LinkSpec& nic = c.node_types[0].nic;
  ASSERT_EQ(nic.factors.size(), 2u);
  EXPECT_EQ(nic.factors[1].from_bytes, 65536.0);
  EXPECT_EQ(nic.factor_for(100)->bandwidth, 0.3);
  EXPECT_EQ(nic.factor_for(65536)->latency, 1.2);
  EXPECT_EQ(nic.factor_for(1e12)->bandwidth, 0.8);
  EXPECT_EQ(c.node_types[0].gpu_link.factor_for(1e6), nullptr);
  EXPECT_EQ(read_cluster(to_json(c), "", "", cat()), c);
}

TEST(PlatformClusterErrors, LinkSizeFactorsNameTheFault) {
  Json j = small_cluster();
  j["node_types"]["a"]["nic"]["factors"] = Json::parse(R"([{"from": "1 KiB", "latency": 1, "bandwidth": 1}])");
  EXPECT_NE(cluster_error(j, "/node_types/a/nic/factors/0/from").find("start at 0 B"), std::string::npos);

  j["node_types"]["a"]["nic"]["factors"] = Json::parse(R"([{"from": "0 B", "latency": 1, "bandwidth": 1},
                                                          {"from": "0 B", "latency": 1, "bandwidth": 1}])");
  EXPECT_NE(cluster_error(j, "/node_types/a/nic/factors/1/from").find("increase strictly"), std::string::npos);

  j["node_types"]["a"]["nic"]["factors"] = Json::parse(R"([{"from": "0 B", "latency": 1, "bandwidth": 0}])");
  cluster_error(j, "/node_types/a/nic/factors/0/bandwidth");

  j["node_types"]["a"]["nic"]["factors"] = Json::parse(R"([{"from": "0 B", "latency": 1, "bandwidth": 1, "bandwith": 1}])");
  cluster_error(j, "/node_types/a/nic/factors/0/bandwith");

  j["node_types"]["a"]["intra_node"]["factors"] = "fast";
  j["node_types"]["a"]["nic"].erase("factors");
  cluster_error(j, "/node_types/a/intra_node/factors");
}

TEST(PlatformCluster, CollectiveOverheadsByKind) {
  Json j = small_cluster();
  j["network"]["collective_overhead"] = Json::parse(R"({"all_reduce": "15 us", "all_gather": "8 us"})");
  const Cluster c = read_cluster(j, "c.json", "", cat());
  EXPECT_DOUBLE_EQ(c.network.collective_overhead(0), 15e-6);  // all_reduce
  EXPECT_DOUBLE_EQ(c.network.collective_overhead(2), 8e-6);   // all_gather
  EXPECT_EQ(c.network.collective_overhead(1), 0.0);
  EXPECT_EQ(c.network.collective_overhead(4), 0.0);
  EXPECT_EQ(read_cluster(to_json(c), "", "", cat()), c);

  j["network"]["collective_overhead"]["allreduce"] = "1 us";
  EXPECT_NE(cluster_error(j, "/network/collective_overhead/allreduce").find("all_reduce"), std::string::npos);
  j["network"]["collective_overhead"].erase("allreduce");
  j["network"]["collective_overhead"]["broadcast"] = "-1 us";
  cluster_error(j, "/network/collective_overhead/broadcast");
}

}  // namespace
}  // namespace frugal::platforms
