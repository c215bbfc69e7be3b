// End to end through the CLI, as a user runs it: outputs, determinism, reproduction from
// config.resolved.json, out-of-memory as a result, plan → program JSON round trip.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "sim/app/commands.hpp"
#include "tests/support/cli.hpp"
#include "sim/core/build_info.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::read_json;
using test_support::run_frugalsim;
using test_support::slurp;
using Json = nlohmann::json;

namespace {

const std::string kQuickstart = frugal::core::data_dir().string() + "/results/quickstart/study.json";

}  // namespace

TEST(RunStudy, QuickstartWritesAllOutputs) {
  const auto dir = fresh_dir("quickstart");
  const auto r = run_frugalsim("run " + kQuickstart + " -o " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"summary.json", "timeline.json", "config.resolved.json", "manifest.json"})
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / f)) << f;
  const Json s = read_json(dir / "out" / "summary.json");
  EXPECT_EQ(s.at("status"), "ok");
  for (const char* key : {"iteration_time_s", "tokens_per_s", "samples_per_s", "model_flops_per_iteration", "mfu",
                          "tflops_per_gpu", "compute_s", "exposed_communication_s", "max_peak_memory_bytes",
                          "energy_j_per_iteration", "energy_j_per_token"})
    EXPECT_GT(s.at(key).get<double>(), 0) << key;
  EXPECT_EQ(s.at("peak_memory_bytes").size(), 8u);
  EXPECT_LT(s.at("mfu").get<double>(), 1.0);
  const Json manifest = read_json(dir / "out" / "manifest.json");
  EXPECT_EQ(manifest.at("seed"), 1);
  EXPECT_NE(manifest.at("simgrid_version").get<std::string>(), "");
  const Json trace = read_json(dir / "out" / "timeline.json");
  EXPECT_GT(trace.at("traceEvents").size(), 100u);
}

TEST(RunStudy, SameStudyAndSeedGiveByteIdenticalSummaries) {
  const auto dir = fresh_dir("determinism");
  ASSERT_EQ(run_frugalsim("run " + kQuickstart + " -o " + (dir / "a").string()).exit_code, 0);
  ASSERT_EQ(run_frugalsim("run " + kQuickstart + " -o " + (dir / "b").string()).exit_code, 0);
  EXPECT_EQ(slurp(dir / "a" / "summary.json"), slurp(dir / "b" / "summary.json"));
  EXPECT_EQ(slurp(dir / "a" / "timeline.json"), slurp(dir / "b" / "timeline.json"));
}

TEST(RunStudy, ResolvedConfigAloneReproducesTheRun) {
  const auto dir = fresh_dir("resolved");
  ASSERT_EQ(run_frugalsim("run " + kQuickstart + " -o " + (dir / "a").string()).exit_code, 0);
  const auto again = run_frugalsim("run " + (dir / "a" / "config.resolved.json").string() + " -o " + (dir / "b").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  Json a = read_json(dir / "a" / "summary.json"), b = read_json(dir / "b" / "summary.json");
  EXPECT_EQ(a.at("iteration_time_s"), b.at("iteration_time_s"));
  EXPECT_EQ(a.at("energy_j_per_iteration"), b.at("energy_j_per_iteration"));
  EXPECT_EQ(a.at("peak_memory_bytes"), b.at("peak_memory_bytes"));
}

TEST(RunStudy, ModelTooBigIsOutOfMemoryResult) {
  const auto dir = fresh_dir("oom");
  const auto r = run_frugalsim("run " + kQuickstart + " --set /model=gpt3-13b -o " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json s = read_json(dir / "out" / "summary.json");
  EXPECT_EQ(s.at("status"), "out_of_memory");
  EXPECT_NE(s.at("reason").get<std::string>().find("GiB"), std::string::npos);
  EXPECT_TRUE(s.at("iteration_time_s").is_null());
  EXPECT_GT(s.at("memory_breakdown_bytes").at("optimizer").get<double>(), 12 * 12e9);
  EXPECT_EQ(s.at("out_of_memory_gpus").size(), 8u);
}

TEST(RunStudy, UnplannableLayoutIsAnInfeasibleResult) {
  // Valid study files the policy cannot plan on the quickstart's 8 GPUs: exit 0, summary,
  // resolved config and manifest written, the reason names the file, the pointer and the arithmetic.
  struct Case {
    std::string set, pointer, why;
  };
  for (const Case& c : {Case{"--set /parallelism/batch_split=equal --set /training/global_batch_size=20", "/training/global_batch_size",
                             "global_batch_size (20) is not a multiple of micro_batch_size (2) × data-parallel size (8) = 16"},
                        Case{"--set '/parallelism={\"impl\": \"megatron\", \"tensor_model_parallel_size\": 3}'",
                             "/parallelism/pipeline_model_parallel_size",
                             "GPUs (8) not divisible by tensor_model_parallel_size (3)"}}) {
    const auto dir = fresh_dir("infeasible");
    const auto r = run_frugalsim("run " + kQuickstart + " " + c.set + " -o " + (dir / "out").string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("status: infeasible"), std::string::npos) << r.output;
    const Json s = read_json(dir / "out" / "summary.json");
    EXPECT_EQ(s.at("status"), "infeasible");
    const std::string reason = s.at("reason");
    EXPECT_NE(reason.find("study.json:" + c.pointer + ": "), std::string::npos) << reason;
    EXPECT_NE(reason.find(c.why), std::string::npos) << reason;
    EXPECT_TRUE(s.at("iteration_time_s").is_null());
    EXPECT_TRUE(s.at("tokens_per_s").is_null());
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / "config.resolved.json"));
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / "manifest.json"));
    EXPECT_FALSE(std::filesystem::exists(dir / "out" / "timeline.json"));
    // `plan` has no program to write: the same message, exit code 2.
    const auto p = run_frugalsim("plan " + kQuickstart + " " + c.set + " -o " + (dir / "program.json").string());
    EXPECT_EQ(p.exit_code, 2) << p.output;
    EXPECT_NE(p.output.find(c.why), std::string::npos) << p.output;
    std::filesystem::remove_all(dir);
  }
}

TEST(RunStudy, PlanWritesAProgramThatReadsBackEqual) {
  const auto dir = fresh_dir("plan");
  const auto r = run_frugalsim("plan " + kQuickstart + " -o " + (dir / "program.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto loaded = program::load_program(dir / "program.json");
  const auto planned = app::plan_study(study::load_study(kQuickstart)).program;
  EXPECT_EQ(loaded, planned);
}

TEST(RunStudy, OutputThatIsNotARegularFileIsRefusedAndNothingIsLeft) {
  const auto dir = fresh_dir("output_not_a_file");
  std::filesystem::create_directories(dir / "program.json");  // a directory where the file would go
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);  // a special file, standing in for a device
  for (const auto& target : {dir / "program.json", fifo}) {
    const auto r = run_frugalsim("plan " + kQuickstart + " -o " + target.string());
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("output path exists and is"), std::string::npos) << r.output;
  }
  const auto into_file = run_frugalsim("run " + kQuickstart + " -q -o " + fifo.string());
  EXPECT_EQ(into_file.exit_code, 2) << into_file.output;
  EXPECT_NE(into_file.output.find("output folder exists and is not a folder"), std::string::npos) << into_file.output;
  EXPECT_TRUE(std::filesystem::is_directory(dir / "program.json"));
  EXPECT_FALSE(std::filesystem::is_regular_file(fifo));
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
}

TEST(RunStudy, ListShowsZooAndPolicies) {
  const auto r = run_frugalsim("list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"gpt3-175b", "llama3-70b", "A100-80GB", "RTX-4090", "dgx-h100", "mixed-a100-v100",
                        "data_parallel", "megatron", "bucket_size_bytes"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

TEST(RunStudy, MemoryPolicyAndLayoutReachEveryOutput) {
  const auto dir = fresh_dir("memory_policy");
  const std::string sets =
      " --set '/parallelism={\"impl\":\"megatron\",\"tensor_model_parallel_size\":2,\"pipeline_model_parallel_size\":2}'"
      " --set '/memory={\"impl\":\"selective\"}'";
  const auto r = run_frugalsim("run " + kQuickstart + sets + " -o " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json s = read_json(dir / "out" / "summary.json");
  EXPECT_EQ(s.at("layout").at("memory").at("policy"), "selective");
  EXPECT_EQ(s.at("layout").at("recompute_granularity"), "selective");
  EXPECT_EQ(s.at("layout").at("rank_order"), "tp-cp-ep-dp-pp");
  EXPECT_EQ(read_json(dir / "out" / "config.resolved.json").at("memory"), Json({{"impl", "selective"}}));
  // Tracks are named by coordinates: rank 5 of t=2, d=2, p=2 is tp1 dp0 pp1.
  bool named = false;
  const Json trace = read_json(dir / "out" / "timeline.json");
  for (const Json& e : trace.at("traceEvents"))
    if (e.at("name") == "process_name" && e.at("pid") == 5)
      named = e.at("args").at("name").get<std::string>().rfind("rank 5 (tp1 dp0 pp1) ", 0) == 0;
  EXPECT_TRUE(named);
  // The program: one lowered rank per class by default, every rank with --expand.
  ASSERT_EQ(run_frugalsim("plan " + kQuickstart + sets + " -o " + (dir / "compact.json").string()).exit_code, 0);
  ASSERT_EQ(run_frugalsim("plan " + kQuickstart + sets + " --expand -o " + (dir / "full.json").string()).exit_code, 0);
  const Json compact = read_json(dir / "compact.json"), full = read_json(dir / "full.json");
  EXPECT_EQ(compact.at("classes").size(), 2u);  // one per pipeline stage
  EXPECT_FALSE(full.contains("classes"));
  EXPECT_LT(slurp(dir / "compact.json").size() * 2, slurp(dir / "full.json").size());
  const auto bad = run_frugalsim("run " + kQuickstart + " --set '/memory={\"impl\":\"ful\"}' -o " + (dir / "bad").string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("/memory/impl"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad"));
}
