// Test helper: one node of GPUs on which only GEMMs take time (100 TFLOP/s bf16 at efficiency 1,
// HBM, host and NIC so fast they cost nothing) and whose GPUs reach each other through a switch
// at `gpu_link` per direction with no latency, as an inline cluster of a study; or several such
// nodes with NICs of a given bandwidth. Header-only.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace frugal::test_support {

/// `nodes` such nodes, each with `nics_per_node` NICs of `nic` per direction (GPU i uses NIC
/// i mod nics_per_node) on a star.
inline nlohmann::json ideal_cluster(int nodes, int gpus, const std::string& gpu_link, const std::string& nic,
                                    int nics_per_node) {
  using Json = nlohmann::json;
  return Json{
      {"name", "ideal"},
      {"node_types",
       {{"n",
         {{"gpu", {{"name", "ideal"}, {"peak", {{"bf16", "100 TFLOPS"}}}, {"memory", "80 GB"}, {"hbm_bandwidth", "1e9 TB/s"},
                   {"idle_power", "0 W"}, {"max_power", "1 W"}, {"matmul_efficiency", 1.0}}},
          {"gpus_per_node", gpus},
          {"intra_node", {{"kind", "nvlink"}, {"bandwidth", gpu_link}, {"latency", "0 s"}}},
          {"host_link", {{"bandwidth", "1e9 TB/s"}, {"latency", "0 s"}}},
          {"host_memory", "1 TiB"},
          {"nic", {{"bandwidth", nic}, {"latency", "0 s"}}},
          {"nics_per_node", nics_per_node},
          {"cpu", {{"speed", "1 TFLOPS"}, {"idle_power", "0 W"}, {"max_power", "1 W"}}}}}}},
      {"nodes", Json::array({{{"type", "n"}, {"count", nodes}}})},
      {"network", {{"topology", "star"}}}};
}

inline nlohmann::json ideal_node_cluster(int gpus, const std::string& gpu_link = "1e9 TB/s") {
  return ideal_cluster(1, gpus, gpu_link, "1e9 TB/s", 1);
}

}  // namespace frugal::test_support
