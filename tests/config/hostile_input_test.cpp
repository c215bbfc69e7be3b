// Hostile and extreme inputs: each one is exit 2 with the file and pointer (or line), or a result,
// never a crash, a runaway allocation, exit 3 or a partial output. Sizes beyond the declared
// bounds, overflowing literals, deep nesting, control characters, pointers that would grow the
// study, edited sweep replies and hand-made bench, measurement and program files.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdint>
#include <cstdlib>
#include <limits>

#include "tests/support/cli.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;
using frugal::test_support::slurp;
using frugal::test_support::write_file;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kHuge = std::numeric_limits<std::int64_t>::max();  // 2^63 − 1

Json small_study() {
  return Json::parse(R"({
    "model": "gpt3-125m",
    "cluster": "quickstart",
    "training": {"global_batch_size": 16, "micro_batch_size": 2, "seq_length": 512, "iterations": 1},
    "outputs": {"timeline": false}
  })");
}

/// One node of `gpus` A100s, `nodes` times.
Json inline_cluster(std::int64_t gpus, std::int64_t nodes) {
  Json cluster = Json::parse(R"({
    "name": "hostile",
    "node_types": {"n": {
      "gpu": "A100-80GB",
      "intra_node": {"kind": "nvlink", "bandwidth": "300 GB/s", "latency": "1 us"},
      "host_link": {"bandwidth": "25 GB/s", "latency": "1 us"},
      "host_memory": "1 TiB",
      "nic": {"bandwidth": "200 Gbps", "latency": "1 us"},
      "nics_per_node": 1,
      "cpu": {"speed": "2.3 TFLOPS", "idle_power": "50 W", "max_power": "225 W"}}},
    "network": {"topology": "star"}})");
  cluster["node_types"]["n"]["gpus_per_node"] = gpus;
  cluster["nodes"] = Json::array({{{"type", "n"}, {"count", nodes}}});
  return cluster;
}

Json inline_model() {
  return Json{{"hidden_size", 256}, {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"vocab_size", 1000}};
}

/// Writes `study` (or `text` when not empty), runs `frugalsim run` with `extra` arguments and
/// checks the bad-input contract: exit 2, `expected` in the message, no output folder.
void expect_bad_input(const std::string& name, const Json& study, const std::string& expected,
                      const std::string& extra = "", const std::string& text = "") {
  const auto dir = fresh_dir(name);
  write_file(dir / "study.json", text.empty() ? study.dump() : text);
  const auto r = run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string() + " " + extra);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << "expected \"" << expected << "\" in:\n" << r.output;
  EXPECT_FALSE(fs::exists(dir / "out")) << "partial output written";
  fs::remove_all(dir);
}

/// Runs the study and returns its summary, which must say `status`.
Json expect_result(const std::string& name, const Json& study, const std::string& status) {
  const auto dir = fresh_dir(name);
  write_file(dir / "study.json", study.dump());
  const auto r = run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  Json summary;
  if (fs::exists(dir / "out" / "summary.json")) summary = read_json(dir / "out" / "summary.json");
  EXPECT_EQ(summary.value("status", ""), status) << summary.dump(1);
  fs::remove_all(dir);
  return summary;
}

}  // namespace

TEST(HostileInput, ModelSizesBeyondTheirBoundsAreRefused) {
  Json study = small_study();
  study["model"] = inline_model();
  study["model"]["hidden_size"] = std::int64_t{1} << 62;  // 4 × hidden_size would overflow
  expect_bad_input("hidden", study, "/model/hidden_size: value 4611686018427387904 out of range");
  study["model"] = inline_model();
  study["model"]["vocab_size"] = kHuge;
  expect_bad_input("vocab", study, "/model/vocab_size: value 9223372036854775807 out of range");
  study["model"] = inline_model();
  study["model"]["num_hidden_layers"] = std::int64_t{1} << 31;
  expect_bad_input("layers", study, "/model/num_hidden_layers: value 2147483648 out of range");
}

TEST(HostileInput, TrainingAndClusterSizesBeyondTheirBoundsAreRefused) {
  Json study = small_study();
  study["training"]["global_batch_size"] = kHuge;
  expect_bad_input("batch", study, "/training/global_batch_size: value 9223372036854775807 out of range");
  study = small_study();
  study["training"]["global_batch_size"] = std::int64_t{1} << 53;
  expect_bad_input("batch53", study, "/training/global_batch_size: value 9007199254740992 out of range");
  // 2^20 nodes of 2^20 GPUs: refused before a single GPU is listed.
  study = small_study();
  study["cluster"] = inline_cluster(1 << 20, 1 << 20);
  expect_bad_input("gpus", study, "/cluster/nodes/0/count: the cluster would have 1099511627776 GPUs or more");
}

TEST(HostileInput, SchedulesTooLargeToSimulateAreInfeasibleResults) {
  // 2^24 sequences in micro-batches of 1 on the quickstart cluster: millions of micro-batches per
  // replica, refused before any is listed.
  Json study = small_study();
  study["training"]["global_batch_size"] = 1 << 24;
  study["training"]["micro_batch_size"] = 1;
  const Json summary = expect_result("schedule", study, "infeasible");
  EXPECT_NE(summary.dump().find("layer passes, more than the 16777216 one simulation lowers"), std::string::npos)
      << summary.dump(1);
}

TEST(HostileInput, MegatronChecksTheMlpWidth) {
  Json study = small_study();
  study["model"] = inline_model();
  study["model"]["intermediate_size"] = 3073;
  study["parallelism"] = {{"impl", "megatron"}, {"tensor_model_parallel_size", 2}};
  const Json summary = expect_result("ffn", study, "infeasible");
  EXPECT_NE(summary.dump().find("intermediate_size (3073) not divisible by tensor_model_parallel_size (2)"),
            std::string::npos)
      << summary.dump(1);
}

TEST(HostileInput, LiteralsNestingAndControlCharacters) {
  expect_bad_input("overflow", {}, "study.json:line 1 column 51: invalid JSON: a number too large for a double", "",
                   R"({"model": "gpt3-125m", "training": {"iterations": 1e999}})");
  std::string deep = "{\"description\": ";
  for (int i = 0; i < 1000000; ++i) deep += "[";
  expect_bad_input("deep", {}, "study.json:line 1 column 116: JSON nested deeper than 100 levels", "", deep);
  Json study = small_study();
  study[std::string("evil\0key", 8)] = 1;
  expect_bad_input("nul", study, "/evil\\x00key: unknown key");
}

TEST(HostileInput, PathsThatCannotBeExaminedAreNotFound) {
  // A file name past NAME_MAX (found by the study fuzzer): stat fails with ENAMETOOLONG, which
  // must read as "not found", not escape as a filesystem_error (exit 3).
  const std::string long_name(300, 'b');
  Json study = small_study();
  study["cluster"] = "clusters/" + long_name + ".json";
  expect_bad_input("long_cluster", study, "/cluster: file \"clusters/" + long_name);
  study = small_study();
  study["model"] = long_name + "/model.json";
  expect_bad_input("long_model", study, "/model: file \"" + long_name);
}

TEST(HostileInput, OverridesNeverGrowAnArray) {
  Json study = small_study();
  study["cluster"] = inline_cluster(2, 1);
  expect_bad_input("grow", study,
                   "--set:/cluster/nodes/99999999999: \"/cluster/nodes/99999999999\": /cluster/nodes in ",
                   "--set /cluster/nodes/99999999999=1");
  expect_bad_input("grow2", study, "is an array of 1 elements; \"1\" is not one of its indices",
                   "--set /cluster/nodes/1/count=1");
  expect_bad_input("create", study, "has nothing at /campaign, and an index (\"0\") cannot create an array",
                   "--set /campaign/0/x=1");
  expect_bad_input("scalar", study, "/model in ", "--set /model/hidden_size=8");
  // Empty tokens and "-" would create arrays too (a fuzzer's find).
  expect_bad_input("empty", study, "has nothing at /training/m, and an index (\"\") cannot create an array",
                   "--set /training/m//x=1");
  expect_bad_input("dash", study, "has nothing at /campaign, and an index (\"-\") cannot create an array",
                   "--set /campaign/-=1");
  expect_bad_input("append", study, "\"-\" is not one of its indices", "--set /cluster/nodes/-=1");
  std::string deep = "/outputs";
  for (int i = 0; i < 200; ++i) deep += "/x";
  expect_bad_input("deep", study, "JSON pointer deeper than 100 levels", "--set " + deep + "=1");
  // (A missing object on the way is created: tests/integration/micro_batch_study_test.cpp sets
  // /outputs/timeline in a study without /outputs.)
  expect_bad_input("literal", study, "/training/iterations: expected an integer", "--set /training/iterations=1e999");
  expect_bad_input("object", study, "--set /parallelism:line 1 column", "--set '/parallelism={\"impl\":'");
}

TEST(HostileInput, HandMadeBenchMeasurementAndProgramFilesAreBadInput) {
  const auto dir = fresh_dir("files");
  write_file(dir / "study.json", small_study().dump());
  ASSERT_EQ(run_frugalsim("plan " + (dir / "study.json").string() + " -o " + (dir / "program.json").string()).exit_code,
            0);
  const auto expect = [&](const std::string& args, const std::string& expected) {
    const auto r = run_frugalsim(args + " -o " + (dir / "out.json").string());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << "expected \"" << expected << "\" in:\n" << r.output;
    EXPECT_FALSE(fs::exists(dir / "out.json"));
  };
  const Json bench = {{"format", "frugal-real-bench"},
                      {"manifest", {{"device", {{"kind", "cpu"}}}}},
                      {"gemm", {{{"flops", 2e9}, {"flops_per_s", 1e11}}}},
                      {"collectives", {{{"collective", "send_recv"}, {"group_size", 2}, {"bytes", 1024}}}}};
  write_file(dir / "bench.json", bench.dump());
  expect("calibrate " + (dir / "bench.json").string() + " --platform cpu-local",
         "bench.json:/collectives/0/time_s/median: missing; expected a finite number");
  Json typed = bench;
  typed["collectives"][0]["time_s"] = {{"median", "fast"}};
  write_file(dir / "bench.json", typed.dump());
  expect("calibrate " + (dir / "bench.json").string() + " --platform cpu-local",
         "bench.json:/collectives/0/time_s/median: expected a finite number");

  const std::string validate = "validate --platform quickstart --program " + (dir / "program.json").string() +
                               " --measurements " + (dir / "m.json").string();
  Json measured = {{"format", "frugal-real-measurements"}, {"iterations", {{"median_s", 0.1}}}, {"ops", {{{"rank", 0}}}}};
  write_file(dir / "m.json", measured.dump());
  expect(validate, "m.json:/ops/0/name: missing; expected a string");
  measured["ops"] = {{{"rank", 0}, {"name", "x"}, {"time_s", {{"median", 0.01}}}, {"kind", 7}}};
  write_file(dir / "m.json", measured.dump());
  expect(validate, "m.json:/ops/0/kind: expected a string");
  write_file(dir / "m.json", "[1, 2]");
  expect(validate, "m.json:/format: not a frugal-real measurements file");

  // The program reader bounds GEMM shapes for every consumer (frugal-real, validate, run).
  Json program = read_json(dir / "program.json");
  bool patched = false;
  for (Json& rank : program["ranks"])
    for (Json& op : rank["ops"])
      if (!patched && op.contains("gemms")) op["gemms"][0][0] = std::int64_t{1} << 62, patched = true;
  ASSERT_TRUE(patched);
  write_file(dir / "program.json", program.dump());
  write_file(dir / "m.json", Json{{"format", "frugal-real-measurements"},
                                  {"iterations", {{"median_s", 0.1}}},
                                  {"ops", Json::array()}}
                                 .dump());
  expect(validate, "/gemms/0: expected [m, n, k, batch], positive integers of at most 2^24");
  fs::remove_all(dir);
}

TEST(HostileInput, SweepValueNestedTooDeepIsRefusedBeforeAnyRecursion) {
  const auto dir = fresh_dir("sweep_deep");
  write_file(dir / "study.json", small_study().dump());
  std::string values;
  for (int i = 0; i < 1000000; ++i) values += "[";
  write_file(dir / "sweep.json",
             R"({"study": "study.json", "parameters": [{"pointer": "/description", "values": )" + values);
  const auto r = run_frugalsim("sweep " + (dir / "sweep.json").string() + " -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 2) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("sweep.json:line 1 column"), std::string::npos) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("JSON nested deeper than 100 levels"), std::string::npos) << r.output.substr(0, 2000);
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove_all(dir);
}

/// `ulimit -f`: the write fails with EFBIG instead of SIGXFSZ killing the process; exit 3 names the
/// file and no temporary is left.
TEST(HostileInput, FileSizeLimitIsAnOutputErrorWithNothingLeft) {
  const auto dir = fresh_dir("ulimit");
  write_file(dir / "study.json", small_study().dump());
  const std::string command = "ulimit -f 1 && " + std::string(FRUGALSIM_BIN_DIR) + "/frugalsim plan " +
                              (dir / "study.json").string() + " -o " + (dir / "p.json").string() + " > " +
                              (dir / "log.txt").string() + " 2>&1";
  const int status = std::system(("sh -c '" + command + "'").c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal";
  EXPECT_EQ(WEXITSTATUS(status), 3) << slurp(dir / "log.txt");
  EXPECT_NE(slurp(dir / "log.txt").find("p.json: cannot write file (File too large)"), std::string::npos)
      << slurp(dir / "log.txt");
  EXPECT_FALSE(fs::exists(dir / "p.json"));
  EXPECT_FALSE(fs::exists(dir / "p.json.tmp"));
  fs::remove_all(dir);
}
