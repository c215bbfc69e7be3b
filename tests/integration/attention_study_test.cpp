// The attention kernel as a study chooses it: "auto" resolves to the fused kernel where every GPU
// runs it, the choice is stated in the resolved config and the plan, and the fused kernel makes
// a long-sequence layout fit that the naive kernel's s² activations put out of memory.
#include <gtest/gtest.h>

#include "tests/integration/study_runs.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::read_json;
using test_support::run_study_document;
using Json = nlohmann::json;

namespace {

Json small_study(const std::string& cluster) {
  return Json{{"model", "gpt3-125m"},
              {"cluster", cluster},
              {"training", {{"global_batch_size", 64}, {"micro_batch_size", 1}, {"seq_length", 1024}, {"iterations", 1}}},
              {"outputs", {{"timeline", false}}}};
}

// Llama 3 8B at 8,192 tokens on one DGX H100 node, t = 8 with sequence parallelism, no
// recomputation, two sequences per micro-batch.
Json llama_8k_study() {
  Json s = {{"model", "llama3-8b"},
            {"cluster", "dgx-h100"},
            {"training", {{"global_batch_size", 8}, {"micro_batch_size", 2}, {"seq_length", 8192}, {"iterations", 1}}},
            {"parallelism",
             {{"impl", "megatron"}, {"tensor_model_parallel_size", 8}, {"sequence_parallel", true}}},
            {"outputs", {{"timeline", false}}}};
  return s;
}

}  // namespace

TEST(AttentionStudy, AutoChoosesTheFusedKernelWhereEveryGpuRunsIt) {
  const auto dir = fresh_dir("attention_auto");
  struct Case {
    std::string name, cluster, args, expected;
  };
  for (const Case& c : {Case{"a100_4090_bf16", "quickstart", "", "flash"},
                        Case{"a100_4090_fp32", "quickstart", "--set /training/precision=fp32", "naive"},
                        Case{"a100_v100_bf16", "mixed-a100-v100", "", "naive"},
                        Case{"forced_naive", "quickstart", "--set /training/attention=naive", "naive"},
                        Case{"forced_flash", "mixed-a100-v100", "--set /training/attention=flash", "flash"}}) {
    const Json s = run_study_document(dir, c.name, small_study(c.cluster), c.args);
    ASSERT_TRUE(s.contains("layout")) << c.name;
    EXPECT_EQ(s.at("layout").at("attention"), c.expected) << c.name;
    EXPECT_EQ(read_json(dir / c.name / "config.resolved.json").at("training").at("attention"), c.expected) << c.name;
  }
}

TEST(AttentionStudy, FusedKernelIsFasterAndKeepsLessThanTheNaiveOne) {
  const auto dir = fresh_dir("attention_speed");
  const Json flash = run_study_document(dir, "flash", small_study("dgx-a100"));
  const Json naive = run_study_document(dir, "naive", small_study("dgx-a100"), "--set /training/attention=naive");
  ASSERT_EQ(flash.at("status"), "ok");
  ASSERT_EQ(naive.at("status"), "ok");
  EXPECT_LT(flash.at("iteration_time_s").get<double>(), naive.at("iteration_time_s").get<double>());
  EXPECT_LT(flash.at("max_peak_memory_bytes").get<double>(), naive.at("max_peak_memory_bytes").get<double>());
  // The same model FLOPs: MFU rises by the iteration-time ratio.
  EXPECT_EQ(flash.at("model_flops_per_iteration"), naive.at("model_flops_per_iteration"));
}

TEST(AttentionStudy, LongSequencesFitWithTheFusedKernelOnly) {
  const auto dir = fresh_dir("attention_oom");
  const Json flash = run_study_document(dir, "flash", llama_8k_study());
  const Json naive = run_study_document(dir, "naive", llama_8k_study(), "--set /training/attention=naive");
  EXPECT_EQ(flash.at("status"), "ok");
  EXPECT_LT(flash.at("max_peak_memory_bytes").get<double>(), 50e9);
  EXPECT_EQ(naive.at("status"), "out_of_memory");
}
