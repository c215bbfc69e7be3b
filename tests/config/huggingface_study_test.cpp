// A study whose model is a published HuggingFace config.json: it runs and config.resolved.json
// lists the keys it ignored; a mixture-of-experts config, or a sequence longer than a sliding
// window, stops with exit code 2, file and pointer.
#include <gtest/gtest.h>

#include "sim/core/build_info.hpp"
#include "tests/support/cli.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;
using frugal::test_support::write_file;
using Json = nlohmann::json;

namespace {

std::string hf_file(const std::string& folder) {
  return (frugal::core::data_dir() / "tests" / "data" / "hf" / folder / "config.json").string();
}

Json study_of(const std::string& folder, int seq_length) {
  return Json{{"name", "hf"},
              {"model", hf_file(folder)},
              {"cluster", "quickstart"},
              {"training", {{"global_batch_size", 8}, {"micro_batch_size", 1}, {"seq_length", seq_length}, {"iterations", 1}}},
              {"outputs", {{"timeline", false}}}};
}

}  // namespace

TEST(HuggingFaceStudy, Gpt2ConfigRunsAndTheResolvedConfigListsIgnoredKeys) {
  const auto dir = fresh_dir("hf_gpt2");
  write_file(dir / "study.json", study_of("gpt2", 1024).dump(2));
  const auto r = run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json model = read_json(dir / "out" / "config.resolved.json").at("model");
  EXPECT_EQ(model.at("name"), "gpt2");
  EXPECT_EQ(model.at("hidden_size"), 768);
  EXPECT_EQ(model.at("ignored_huggingface_keys").at("n_ctx"), 1024);
  EXPECT_EQ(model.at("ignored_huggingface_keys").at("bos_token_id"), 50256);
  // The resolved file alone reproduces the run.
  const auto again = run_frugalsim("run " + (dir / "out" / "config.resolved.json").string() + " -o " + (dir / "again").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read_json(dir / "again" / "summary.json").at("iteration_time_s"),
            read_json(dir / "out" / "summary.json").at("iteration_time_s"));
  std::filesystem::remove_all(dir);
}

TEST(HuggingFaceStudy, MixtureOfExpertsExitsTwo) {
  const auto dir = fresh_dir("hf_mixtral");
  write_file(dir / "study.json", study_of("Mixtral-8x7B-v0.1", 1024).dump(2));
  const auto r = run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("Mixtral-8x7B-v0.1/config.json:/model_type: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mixture-of-experts is not modelled yet"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  std::filesystem::remove_all(dir);
}

TEST(HuggingFaceStudy, SequenceBeyondTheSlidingWindowExitsTwo) {
  const auto dir = fresh_dir("hf_mistral");
  write_file(dir / "study.json", study_of("Mistral-7B-v0.1", 8192).dump(2));
  const auto r = run_frugalsim("plan " + (dir / "study.json").string() + " -o " + (dir / "program.json").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("study.json:/training/seq_length: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sliding_window (4096)"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}
