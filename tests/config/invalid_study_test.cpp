// Bad input is a clear error: each invalid study gives exit code 2, a message naming the file and
// the JSON pointer (or line) with what was expected, and no output folder. (A valid study that the
// parallelism policy cannot plan is a result, status "infeasible": tests/integration/run_study_test.cpp.)
#include <gtest/gtest.h>

#include "tests/support/cli.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::run_frugalsim;
using frugal::test_support::write_file;
using Json = nlohmann::json;

namespace {

Json valid_study() {
  return Json::parse(R"({
    "name": "config-test",
    "model": "gpt3-125m",
    "cluster": "quickstart",
    "training": {"global_batch_size": 16, "micro_batch_size": 2, "seq_length": 512, "iterations": 1},
    "parallelism": {"impl": "data_parallel", "batch_split": "equal"},
    "outputs": {"timeline": false}
  })");
}

struct Case {
  std::string name;
  std::string pointer;   ///< patched location ("" = remove nothing, use `raw`)
  Json value;            ///< new value; null with `remove` removes the key
  bool remove = false;
  std::string expected;  ///< substring of the error message
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class InvalidStudy : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(InvalidStudy, ExitsTwoWithPointerAndWritesNothing) {
  const Case& c = GetParam();
  const auto dir = fresh_dir(c.name);
  Json study = valid_study();
  if (c.remove) study.at(Json::json_pointer(c.pointer.substr(0, c.pointer.rfind('/')))).erase(c.pointer.substr(c.pointer.rfind('/') + 1));
  else study[Json::json_pointer(c.pointer)] = c.value;
  write_file(dir / "study.json", study.dump(2));
  const auto r = run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("study.json:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(c.expected), std::string::npos) << "expected \"" << c.expected << "\" in:\n" << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out")) << "partial output written";
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidStudy,
    ::testing::Values(
        Case{"unknown_key", "/training/micro_batch_sise", 2, false, "/training/micro_batch_sise: unknown key (valid:"},
        Case{"wrong_type", "/training/global_batch_size", "16", false, "/training/global_batch_size: expected an integer"},
        Case{"bad_unit", "/training/reserved_memory", "1 GiBB", false, "/training/reserved_memory: \"1 GiBB\": unknown unit"},
        Case{"missing_model", "/model", nullptr, true, "/model: missing required key"},
        Case{"unknown_model", "/model", "gpt-5", false, "/model: unknown model \"gpt-5\" (valid:"},
        Case{"negative_batch", "/training/global_batch_size", -4, false, "/training/global_batch_size: value -4 out of range"},
        Case{"micro_larger_than_global", "/training/micro_batch_size", 32, false, "micro_batch_size (32) > global_batch_size (16)"},
        Case{"sequence_too_long", "/training/seq_length", 4096, false, "seq_length (4096) > the model's max_position_embeddings (2048)"},
        Case{"unknown_policy", "/parallelism/impl", "magic", false, "/parallelism/impl: unknown value \"magic\" (valid: data_parallel"},
        Case{"bad_policy_param", "/parallelism/bucket_size", "0 MiB", false, "/parallelism/bucket_size: value 0 out of range"},
        Case{"unknown_cluster", "/cluster", "moon-base", false, "/cluster: unknown cluster"},
        Case{"unknown_precision", "/training/precision", "fp4", false, "/training/precision: unknown value \"fp4\""},
        Case{"simulation_not_object", "/simulation", "aggregate", false, "/simulation: expected an object"},
        Case{"simulation_unknown_key", "/simulation/collective", "aggregate", false,
             "/simulation/collective: unknown key (valid: closed_form_collectives, coarse_above_ranks, collectives, identical_ranks)"},
        Case{"unknown_collective_model", "/simulation/collectives", "analytic", false,
             "/simulation/collectives: unknown value \"analytic\" (valid: step_by_step, aggregate, auto)"},
        Case{"unknown_identical_ranks", "/simulation/identical_ranks", "some", false,
             "/simulation/identical_ranks: unknown value \"some\" (valid: all, representatives, auto)"},
        Case{"negative_coarse_threshold", "/simulation/coarse_above_ranks", -1, false,
             "/simulation/coarse_above_ranks: value -1 out of range"},
        Case{"fractional_coarse_threshold", "/simulation/coarse_above_ranks", 1.5, false,
             "/simulation/coarse_above_ranks: expected an integer"},
        Case{"bad_inline_model", "/model", Json{{"hidden_size", 100}, {"num_hidden_layers", 2}, {"num_attention_heads", 3}, {"vocab_size", 10}}, false,
             "/model"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(InvalidStudyFile, SyntaxErrorNamesLineAndColumn) {
  const auto dir = fresh_dir("syntax");
  write_file(dir / "study.json", "{\n  \"model\": \"gpt3-125m\",\n  \"cluster\" \"quickstart\"\n}\n");
  const auto r = run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("study.json:line 3 column"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

TEST(InvalidStudyFile, MissingFileAndBadOverride) {
  auto r = run_frugalsim("run /nonexistent/study.json");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cannot open file"), std::string::npos) << r.output;
  const auto dir = fresh_dir("override");
  write_file(dir / "study.json", valid_study().dump());
  r = run_frugalsim("run " + (dir / "study.json").string() + " --set training/seq_length=128");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("expected /json/pointer=value"), std::string::npos) << r.output;
  r = run_frugalsim("run " + (dir / "study.json").string() + " --set /training/seq_lenght=128 -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/training/seq_lenght: unknown key"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}
