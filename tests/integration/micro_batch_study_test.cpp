// The quickstart study with --set /training/micro_batch_size, as the README shows it: different
// sizes give different micro-batch counts, and a size the global batch cannot give every GPU is
// refused at the key (an infeasible result for run, exit code 2 for plan).
#include <gtest/gtest.h>

#include "sim/core/build_info.hpp"
#include "tests/support/cli.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;
using Json = nlohmann::json;

namespace {

const std::string kQuickstart = frugal::core::data_dir().string() + "/results/quickstart/study.json";

Json summary_with(const std::filesystem::path& dir, const std::string& sets) {
  const auto r = run_frugalsim("run " + kQuickstart + " -o " + dir.string() + " " + sets +
                               " --set /outputs/timeline=false");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(dir / "summary.json");
}

}  // namespace

TEST(MicroBatchStudy, SizesTwoAndEightGiveDifferentMicroBatchCounts) {
  const auto dir = fresh_dir("micro_batch_sizes");
  const Json two = summary_with(dir / "2", "--set /training/micro_batch_size=2");
  const Json eight = summary_with(dir / "8", "--set /training/micro_batch_size=8");
  EXPECT_EQ(two.at("layout").at("micro_batches_per_rank"), Json({5, 5, 5, 5, 3, 3, 3, 3}));  // 10 and 6 samples
  EXPECT_EQ(eight.at("layout").at("micro_batches_per_rank"), Json({1, 1, 1, 1, 1, 1, 1, 1}));  // 8 samples each
  EXPECT_EQ(read_json(dir / "8" / "config.resolved.json").at("training").at("micro_batch_size"), 8);
  std::filesystem::remove_all(dir);
}

TEST(MicroBatchStudy, TooFewSamplesForOneMicroBatchPerGpuIsRefusedAtTheKey) {
  const auto dir = fresh_dir("micro_batch_refused");
  const std::string sets = " --set /cluster=dgx-a100 --set /training/micro_batch_size=4";  // 4 × 32 GPUs > 64
  const Json summary = summary_with(dir / "run", sets);
  EXPECT_EQ(summary.at("status"), "infeasible");
  EXPECT_NE(summary.at("reason").get<std::string>().find(
                "study.json:/training/micro_batch_size: micro_batch_size (4) × data-parallel size (32) = 128 > "
                "global_batch_size (64)"),
            std::string::npos)
      << summary.at("reason");
  const auto plan = run_frugalsim("plan " + kQuickstart + " -o " + (dir / "program.json").string() + sets);
  EXPECT_EQ(plan.exit_code, 2) << plan.output;
  EXPECT_NE(plan.output.find("/training/micro_batch_size"), std::string::npos) << plan.output;
  std::filesystem::remove_all(dir);
}
