// The GPU's fixed cost per kernel as a study pays it: on one GPU, where every op runs in turn on
// the compute stream, raising kernel_launch by L adds L × the program's kernels to the iteration.
#include <gtest/gtest.h>

#include "tests/integration/study_runs.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::run_study_document;
using Json = nlohmann::json;

namespace {

Json one_gpu_study(const std::string& kernel_launch) {
  const Json cluster = test_support::one_gpu_cluster({{"kernel_launch", kernel_launch}});
  return Json{{"model", "gpt3-125m"},
              {"cluster", cluster},
              {"training", {{"global_batch_size", 4}, {"micro_batch_size", 1}, {"seq_length", 128}, {"iterations", 1}}},
              {"outputs", {{"timeline", false}}}};
}

}  // namespace

TEST(KernelLaunchStudy, EveryKernelOfTheIterationPaysTheLaunch) {
  const auto dir = fresh_dir("kernel_launch_study");
  const Json none = run_study_document(dir, "none", one_gpu_study("0 us"));
  const Json slow = run_study_document(dir, "slow", one_gpu_study("10 us"));
  ASSERT_EQ(none.at("status"), "ok");
  ASSERT_EQ(slow.at("status"), "ok");
  EXPECT_EQ(slow.at("layout").at("attention"), "flash");
  // Per micro-batch: embedding 3 + 3, 12 layers × (10 forward + 15 backward), head 5 + 4;
  // 4 micro-batches, then the optimizer's 2.
  const int kernels = 4 * (6 + 12 * 25 + 9) + 2;
  const double added = slow.at("iteration_time_s").get<double>() - none.at("iteration_time_s").get<double>();
  EXPECT_NEAR(added / (kernels * 10e-6), 1.0, 1e-9) << added;
  // Small micro-batches of a small model: the launches are a large share of the step.
  EXPECT_GT(added / slow.at("iteration_time_s").get<double>(), 0.2);
}
