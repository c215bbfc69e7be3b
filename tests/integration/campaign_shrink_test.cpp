// Shrink recovery: without spares the job drops data-parallel replicas, re-plans with the
// parallelism policy (layouts simulated op by op in forked children), keeps training, grows
// back when nodes return; a shrunk layout that does not fit in GPU memory is never used.
#include <gtest/gtest.h>

#include "tests/integration/campaign_support.hpp"

using namespace frugal::campaign_test;
using frugal::test_support::fresh_dir;
using frugal::test_support::write_file;

namespace {

const Json* layout_with_units(const Json& summary, int units) {
  for (const Json& l : summary.at("campaign").at("layouts"))
    if (l.at("data_parallel_units") == units) return &l;
  return nullptr;
}

}  // namespace

TEST(CampaignShrink, KeepsTrainingWithoutSparesOnSimulatedLayoutsThatFit) {
  const auto dir = fresh_dir("campaign_shrink");
  // Iterations simulated op by op (~10 ms on 4 A100s); nodes fail every 5 min each and stay
  // down 10 min; no spares: the job must shrink to keep going.
  const Json campaign = Json::parse(R"({
    "goal": {"iterations": 60000},
    "availability": {"n": {"impl": "exponential", "mtbf": "5 min", "repair": "10 min"}},
    "resilience": {"checkpoint": {"impl": "fixed", "every_iterations": 1000},
                   "recovery": {"impl": "shrink", "detection": "1 s", "restart": "5 s", "min_data_parallel": 1}}
  })");
  const StudyRun r = run_study(dir, "shrink", study(small_cluster(4), campaign, 2));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json& s = r.summary;
  EXPECT_EQ(s.at("campaign").at("status"), "ok");
  EXPECT_EQ(s.at("campaign").at("iterations"), 60000);
  EXPECT_GE(s.at("failures").get<int>(), 3);
  EXPECT_GE(s.at("replans").get<int>(), 2);
  // The layouts: 4, 2 and 1 replicas simulated op by op (3 does not divide the batch of 8).
  for (int u : {1, 2, 4}) {
    const Json* l = layout_with_units(s, u);
    ASSERT_NE(l, nullptr) << u;
    EXPECT_TRUE(l->at("allowed").get<bool>()) << *l;
    EXPECT_EQ(l->at("origin"), "simulated");
    EXPECT_LE(l->at("peak_memory_bytes").get<double>(), l->at("memory_capacity_bytes").get<double>());
  }
  EXPECT_FALSE(layout_with_units(s, 3)->at("allowed").get<bool>());
  EXPECT_GT(layout_with_units(s, 1)->at("iteration_time_s").get<double>(),
            layout_with_units(s, 4)->at("iteration_time_s").get<double>());
  // Every re-plan lands on an allowed layout, and the job shrank and grew back.
  bool shrank = false, grew = false;
  for (const Json& e : events_of(r.events, "replan")) {
    const Json* l = layout_with_units(s, e.at("to_units").get<int>());
    ASSERT_NE(l, nullptr);
    EXPECT_TRUE(l->at("allowed").get<bool>()) << e;
    EXPECT_DOUBLE_EQ(e.at("iteration_time_s").get<double>(), l->at("iteration_time_s").get<double>());
    shrank |= e.at("to_units") < e.at("from_units");
    grew |= e.at("to_units") > e.at("from_units");
  }
  EXPECT_TRUE(shrank);
  EXPECT_TRUE(grew);
  // No spare at the start: the first failure shrinks (later ones may use nodes freed by shrinks
  // and repaired meanwhile, which the policy sees as spares).
  EXPECT_EQ(events_of(r.events, "failure").at(0).at("decision"), "shrink");
}

TEST(CampaignShrink, ALayoutThatDoesNotFitIsRefused) {
  const auto dir = fresh_dir("campaign_shrink_memory");
  // Llama-2 7B with ZeRO-3 on 4 GPUs: 16 B/param / 4 fits in 80 GB, on 1 GPU it does not.
  // Three of the four nodes fail together: shrinking to 1 replica is refused, the job waits
  // for the repairs and restarts on all four.
  write_file(dir / "fta.txt", "node1 100 500\nnode2 100 500\nnode3 100 500\n");
  Json campaign = Json::parse(R"({
    "goal": {"iterations": 100},
    "iteration_time": "10 s",
    "resilience": {"checkpoint": {"impl": "fixed", "every_iterations": 5},
                   "recovery": {"impl": "shrink", "detection": "1 s", "restart": "5 s", "min_data_parallel": 1}}
  })");
  campaign["availability"]["n"] = {{"impl", "trace"}, {"file", (dir / "fta.txt").string()}, {"format", "fta"}};
  Json st = study(small_cluster(4, 1, "100 GB/s"), campaign);
  st["model"] = "llama2-7b";
  st["parallelism"] = {{"impl", "megatron"}, {"zero_stage", 3}};
  const StudyRun r = run_study(dir, "memory", st);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json* one = layout_with_units(r.summary, 1);
  ASSERT_NE(one, nullptr);
  EXPECT_FALSE(one->at("allowed").get<bool>());
  EXPECT_NE(one->at("note").get<std::string>().find("does not fit"), std::string::npos) << *one;
  EXPECT_GT(one->at("peak_memory_bytes").get<double>(), one->at("memory_capacity_bytes").get<double>());
  EXPECT_TRUE(layout_with_units(r.summary, 2)->at("allowed").get<bool>());
  EXPECT_EQ(events_of(r.events, "shrink_refused").size(), 1u);
  EXPECT_TRUE(events_of(r.events, "replan").empty());
  const auto restarts = events_of(r.events, "restart_start");
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_DOUBLE_EQ(restarts[0].at("time_s").get<double>(), 500);
  EXPECT_EQ(r.summary.at("campaign").at("iterations"), 100);
}
