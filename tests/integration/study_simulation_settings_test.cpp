// The study's "simulation" settings end to end through the CLI: the collective model and the
// identical-rank mode reach the engine, the summary says which were used (and why representatives
// were refused), config.resolved.json keeps them, and step-by-step and aggregate collectives
// agree within 2 % on a study small enough for both.
#include <gtest/gtest.h>

#include <string>

#include "sim/engine/simulation.hpp"
#include "tests/integration/study_runs.hpp"
#include "sim/core/build_info.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;
using frugal::test_support::run_study_document;
using Json = nlohmann::json;

namespace {

const std::string kQuickstart = frugal::core::data_dir().string() + "/results/quickstart/study.json";

/// GPT-3 125M, t=2 p=2 d=2 with ZeRO-1 on the quickstart cluster (4 A100 + 4 RTX 4090):
/// tensor-parallel all-reduces, pipeline transfers, gradient reduce-scatter and parameter
/// all-gather, over NVLink, PCIe and the NICs.
Json megatron_study() {
  return Json::parse(R"({
    "name": "simulation-settings",
    "model": "gpt3-125m",
    "cluster": "quickstart",
    "training": {"global_batch_size": 16, "micro_batch_size": 2, "seq_length": 1024, "iterations": 1},
    "parallelism": {"impl": "megatron", "tensor_model_parallel_size": 2, "pipeline_model_parallel_size": 2,
                    "zero_stage": 1},
    "outputs": {"timeline": false},
    "seed": 1
  })");
}

/// The quickstart study: data parallel over 8 GPUs, batch split by speed, bucketed all-reduces
/// on a ring whose edges are NVLink, PCIe and NICs of two speeds.
Json quickstart_study() { return read_json(kQuickstart); }

/// Megatron t=2, p=1, d=4: ZeRO-1 reduce-scatter and all-gather on 4-member rings across nodes.
Json data_parallel_four_study() {
  Json s = megatron_study();
  s["parallelism"]["pipeline_model_parallel_size"] = 1;
  return s;
}

}  // namespace

/// Step by step and aggregate on `study`: iteration time and time per collective kind within
/// 2 % of the step-by-step iteration, with fewer activities.
void expect_collective_models_agree(const std::string& name, Json study) {
  const auto dir = fresh_dir("collective_models_" + name);
  study["simulation"] = {{"collectives", "step_by_step"}};
  const Json step = run_study_document(dir, "step", study);
  study["simulation"]["collectives"] = "aggregate";
  const Json aggregate = run_study_document(dir, "aggregate", study);
  ASSERT_EQ(step.value("status", ""), "ok");
  ASSERT_EQ(aggregate.value("status", ""), "ok");
  EXPECT_EQ(step.at("simulation").at("collectives"), "step_by_step");
  EXPECT_EQ(aggregate.at("simulation").at("collectives"), "aggregate");
  const double t_step = step.at("iteration_time_s").get<double>();
  const double t_aggregate = aggregate.at("iteration_time_s").get<double>();
  std::printf("%s: step by step %.6f s (%llu activities), aggregate %.6f s (%llu activities): %+.4f %%\n", name.c_str(),
              t_step, step.at("simulated_activities").get<unsigned long long>(), t_aggregate,
              aggregate.at("simulated_activities").get<unsigned long long>(), 100 * (t_aggregate / t_step - 1));
  EXPECT_NEAR(t_aggregate / t_step, 1.0, 0.02);
  EXPECT_LT(aggregate.at("simulated_activities").get<double>(), step.at("simulated_activities").get<double>());
  ASSERT_EQ(aggregate.at("collective_s").size(), step.at("collective_s").size());
  for (const auto& [kind, busy] : step.at("collective_s").items())
    EXPECT_NEAR(aggregate.at("collective_s").at(kind).get<double>(), busy.get<double>(), 0.02 * t_step) << kind;
  std::filesystem::remove_all(dir);
}

TEST(StudySimulationSettings, StepByStepAndAggregateAgreeOnTheQuickstart) {
  expect_collective_models_agree("quickstart", quickstart_study());
}

TEST(StudySimulationSettings, StepByStepAndAggregateAgreeOnShardedDataParallel) {
  expect_collective_models_agree("zero1", data_parallel_four_study());
}

TEST(StudySimulationSettings, ResolvedConfigKeepsThemAndReproducesTheSummary) {
  const auto dir = fresh_dir("simulation_resolved");
  const Json first = run_study_document(dir, "a", megatron_study(),
                         "--set /simulation/collectives=aggregate --set /simulation/coarse_above_ranks=4");
  const Json resolved = read_json(dir / "a" / "config.resolved.json");
  EXPECT_EQ(resolved.at("simulation"),
            (Json{{"collectives", "aggregate"},
                   {"identical_ranks", "auto"},
                   {"coarse_above_ranks", 4},
                   {"closed_form_collectives", true}}));
  const auto again = run_frugalsim("run " + (dir / "a" / "config.resolved.json").string() + " -o " + (dir / "b").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read_json(dir / "b" / "summary.json"), first);
  std::filesystem::remove_all(dir);
}

TEST(StudySimulationSettings, DefaultsAreWrittenBack) {
  const auto dir = fresh_dir("simulation_defaults");
  const Json summary = run_study_document(dir, "a", megatron_study());
  EXPECT_EQ(read_json(dir / "a" / "config.resolved.json").at("simulation"),
            (Json{{"collectives", "auto"},
                  {"identical_ranks", "auto"},
                  {"coarse_above_ranks", frugal::engine::EngineOptions{}.coarse_above_ranks},
                  {"closed_form_collectives", true}}));
  // 8 ranks, at most the threshold: the reference models.
  EXPECT_EQ(summary.at("simulation"), (Json{{"collectives", "step_by_step"},
                                            {"identical_ranks", "all"},
                                            {"simulated_ranks", 8},
                                            {"representatives_note", "program at or below coarse_above_ranks"}}));
  std::filesystem::remove_all(dir);
}

TEST(StudySimulationSettings, SummarySaysWhetherRepresentativesWereUsed) {
  const auto dir = fresh_dir("simulation_representatives");
  // Homogeneous: 32 A100 in 4 nodes, t=4 p=2 d=4; data-parallel replicas are identical.
  Json study = megatron_study();
  study["cluster"] = "dgx-a100";
  study["parallelism"]["tensor_model_parallel_size"] = 4;
  study["simulation"] = {{"collectives", "aggregate"}, {"identical_ranks", "representatives"}};
  const Json used = run_study_document(dir, "homogeneous", study);
  ASSERT_EQ(used.value("status", ""), "ok");
  EXPECT_EQ(used.at("simulation").at("identical_ranks"), "representatives");
  EXPECT_EQ(used.at("simulation").at("representatives_note"), "");
  EXPECT_LT(used.at("simulation").at("simulated_ranks").get<int>(), 32);
  // Quickstart: A100 and RTX 4090 ranks share the data-parallel group, which would be
  // simulated in part; the summary says so.
  Json quickstart = quickstart_study();
  quickstart["simulation"] = {{"identical_ranks", "representatives"}};
  const Json refused = run_study_document(dir, "mixed", quickstart);
  ASSERT_EQ(refused.value("status", ""), "ok");
  EXPECT_EQ(refused.at("simulation").at("identical_ranks"), "all");
  EXPECT_EQ(refused.at("simulation").at("simulated_ranks"), 8);
  EXPECT_NE(refused.at("simulation").at("representatives_note").get<std::string>().find("simulated in part"),
            std::string::npos)
      << refused.at("simulation");
  std::filesystem::remove_all(dir);
}
