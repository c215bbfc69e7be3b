// The campaign simulation against closed forms under their own assumptions (shared/REFERENCE.md,
// "Failures and checkpointing"): exponential failures, fixed checkpoint cost C, restart R
// (failures may strike during it) and downtime D (they may not).
//  - Mean time to complete W seconds of work followed by a checkpoint:
//    E = e^{λR}·(1/λ + D)·(e^{λ(W+C)} − 1)  (Hérault & Robert 2015; Daly 2006 for D = 0).
//  - The goodput-versus-interval curve peaks at Daly's (2006) optimum.
// Each seed is its own frugalsim process.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "policies/resilience/checkpoint_math.hpp"
#include "tests/integration/campaign_support.hpp"

using namespace frugal::campaign_test;
using frugal::test_support::fresh_dir;

namespace {

// One job node (MTBF M) and spares; after a failure the job waits D (detection), restarts for
// R_restart, then reloads the checkpoint (R_reload, simulated: 60 GB over the 1 GB/s storage).
constexpr double kM = 3600, kD = 60, kRestart = 120;

Json campaign(const std::string& checkpoint_policy_json, const Json& goal, double iteration_s) {
  Json c = Json::parse(R"({
    "availability": {"n": {"impl": "exponential", "mtbf": "1 h", "repair": "1 s"}},
    "checkpoint": {"size": "60 GB"},
    "spares": {"n": 3}
  })");
  c["goal"] = goal;
  c["iteration_time_s"] = iteration_s;
  c["resilience"] = {{"checkpoint", Json::parse(checkpoint_policy_json)},
                     {"recovery", {{"impl", "restart"}, {"detection_s", kD}, {"restart_s", kRestart}}}};
  return c;
}

}  // namespace

TEST(CampaignClosedForm, MeanCompletionTimeOfWorkPlusCheckpointMatchesWithin95PercentCI) {
  const auto dir = fresh_dir("campaign_closed_form");
  // W = 1800 s of work (90 iterations of 20 s) then a checkpoint, 50 times per run, 20 seeds.
  const double iteration_s = 20, work_s = 1800;
  std::vector<Json> studies;
  for (int seed = 1; seed <= 20; ++seed)
    studies.push_back(study(small_cluster(1), campaign(R"({"impl": "fixed", "every_iterations": 90})",
                                                       Json{{"iterations", 90 * 50}}, iteration_s),
                            seed));
  const auto runs = run_many(dir, studies, 2);
  // Segment k ≥ 2 runs from the end of checkpoint k−1 to the end of checkpoint k; every failure
  // in it costs D, then R = restart + reload of checkpoint k−1, then the segment again. By
  // memorylessness the segments are independent and identically distributed.
  std::vector<double> samples;
  double c_s = 0, reload_s = 0;
  for (const StudyRun& r : runs) {
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const Json& costs = r.summary.at("campaign").at("measured_costs").at("1");
    c_s = costs.at("checkpoint_s");
    if (costs.at("reload_s").is_number()) reload_s = costs.at("reload_s");
    std::vector<double> ends;
    for (const Json& e : events_of(r.events, "checkpoint_end")) ends.push_back(e.at("time_s"));
    ASSERT_EQ(ends.size(), 50u);
    for (std::size_t k = 1; k < ends.size(); ++k) samples.push_back(ends[k] - ends[k - 1]);
  }
  ASSERT_NEAR(c_s, 60.0, 1e-3);
  ASSERT_NEAR(reload_s, 60.0, 1e-3);
  const double n = static_cast<double>(samples.size());
  const double mean = std::accumulate(samples.begin(), samples.end(), 0.0) / n;
  double var = 0;
  for (double x : samples) var += (x - mean) * (x - mean);
  const double se = std::sqrt(var / (n - 1) / n);
  const double expected = frugal::policies::expected_completion_s(work_s, c_s, kRestart + reload_s, kD, kM);
  RecordProperty("simulated_mean_s", std::to_string(mean));
  RecordProperty("closed_form_s", std::to_string(expected));
  std::printf("segments %zu: simulated mean %.1f s ± %.1f (s.e.), closed form %.1f s, z = %.2f\n", samples.size(), mean,
              se, expected, (mean - expected) / se);
  EXPECT_NEAR(mean, expected, 1.96 * se);
  EXPECT_GT(mean, work_s + c_s + 300) << "failures must cost something";
}

TEST(CampaignClosedForm, GoodputVersusIntervalPeaksWithin10PercentOfDaly) {
  const auto dir = fresh_dir("campaign_daly_peak");
  // 20 days with M = 1 h (~460 failures per run), C = 60 s, iterations of 30 s; intervals
  // (multiples of the iteration) from 0.5× to 1.6× Daly's τ, three seeds each (the same seeds for every interval: common random
  // numbers, so the curve's shape is not drowned in the noise of the failure times).
  const double c_s = 60.0;
  const double daly = frugal::policies::daly_interval_s(c_s, kM);
  const std::vector<double> intervals = {300, 390, 510, 600, 720, 810, 990};
  const std::vector<int> seeds = {1, 2, 3};
  std::vector<Json> studies;
  for (double tau : intervals)
    for (int seed : seeds)
      studies.push_back(study(small_cluster(1),
                              campaign(R"({"impl": "fixed", "interval_s": )" + std::to_string(tau) + "}",
                                       Json{{"wall_time", "20 days"}}, 30.0),
                              seed));
  const auto runs = run_many(dir, studies, 2);
  std::vector<double> goodput;
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    double sum = 0;
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      const StudyRun& r = runs[i * seeds.size() + k];
      EXPECT_EQ(r.exit_code, 0) << r.output;
      if (r.exit_code != 0) return;
      EXPECT_NEAR(r.summary.at("campaign").at("checkpoint_write_s").get<double>(), c_s, 1e-3);
      sum += r.summary.at("goodput_tokens_per_s").get<double>();
    }
    goodput.push_back(sum / seeds.size());
    std::printf("interval %5.0f s: goodput %.4f tokens/s\n", intervals[i], goodput.back());
  }
  // The peak of the curve: fit 1/goodput = a/τ + b·τ + c (the first-order waste C/τ + τ/2M plus a
  // constant) by least squares; its minimum is at τ = √(a/b).
  double m[3][4] = {};
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    const double f[3] = {1 / intervals[i], intervals[i], 1.0};
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) m[r][c] += f[r] * f[c];
      m[r][3] += f[r] / goodput[i];
    }
  }
  for (int p = 0; p < 3; ++p)  // Gauss-Jordan on the 3×3 normal equations
    for (int r = 0; r < 3; ++r) {
      if (r == p) continue;
      const double k = m[r][p] / m[p][p];
      for (int c = 0; c < 4; ++c) m[r][c] -= k * m[p][c];
    }
  const double a = m[0][3] / m[0][0], b = m[1][3] / m[1][1];
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  const double peak = std::sqrt(a / b);
  const auto best = std::max_element(goodput.begin(), goodput.end()) - goodput.begin();
  std::printf("fitted peak %.1f s, best sampled %.0f s, Daly %.1f s, Young %.1f s\n", peak, intervals[best], daly,
              frugal::policies::young_interval_s(c_s, kM));
  EXPECT_NEAR(peak, daly, 0.10 * daly);
  EXPECT_NEAR(intervals[best], daly, 0.2 * daly) << "the best sampled interval is the grid point next to Daly's";
}
