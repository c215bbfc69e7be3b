// Test helper for integration tests that run study documents through the CLI as a user would:
// writes the study, runs `frugalsim run` on it and returns its summary. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/cli.hpp"

namespace frugal::test_support {

/// Writes `study` to dir/NAME.json and runs `frugalsim run` on it (with `args`, e.g. "--set
/// /p=v") into dir/NAME. Returns that run's summary.json, or an empty object after recording a
/// test failure when the run does not exit 0.
inline nlohmann::json run_study_document(const std::filesystem::path& dir, const std::string& name,
                                         const nlohmann::json& study, const std::string& args = "") {
  const auto file = dir / (name + ".json");
  write_file(file, study.dump(2));
  const auto r = run_frugalsim("run " + file.string() + " " + args + " -o " + (dir / name).string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? read_json(dir / name / "summary.json") : nlohmann::json::object();
}

/// A cluster of one node with one A100-like GPU (312 TFLOPS bf16, 80 GB, 2,039 GB/s), written
/// inline as a study's "cluster"; `gpu_keys` are added to (or replace) the GPU's keys.
inline nlohmann::json one_gpu_cluster(const nlohmann::json& gpu_keys = nlohmann::json::object()) {
  nlohmann::json gpu = {{"name", "A100-test"},     {"peak", {{"bf16", "312 TFLOPS"}}}, {"memory", "80 GB"},
                        {"hbm_bandwidth", "2039 GB/s"}, {"idle_power", "55 W"},          {"max_power", "400 W"}};
  gpu.update(gpu_keys);
  const nlohmann::json node = {{"gpu", gpu},
                               {"gpus_per_node", 1},
                               {"intra_node", {{"kind", "nvlink"}, {"bandwidth", "300 GB/s"}, {"latency", "1 us"}}},
                               {"host_link", {{"bandwidth", "25 GB/s"}, {"latency", "1 us"}}},
                               {"host_memory", "64 GiB"},
                               {"nic", {{"bandwidth", "200 Gbps"}, {"latency", "1 us"}}},
                               {"nics_per_node", 1},
                               {"cpu", {{"speed", "1 TFLOPS"}, {"idle_power", "50 W"}, {"max_power", "200 W"}}}};
  return {{"name", "one-gpu"},
          {"node_types", {{"g", node}}},
          {"nodes", nlohmann::json::array({{{"type", "g"}, {"count", 1}}})},
          {"network", {{"topology", "star"}, {"switch_latency", "1 us"}}}};
}

}  // namespace frugal::test_support
