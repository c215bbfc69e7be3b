// On a mixed cluster, the speed-proportional batch split makes per-GPU compute times equal
// (within 5 %) and beats the equal split.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/cli.hpp"
#include "sim/core/build_info.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;

namespace {

nlohmann::json run_split(const std::string& split, const std::filesystem::path& dir) {
  const std::string study = frugal::core::data_dir().string() + "/results/quickstart/study.json";
  const auto r = run_frugalsim("run " + study + " --set /parallelism/batch_split=" + split +
                               " --set /training/global_batch_size=512 --set /training/micro_batch_size=4"
                               " --set /training/iterations=1 --set /outputs/timeline=false -o " + (dir / split).string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(dir / split / "summary.json");
}

}  // namespace

TEST(BatchSplitBalance, ProportionalEqualisesComputeAndBeatsEqual) {
  const auto dir = fresh_dir("split");
  const auto prop = run_split("proportional", dir);
  const auto equal = run_split("equal", dir);
  double lo = 1e30, hi = 0;
  for (const auto& g : prop.at("per_gpu")) {
    lo = std::min(lo, g.at("compute_s").get<double>());
    hi = std::max(hi, g.at("compute_s").get<double>());
  }
  EXPECT_LT(hi / lo - 1.0, 0.05) << "compute times " << lo << " .. " << hi;
  EXPECT_LT(prop.at("iteration_time_s").get<double>(), equal.at("iteration_time_s").get<double>());
}
