// timeline.json against the trace format's rules (tests/support/trace_rules.hpp): the
// quickstart, a pipeline whose sends complete in the background, and the campaign example,
// whose iteration sits where training starts in campaign time.
#include <gtest/gtest.h>

#include "sim/core/build_info.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/trace_rules.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::read_json;
using test_support::run_frugalsim;
using test_support::trace_problems;
using test_support::TraceCounts;
using Json = nlohmann::json;

namespace {

Json run_and_read_timeline(const std::string& study, const std::filesystem::path& out, const std::string& extra = "") {
  const auto r = run_frugalsim("run " + study + " -o " + out.string() + " " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(out / "timeline.json");
}

std::string problems_text(const std::vector<std::string>& problems) {
  std::string s;
  for (std::size_t i = 0; i < problems.size() && i < 10; ++i) s += problems[i] + "\n";
  return s;
}

}  // namespace

TEST(TimelineFormat, QuickstartFollowsTheRulesWithMemoryCounters) {
  const auto dir = fresh_dir("timeline_quickstart");
  const Json trace = run_and_read_timeline(core::data_dir().string() + "/results/quickstart/study.json", dir / "out");
  TraceCounts n;
  const auto problems = trace_problems(trace, &n);
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
  EXPECT_GT(n.slices, 1000);
  for (int rank = 0; rank < 8; ++rank) EXPECT_TRUE(n.counters.count({rank, "device memory"})) << rank;
  for (const Json& e : trace.at("traceEvents"))
    if (e.at("ph") == "X") EXPECT_NE(e.at("cat"), "alloc") << "allocations are counters, not slices";
}

TEST(TimelineFormat, PipelineSendsGoToBackgroundLanes) {
  const auto dir = fresh_dir("timeline_pipeline");
  test_support::write_file(dir / "pp.json", R"({"name": "pipeline-timeline", "model": "gpt3-125m", "cluster": "quickstart",
    "training": {"global_batch_size": 16, "micro_batch_size": 2, "seq_length": 1024, "iterations": 1},
    "parallelism": {"impl": "megatron", "pipeline_model_parallel_size": 4, "schedule": "1f1b"}, "seed": 1})");
  const Json trace = run_and_read_timeline((dir / "pp.json").string(), dir / "out");
  const auto problems = trace_problems(trace);
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
  int sends = 0;
  for (const Json& e : trace.at("traceEvents"))
    if (e.at("ph") == "X" && e.at("cat") == "send") {
      ++sends;
      EXPECT_GE(e.at("tid").get<int>(), 1000);
    }
  EXPECT_GT(sends, 0);
}

TEST(TimelineFormat, CampaignIterationAndEventsAreAtCampaignTime) {
  const auto dir = fresh_dir("timeline_campaign");
  const Json trace = run_and_read_timeline(core::data_dir().string() + "/results/campaign/study.json", dir / "out");
  TraceCounts n;
  const auto problems = trace_problems(trace, &n);
  EXPECT_TRUE(problems.empty()) << problems_text(problems);
  EXPECT_GT(n.instants, 0);
  double first_training_us = -1, last_event_us = 0, first_op_us = -1;
  for (const Json& e : trace.at("traceEvents")) {
    if (e.at("ph") == "M" || e.at("ph") == "C") continue;
    const double ts = e.at("ts");
    if (e.at("pid") == 1000000) {
      if (first_training_us < 0 && e.at("name") == "training") first_training_us = ts;
      last_event_us = std::max(last_event_us, ts);
    } else if (first_op_us < 0 || ts < first_op_us) {
      first_op_us = ts;
    }
  }
  EXPECT_EQ(first_op_us, first_training_us);
  EXPECT_EQ(trace.at("otherData").at("iteration_start_s").get<double>() * 1e6, first_training_us);
  EXPECT_GT(last_event_us, 86400e6) << "a two-day campaign's events run past the first day";
}
