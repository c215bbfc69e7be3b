// Test helpers for campaign studies: a small cluster and a study written to a fresh folder, run
// through the frugalsim binary (one process per run, several at once when asked), outputs read
// back. Header-only; used by tests/integration/campaign_* and tests/validation/campaign_*.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli.hpp"

namespace frugal::campaign_test {

using Json = nlohmann::json;

/// `nodes` nodes of `gpus_per_node` A100s; NIC 100 GB/s; shared storage `storage_bandwidth`
/// (latency 0) so a checkpoint of S bytes on one node takes S / storage_bandwidth (+1 µs).
inline Json small_cluster(int nodes, int gpus_per_node = 1, const std::string& storage_bandwidth = "1 GB/s") {
  Json c = Json::parse(R"({
    "name": "campaign-test",
    "node_types": { "n": {
      "gpu": "A100-80GB", "gpus_per_node": 1,
      "intra_node": {"kind": "nvlink", "bandwidth": "300 GB/s", "latency": "1 us"},
      "host_link": {"bandwidth": "25 GB/s", "latency": "1 us"}, "host_memory": "1 TiB",
      "nic": {"bandwidth": "100 GB/s", "latency": "1 us"}, "nics_per_node": 1,
      "cpu": {"speed": "2 TFLOPS", "idle_power": "100 W", "max_power": "400 W"},
      "price": {"on_demand": 4.0, "spot": 1.5} } },
    "nodes": [ {"type": "n", "count": 1} ],
    "network": {"topology": "star", "switch_latency": "0 ns"},
    "storage": {"shared": {"bandwidth": "1 GB/s", "latency": "0 s"}, "local_disk": {"bandwidth": "2 GB/s"}}
  })");
  c["node_types"]["n"]["gpus_per_node"] = gpus_per_node;
  c["nodes"][0]["count"] = nodes;
  c["storage"]["shared"]["bandwidth"] = storage_bandwidth;
  return c;
}

/// A gpt3-125m data-parallel study on `cluster` with the given campaign section.
inline Json study(const Json& cluster, const Json& campaign, std::uint64_t seed = 1) {
  return Json{{"name", "campaign-test"},
              {"model", "gpt3-125m"},
              {"cluster", cluster},
              {"training", {{"global_batch_size", 8}, {"micro_batch_size", 1}, {"seq_length", 512}, {"iterations", 1}}},
              {"parallelism", {{"impl", "data_parallel"}, {"batch_split", "equal"}}},
              {"outputs", {{"timeline", false}}},
              {"seed", seed},
              {"campaign", campaign}};
}

struct StudyRun {
  int exit_code = -1;
  std::string output;
  std::filesystem::path out;  ///< output folder
  Json summary;               ///< null unless exit code 0
  Json events;                ///< the "events" array of events.json
};

inline StudyRun read_outputs(StudyRun r) {
  if (r.exit_code == 0 && std::filesystem::exists(r.out / "summary.json")) {
    r.summary = test_support::read_json(r.out / "summary.json");
    r.events = test_support::read_json(r.out / "events.json").at("events");
  }
  return r;
}

/// Writes `study_json` as dir/<name>.json and runs `frugalsim run` on it (extra args appended).
inline StudyRun run_study(const std::filesystem::path& dir, const std::string& name, const Json& study_json,
                     const std::string& extra = "") {
  const auto file = dir / (name + ".json");
  test_support::write_file(file, study_json.dump(2));
  StudyRun r;
  r.out = dir / (name + "-out");
  const auto cli = test_support::run_frugalsim("run " + file.string() + " -o " + r.out.string() + " " + extra);
  r.exit_code = cli.exit_code;
  r.output = cli.output;
  return read_outputs(r);
}

/// Runs several studies, `parallel` frugalsim processes at a time (one simulation per process).
inline std::vector<StudyRun> run_many(const std::filesystem::path& dir, const std::vector<Json>& studies, int parallel = 2) {
  std::vector<StudyRun> runs(studies.size());
  for (std::size_t start = 0; start < studies.size(); start += parallel) {
    std::string script;
    for (std::size_t i = start; i < studies.size() && i < start + parallel; ++i) {
      const auto file = dir / ("run" + std::to_string(i) + ".json");
      test_support::write_file(file, studies[i].dump());
      runs[i].out = dir / ("run" + std::to_string(i) + "-out");
      script += std::string(FRUGALSIM_BIN_DIR) + "/frugalsim run " + file.string() + " -o " + runs[i].out.string() +
                " > " + (dir / ("run" + std::to_string(i) + ".log")).string() + " 2>&1; echo $? > " +
                (dir / ("run" + std::to_string(i) + ".rc")).string() + " & ";
    }
    script += "wait";
    std::FILE* pipe = popen(script.c_str(), "r");
    if (pipe) pclose(pipe);
    for (std::size_t i = start; i < studies.size() && i < start + parallel; ++i) {
      std::FILE* rc = std::fopen((dir / ("run" + std::to_string(i) + ".rc")).c_str(), "r");
      if (rc) {
        if (std::fscanf(rc, "%d", &runs[i].exit_code) != 1) runs[i].exit_code = -1;
        std::fclose(rc);
      }
      runs[i] = read_outputs(runs[i]);
    }
  }
  return runs;
}

/// Events of one kind, in order.
inline std::vector<Json> events_of(const Json& events, const std::string& kind) {
  std::vector<Json> out;
  for (const Json& e : events)
    if (e.at("event") == kind) out.push_back(e);
  return out;
}

}  // namespace frugal::campaign_test
