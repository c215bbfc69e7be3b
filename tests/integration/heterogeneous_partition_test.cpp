// Heterogeneity-aware pipeline partitioning end to end (study → plan → simulate, through the
// CLI): on a cluster of fast and slow GPUs, "partition": "balanced" gives the fast stage more
// layers and simulates a faster iteration than "partition": "equal".
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/integration/study_runs.hpp"

using Json = nlohmann::json;

namespace {

/// GPT-3 1.3B (24 layers) on mixed-a100-v100: 2 DGX A100 nodes then 2 DGX-1 V100 nodes. With
/// t=8, p=2 and the default rank order (tensor, then data, then pipeline), stage 0 runs on the
/// 16 A100 (312 TFLOPS bf16) and stage 1 on the 16 V100 (125 TFLOPS fp16): d=2, 8 micro-batches
/// per replica, 1F1B.
Json study(const std::string& partition) {
  Json s = Json::parse(R"({
    "name": "partition",
    "model": "gpt3-1.3b",
    "cluster": "mixed-a100-v100",
    "training": {"global_batch_size": 16, "micro_batch_size": 1, "seq_length": 1024, "iterations": 1},
    "parallelism": {"impl": "megatron", "tensor_model_parallel_size": 8, "pipeline_model_parallel_size": 2},
    "outputs": {"timeline": false},
    "seed": 1
  })");
  s["parallelism"]["partition"] = partition;
  return s;
}

double slowest_stage(const Json& summary) {
  double out = 0;
  for (const auto& s : summary.at("stage_compute_s")) out = std::max(out, s.get<double>());
  return out;
}

}  // namespace

TEST(HeterogeneousPartition, BalancedBeatsEqualOnFastAndSlowGpus) {
  const auto dir = frugal::test_support::fresh_dir("partition");
  const Json equal = frugal::test_support::run_study_document(dir, "equal", study("equal"));
  const Json balanced = frugal::test_support::run_study_document(dir, "balanced", study("balanced"));
  ASSERT_EQ(equal.value("status", ""), "ok");
  ASSERT_EQ(balanced.value("status", ""), "ok");

  // Chain layers: 0 embedding, 1..24 transformer layers, 25 head; stage 1 starts at its first.
  const int equal_split = equal.at("layout").at("stage_first_layer").at(1).get<int>();
  const int balanced_split = balanced.at("layout").at("stage_first_layer").at(1).get<int>();
  EXPECT_EQ(equal_split, 13);
  EXPECT_GT(balanced_split, equal_split) << "the A100 stage should hold more layers";

  const double t_equal = equal.at("iteration_time_s").get<double>();
  const double t_balanced = balanced.at("iteration_time_s").get<double>();
  std::printf("iteration: equal %.6f s (stage 1 from layer %d), balanced %.6f s (from layer %d): %.1f %% faster\n",
              t_equal, equal_split, t_balanced, balanced_split, 100 * (1 - t_balanced / t_equal));
  EXPECT_LT(t_balanced, 0.95 * t_equal);
  EXPECT_LT(slowest_stage(balanced), slowest_stage(equal));
  std::filesystem::remove_all(dir);
}
