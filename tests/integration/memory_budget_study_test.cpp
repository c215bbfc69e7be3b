// The memory budget as a study asks it ("what if only X GiB?"): the optimal rematerialization
// policy keeps everything when it fits, fits the budget it is given with the replayed forwards in
// the summary (recompute FLOPs, HFU above MFU), and a budget below any schedule is an
// out-of-memory result that names the least memory that would do.
#include <gtest/gtest.h>

#include "tests/integration/study_runs.hpp"
#include "workloads/layer_chain.hpp"
#include "workloads/model_spec.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::run_study_document;
using Json = nlohmann::json;

namespace {

/// GPT-3 125M, one micro-batch of 4 sequences of 2,048 tokens on one 80 GB GPU, naive attention
/// (its s² scores make keeping everything cost 21 GB).
Json one_gpu_study(const Json& memory) {
  const Json cluster = test_support::one_gpu_cluster();
  return Json{{"model", "gpt3-125m"},
              {"cluster", cluster},
              {"training",
               {{"global_batch_size", 4}, {"micro_batch_size", 4}, {"seq_length", 2048}, {"iterations", 1}, {"attention", "naive"}}},
              {"memory", memory},
              {"outputs", {{"timeline", false}}}};
}

double number(const Json& summary, const char* key) { return summary.at(key).get<double>(); }

}  // namespace

TEST(MemoryBudgetStudy, OptimalKeepsEverythingWhenItFitsAndFitsTheBudgetOtherwise) {
  const auto dir = fresh_dir("memory_budget_study");
  const Json none = run_study_document(dir, "none", one_gpu_study({{"impl", "none"}}));
  const Json ample = run_study_document(dir, "ample", one_gpu_study({{"impl", "optimal"}}));
  const Json every = run_study_document(dir, "every", one_gpu_study({{"impl", "every_k"}, {"k", 1}}));
  const Json tight = run_study_document(dir, "tight", one_gpu_study({{"impl", "optimal"}, {"memory_budget", "12 GiB"}}));
  for (const Json* s : {&none, &ample, &every, &tight}) ASSERT_EQ(s->at("status"), "ok") << s->dump();

  EXPECT_DOUBLE_EQ(number(ample, "iteration_time_s"), number(none, "iteration_time_s"));
  EXPECT_DOUBLE_EQ(number(ample, "max_peak_memory_bytes"), number(none, "max_peak_memory_bytes"));
  EXPECT_EQ(number(ample, "recompute_flops_per_iteration"), 0.0);
  EXPECT_GT(number(none, "max_peak_memory_bytes"), 12.0 * (1 << 30));  // 12 GiB is a real constraint

  // Within the budget, slower than keeping everything, faster than replaying every layer.
  EXPECT_LE(number(tight, "max_peak_memory_bytes"), 12.0 * (1 << 30));
  EXPECT_GT(number(tight, "iteration_time_s"), number(none, "iteration_time_s"));
  EXPECT_LT(number(tight, "iteration_time_s"), number(every, "iteration_time_s"));
  EXPECT_EQ(tight.at("layout").at("memory").at("policy"), "optimal");

  // Hardware FLOPs are the model's (plus the optimizer's arithmetic) plus the replayed forwards.
  for (const Json* s : {&every, &tight}) {
    EXPECT_GT(number(*s, "recompute_flops_per_iteration"), 0.0);
    EXPECT_NEAR(number(*s, "hardware_flops_per_iteration") - number(*s, "recompute_flops_per_iteration"),
                number(none, "hardware_flops_per_iteration"), 1e-9 * number(none, "hardware_flops_per_iteration"));
    EXPECT_GT(number(*s, "hfu"), number(*s, "mfu"));
  }
}

/// Full recomputation keeps each transformer layer's input (2·s·b·h bytes) and replays its forward
/// once in the backward: the replayed FLOPs are the transformer layers' forward FLOPs (naive
/// attention: the forward exactly), and HFU exceeds MFU by them over the model FLOPs, a third of
/// the transformer layers' share of the forward (HFU = 4/3 MFU for a chain of transformer layers
/// only).
TEST(MemoryBudgetStudy, FullRecomputationPaysOneMoreForwardOfEveryTransformerLayer) {
  const auto dir = fresh_dir("memory_budget_full");
  const Json none = run_study_document(dir, "none", one_gpu_study({{"impl", "none"}}));
  const Json full = run_study_document(dir, "full", one_gpu_study({{"impl", "full"}}));
  for (const Json* s : {&none, &full}) ASSERT_EQ(s->at("status"), "ok") << s->dump();

  const workloads::LayerChain chain =
      workloads::build_layer_chain(workloads::load_model("gpt3-125m"), 2048, core::Precision::kBf16);
  double transformer_forward = 0;
  for (const auto& layer : chain.layers)
    if (layer.kind == workloads::LayerKind::kTransformer) transformer_forward += layer.forward_flops;
  const double samples = 4, replayed = samples * transformer_forward;
  const double model = number(full, "model_flops_per_iteration");
  EXPECT_NEAR(model, samples * 3 * chain.forward_flops(), 1e-12 * model);
  EXPECT_NEAR(number(full, "recompute_flops_per_iteration"), replayed, 1e-12 * replayed);
  EXPECT_NEAR(number(full, "hardware_flops_per_iteration") - number(none, "hardware_flops_per_iteration"), replayed,
              1e-9 * replayed);
  const double gain = number(full, "hfu") / number(full, "mfu") - number(none, "hfu") / number(none, "mfu");
  EXPECT_NEAR(gain, replayed / model, 1e-12);
  EXPECT_NEAR(gain, transformer_forward / chain.forward_flops() / 3, 1e-12);
  EXPECT_GT(transformer_forward / chain.forward_flops(), 0.7);  // the logits are the rest
}

TEST(MemoryBudgetStudy, BudgetBelowEveryScheduleIsOutOfMemoryWithTheLeastThatFits) {
  const auto dir = fresh_dir("memory_budget_oom");
  const Json small = run_study_document(dir, "small", one_gpu_study({{"impl", "optimal"}, {"memory_budget", "4 GiB"}}));
  ASSERT_EQ(small.at("status"), "out_of_memory");
  const double least = number(small, "min_memory_per_gpu_bytes");
  EXPECT_GT(least, 4.0 * (1 << 30));
  EXPECT_NE(small.at("reason").get<std::string>().find("the memory policy needs at least"), std::string::npos);
  // One micro-batch in flight: the least-memory schedule peaks exactly there, and that budget fits.
  EXPECT_NEAR(number(small, "max_peak_memory_bytes"), least, 1e-9 * least);
  const Json enough = run_study_document(
      dir, "enough", one_gpu_study({{"impl", "optimal"}, {"memory_budget", std::to_string(least) + " B"}}));
  EXPECT_EQ(enough.at("status"), "ok") << enough.dump();
}

/// A budget per GPU type: a two-stage pipeline whose first stage runs on an 80 GB GPU and whose
/// second runs on a 32 GB one fits each stage's schedule to its own type's budget; a type the
/// cluster lacks is an error at the parameter.
TEST(MemoryBudgetStudy, EachGpuTypeFitsItsOwnBudget) {
  const auto dir = fresh_dir("memory_budget_per_gpu");
  Json cluster = test_support::one_gpu_cluster();
  Json small = cluster["node_types"]["g"];
  small["gpu"]["name"] = "V100-test";
  small["gpu"]["memory"] = "32 GB";
  small["gpu"]["peak"] = {{"bf16", "125 TFLOPS"}, {"fp16", "125 TFLOPS"}};
  cluster["node_types"]["v"] = small;
  cluster["nodes"] = Json::array({{{"type", "g"}, {"count", 1}}, {{"type", "v"}, {"count", 1}}});
  const auto study = [&](const Json& memory) {
    Json s = one_gpu_study(memory);
    s["cluster"] = cluster;
    s["training"]["global_batch_size"] = 8;
    s["parallelism"] = {{"impl", "megatron"}, {"pipeline_model_parallel_size", 2}};
    return s;
  };
  const double gib = 1 << 30;
  const Json none = run_study_document(dir, "none", study({{"impl", "none"}}));
  const Json both = run_study_document(
      dir, "both", study({{"impl", "optimal"}, {"memory_budget_per_gpu", {{"A100-test", "9 GiB"}, {"V100-test", "6 GiB"}}}}));
  const Json one = run_study_document(dir, "one", study({{"impl", "optimal"}, {"memory_budget", "6 GiB"}}));
  for (const Json* s : {&none, &both, &one}) ASSERT_EQ(s->at("status"), "ok") << s->dump();
  const auto peak = [](const Json& s, int rank) { return s.at("per_gpu").at(rank).at("peak_memory_bytes").get<double>(); };
  EXPECT_GT(peak(none, 0), 9 * gib) << peak(none, 0) / gib;  // both budgets are real constraints
  EXPECT_GT(peak(none, 1), 6 * gib) << peak(none, 1) / gib;
  EXPECT_LE(peak(both, 0), 9 * gib);
  EXPECT_LE(peak(both, 1), 6 * gib);
  EXPECT_GT(peak(both, 0), 6 * gib);  // the first stage used its larger budget ...
  EXPECT_LE(peak(one, 0), 6 * gib);
  // ... and replays less than under the one budget of 6 GiB.
  EXPECT_LT(number(both, "recompute_flops_per_iteration"), number(one, "recompute_flops_per_iteration"));

  test_support::write_file(dir / "bad.json",
                           study({{"impl", "optimal"}, {"memory_budget_per_gpu", {{"H100-test", "8 GiB"}}}}).dump());
  const auto bad = test_support::run_frugalsim("run " + (dir / "bad.json").string() + " -o " + (dir / "bad").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("bad.json:/memory/memory_budget_per_gpu: \"H100-test\" is not a GPU of the cluster"),
            std::string::npos) << bad.output;
  test_support::write_file(dir / "size.json",
                           study({{"impl", "optimal"}, {"memory_budget_per_gpu", {{"A100-test", "-3 GiB"}}}}).dump());
  const auto size = test_support::run_frugalsim("run " + (dir / "size.json").string() + " -o " + (dir / "size").string());
  EXPECT_EQ(size.exit_code, 2) << size.output;
  EXPECT_NE(size.output.find("/memory/memory_budget_per_gpu: \"A100-test\""), std::string::npos) << size.output;
}
