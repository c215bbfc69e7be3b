// Trace replay (no SimGrid): each format in tests/data/traces/ yields exactly the events it
// lists, and bad traces fail with a ConfigError naming the file and the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "platforms/availability/availability_model.hpp"
#include "platforms/availability/trace_formats.hpp"
#include "sim/core/build_info.hpp"

namespace frugal::platforms {
namespace {

using core::ConfigError;
using core::Json;
using Kind = AvailabilityKind;

const std::string kTraces = frugal::core::data_dir().string() + "/tests/data/traces/";

std::vector<AvailabilityNode> nodes(int n) {
  std::vector<AvailabilityNode> out;
  for (int i = 0; i < n; ++i) out.push_back({core::NodeId(i), "node" + std::to_string(i)});
  return out;
}

/// (time, node, kind) of the events of a trace model over `n` nodes.
struct Ev {
  double t;
  int node;
  Kind kind;
  bool operator==(const Ev&) const = default;
};
std::ostream& operator<<(std::ostream& o, const Ev& e) { return o << e.t << " node" << e.node << " " << to_string(e.kind); }

std::vector<Ev> replay(Json model, int n, double horizon_s = 1e9) {
  model["impl"] = "trace";
  std::vector<Ev> out;
  for (const auto& e : generate_events(read_availability(model, "c.json", "/a"), nodes(n), horizon_s, 1))
    out.push_back({e.time_s, static_cast<int>(e.node.value), e.kind});
  return out;
}

/// Writes `text` to a fresh file named after the running test; returns its path.
std::string temp_trace(const std::string& text, const std::string& ext) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto path = std::filesystem::temp_directory_path() /
                    ("frugal_" + std::string(info->name()) + "_" + std::to_string(::getpid()) + ext);
  std::ofstream(path) << text;
  return path.string();
}

/// The ConfigError of replaying `text` as `format` on 3 nodes; checks the file is named.
ConfigError trace_error(const std::string& text, const std::string& format, const std::string& ext = ".txt") {
  const std::string path = temp_trace(text, ext);
  try {
    replay(Json{{"file", path}, {"format", format}}, 3);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), path);
    return e;
  }
  ADD_FAILURE() << "no ConfigError for " << text;
  return ConfigError("", "", "");
}

TEST(AvailabilityTrace, StateProfileLoopsAfterItsLastDate) {
  const std::vector<Ev> want = {{100, 0, Kind::kFail}, {100, 1, Kind::kFail}, {250, 0, Kind::kRepair},
                                {250, 1, Kind::kRepair}, {400, 0, Kind::kFail}, {400, 1, Kind::kFail},
                                {550, 0, Kind::kRepair}, {550, 1, Kind::kRepair}};
  EXPECT_EQ(replay({{"file", kTraces + "state_profile.txt"}}, 2, 700), want);
}

TEST(AvailabilityTrace, PerNodeProfilesAndSpeedProfiles) {
  EXPECT_EQ(replay({{"file", kTraces + "per_node/{node}.txt"}}, 2),
            (std::vector<Ev>{{5, 0, Kind::kFail}, {7, 0, Kind::kRepair}, {9, 1, Kind::kFail}}));
  const auto spec = read_availability({{"impl", "trace"}, {"file", kTraces + "speed_profile.txt"}, {"format", "speed_profile"}},
                                      "c.json", "/a");
  const auto ev = generate_events(spec, nodes(1), 1e9, 1);
  EXPECT_EQ(speed_profile(ev, core::NodeId(0)), "60 0.5\n120 1\n");
}

TEST(AvailabilityTrace, EventCsvIsSpotPreemptions) {
  // node2's first event adds it: absent from the start. Nodes by name or by id ("1").
  EXPECT_EQ(replay({{"file", kTraces + "spot_events.csv"}}, 4),
            (std::vector<Ev>{{0, 2, Kind::kPreempt}, {1.5, 0, Kind::kPreempt}, {2, 1, Kind::kPreempt},
                             {3, 2, Kind::kReturn}, {4.5, 0, Kind::kReturn}, {6, 1, Kind::kReturn}}));
  // With a notice, each preemption is announced (never before the node was allocated).
  const auto with_notice = replay({{"file", kTraces + "spot_events.csv"}, {"notice", "1 s"}, {"down_as", "preempt"}}, 4);
  EXPECT_EQ(std::count_if(with_notice.begin(), with_notice.end(), [](const Ev& e) { return e.kind == Kind::kPreemptNotice; }), 2);
  EXPECT_EQ(with_notice[1], (Ev{0.5, 0, Kind::kPreemptNotice}));
}

TEST(AvailabilityTrace, CountJsonKeepsTheFirstNodesUp) {
  EXPECT_EQ(replay({{"file", kTraces + "counts.json"}}, 4),
            (std::vector<Ev>{{60, 3, Kind::kPreempt}, {180, 1, Kind::kPreempt}, {180, 2, Kind::kPreempt},
                             {240, 1, Kind::kReturn}, {240, 2, Kind::kReturn}, {240, 3, Kind::kReturn}}));
}

TEST(AvailabilityTrace, FtaIntervalsAreFailures) {
  EXPECT_EQ(replay({{"file", kTraces + "fta.txt"}, {"format", "fta"}}, 2),
            (std::vector<Ev>{{10, 1, Kind::kFail}, {15, 0, Kind::kFail}, {20, 1, Kind::kRepair},
                             {30, 1, Kind::kFail}, {35, 1, Kind::kRepair}, {40, 0, Kind::kRepair}}));
  // A time shift moves an epoch-based table to 0.
  EXPECT_EQ(replay({{"file", kTraces + "fta.txt"}, {"format", "fta"}, {"time_shift_s", -10}}, 2).front(),
            (Ev{0, 1, Kind::kFail}));
}

TEST(AvailabilityTrace, RelativePathsResolveNextToTheReferringFile) {
  const auto spec = read_availability(Json{{"impl", "trace"}, {"file", "state_profile.txt"}}, kTraces + "cluster.json", "/a");
  EXPECT_EQ(spec.resolved[0]["file"], kTraces + "state_profile.txt");
}

TEST(AvailabilityTrace, ErrorsNameFileAndLine) {
  EXPECT_EQ(trace_error("0 1\n# comment\n10 zero\n", "state_profile").pointer(), "line 3");
  EXPECT_EQ(trace_error("0 1\n10 0 7\n", "state_profile").pointer(), "line 2");
  EXPECT_EQ(trace_error("0 1\n-5 0\n", "state_profile").pointer(), "line 2");
  const ConfigError unsorted = trace_error("0 1\n20 0\n10 1\n", "state_profile");
  EXPECT_EQ(unsorted.pointer(), "line 3");
  EXPECT_NE(unsorted.message().find("sorted"), std::string::npos) << unsorted.what();
  EXPECT_EQ(trace_error("0 1\n5 0\n", "speed_profile").pointer(), "line 2");  // ratio 0

  const ConfigError unknown = trace_error("t_ms,action,node\n10,remove,node1\n20,remove,gpu7\n", "event_csv", ".csv");
  EXPECT_EQ(unknown.pointer(), "line 3");
  EXPECT_NE(unknown.message().find("unknown node \"gpu7\""), std::string::npos) << unknown.what();
  EXPECT_EQ(trace_error("10,remove,node1\n20,evict,node2\n", "event_csv", ".csv").pointer(), "line 2");
  EXPECT_EQ(trace_error("10,remove,node1\n20,remove,node1\n", "event_csv", ".csv").pointer(), "line 2");
  EXPECT_EQ(trace_error("10,remove\n", "event_csv", ".csv").pointer(), "line 1");

  EXPECT_EQ(trace_error("node0 10 20\nnode0 15 30\n", "fta").pointer(), "line 2");  // overlap
  EXPECT_EQ(trace_error("node0 20 10\n", "fta").pointer(), "line 1");

  EXPECT_EQ(trace_error(R"({"metadata": {"gap_seconds": 60}, "data": [3, 2, 4]})", "count_json", ".json").pointer(), "/data/2");
  EXPECT_EQ(trace_error("{\"metadata\": {\"gap_seconds\": 60},\n \"data\": [3, 2,, 4]}", "count_json", ".json").pointer(),
            "line 2 column 16");
  EXPECT_EQ(trace_error(R"({"metadata": {}, "data": []})", "count_json", ".json").pointer(), "/metadata/gap_seconds");
}

TEST(AvailabilityTrace, MissingFileIsAConfigError) {
  try {
    replay({{"file", "/nonexistent/trace.txt"}}, 1);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "/nonexistent/trace.txt");
  }
}

}  // namespace
}  // namespace frugal::platforms
