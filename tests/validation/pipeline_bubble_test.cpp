// Pipeline schedules simulated end to end against the closed form: with equal stages and free
// communication the bubble fraction is (p−1)/(m+p−1) for GPipe and 1F1B and (p−1)/(v·m+p−1)
// interleaved (Narayanan et al. SC'21), within 1 %.
#include <gtest/gtest.h>

#include "tests/support/cli.hpp"
#include "tests/support/ideal_cluster.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;
using frugal::test_support::write_file;
using Json = nlohmann::json;

namespace {

/// 4 GPUs whose HBM and links are so fast that only GEMMs take time; a model whose embedding
/// and head are negligible next to its identical transformer layers, so stages are equal (untied
/// embeddings: no first/last-stage all-reduce).
Json ideal_pipeline_study(const std::string& schedule, int chunks) {
  return Json{
      {"name", "bubble"},
      {"model", {{"hidden_size", 1024}, {"num_hidden_layers", 8}, {"num_attention_heads", 16}, {"vocab_size", 8},
                 {"max_position_embeddings", 1024}, {"tie_word_embeddings", false}}},
      {"cluster", frugal::test_support::ideal_node_cluster(4)},
      {"training", {{"global_batch_size", 8}, {"micro_batch_size", 1}, {"seq_length", 1024}, {"iterations", 1},
                    {"reserved_memory", "0 B"}}},
      {"parallelism", {{"impl", "megatron"}, {"pipeline_model_parallel_size", 4}, {"schedule", schedule},
                       {"virtual_pipeline_model_parallel_size", chunks}}},
      {"outputs", {{"timeline", false}}}};
}

double simulated_bubble(const std::string& schedule, int chunks) {
  const auto dir = fresh_dir("bubble_" + schedule + std::to_string(chunks));
  write_file(dir / "study.json", ideal_pipeline_study(schedule, chunks).dump());
  const auto r = run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(dir / "out" / "summary.json").at("bubble_fraction").get<double>();
}

}  // namespace

TEST(PipelineBubble, GPipeMatchesClosedForm) {
  EXPECT_NEAR(simulated_bubble("gpipe", 1) / (3.0 / 11.0), 1.0, 0.01);
}

TEST(PipelineBubble, OneFOneBMatchesClosedForm) {
  EXPECT_NEAR(simulated_bubble("1f1b", 1) / (3.0 / 11.0), 1.0, 0.01);
}

TEST(PipelineBubble, InterleavingShrinksTheBubble) {
  const double interleaved = simulated_bubble("1f1b", 2);
  EXPECT_NEAR(interleaved / (3.0 / 19.0), 1.0, 0.01);
  EXPECT_LT(interleaved, 3.0 / 11.0);
}
