// Checkpoints to shared storage on nodes of 8 GPUs: every node reaches the storage host through
// its own uplink and the storage link (the storage host sits in a zone of its own; placed
// directly in the star, SimGrid 3.32 looked the node host's in-zone id up among the star's
// routes and failed with out_of_range once nodes held more hosts than the star had members).
#include <gtest/gtest.h>

#include "tests/integration/campaign_support.hpp"

using namespace frugal::campaign_test;
using frugal::test_support::fresh_dir;

TEST(CampaignStorage, EightGpuNodesWriteThroughTheSharedStorageLink) {
  const auto dir = fresh_dir("campaign_storage_8gpu");
  Json c = Json::parse(R"({
    "goal": {"iterations": 100},
    "iteration_time": "10 s",
    "checkpoint": {"size": "20 GB"},
    "resilience": {"checkpoint": {"impl": "fixed", "every_iterations": 50}}
  })");
  Json s = study(small_cluster(3, 8, "1 GB/s"), c, 1);
  s["training"]["global_batch_size"] = 24;
  const StudyRun r = run_study(dir, "storage", s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // 20 GB over the 1 GB/s storage link shared by the 3 writers: 20 s (the 100 GB/s NICs do not limit it).
  EXPECT_NEAR(r.summary.at("campaign").at("checkpoint_write_s").get<double>(), 20.0, 1e-3);
  EXPECT_EQ(r.summary.at("campaign").at("checkpoints").get<int>(), 2);
}
