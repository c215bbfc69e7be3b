// frugalsim search end to end: on a small space it returns the exhaustive sweep's best layout
// (every valid layout simulated), lists every layout of the space with its fate in search.csv,
// counts the dropped ones by reason, honours its constraints and time budget, and reports bad
// spaces and objectives as errors at their pointer.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/cli.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;
using frugal::test_support::slurp;
using frugal::test_support::write_file;
using Json = nlohmann::json;

namespace {

/// GPT-3 125M on one node of 4 A100s; a space of 48 layouts (t, p, ZeRO stage, micro-batch size,
/// recomputation).
Json small_study() {
  return Json::parse(R"({
    "name": "search-small",
    "model": "gpt3-125m",
    "cluster": {
      "name": "a100x4",
      "node_types": {"a100": {"gpu": "A100-80GB", "gpus_per_node": 4,
        "intra_node": {"kind": "nvlink", "bandwidth": "300 GB/s", "latency": "1 us"},
        "host_link": {"bandwidth": "25 GB/s", "latency": "1 us"}, "host_memory": "1 TiB",
        "nic": {"bandwidth": "200 Gbps", "latency": "1 us"}, "nics_per_node": 4,
        "cpu": {"speed": "4.6 TFLOPS", "idle_power": "100 W", "max_power": "450 W"},
        "price": {"on_demand": 5.12, "spot": 2.05}}},
      "nodes": [{"type": "a100", "count": 1}],
      "network": {"topology": "star", "switch_latency": "130 ns"}
    },
    "training": {"global_batch_size": 16, "micro_batch_size": 1, "seq_length": 1024, "iterations": 1},
    "parallelism": {"impl": "megatron"},
    "outputs": {"timeline": false},
    "search": {
      "finalists": 4,
      "space": {"tensor_model_parallel_size": [1, 2, 4], "pipeline_model_parallel_size": [1, 2],
                "zero_stage": [0, 1], "micro_batch_size": [1, 2], "memory": ["none", "full"],
                "schedule": ["1f1b"], "virtual_pipeline_model_parallel_size": [1], "sequence_parallel": [false]}
    }
  })");
}

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> row;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) row.push_back(cell), cell.clear();
      else cell += c;
    }
    row.push_back(cell);
    rows.push_back(row);
  }
  return rows;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  ADD_FAILURE() << "no column " << name;
  return 0;
}

}  // namespace

TEST(SearchCommand, ReturnsTheExhaustiveSweepsBestLayout) {
  const auto dir = fresh_dir("search_exhaustive");
  write_file(dir / "study.json", small_study().dump(2));
  // Every layout of the space, simulated.
  write_file(dir / "sweep.json", R"({"study": "study.json", "parameters": [
    {"name": "t", "pointer": "/parallelism/tensor_model_parallel_size", "values": [1, 2, 4]},
    {"name": "p", "pointer": "/parallelism/pipeline_model_parallel_size", "values": [1, 2]},
    {"name": "zero", "pointer": "/parallelism/zero_stage", "values": [0, 1]},
    {"name": "b", "pointer": "/training/micro_batch_size", "values": [1, 2]},
    {"name": "memory", "pointer": "/memory", "values": [{"impl": "none"}, {"impl": "full"}]}]})");
  const auto sweep = run_frugalsim("sweep " + (dir / "sweep.json").string() + " -o " + (dir / "all").string() + " -j 2 -q");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  const auto all = csv_rows(slurp(dir / "all" / "sweep.csv"));
  std::string best;
  double best_tokens = 0;
  std::size_t simulated = 0;
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r][column(all[0], "status")] != "ok") continue;
    ++simulated;
    const double tokens = std::stod(all[r][column(all[0], "tokens_per_s")]);
    if (tokens > best_tokens) {
      best_tokens = tokens;
      best = all[r][1] + "," + all[r][2] + "," + all[r][3] + "," + all[r][4] + "," + (all[r][5].find("full") != std::string::npos ? "full" : "none");
    }
  }
  EXPECT_EQ(simulated, 40u);  // t = 4 with p = 2 needs 8 GPUs

  const auto found = run_frugalsim("search " + (dir / "study.json").string() + " -o " + (dir / "search").string() + " -j 2");
  ASSERT_EQ(found.exit_code, 0) << found.output;
  EXPECT_NE(found.output.find("48 layouts"), std::string::npos) << found.output;
  EXPECT_NE(found.output.find("dropped      8  invalid pipeline_model_parallel_size"), std::string::npos) << found.output;
  EXPECT_NE(found.output.find("4 of 4 finalists ranked by throughput"), std::string::npos) << found.output;
  const auto rows = csv_rows(slurp(dir / "search" / "search.csv"));
  ASSERT_EQ(rows.size(), 49u);
  const auto& h = rows[0];
  std::string first;
  double first_tokens = 0;
  std::size_t finalists = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row[column(h, "fate")] == "finalist") ++finalists;
    if (row[column(h, "rank")] != "1") continue;
    first = row[column(h, "tensor_model_parallel_size")] + "," + row[column(h, "pipeline_model_parallel_size")] + "," +
            row[column(h, "zero_stage")] + "," + row[column(h, "micro_batch_size")] + "," + row[column(h, "memory")];
    first_tokens = std::stod(row[column(h, "tokens_per_s")]);
    // The estimate of the winner is within 10 % of its simulation.
    EXPECT_NEAR(std::stod(row[column(h, "estimated_tokens_per_s")]) / first_tokens, 1.0, 0.1);
  }
  EXPECT_EQ(finalists, 4u);
  EXPECT_EQ(first, best);
  EXPECT_DOUBLE_EQ(first_tokens, best_tokens);
  // The finalists' table is a sweep's, one row per finalist.
  const auto table = csv_rows(slurp(dir / "search" / "sweep.csv"));
  ASSERT_EQ(table.size(), 5u);
  EXPECT_EQ(table[0][0], "point");
  EXPECT_EQ(table[0][1], "layout");
}

TEST(SearchCommand, ConstraintsAndTimeBudget) {
  const auto dir = fresh_dir("search_constraints");
  write_file(dir / "study.json", small_study().dump(2));
  const std::string search = "search " + (dir / "study.json").string() + " -j 1";
  // 3 GiB per GPU: the layouts whose estimated peak is above are dropped, and every ranked
  // layout's simulated peak is within it.
  const auto bounded = run_frugalsim(search + " -o " + (dir / "bounded").string() + " --max-memory '3 GiB' -q");
  ASSERT_EQ(bounded.exit_code, 0) << bounded.output;
  const auto rows = csv_rows(slurp(dir / "bounded" / "search.csv"));
  std::size_t ranked = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (rows[r][column(rows[0], "rank")].empty()) continue;
    ++ranked;
    EXPECT_LE(std::stod(rows[r][column(rows[0], "max_peak_memory_bytes")]), 3.0 * 1024 * 1024 * 1024);
  }
  EXPECT_GT(ranked, 0u);
  const auto tight = run_frugalsim(search + " -o " + (dir / "tight").string() + " --max-memory '100 MiB'");
  ASSERT_EQ(tight.exit_code, 0) << tight.output;
  EXPECT_NE(tight.output.find("0 of 0 finalists"), std::string::npos) << tight.output;
  EXPECT_NE(tight.output.find("over_memory_estimate"), std::string::npos) << tight.output;
  // A budget spent before the first finalist: the screen completes, nothing is simulated.
  const auto late = run_frugalsim(search + " -o " + (dir / "late").string() + " --time-budget '1 ns'");
  ASSERT_EQ(late.exit_code, 0) << late.output;
  EXPECT_NE(late.output.find("4 skipped"), std::string::npos) << late.output;
  EXPECT_NE(late.output.find("0 of 4 finalists"), std::string::npos) << late.output;
  // Objectives: cost and energy rank the same finalists by their own figure.
  const auto energy = run_frugalsim(search + " -o " + (dir / "energy").string() + " --objective energy");
  ASSERT_EQ(energy.exit_code, 0) << energy.output;
  EXPECT_NE(energy.output.find("energy per token"), std::string::npos) << energy.output;
  const auto cost = run_frugalsim(search + " -o " + (dir / "cost").string() + " --objective cost");
  ASSERT_EQ(cost.exit_code, 0) << cost.output;
  EXPECT_NE(cost.output.find("cost per million tokens"), std::string::npos) << cost.output;
}

TEST(SearchCommand, BadSpacesAndObjectivesAreErrorsAtTheirPointer) {
  const auto dir = fresh_dir("search_errors");
  const auto run = [&](const Json& study, const std::string& options = "") {
    write_file(dir / "study.json", study.dump(2));
    return run_frugalsim("search " + (dir / "study.json").string() + " -o " + (dir / "out").string() + options);
  };
  Json s = small_study();
  s["search"]["space"]["schedule"] = {"1f1b", "zigzag"};
  auto r = run(s);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("study.json:/search/space/schedule/1: value \"zigzag\" of schedule"), std::string::npos) << r.output;

  s = small_study();
  s["search"]["space"]["warp_speed"] = {1, 2};
  r = run(s);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/search/space/warp_speed: unknown key (valid: "), std::string::npos) << r.output;

  s = small_study();
  s["search"]["space"]["micro_batch_size"] = Json::array();
  r = run(s);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/search/space/micro_batch_size: expected a non-empty list"), std::string::npos) << r.output;

  s = small_study();
  s["search"]["objective"] = "goodput";
  r = run(s);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/search/objective: goodput is a campaign's"), std::string::npos) << r.output;

  s = small_study();
  s["search"]["space"]["memory"] = {"none", {{"impl", "every_k"}, {"k", 0}}};
  r = run(s);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/search/space/memory/1"), std::string::npos) << r.output;

  s = small_study();
  s["search"]["space"]["nodes"] = {1, 2};
  s["search"]["max_gpus"] = 2;
  r = run(s);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no node count"), std::string::npos) << r.output;

  // `run` ignores the section.
  s = small_study();
  write_file(dir / "study.json", s.dump(2));
  EXPECT_EQ(run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "run").string() + " -q").exit_code, 0);
  EXPECT_EQ(run(small_study(), " --objective speed").exit_code, 1);
  EXPECT_EQ(run(small_study(), " --top 0").exit_code, 1);
}

/// A campaign study ranks its finalists by goodput: each finalist runs the whole campaign (its
/// iteration simulated op by op, failures and checkpoints around it).
TEST(SearchCommand, GoodputRanksCampaignFinalists) {
  const auto dir = fresh_dir("search_goodput");
  Json s = small_study();
  s["campaign"] = Json::parse(R"({
    "goal": {"wall_time": "1 day"},
    "availability": {"a100": {"impl": "exponential", "mtbf": "12 h", "repair": "1 h"}},
    "checkpoint": {"size": "2 GB", "storage": "local_disk"},
    "resilience": {"checkpoint": {"impl": "young"}, "recovery": {"impl": "restart", "detection": "30 s", "restart": "60 s"}}
  })");
  s["cluster"]["storage"] = {{"local_disk", {{"bandwidth", "2 GB/s"}}}};
  s["search"]["objective"] = "goodput";
  s["search"]["finalists"] = 2;
  write_file(dir / "study.json", s.dump(2));
  const auto r = run_frugalsim("search " + (dir / "study.json").string() + " -o " + (dir / "out").string() + " -j 2 -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 of 2 finalists ranked by goodput"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("goodput: "), std::string::npos) << r.output;
  const auto rows = csv_rows(slurp(dir / "out" / "sweep.csv"));
  ASSERT_EQ(rows.size(), 3u);
  const std::size_t goodput = column(rows[0], "goodput_tokens_per_s");
  EXPECT_GT(std::stod(rows[1][goodput]), 0);
}
