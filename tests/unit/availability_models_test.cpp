// Availability models (no SimGrid): determinism by seed, the event contract, the statistics of
// the stochastic models (exponential and Weibull means, spot rates, correlated groups), merged
// state and parameter errors that name the file and JSON pointer.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "platforms/availability/availability_model.hpp"

namespace frugal::platforms {
namespace {

using core::ConfigError;
using core::Json;
using Kind = AvailabilityKind;

const std::string kPointer = "/node_types/a/availability";

std::vector<AvailabilityNode> nodes(int n, int first = 0) {
  std::vector<AvailabilityNode> out;
  for (int i = first; i < first + n; ++i) out.push_back({core::NodeId(i), "node" + std::to_string(i)});
  return out;
}

AvailabilitySpec spec(const std::string& json) { return read_availability(Json::parse(json), "c.json", kPointer); }

std::vector<AvailabilityEvent> events(const std::string& json, int n, double horizon_s, std::uint64_t seed = 1) {
  return generate_events(spec(json), nodes(n), horizon_s, seed);
}

ConfigError error_of(const std::string& json) {
  try {
    spec(json);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for " << json;
  return ConfigError("", "", "");
}

/// The contract of generate(): sorted, inside the horizon, per node down/up alternate.
void expect_contract(const std::vector<AvailabilityEvent>& ev, double horizon_s) {
  std::map<std::int64_t, bool> down;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    ASSERT_GE(ev[i].time_s, 0);
    ASSERT_LT(ev[i].time_s, horizon_s);
    if (i) {
      ASSERT_LE(ev[i - 1].time_s, ev[i].time_s);
    }
    bool& d = down[ev[i].node.value];
    if (is_down(ev[i].kind)) {
      ASSERT_FALSE(d) << "down twice at " << ev[i].time_s;
    }
    if (is_up(ev[i].kind)) {
      ASSERT_TRUE(d) << "up while up at " << ev[i].time_s;
    }
    if (is_down(ev[i].kind) || is_up(ev[i].kind)) d = is_down(ev[i].kind);
  }
}

const std::vector<std::string> kStochastic = {
    R"({"impl": "exponential", "mtbf": "2 h", "repair": "10 min", "repair_distribution": "exponential"})",
    R"({"impl": "weibull", "shape": 0.7, "mtbf": "2 h"})",
    R"({"impl": "correlated", "scope": "rack", "rack_size": 4, "mtbf": "3 h"})",
    R"({"impl": "spot", "rate_per_node_hour": 0.6, "notice": "30 s"})",
    R"({"impl": "spot", "burst_max": 3, "reallocation_delay": "2 min", "reallocation_delay_distribution": "exponential"})",
    R"({"impl": "speed", "mean_time_between": "1 h", "ratio_min": 0.3, "ratio_max": 0.9})",
};

TEST(AvailabilityModels, RegistryListsEveryModel) {
  EXPECT_EQ(availability_models().names(),
            (std::vector<std::string>{"correlated", "exponential", "none", "speed", "spot", "trace", "weibull"}));
  EXPECT_TRUE(events(R"({"impl": "none"})", 8, 1e9).empty());
}

TEST(AvailabilityModels, SameSeedSameEventsOtherSeedOtherEvents) {
  for (const std::string& model : kStochastic) {
    SCOPED_TRACE(model);
    const auto a = events(model, 12, 2e5, 42);
    ASSERT_FALSE(a.empty());
    expect_contract(a, 2e5);
    EXPECT_EQ(a, events(model, 12, 2e5, 42));
    EXPECT_NE(a, events(model, 12, 2e5, 43));
  }
}

TEST(AvailabilityModels, NodeStreamsDoNotDependOnOtherNodes) {
  const std::string model = R"({"impl": "exponential", "mtbf": "1 h"})";
  const auto alone = generate_events(spec(model), nodes(1, 5), 1e6, 7);
  std::vector<AvailabilityEvent> among;
  for (const auto& e : generate_events(spec(model), nodes(10), 1e6, 7))
    if (e.node == core::NodeId(5)) among.push_back(e);
  EXPECT_EQ(alone, among);
}

/// Times to failure: from 0 or from each repair to the next failure, per node.
std::vector<double> times_to_failure(const std::vector<AvailabilityEvent>& ev) {
  std::map<std::int64_t, double> up_since;
  std::vector<double> out;
  for (const auto& e : ev) {
    if (e.kind == Kind::kFail) out.push_back(e.time_s - up_since[e.node.value]);
    if (e.kind == Kind::kRepair) up_since[e.node.value] = e.time_s;
  }
  return out;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

TEST(AvailabilityModels, ExponentialMeanTimeToFailureIsMtbf) {
  const auto ttf = times_to_failure(events(R"({"impl": "exponential", "mtbf_s": 1000, "repair": "0 s"})", 100, 1e6));
  ASSERT_GT(ttf.size(), 50000u);
  EXPECT_NEAR(mean(ttf) / 1000.0, 1.0, 0.03);
  EXPECT_DOUBLE_EQ(interruption_rate_per_s(spec(R"({"impl": "exponential", "mtbf_s": 1000})"), 100), 0.1);
}

TEST(AvailabilityModels, WeibullMeanIsScaleTimesGamma) {
  const double k = 0.7, scale = 1000;
  const auto ttf = times_to_failure(events(R"({"impl": "weibull", "shape": 0.7, "scale_s": 1000, "repair": "0 s"})", 100, 2e6));
  ASSERT_GT(ttf.size(), 50000u);
  EXPECT_NEAR(mean(ttf) / (scale * std::tgamma(1 + 1 / k)), 1.0, 0.03);
  // Given the MTBF instead, the scale is derived so that the mean is the MTBF.
  const auto by_mtbf = times_to_failure(events(R"({"impl": "weibull", "shape": 1.5, "mtbf_s": 500, "repair": "0 s"})", 100, 1e6));
  EXPECT_NEAR(mean(by_mtbf) / 500.0, 1.0, 0.03);
}

TEST(AvailabilityModels, CorrelatedGroupsFailTogether) {
  const auto ev = events(R"({"impl": "correlated", "scope": "rack", "rack_size": 4, "mtbf": "1 h", "repair": "5 min"})", 10, 1e5);
  expect_contract(ev, 1e5);
  std::map<double, std::set<std::int64_t>> fails;  // time → nodes failing then
  for (const auto& e : ev)
    if (e.kind == Kind::kFail) fails[e.time_s].insert(e.node.value);
  ASSERT_GT(fails.size(), 30u);
  const std::vector<std::set<std::int64_t>> racks = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}};
  for (const auto& [t, group] : fails) EXPECT_NE(std::find(racks.begin(), racks.end(), group), racks.end()) << t;
  EXPECT_DOUBLE_EQ(interruption_rate_per_s(spec(R"({"impl": "correlated", "rack_size": 4, "mtbf_s": 10})"), 10), 0.3);
}

TEST(AvailabilityModels, SpotNoticeThenPreemptThenReturnAtTheRate) {
  const auto ev = events(R"({"impl": "spot", "rate_per_node_hour": 0.55, "notice": "120 s", "reallocation_delay": "45 s"})", 50, 3.6e6);
  expect_contract(ev, 3.6e6);
  std::map<std::int64_t, std::vector<const AvailabilityEvent*>> per_node;
  for (const auto& e : ev) per_node[e.node.value].push_back(&e);
  std::vector<double> to_notice;
  for (const auto& [node, list] : per_node) {
    double allocated_since = 0;
    for (std::size_t i = 0; i + 2 < list.size(); i += 3) {
      ASSERT_EQ(list[i]->kind, Kind::kPreemptNotice);
      EXPECT_EQ(list[i]->notice_s, 120);
      ASSERT_EQ(list[i + 1]->kind, Kind::kPreempt);
      ASSERT_EQ(list[i + 2]->kind, Kind::kReturn);
      EXPECT_DOUBLE_EQ(list[i + 1]->time_s, list[i]->time_s + 120);
      EXPECT_DOUBLE_EQ(list[i + 2]->time_s, list[i + 1]->time_s + 45);
      to_notice.push_back(list[i]->time_s - allocated_since);
      allocated_since = list[i + 2]->time_s;
    }
  }
  ASSERT_GT(to_notice.size(), 20000u);
  EXPECT_NEAR(mean(to_notice) / (3600 / 0.55), 1.0, 0.03);
}

TEST(AvailabilityModels, SpotBurstsPreemptSeveralNodesAtOnce) {
  const auto ev = events(R"({"impl": "spot", "rate_per_node_hour": 0.5, "burst_max": 4})", 32, 1e6);
  expect_contract(ev, 1e6);
  std::map<double, int> burst;  // notice time → nodes
  for (const auto& e : ev)
    if (e.kind == Kind::kPreemptNotice) ++burst[e.time_s];
  double sizes = 0;
  int largest = 0;
  for (const auto& [t, n] : burst) {
    sizes += n;
    largest = std::max(largest, n);
  }
  EXPECT_EQ(largest, 4);
  EXPECT_NEAR(sizes / static_cast<double>(burst.size()), 2.5, 0.1);  // uniform on 1..4
}

TEST(AvailabilityModels, SpeedEpisodesStayInRangeAndRecover) {
  const auto ev = events(R"({"impl": "speed", "mean_time_between": "1 h", "ratio_min": 0.3, "ratio_max": 0.9})", 4, 1e6);
  std::map<std::int64_t, double> last;
  for (const auto& e : ev) {
    ASSERT_EQ(e.kind, Kind::kSpeedChange);
    if (e.value != 1.0) {
      EXPECT_GE(e.value, 0.3);
      EXPECT_LE(e.value, 0.9);
      EXPECT_EQ(last.count(e.node.value) ? last[e.node.value] : 1.0, 1.0) << "slowdown must follow a recovery";
    }
    last[e.node.value] = e.value;
  }
  EXPECT_EQ(interruption_rate_per_s(spec(R"({"impl": "speed"})"), 4), 0);
}

TEST(AvailabilityModels, MergedModelsAndEffectiveState) {
  const AvailabilitySpec s = spec(R"([{"impl": "exponential", "mtbf": "5 h"}, {"impl": "speed"}])");
  ASSERT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.resolved[0]["impl"], "exponential");
  EXPECT_EQ(s.resolved[0].value("mtbf_s", s.resolved[0].value("mtbf", 0.0)), 18000.0);  // SI, whichever key core writes
  EXPECT_EQ(s.resolved[0].value("repair_s", s.resolved[0].value("repair", 0.0)), 3600.0);
  std::set<int> sources;
  for (const auto& e : generate_events(s, nodes(4), 1e6, 3)) sources.insert(e.source);
  EXPECT_EQ(sources, (std::set<int>{0, 1}));

  // Two models hold node 0 down in overlapping spans; speeds multiply.
  const core::NodeId n0(0);
  const std::vector<AvailabilityEvent> ev = {
      {10, n0, Kind::kFail, 0, 0, "", 0},        {20, n0, Kind::kPreempt, 0, 0, "", 1},
      {30, n0, Kind::kRepair, 1, 0, "", 0},      {40, n0, Kind::kReturn, 1, 0, "", 1},
      {50, n0, Kind::kSpeedChange, 0.5, 0, "", 2}, {60, n0, Kind::kSpeedChange, 0.5, 0, "", 3},
      {70, n0, Kind::kSpeedChange, 1, 0, "", 2}};
  EXPECT_EQ(speed_profile(ev, n0), "50 0.5\n60 0.25\n70 0.5\n");
  AvailabilityState state;
  std::vector<double> changes;  // dates where node 0's effective up/down state changes
  for (const AvailabilityEvent& e : ev) {
    const bool was_up = state.up(n0);
    state.apply(e);
    if (state.up(n0) != was_up) changes.push_back(e.time_s);
    if (e.time_s == 20) {
      EXPECT_FALSE(state.up(n0));
      EXPECT_TRUE(state.up(core::NodeId(1)));
    }
  }
  EXPECT_EQ(changes, (std::vector<double>{10, 40}));
  // A new machine in the slot: no hold left; a released hold's up event changes nothing.
  AvailabilityState fresh;
  fresh.apply(ev[0]);
  fresh.apply(ev[1]);
  fresh.release(n0);
  EXPECT_TRUE(fresh.up(n0));
  EXPECT_FALSE(fresh.apply(ev[2]));
  EXPECT_TRUE(fresh.up(n0));
}

TEST(AvailabilityModels, ParameterErrorsNameFileAndPointer) {
  ConfigError e = error_of(R"({"impl": "exponential", "mtbf": "-5 h"})");
  EXPECT_EQ(e.file(), "c.json");
  EXPECT_EQ(e.pointer(), kPointer + "/mtbf");
  EXPECT_EQ(error_of(R"({"impl": "exponential", "mtbf_s": -5})").pointer(), kPointer + "/mtbf_s");
  EXPECT_EQ(error_of(R"({"impl": "exponential"})").pointer(), kPointer + "/mtbf");
  EXPECT_EQ(error_of(R"({"impl": "exponential", "mtbf": "1 h", "mtfb": 3})").pointer(), kPointer + "/mtfb");
  EXPECT_EQ(error_of(R"({"impl": "weibull", "scale": "1 h", "mtbf_s": 100})").pointer(), kPointer + "/mtbf_s");
  EXPECT_EQ(error_of(R"({"impl": "weibull"})").pointer(), kPointer + "/scale");
  EXPECT_EQ(error_of(R"({"impl": "speed", "ratio_min": 0.8, "ratio_max": 0.5})").pointer(), kPointer + "/ratio_max");
  EXPECT_EQ(error_of(R"({"impl": "exponentiel"})").pointer(), kPointer + "/impl");
  EXPECT_EQ(error_of(R"({"impl": 3})").pointer(), kPointer + "/impl");
  EXPECT_EQ(error_of("5").pointer(), kPointer);
  e = error_of(R"([{"impl": "spot"}, {"impl": "spot"}])");
  EXPECT_EQ(e.pointer(), kPointer + "/1");
  EXPECT_NE(e.message().find("label"), std::string::npos);
  const AvailabilitySpec two = spec(R"([{"impl": "spot"}, {"impl": "spot", "label": "b"}])");
  EXPECT_EQ(two.models[1]->stream(), "spot/b");
}

TEST(AvailabilityModels, AbsurdRatesAreRefusedBeforeDrawing) {
  try {
    events(R"({"impl": "exponential", "mtbf": "1 s"})", 10000, 1e6);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), kPointer);
    EXPECT_NE(e.message().find("far too high"), std::string::npos) << e.what();
  }
  EXPECT_THROW(events(R"({"impl": "speed", "mean_time_between": "1 ms"})", 1000, 1e6), ConfigError);
}

TEST(AvailabilityModels, NodesOfANodeTypeAreNamedLikeSimGridHosts) {
  Cluster cluster;
  cluster.node_type_of = {0, 1, 0};
  const auto of_type0 = availability_nodes(cluster, 0);
  ASSERT_EQ(of_type0.size(), 2u);
  EXPECT_EQ(of_type0[1].id, core::NodeId(2));
  EXPECT_EQ(of_type0[1].name, "node2");
  EXPECT_EQ(availability_nodes(cluster).size(), 3u);
}

}  // namespace
}  // namespace frugal::platforms
