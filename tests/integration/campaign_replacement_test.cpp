// Replacement machines in campaigns: a machine provisioned in a failed node's slot draws its own
// failures from its provisioning date (per-machine models), while failures of the slot's
// surroundings (a rack) go on with the slot. A repair time longer than the campaign makes the
// difference plain: without fresh draws, each slot could fail once.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/campaign_support.hpp"

using namespace frugal::campaign_test;
using frugal::test_support::fresh_dir;

namespace {

/// 2 job nodes, no spares: every failure provisions a new machine (10 min), repairs take
/// 10,000 h (never within the 100 h campaign).
Json campaign_with(const Json& availability) {
  Json c = Json::parse(R"({
    "goal": {"wall_time": "100 h"},
    "iteration_time": "10 s",
    "resilience": {"checkpoint": {"impl": "fixed", "interval": "30 min"},
                   "recovery": {"impl": "restart", "detection": "30 s", "restart": "60 s",
                                "provisioning_delay": "10 min"}}
  })");
  c["availability"]["n"] = availability;
  return c;
}

int failures_with_cause(const Json& events, const std::string& text) {
  int count = 0;
  for (const Json& e : events_of(events, "failure"))
    if (e.at("cause").get<std::string>().find(text) != std::string::npos) ++count;
  return count;
}

}  // namespace

TEST(CampaignReplacement, NewMachinesFailAtTheirOwnRate) {
  const auto dir = fresh_dir("campaign_replacement");
  const Json node_failures = Json::parse(R"({"impl": "exponential", "mtbf": "2 h", "repair": "10000 h"})");
  const StudyRun r = run_study(dir, "node", study(small_cluster(2), campaign_with(node_failures), 5));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const int failures = r.summary.at("failures").get<int>();
  // Two machines in the job at a time, each failing at 1 / (2 h), over 100 h less the time the
  // job is down (about 11.5 min per failure): about 91 failures (Poisson, σ ≈ 10).
  EXPECT_GE(failures, 60);
  EXPECT_LE(failures, 125);
  // All but the first failure of each slot are replacements' own.
  EXPECT_GE(failures_with_cause(r.events, "replacement machine"), failures - 2);
  EXPECT_GE(events_of(r.events, "provisioned").size(), static_cast<std::size_t>(failures));
}

TEST(CampaignReplacement, RackFailuresStayWithTheSlot) {
  const auto dir = fresh_dir("campaign_replacement_rack");
  // The two nodes share a rack: its power fails every 2 h on average and is repaired after
  // 10,000 h. New machines in the rack do not renew the rack: it fails once in the campaign.
  const Json rack = Json::parse(R"({"impl": "correlated", "scope": "rack", "rack_size": 2, "mtbf": "2 h",
                                    "repair": "10000 h"})");
  const StudyRun r = run_study(dir, "rack", study(small_cluster(2), campaign_with(rack), 5));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.summary.at("failures").get<int>(), 1);
  EXPECT_EQ(failures_with_cause(r.events, "replacement machine"), 0);
  // The same law per node (scope "node") is the machine's: replacements fail again.
  Json per_node = rack;
  per_node["scope"] = "node";
  const StudyRun n = run_study(dir, "per-node", study(small_cluster(2), campaign_with(per_node), 5));
  ASSERT_EQ(n.exit_code, 0) << n.output;
  EXPECT_GE(n.summary.at("failures").get<int>(), 60);
}
