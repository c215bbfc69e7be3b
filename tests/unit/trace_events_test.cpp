// TraceBuilder: times on the exact grid (no slice ends after the next starts, even when the
// simulated end and the next start differ by a rounding step), overlapping and background slices
// on lanes of their own, counters in time order with one sample per tick.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/program/trace_events.hpp"
#include "tests/support/trace_rules.hpp"

using frugal::core::Json;
using frugal::program::kTraceTickUs;
using frugal::program::trace_document;
using frugal::program::TraceBuilder;
using frugal::test_support::trace_problems;

namespace {

std::vector<Json> of_phase(const Json& events, const std::string& ph) {
  std::vector<Json> out;
  for (const Json& e : events)
    if (e.at("ph") == ph) out.push_back(e);
  return out;
}

}  // namespace

TEST(TraceEvents, BackToBackSlicesNeverOverlapOnTheGrid) {
  TraceBuilder t;
  t.process(0, "rank 0", 0);
  t.track(0, 0, "compute");
  // Ends that differ from the next start by a floating-point step either way, at times where
  // 0.1 + 0.2 > 0.3 in double arithmetic.
  double start_s = 0;
  for (int k = 0; k < 2000; ++k) {
    const double end_s = start_s + 1e-7 * (k % 7 + 1) + 3.3e-9;
    t.slice(0, 0, "op", "compute", start_s, end_s, Json::object());
    start_s = end_s + (k % 3 - 1) * std::ldexp(end_s, -52);  // next start a rounding step off (never earlier than 0)
    if (start_s < end_s) start_s = end_s;
  }
  const Json doc = trace_document(t.events(), {{"study", "grid"}});
  EXPECT_TRUE(trace_problems(doc).empty());
  for (const Json& e : of_phase(doc.at("traceEvents"), "X")) {
    const double ts = e.at("ts"), dur = e.at("dur");
    EXPECT_EQ(ts / kTraceTickUs, std::floor(ts / kTraceTickUs));
    EXPECT_EQ(dur / kTraceTickUs, std::floor(dur / kTraceTickUs));
    EXPECT_EQ(e.at("tid"), 0);  // no slice needed a lane of its own
  }
  EXPECT_EQ(doc.at("otherData").at("time_tick_us"), kTraceTickUs);
  EXPECT_EQ(doc.at("displayTimeUnit"), "ms");
}

TEST(TraceEvents, OverlappingAndBackgroundSlicesGetNamedLanes) {
  TraceBuilder t;
  t.process(3, "rank 3", 3);
  t.track(3, 1, "comm");
  t.slice(3, 1, "send a", "send", 0.0, 10e-6, Json::object(), true);
  t.slice(3, 1, "send b", "send", 1e-6, 5e-6, Json::object(), true);
  t.slice(3, 1, "all-reduce", "collective", 2e-6, 4e-6, Json::object());
  t.slice(3, 1, "overlaps it", "collective", 3e-6, 6e-6, Json::object());
  const Json doc = trace_document(t.events(), Json::object());
  EXPECT_TRUE(trace_problems(doc).empty());
  std::map<std::string, int> tid;
  for (const Json& e : of_phase(doc.at("traceEvents"), "X")) tid[e.at("name")] = e.at("tid");
  EXPECT_EQ(tid["all-reduce"], 1);
  EXPECT_EQ(tid["overlaps it"], 101);
  EXPECT_EQ(tid["send a"], 1001);
  EXPECT_EQ(tid["send b"], 1101);
  std::map<int, std::string> names;
  for (const Json& e : of_phase(doc.at("traceEvents"), "M"))
    if (e.at("name") == "thread_name") names[e.at("tid")] = e.at("args").at("name");
  EXPECT_EQ(names[101], "comm (2)");
  EXPECT_EQ(names[1001], "comm: background");
  EXPECT_EQ(names[1101], "comm: background 2");
}

TEST(TraceEvents, CountersAreInTimeOrderWithTheLastSampleOfEachTick) {
  TraceBuilder t;
  t.process(0, "rank 0", 0);
  t.counter(0, "device memory", "bytes", 2e-6, 300);
  t.counter(0, "device memory", "bytes", 0.0, 100);
  t.counter(0, "device memory", "bytes", 2e-6 + 1e-12, 250);  // same tick: the later one is kept
  t.counter(0, "host memory", "bytes", 1e-6, 7);
  const Json doc = trace_document(t.events(), Json::object());
  frugal::test_support::TraceCounts counts;
  EXPECT_TRUE(trace_problems(doc, &counts).empty());
  const auto samples = of_phase(doc.at("traceEvents"), "C");
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].at("args").at("bytes"), 100);
  EXPECT_EQ(samples[1].at("args").at("bytes"), 250);
  EXPECT_EQ(samples[1].at("ts"), 2.0);
  EXPECT_EQ(samples[2].at("name"), "host memory");
  EXPECT_EQ(counts.counters.size(), 2u);
}

TEST(TraceEvents, TheCheckerFindsBrokenRules) {
  Json doc = {{"traceEvents",
               {{{"name", "thread_name"}, {"ph", "M"}, {"pid", 0}, {"tid", 0}, {"args", {{"name", "compute"}}}},
                {{"name", "a"}, {"ph", "X"}, {"pid", 0}, {"tid", 0}, {"ts", 0.1}, {"dur", 0.2}},
                {{"name", "b"}, {"ph", "X"}, {"pid", 0}, {"tid", 0}, {"ts", 0.3}, {"dur", 1.0}},
                {{"name", "m"}, {"ph", "C"}, {"pid", 0}, {"ts", 5.0}, {"args", {{"bytes", 1}}}},
                {{"name", "m"}, {"ph", "C"}, {"pid", 0}, {"ts", 4.0}, {"args", {{"bytes", 2}}}},
                {{"name", "thread_nam"}, {"ph", "M"}, {"pid", 0}, {"args", {{"name", "x"}}}},
                {{"name", "c"}, {"ph", "X"}, {"pid", 0}, {"ts", 9.0}}}}};
  const auto problems = trace_problems(doc);
  // 0.1 + 0.2 > 0.3 in doubles; counter back in time; unknown metadata; X without tid and dur;
  // pid 0 without process_name.
  EXPECT_EQ(problems.size(), 6u);
  auto found = [&](const std::string& what) {
    return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p.find(what) != std::string::npos; });
  };
  EXPECT_TRUE(found("ends after the next one starts"));
  EXPECT_TRUE(found("not after its previous sample"));
  EXPECT_TRUE(found("unknown metadata name thread_nam"));
}
