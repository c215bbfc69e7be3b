// Test helper for integration tests that run study documents through the CLI as a user would:
// writes the study, runs `frugalsim run` on it and returns its summary. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/cli.hpp"

namespace frugal::test_support {

/// Writes `study` to dir/NAME.json and runs `frugalsim run` on it (with `args`, e.g. "--set
/// /p=v") into dir/NAME. Returns that run's summary.json, or an empty object after recording a
/// test failure when the run does not exit 0.
inline nlohmann::json run_study_document(const std::filesystem::path& dir, const std::string& name,
                                         const nlohmann::json& study, const std::string& args = "") {
  const auto file = dir / (name + ".json");
  write_file(file, study.dump(2));
  const auto r = run_frugalsim("run " + file.string() + " " + args + " -o " + (dir / name).string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? read_json(dir / name / "summary.json") : nlohmann::json::object();
}

}  // namespace frugal::test_support
