// Sweep files: grid expansion (axes, zip groups, seeds) read in-process, and bad sweep files
// through the CLI: exit code 2, the sweep file and the JSON pointer at fault, nothing written.
#include <gtest/gtest.h>

#include "sim/app/sweep.hpp"
#include "tests/support/cli.hpp"
#include "sim/core/build_info.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::run_frugalsim;
using frugal::test_support::write_file;
using Json = nlohmann::json;

namespace {

/// The quickstart study (model by name, "training", "seed": 1) as the sweeps' base.
Json base_study() {
  return frugal::test_support::read_json(frugal::core::data_dir().string() + "/results/quickstart/study.json");
}

/// Writes study.json and sweep.json into a fresh folder; returns the sweep file.
std::filesystem::path write_sweep(const std::string& name, const Json& sweep) {
  const auto dir = fresh_dir(name);
  write_file(dir / "study.json", base_study().dump(2));
  write_file(dir / "sweep.json", sweep.dump(2));
  return dir / "sweep.json";
}

}  // namespace

TEST(SweepFile, GridExpandsFirstAxisSlowestSeedsFastest) {
  const auto file = write_sweep("sweep_grid", Json::parse(R"({
    "study": "study.json",
    "parameters": [
      {"name": "mbs", "pointer": "/training/micro_batch_size", "values": [1, 2, 4]},
      {"zip": [{"name": "gbs", "pointer": "/training/global_batch_size", "values": [16, 32]},
               {"pointer": "/name", "values": ["small", "large"]}]}
    ],
    "repetitions": 2
  })"));
  const auto sweep = frugal::app::load_sweep(file);
  ASSERT_EQ(sweep.axes.size(), 2u);
  EXPECT_EQ(sweep.seeds, (std::vector<std::uint64_t>{1, 2}));  // from the study's own seed
  const auto points = frugal::app::expand(sweep);
  ASSERT_EQ(points.size(), 3u * 2u * 2u);
  // Point 5 = mbs index 1, zip index 0, seed index 1.
  const auto& p = points[5];
  EXPECT_EQ(p.index, 5u);
  ASSERT_EQ(p.columns.size(), 4u);
  EXPECT_EQ(p.columns[0], (std::pair<std::string, Json>{"mbs", 2}));
  EXPECT_EQ(p.columns[1], (std::pair<std::string, Json>{"gbs", 16}));
  EXPECT_EQ(p.columns[2], (std::pair<std::string, Json>{"/name", "small"}));
  EXPECT_EQ(p.columns[3], (std::pair<std::string, Json>{"seed", 2}));
  // The zip members move together; the last point takes every last value.
  EXPECT_EQ(points.back().columns[1].second, 32);
  EXPECT_EQ(points.back().columns[2].second, "large");
  EXPECT_EQ(points.back().columns[0].second, 4);
  // Overrides: parameters, then the seed, then no timeline per point.
  EXPECT_EQ(p.overrides.front(), (std::pair<std::string, Json>{"/training/micro_batch_size", 2}));
  EXPECT_EQ(p.overrides.back(), (std::pair<std::string, Json>{"/outputs/timeline", false}));
}

TEST(SweepFile, FlattenKeepsScalarsWithDottedNamesAndDropsArrays) {
  const Json flat = frugal::app::flatten_scalars(
      Json::parse(R"({"a": 1, "b": {"c": "x", "d": [1, 2], "e": {"f": null}}, "g": [3]})"));
  EXPECT_EQ(flat, Json::parse(R"({"a": 1, "b.c": "x", "b.e.f": null})"));
}

struct BadSweep {
  std::string name;
  std::string sweep;     ///< the sweep file's text
  std::string expected;  ///< substring of the error: pointer and message
};

void PrintTo(const BadSweep& c, std::ostream* os) { *os << c.name; }

class InvalidSweep : public ::testing::TestWithParam<BadSweep> {};

TEST_P(InvalidSweep, ExitsTwoWithFileAndPointerAndWritesNothing) {
  const BadSweep& c = GetParam();
  const auto dir = fresh_dir("sweep_bad_" + c.name);
  write_file(dir / "study.json", base_study().dump(2));
  write_file(dir / "sweep.json", c.sweep);
  const auto r = run_frugalsim("sweep " + (dir / "sweep.json").string() + " -o " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find((dir / "sweep.json").string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(c.expected), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out")) << "nothing may be written for a bad sweep file";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidSweep,
    ::testing::Values(
        BadSweep{"unknown_key", R"({"study": "study.json", "parametrs": []})", "/parametrs: unknown key"},
        BadSweep{"missing_study", R"({"parameters": []})", "/study: missing required key"},
        BadSweep{"study_not_found", R"({"study": "nope.json"})", "/study: no study file"},
        BadSweep{"syntax", "{\"study\": \"study.json\",\n \"parameters\": [}", "line 2"},
        BadSweep{"parent_missing",
                 R"({"study": "study.json", "parameters": [{"pointer": "/trainin/micro_batch_size", "values": [1]}]})",
                 "/parameters/0/pointer: \"/trainin/micro_batch_size\""},
        BadSweep{"into_a_string",
                 R"({"study": "study.json", "parameters": [{"pointer": "/model/hidden_size", "values": [1]}]})",
                 "/parameters/0/pointer: \"/model/hidden_size\": /model in"},
        BadSweep{"not_a_pointer", R"({"study": "study.json", "parameters": [{"pointer": "seed", "values": [1]}]})",
                 "/parameters/0/pointer: expected a JSON pointer"},
        BadSweep{"empty_values",
                 R"({"study": "study.json", "parameters": [{"pointer": "/seed", "values": []}]})",
                 "/parameters/0/values: expected at least one value"},
        BadSweep{"zip_lengths",
                 R"({"study": "study.json", "parameters": [{"zip": [
                      {"pointer": "/training/micro_batch_size", "values": [1, 2]},
                      {"pointer": "/training/global_batch_size", "values": [16, 32, 64]}]}]})",
                 "/parameters/0/zip/1/values: 3 values, but /parameters/0/zip/0/values has 2"},
        BadSweep{"same_pointer_twice",
                 R"({"study": "study.json", "parameters": [{"pointer": "/seed", "values": [1]},
                      {"pointer": "/seed", "values": [2]}]})",
                 "/parameters/1/pointer: \"/seed\" is also set at /parameters/0/pointer"},
        BadSweep{"overlap",
                 R"({"study": "study.json", "parameters": [{"pointer": "/training", "values": [{}]},
                      {"pointer": "/training/micro_batch_size", "values": [2]}]})",
                 "overlaps \"/training\""},
        BadSweep{"seeds_and_repetitions", R"({"study": "study.json", "seeds": [1], "repetitions": 2})",
                 "/repetitions: give either \"seeds\" or \"repetitions\""},
        BadSweep{"seed_swept_twice",
                 R"({"study": "study.json", "parameters": [{"pointer": "/seed", "values": [1]}], "seeds": [1, 2]})",
                 "/seeds: \"/seed\" is also set"},
        BadSweep{"negative_seed", R"({"study": "study.json", "seeds": [1, -2]})",
                 "/seeds/1: expected a non-negative integer seed"},
        BadSweep{"reserved_name",
                 R"({"study": "study.json", "parameters": [{"name": "status", "pointer": "/seed", "values": [1]}]})",
                 "/parameters/0/name: \"status\" is a column of its own"}),
    [](const ::testing::TestParamInfo<BadSweep>& info) { return info.param.name; });
