// Bad campaign input is a clear error: exit code 2, the file and the JSON pointer (or the trace
// file and line) named, nothing written. Also the strict reading of the cluster's storage and
// prices (no SimGrid involved).
#include <gtest/gtest.h>

#include "platforms/cluster_spec.hpp"
#include "tests/integration/campaign_support.hpp"

using namespace frugal::campaign_test;
using frugal::test_support::fresh_dir;
using frugal::test_support::write_file;

namespace {

Json good_campaign() {
  return Json::parse(R"({
    "goal": {"iterations": 100},
    "iteration_time": "10 s",
    "availability": {"n": {"impl": "exponential", "mtbf": "6 h"}},
    "resilience": {"checkpoint": {"impl": "young"}, "recovery": {"impl": "restart"}}
  })");
}

/// Runs the study and checks exit code 2, the expected substrings and that nothing was written.
void expect_error(const std::string& name, const Json& study_json, const std::vector<std::string>& expected) {
  const auto dir = fresh_dir("campaign_error_" + name);
  const StudyRun r = run_study(dir, name, study_json);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  for (const auto& s : expected) EXPECT_NE(r.output.find(s), std::string::npos) << "expected \"" << s << "\" in:\n" << r.output;
  EXPECT_FALSE(std::filesystem::exists(r.out)) << "partial output written";
}

}  // namespace

TEST(CampaignErrors, NegativeMtbfNamesFileAndPointer) {
  Json c = good_campaign();
  c["availability"]["n"]["mtbf"] = "-5 h";
  expect_error("negative_mtbf", study(small_cluster(2), c), {"negative_mtbf.json:", "/campaign/availability/n/mtbf"});
}

TEST(CampaignErrors, TraceNamingAnUnknownNodeNamesTraceFileAndLine) {
  const auto dir = fresh_dir("campaign_trace_files");
  write_file(dir / "unknown.txt", "node0 10 20\nnode99 30 40\n");
  Json c = good_campaign();
  c["availability"]["n"] = {{"impl", "trace"}, {"file", (dir / "unknown.txt").string()}, {"format", "fta"}};
  expect_error("unknown_node", study(small_cluster(2), c), {"unknown.txt:line 2", "node99"});
}

TEST(CampaignErrors, MalformedTraceLineNamesTraceFileAndLine) {
  const auto dir = fresh_dir("campaign_trace_bad");
  write_file(dir / "bad.txt", "0 1\n100 0\n200 abc\n");
  Json c = good_campaign();
  c["availability"]["n"] = {{"impl", "trace"}, {"file", (dir / "bad.txt").string()}, {"format", "state_profile"}};
  expect_error("malformed_line", study(small_cluster(2), c), {"bad.txt:line 3"});
}

TEST(CampaignErrors, StrictCampaignKeys) {
  Json c = good_campaign();
  c["checkpoint_intervl"] = 5;
  expect_error("unknown_key", study(small_cluster(2), c), {"/campaign/checkpoint_intervl: unknown key (valid:"});
  c = good_campaign();
  c["goal"]["tokens"] = 1e9;
  expect_error("two_goals", study(small_cluster(2), c), {"/campaign/goal", "exactly one of"});
  c = good_campaign();
  c["spares"] = {{"gpu-box", 2}};
  expect_error("spare_type", study(small_cluster(2), c), {"/campaign/spares/gpu-box", "unknown node type"});
  c = good_campaign();
  c["resilience"]["checkpoint"]["intervl"] = "1 h";
  expect_error("policy_key", study(small_cluster(2), c), {"/campaign/resilience/checkpoint/intervl"});
  Json cluster = small_cluster(2);
  cluster.erase("storage");
  expect_error("no_storage", study(cluster, good_campaign()), {"/campaign/resilience/checkpoint", "no \"storage\""});
}

TEST(CampaignErrors, ClusterStorageAndPricesAreStrictAndRoundTrip) {
  const auto& catalogue = frugal::platforms::GpuCatalogue::shipped();
  const auto cluster = frugal::platforms::read_cluster(small_cluster(3), "c.json", "", catalogue);
  EXPECT_TRUE(cluster.storage.has_shared);
  EXPECT_DOUBLE_EQ(cluster.storage.shared.bandwidth_bytes_per_s, 1e9);
  EXPECT_DOUBLE_EQ(cluster.storage.local_disk_bandwidth_bytes_per_s, 2e9);
  EXPECT_DOUBLE_EQ(cluster.node_types[0].billed_price_per_gpu_hour(), 4.0);
  EXPECT_EQ(frugal::platforms::read_cluster(frugal::platforms::to_json(cluster), "", "", catalogue), cluster);
  auto error_of = [&](const Json& j) {
    try {
      frugal::platforms::read_cluster(j, "c.json", "", catalogue);
    } catch (const frugal::core::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Json j = small_cluster(1);
  j["storage"] = Json::object();
  EXPECT_NE(error_of(j).find("c.json:/storage: give \"shared\""), std::string::npos) << error_of(j);
  j = small_cluster(1);
  j["storage"]["shared"]["bandwith"] = "1 GB/s";
  EXPECT_NE(error_of(j).find("/storage/shared/bandwith: unknown key"), std::string::npos) << error_of(j);
  j = small_cluster(1);
  j["node_types"]["n"]["price"]["on_demand"] = -1;
  EXPECT_NE(error_of(j).find("/node_types/n/price/on_demand"), std::string::npos) << error_of(j);
  j = small_cluster(1);
  j["node_types"]["n"].erase("price");
  j["node_types"]["n"]["spot"] = true;
  EXPECT_NE(error_of(j).find("/node_types/n/spot: a spot node type needs"), std::string::npos) << error_of(j);
  j = small_cluster(1);
  j["node_types"]["n"]["spot"] = true;
  EXPECT_DOUBLE_EQ(frugal::platforms::read_cluster(j, "c.json", "", catalogue).node_types[0].billed_price_per_gpu_hour(), 1.5);
}

/// Rates that would make a campaign log millions of events (an MTBF of seconds over days) are
/// refused when the log exceeds max_events, with the rates that led there; nothing is written.
TEST(CampaignErrors, TooManyEventsIsRefusedWithTheRates) {
  Json c = good_campaign();
  c["goal"] = {{"wall_time", "2 days"}};
  c["availability"]["n"]["mtbf"] = "1 s";
  c["availability"]["n"]["repair"] = "1 s";
  c["max_events"] = 200;
  expect_error("too_many_events", study(small_cluster(2), c),
               {"too_many_events.json:/campaign/max_events: the campaign logged more than 200 events by ",
                "lengthen the checkpoint interval or the time between failures"});
}
