// Cluster file and GPU catalogue keys: a cluster that uses every declared key of every object
// reads, each declaration is exercised by it (a new key must be added to the example), the
// readers ask only for declared keys, and the reference lists them all.
#include <gtest/gtest.h>

#include "platforms/cluster_spec.hpp"
#include "platforms/platform_keys.hpp"
#include "sim/core/error.hpp"
#include "sim/program/enum_names.hpp"
#include "sim/program/program.hpp"

using namespace frugal;
using namespace frugal::platforms;
using core::Json;

namespace {

/// Every key of every cluster object, and an inline GPU with every GPU key.
Json full_cluster() {
  return Json::parse(R"({
    "name": "full", "description": "every key", "source": "test",
    "node_types": { "a": {
      "gpu": { "name": "G", "description": "d", "source": "s",
               "peak": {"fp32": "10 TFLOPS", "tf32": "20 TFLOPS", "bf16": "40 TFLOPS", "fp16": "40 TFLOPS",
                        "fp8": "80 TFLOPS"},
               "fallback": {},
               "memory": "16 GB", "hbm_bandwidth": "1 TB/s", "idle_power": "30 W", "max_power": "300 W",
               "matmul_efficiency": 0.6, "matmul_efficiency_fp8": 0.5, "gemm_efficiency": [[1e6, 0.2], [1e12, 0.8]],
               "memory_bandwidth_by_size": [[1e3, 1e12], [1e9, 9e11]], "serial_streams": false,
               "kernel_launch": "3 us", "overlap_slowdown": 0.1,
               "gemm_shape": {"sms": 8, "tiles": [[128, 128, 1.0]], "k_overhead": 64, "max_split_k": 2} },
      "gpus_per_node": 2,
      "intra_node": {"kind": "nvlink", "bandwidth": "300 GB/s", "latency": "1 us", "nvls_bandwidth": "200 GB/s",
                     "factors": [{"from": "0 B", "latency": 2, "bandwidth": 0.5}]},
      "host_link": {"bandwidth": "25 GB/s", "latency": "1 us", "factors": []},
      "host_memory": "1 TiB", "host_memory_bandwidth": "200 GB/s",
      "nvme": {"capacity": "4 TB", "bandwidth": "6 GB/s"},
      "nic": {"bandwidth": "200 Gbps", "latency": "1 us", "factors": []}, "nics_per_node": 1,
      "cpu": {"speed": "2 TFLOPS", "idle_power": "100 W", "max_power": "400 W"},
      "price": {"on_demand": 4, "spot": 1.5}, "spot": true } },
    "nodes": [ {"type": "a", "count": 2} ],
    "network": {"topology": "star", "switch_latency": "100 ns", "backbone_bandwidth": "100 GB/s",
                "collective_overhead": {"all_reduce": "10 us"}},
    "storage": {"shared": {"bandwidth": "10 GB/s", "latency": "1 ms", "factors": []},
                "local_disk": {"bandwidth": "2 GB/s"}} })");
}

/// Where each object sits in full_cluster(); objects whose keys are open-ended names (collective
/// kinds, precisions) are checked by their generated declarations instead.
const std::vector<std::pair<PlatformObject, std::string>>& example_objects() {
  static const std::vector<std::pair<PlatformObject, std::string>> objects = {
      {PlatformObject::kCluster, ""},
      {PlatformObject::kNodeType, "/node_types/a"},
      {PlatformObject::kIntraNode, "/node_types/a/intra_node"},
      {PlatformObject::kHostLink, "/node_types/a/host_link"},
      {PlatformObject::kNic, "/node_types/a/nic"},
      {PlatformObject::kLinkFactor, "/node_types/a/intra_node/factors/0"},
      {PlatformObject::kNvme, "/node_types/a/nvme"},
      {PlatformObject::kCpu, "/node_types/a/cpu"},
      {PlatformObject::kPrice, "/node_types/a/price"},
      {PlatformObject::kNodes, "/nodes/0"},
      {PlatformObject::kNetwork, "/network"},
      {PlatformObject::kStorage, "/storage"},
      {PlatformObject::kSharedStorage, "/storage/shared"},
      {PlatformObject::kLocalDisk, "/storage/local_disk"},
      {PlatformObject::kGpu, "/node_types/a/gpu"},
      {PlatformObject::kPeak, "/node_types/a/gpu/peak"},
      {PlatformObject::kGemmShape, "/node_types/a/gpu/gemm_shape"},
  };
  return objects;
}

}  // namespace

TEST(PlatformKeys, ClusterUsingEveryKeyReads) {
  const Cluster c = read_cluster(full_cluster(), "full.json", "", GpuCatalogue::shipped());
  EXPECT_EQ(c.gpu_count(), 4);
  EXPECT_TRUE(c.node_types[0].spot);
  EXPECT_DOUBLE_EQ(c.node_types[0].gpu.matmul_efficiency, 0.6);
  EXPECT_DOUBLE_EQ(c.node_types[0].gpu.matmul_efficiency_of(core::Precision::kFp8), 0.5);
  EXPECT_EQ(c.node_types[0].gpu_link.factors.size(), 1u);
  EXPECT_GT(c.network.collective_overhead(0) + c.network.collective_overhead(1) + c.network.collective_overhead(2) +
                c.network.collective_overhead(3) + c.network.collective_overhead(4),
            0.0);
  // The resolved form reads back to the same cluster through the same declarations.
  EXPECT_EQ(read_cluster(to_json(c), "resolved.json", "", GpuCatalogue::shipped()), c);
}

TEST(PlatformKeys, EveryDeclaredKeyIsUsedByTheExample) {
  const Json full = full_cluster();
  for (const auto& [object, pointer] : example_objects()) {
    const Json& value = full.at(Json::json_pointer(pointer));
    for (const auto& key : platform_keys(object).keys) {
      const bool present = value.contains(key.spec.name) || value.contains(key.spec.resolved_key());
      EXPECT_TRUE(present) << platform_keys(object).pointer << ": declared key " << key.spec.name
                           << " is missing from the example at " << pointer;
    }
  }
}

TEST(PlatformKeys, OpenEndedObjectsDeclareEveryName) {
  // One duration per collective kind; one peak and one fallback per precision.
  EXPECT_EQ(platform_keys(PlatformObject::kCollectiveOverhead).keys.size(),
            program::enum_names<program::CollectiveKind>().size());
  EXPECT_EQ(platform_keys(PlatformObject::kPeak).keys.size(), core::precision_names().size());
  EXPECT_EQ(platform_keys(PlatformObject::kFallback).keys.size(), core::precision_names().size());
}

TEST(PlatformKeys, UndeclaredReadIsAnInternalError) {
  const Json object = Json::parse(R"({"bandwidth": "1 GB/s"})");
  core::ObjectReader reader(object, "f.json", "/storage/local_disk");
  reader.quantity("bandwidth", core::Dimension::kBandwidth);
  EXPECT_NO_THROW(finish_declared(reader, PlatformObject::kLocalDisk));
  reader.has("latency");  // read by code, absent from the declarations of local_disk
  EXPECT_THROW(finish_declared(reader, PlatformObject::kLocalDisk), core::InternalError);
}

TEST(PlatformKeys, UnknownKeyNamesItsPointer) {
  Json c = full_cluster();
  c["node_types"]["a"]["nvme"]["speed"] = "1 GB/s";
  try {
    read_cluster(c, "full.json", "", GpuCatalogue::shipped());
    FAIL() << "expected a ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("full.json:/node_types/a/nvme/speed"), std::string::npos) << e.what();
  }
}

TEST(PlatformKeys, ReferenceListsEveryKey) {
  const std::string page = platform_keys_markdown();
  for (const auto& [object, pointer] : example_objects())
    for (const auto& key : platform_keys(object).keys)
      EXPECT_NE(page.find("`" + key.spec.name), std::string::npos) << key.spec.name;
  EXPECT_NE(page.find("### `/node_types/<name>/nvme`"), std::string::npos);
  EXPECT_NE(page.find("### `/gpus/<name>`"), std::string::npos);
}
