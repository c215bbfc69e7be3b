// Campaign runs end to end through the CLI: outputs and their accounting, determinism, trace
// replay of node state, a failure during a checkpoint write, preemption notices, and the
// asynchronous (CheckFreq) and two-level (Gemini) checkpoint levels.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "tests/integration/campaign_support.hpp"

using namespace frugal::campaign_test;
using frugal::test_support::fresh_dir;
using frugal::test_support::slurp;
using frugal::test_support::write_file;

namespace {

/// 4 job nodes + 2 spares, exponential failures, Daly checkpoints, restart from spares.
Json basic_campaign() {
  return Json::parse(R"({
    "goal": {"iterations": 3000},
    "iteration_time": "10 s",
    "availability": {"n": {"impl": "exponential", "mtbf": "6 h", "repair": "1 h"}},
    "resilience": {"checkpoint": {"impl": "daly"},
                   "recovery": {"impl": "restart", "detection": "30 s", "restart": "60 s"}},
    "spares": {"n": 2}
  })");
}

}  // namespace

TEST(CampaignRun, WritesOutputsAndAccountsForEverySecond) {
  const auto dir = fresh_dir("campaign_basic");
  Json st = study(small_cluster(4), basic_campaign(), 7);
  st["outputs"]["timeline"] = true;
  const StudyRun r = run_study(dir, "basic", st);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"summary.json", "events.json", "timeline.json", "config.resolved.json", "manifest.json"})
    EXPECT_TRUE(std::filesystem::exists(r.out / f)) << f;
  const Json& s = r.summary;
  const Json& c = s.at("campaign");
  EXPECT_EQ(c.at("status"), "ok");
  EXPECT_EQ(c.at("iterations"), 3000);
  EXPECT_GE(s.at("failures").get<int>(), 1) << "seed 7 should see failures in ~8.5 h with M = 1.5 h";
  // Every simulated second is training kept, training lost, checkpointing, restarting or down.
  const double wall = s.at("wall_clock_s");
  const double parts = c.at("useful_s").get<double>() + s.at("lost_work_s").get<double>() +
                       s.at("checkpoint_s").get<double>() + s.at("restart_s").get<double>() +
                       s.at("downtime_s").get<double>();
  EXPECT_NEAR(parts, wall, 1e-6 * wall);
  EXPECT_DOUBLE_EQ(c.at("useful_s").get<double>(), 3000 * 10.0);
  EXPECT_NEAR(s.at("ettr").get<double>(), 30000.0 / wall, 1e-12);
  EXPECT_NEAR(s.at("goodput_tokens_per_s").get<double>(), 3000.0 * 8 * 512 / wall, 1e-9);
  // Cost: 6 nodes × 1 GPU billed at 4 per GPU-hour while up.
  EXPECT_GT(s.at("gpu_hours").get<double>(), 4 * wall / 3600);
  EXPECT_LE(s.at("gpu_hours").get<double>(), 6 * wall / 3600 + 1e-9);
  EXPECT_NEAR(s.at("cost").get<double>(), 4.0 * s.at("gpu_hours").get<double>(), 1e-9);
  EXPECT_GT(s.at("energy_j").get<double>(), c.at("training_energy_j").get<double>());
  // C measured from the simulated write: 14 B/param × 125M params over 1 GB/s, one node each
  // writing a quarter through its own 100 GB/s NIC into the shared 1 GB/s link.
  const double bytes = c.at("checkpoint_bytes");
  EXPECT_NEAR(c.at("checkpoint_write_s").get<double>(), bytes / 1e9, 1e-3);
  // Events: failures, rollbacks and restarts match the counts.
  EXPECT_EQ(events_of(r.events, "failure").size(), s.at("failures").get<std::size_t>());
  EXPECT_EQ(events_of(r.events, "rollback").size(), s.at("failures").get<std::size_t>());
  EXPECT_EQ(events_of(r.events, "checkpoint_end").size(), c.at("checkpoints").get<std::size_t>());
  // The timeline has the campaign process with its job track.
  const Json trace = frugal::test_support::read_json(r.out / "timeline.json");
  bool campaign_track = false;
  for (const Json& e : trace.at("traceEvents"))
    if (e.value("pid", 0) == 1000000 && e.value("name", "") == "training") campaign_track = true;
  EXPECT_TRUE(campaign_track);
  // config.resolved.json holds the resolved campaign and alone reproduces the run.
  const Json resolved = frugal::test_support::read_json(r.out / "config.resolved.json");
  EXPECT_EQ(resolved.at("campaign").at("resilience").at("recovery").at("restart_s"), 60.0);
  const auto again = frugal::test_support::run_frugalsim("run " + (r.out / "config.resolved.json").string() + " -o " +
                                                          (dir / "again").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(slurp(r.out / "events.json"), slurp(dir / "again" / "events.json"));
}

TEST(CampaignRun, SameSeedSameBytesDifferentSeedDifferentEvents) {
  const auto dir = fresh_dir("campaign_seeds");
  const auto runs = run_many(dir, {study(small_cluster(4), basic_campaign(), 11), study(small_cluster(4), basic_campaign(), 11),
                                   study(small_cluster(4), basic_campaign(), 12)});
  for (const StudyRun& r : runs) ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(slurp(runs[0].out / "summary.json"), slurp(runs[1].out / "summary.json"));
  EXPECT_EQ(slurp(runs[0].out / "events.json"), slurp(runs[1].out / "events.json"));
  EXPECT_NE(runs[0].events, runs[2].events);
  EXPECT_NE(runs[0].summary.at("campaign").at("events_fingerprint"), runs[2].summary.at("campaign").at("events_fingerprint"));
}

TEST(CampaignRun, ReplayedTraceTurnsExactlyTheListedNodesOffAndOn) {
  const auto dir = fresh_dir("campaign_trace");
  write_file(dir / "fta.txt", "node start_s end_s\nnode1 1000 2000\nnode3 1500 4000.5\nnode1 5000 5200\n");
  Json campaign = basic_campaign();
  campaign["availability"]["n"] = {{"impl", "trace"}, {"file", (dir / "fta.txt").string()}, {"format", "fta"}};
  const StudyRun r = run_study(dir, "trace", study(small_cluster(4), campaign));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::tuple<double, int, std::string>> seen;
  for (const Json& e : r.events)
    if (e.at("event") == "node_down" || e.at("event") == "node_up")
      seen.emplace_back(e.at("time_s").get<double>(), e.at("node").get<int>(), e.at("event").get<std::string>());
  const std::vector<std::tuple<double, int, std::string>> expected = {
      {1000, 1, "node_down"}, {1500, 3, "node_down"}, {2000, 1, "node_up"},
      {4000.5, 3, "node_up"}, {5000, 1, "node_down"}, {5200, 1, "node_up"}};
  EXPECT_EQ(seen, expected);
  // Node 1 and node 3 were in the job: each going down is a failure of the job (node 1 the
  // second time only if it was back in the job).
  EXPECT_GE(r.summary.at("failures").get<int>(), 2);
}

TEST(CampaignRun, FailureDuringACheckpointWriteRollsBackToThePreviousCheckpoint) {
  const auto dir = fresh_dir("campaign_write_failure");
  // Iterations of 10 s; a checkpoint every 10 iterations; a write takes 20 s (20 GB over 1 GB/s):
  // checkpoint 1 holds iteration 10 (written 100 → 120 s), checkpoint 2 would hold iteration 20
  // (written 220 → 240 s); node 0 fails at 230 s, in the middle of it.
  write_file(dir / "fta.txt", "node0 230 100000\n");
  Json campaign = Json::parse(R"({
    "goal": {"iterations": 40},
    "iteration_time": "10 s",
    "resilience": {"checkpoint": {"impl": "fixed", "every_iterations": 10},
                   "recovery": {"impl": "restart", "detection": "30 s", "restart": "60 s"}},
    "checkpoint": {"size": "20 GB", "simulate_transfers": "always"},
    "spares": {"n": 1}
  })");
  campaign["availability"]["n"] = {{"impl", "trace"}, {"file", (dir / "fta.txt").string()}, {"format", "fta"}};
  const StudyRun r = run_study(dir, "write_failure", study(small_cluster(1), campaign));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto aborted = events_of(r.events, "checkpoint_aborted");
  ASSERT_EQ(aborted.size(), 1u);
  EXPECT_DOUBLE_EQ(aborted[0].at("time_s").get<double>(), 230);
  EXPECT_EQ(aborted[0].at("iteration"), 20);
  const auto rollbacks = events_of(r.events, "rollback");
  ASSERT_EQ(rollbacks.size(), 1u);
  EXPECT_EQ(rollbacks[0].at("from_iteration"), 20);
  EXPECT_EQ(rollbacks[0].at("to_iteration"), 10) << "the interrupted write must not count";
  EXPECT_NEAR(rollbacks[0].at("lost_work_s").get<double>(), 100.0, 1e-6) << "iterations 11-20";
  EXPECT_NEAR(r.summary.at("lost_work_s").get<double>(), 100.0, 1e-6);
  EXPECT_EQ(r.summary.at("campaign").at("checkpoints_aborted"), 1);
  EXPECT_EQ(r.summary.at("campaign").at("iterations"), 40);
  // The job resumed on the spare (node 1) and reloaded the checkpoint of iteration 10.
  const auto restarts = events_of(r.events, "restart_end");
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_NEAR(restarts[0].at("reload_s").get<double>(), 20.0, 1e-3);
  EXPECT_NEAR(restarts[0].at("time_s").get<double>(), 230 + 30 + 60 + 20, 1e-3);
}

TEST(CampaignRun, PreemptionNoticeGivesTimeToCheckpoint) {
  const auto dir = fresh_dir("campaign_notice");
  // Spot preemptions replayed from an event CSV, announced 120 s ahead; only notice checkpoints.
  write_file(dir / "spot.csv", "t_ms,event,node\n3000000,remove,node0\n9000000,add,node0\n");
  Json campaign = Json::parse(R"({
    "goal": {"iterations": 1000},
    "iteration_time": "10 s",
    "resilience": {"checkpoint": {"impl": "on_notice"},
                   "recovery": {"impl": "restart", "detection": "10 s", "restart": "60 s"}},
    "checkpoint": {"size": "20 GB"},
    "spares": {"n": 1}
  })");
  campaign["availability"]["n"] = {{"impl", "trace"}, {"file", (dir / "spot.csv").string()}, {"notice", "120 s"}};
  const StudyRun r = run_study(dir, "notice", study(small_cluster(1), campaign));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto notices = events_of(r.events, "notice_decision");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_TRUE(notices[0].at("write").get<bool>()) << notices[0];
  EXPECT_DOUBLE_EQ(notices[0].at("time_s").get<double>(), 3000 - 120);
  const auto ends = events_of(r.events, "checkpoint_end");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].at("iteration"), 288);  // the last completed iteration at 2880 s
  const auto failures = events_of(r.events, "failure");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].at("kind"), "preempt");
  const auto rollbacks = events_of(r.events, "rollback");
  ASSERT_EQ(rollbacks.size(), 1u);
  EXPECT_EQ(rollbacks[0].at("to_iteration"), 288);
  // Lost: the 100 s trained between the end of the write (2900 s) and the preemption (3000 s).
  EXPECT_NEAR(rollbacks[0].at("lost_work_s").get<double>(), 100.0, 1e-3);
}

TEST(CampaignRun, AsynchronousCheckpointsPersistInTheBackground) {
  const auto dir = fresh_dir("campaign_async");
  Json campaign = basic_campaign();
  campaign["resilience"]["checkpoint"] = {{"impl", "async"}, {"every_iterations", 20}};
  campaign["checkpoint"] = {{"size", "40 GB"}};
  const StudyRun r = run_study(dir, "async", study(small_cluster(4), campaign, 3));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto persists = events_of(r.events, "persist_end");
  ASSERT_GT(persists.size(), 10u);
  // A 40 GB persist over the 1 GB/s storage link takes 40 s, overlapping 4 iterations; the
  // blocking part is the GPU → host copy (10 GB per GPU over 25 GB/s PCIe: 0.4 s).
  EXPECT_NEAR(persists[0].at("duration_s").get<double>(), 40.0, 1e-3);
  const Json& costs = r.summary.at("campaign").at("measured_costs").at("4");
  EXPECT_NEAR(costs.at("snapshot_s").get<double>(), 0.4, 1e-3);
  EXPECT_LT(r.summary.at("checkpoint_s").get<double>(), 0.5 * persists.size() + 1);
  // Rollbacks only go to persisted snapshots.
  for (const Json& rb : events_of(r.events, "rollback")) EXPECT_EQ(rb.at("to_iteration").get<int>() % 20, 0) << rb;
}

TEST(CampaignRun, TwoLevelCheckpointsRestoreFromPeerReplicas) {
  const auto dir = fresh_dir("campaign_two_level");
  Json campaign = basic_campaign();
  campaign["resilience"]["checkpoint"] = {{"impl", "two_level"}, {"peer_every_iterations", 5},
                                          {"persistent_every_iterations", 100}, {"persistent_async", false}};
  const StudyRun r = run_study(dir, "two_level", study(small_cluster(4), campaign, 5));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(r.summary.at("campaign").at("peer_checkpoints").get<int>(), 100);
  bool from_peer = false;
  for (const Json& rb : events_of(r.events, "rollback")) from_peer |= rb.at("level") == "peer";
  EXPECT_TRUE(from_peer) << "a single-node failure keeps the peer replicas: restore from them";
  for (const Json& rs : events_of(r.events, "restart_end"))
    if (rs.at("reload_from") == "peer") {
      EXPECT_GT(rs.at("reload_s").get<double>(), 0);
    }
}
