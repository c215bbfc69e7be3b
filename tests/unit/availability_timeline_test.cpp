// The campaign's availability timeline (no SimGrid): effective state changes in date order,
// hints, causes, and replacement machines that drop the old machine's future and add their own
// draws; platforms::replacement_events draws them from streams of their own.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "platforms/availability/availability_model.hpp"
#include "sim/core/error.hpp"
#include "sim/engine/control/availability_timeline.hpp"

namespace frugal::engine {
namespace {

using platforms::AvailabilityEvent;
using Kind = platforms::AvailabilityKind;
using Change = AvailabilityTimeline::StateChange;

const core::NodeId n0(0), n1(1);

/// Node 0: failure 10 → 30 (source 0) overlapping a preemption 20 → 40 (source 1, notice at 18);
/// node 1: half speed at 25.
std::vector<AvailabilityEvent> sample() {
  return {{10, n0, Kind::kFail, 0, 0, "disk", 0},          {18, n0, Kind::kPreemptNotice, 1, 2, "spot", 1},
          {20, n0, Kind::kPreempt, 0, 0, "spot", 1},        {25, n1, Kind::kSpeedChange, 0.5, 0, "hot", 2},
          {30, n0, Kind::kRepair, 1, 0, "disk", 0},         {40, n0, Kind::kReturn, 1, 0, "spot", 1},
          {50, n0, Kind::kFail, 0, 0, "disk", 0},           {60, n0, Kind::kRepair, 1, 0, "disk", 0}};
}

TEST(AvailabilityTimeline, AppliesEffectiveChangesInDateOrder) {
  AvailabilityTimeline t(sample(), 2, nullptr);
  EXPECT_EQ(t.next_state_time(), 10);
  EXPECT_TRUE(t.apply_until(9.5).empty());
  EXPECT_EQ(t.apply_until(15), (std::vector<Change>{{0, false}}));
  EXPECT_FALSE(t.up(0));
  EXPECT_TRUE(t.apply_until(35).empty()) << "still held down by the preemption";
  EXPECT_EQ(t.apply_until(40), (std::vector<Change>{{0, true}}));
  EXPECT_EQ(t.apply_until(1e9), (std::vector<Change>{{0, false}, {0, true}}));
  EXPECT_TRUE(std::isinf(t.next_state_time()));
}

TEST(AvailabilityTimeline, HintsAndCauses) {
  AvailabilityTimeline t(sample(), 2, nullptr);
  EXPECT_EQ(t.next_hint_time(), 18);
  const auto first = t.take_hints_until(26);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].kind, Kind::kPreemptNotice);
  EXPECT_EQ(first[1].kind, Kind::kSpeedChange);
  EXPECT_EQ(t.next_return_after(26), 30);
  EXPECT_EQ(t.next_return_after(30), 40);
  t.drop_hints_before(45);
  EXPECT_EQ(t.next_hint_time(), 60);
  ASSERT_NE(t.latest_down(0, 25), nullptr);
  EXPECT_EQ(t.latest_down(0, 25)->cause, "spot");
  EXPECT_EQ(t.latest_down(1, 1e9), nullptr);
  ASSERT_NE(t.transition_at(0, 30, false, 1e-6), nullptr);
  EXPECT_EQ(t.transition_at(0, 30, false, 1e-6)->cause, "disk");
  EXPECT_EQ(t.transition_at(0, 30, true, 1e-6), nullptr);
}

TEST(AvailabilityTimeline, ReplacementDropsTheOldMachinesFutureAndPlaysItsOwn) {
  std::vector<int> calls;
  AvailabilityTimeline t(sample(), 2, [&](int node, double from_s, int k) {
    calls.push_back(k);
    ReplacementDraw d;
    d.redrawn_sources = {0};  // the disk failures are the machine's; the spot slot is not
    d.events = {{from_s + 5, core::NodeId(node), Kind::kFail, 0, 0, "disk", 0},
                {from_s + 7, core::NodeId(node), Kind::kRepair, 1, 0, "disk", 0}};
    return d;
  });
  t.apply_until(22);  // down: failed and preempted
  EXPECT_EQ(t.replace(0, 22), 1);
  EXPECT_TRUE(t.up(0)) << "a new machine is up whatever held the slot down";
  // The old machine's repair (30) and failure (50, 60) are gone; the slot's return (40) changes
  // nothing; the new machine fails at 27 and is repaired at 29.
  EXPECT_EQ(t.next_state_time(), 27);
  EXPECT_EQ(t.apply_until(28), (std::vector<Change>{{0, false}}));
  ASSERT_NE(t.latest_down(0, 28), nullptr);
  EXPECT_EQ(t.latest_down(0, 28)->cause, "disk (replacement machine 1 in this slot)");
  EXPECT_EQ(t.apply_until(1e9), (std::vector<Change>{{0, true}}));
  EXPECT_EQ(t.next_return_after(26), 29) << "the old repair at 30 is no hint any more";
  EXPECT_EQ(t.replace(0, 100), 2);
  EXPECT_EQ(calls, (std::vector<int>{1, 2}));
  EXPECT_EQ(t.replacement_events(), 4);
}

TEST(AvailabilityTimeline, AReplacementDrawForAnotherNodeIsAnInternalError) {
  AvailabilityTimeline t(sample(), 2, [](int, double from_s, int) {
    ReplacementDraw d;
    d.redrawn_sources = {0};
    d.events = {{from_s + 1, n1, Kind::kFail, 0, 0, "", 0}};
    return d;
  });
  EXPECT_THROW(t.replace(0, 22), core::InternalError);
}

platforms::AvailabilitySpec spec(const std::string& json) {
  return platforms::read_availability(core::Json::parse(json), "c.json", "/a");
}

TEST(ReplacementEvents, PerMachineModelsOnlyFromTheirOwnStreams) {
  const auto s = spec(R"([{"impl": "exponential", "mtbf": "1 h", "repair": "10 min"},
                          {"impl": "speed"},
                          {"impl": "correlated", "scope": "rack", "rack_size": 4, "mtbf": "5 h"},
                          {"impl": "correlated", "scope": "node", "mtbf": "5 h", "label": "psu"}])");
  const auto node = platforms::availability_node(core::NodeId(3));
  std::vector<int> sources;
  const auto a = platforms::replacement_events(s, node, 1000, 1e6, 7, 1, sources);
  EXPECT_EQ(sources, (std::vector<int>{0, 3}));
  ASSERT_FALSE(a.empty());
  std::set<int> seen;
  for (const AvailabilityEvent& e : a) {
    EXPECT_EQ(e.node, node.id);
    EXPECT_GE(e.time_s, 1000);
    EXPECT_LT(e.time_s, 1e6);
    seen.insert(e.source);
  }
  EXPECT_EQ(seen, (std::set<int>{0, 3}));
  // Deterministic; another replacement, seed or the slot's own events are other draws.
  EXPECT_EQ(platforms::replacement_events(s, node, 1000, 1e6, 7, 1, sources), a);
  EXPECT_NE(platforms::replacement_events(s, node, 1000, 1e6, 7, 2, sources), a);
  EXPECT_NE(platforms::replacement_events(s, node, 1000, 1e6, 8, 1, sources), a);
  EXPECT_NE(platforms::generate_events(s, {node}, 1e6, 7).front().time_s, a.front().time_s);
  // From a date at or past the horizon: nothing, but the sources are still the redrawn ones.
  EXPECT_TRUE(platforms::replacement_events(s, node, 1e6, 1e6, 7, 1, sources).empty());
  EXPECT_EQ(sources, (std::vector<int>{0, 3}));
}

TEST(ReplacementEvents, ANewWeibullMachineStartsAtAgeZero) {
  // Weibull with shape 0.5 has a decreasing hazard: a new machine's first failure comes after
  // scale·Γ(3) = 2·scale on average, whatever the age the old machine had reached.
  const auto s = spec(R"({"impl": "weibull", "shape": 0.5, "scale": "1000 s", "repair": "1000 h"})");
  const auto node = platforms::availability_node(core::NodeId(0));
  std::vector<int> sources;
  double sum = 0;
  const int n = 4000;
  for (int k = 1; k <= n; ++k) sum += platforms::replacement_events(s, node, 500, 1e6, 1, k, sources).front().time_s - 500;
  // Weibull(0.5) has a standard deviation of √(Γ(5) − Γ(3)²)·scale = √20·1000 s: σ/√n ≈ 71 s.
  EXPECT_NEAR(sum / n, 2000, 4 * 71);
}

}  // namespace
}  // namespace frugal::engine
