// The campaign study walked through in results/README.md (results/campaign/study.json) runs and
// shows what the page says: failures and preemptions, Daly checkpoints, shrink recovery with
// an interpolated layout (max_shrink_layouts 2), and every second of the wall clock accounted for.
#include <gtest/gtest.h>

#include "sim/core/build_info.hpp"
#include "tests/support/cli.hpp"

using namespace frugal;
using Json = nlohmann::json;

TEST(CampaignExample, RunsAsDocumented) {
  const auto dir = test_support::fresh_dir("campaign_example");
  const auto r = test_support::run_frugalsim("run " + core::data_dir().string() + "/results/campaign/study.json -o " +
                                             (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"summary.json", "events.json", "timeline.json", "config.resolved.json", "manifest.json"})
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / f)) << f;
  const Json s = test_support::read_json(dir / "out" / "summary.json");
  const Json& c = s.at("campaign");
  EXPECT_EQ(c.at("status"), "ok");
  EXPECT_DOUBLE_EQ(s.at("wall_clock_s").get<double>(), 2 * 86400.0);
  EXPECT_GT(s.at("failures").get<int>(), 0);
  EXPECT_GT(s.at("replans").get<int>(), 0) << "shrink recovery re-plans on fewer replicas";
  EXPECT_GT(c.at("checkpoints").get<int>(), 0);
  std::vector<std::string> origins;
  for (const Json& l : c.at("layouts")) origins.push_back(l.at("origin"));
  EXPECT_EQ(origins, (std::vector<std::string>{"simulated", "interpolated", "simulated"}));
  const double parts = c.at("useful_s").get<double>() + s.at("lost_work_s").get<double>() +
                       s.at("checkpoint_s").get<double>() + s.at("restart_s").get<double>() +
                       s.at("downtime_s").get<double>();
  EXPECT_NEAR(parts, s.at("wall_clock_s").get<double>(), 1.0);
  const Json events = test_support::read_json(dir / "out" / "events.json").at("events");
  bool notice = false;
  for (const Json& e : events) notice |= e.at("event") == "preempt_notice";
  EXPECT_TRUE(notice) << "the spot model sends preemption notices";
}
