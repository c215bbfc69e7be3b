// The frugalsim commands (run, plan, list) as library functions, so tests call them in-process
// or as a subprocess. run_main() maps errors to exit codes: 0 ok, 1 usage, 2 bad input
// (ConfigError: file, pointer, what was expected), 3 internal error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sim/core/error.hpp"
#include "sim/core/progress.hpp"
#include "sim/study/study.hpp"

namespace frugal::app {

int run_main(int argc, char** argv);

struct RunOptions {
  std::filesystem::path study;
  std::filesystem::path output_dir;          ///< default: <study folder>/out
  std::vector<study::Override> overrides;
  std::vector<std::string> argv;             ///< recorded in manifest.json
  /// Where the phases (planning, memory check, simulating, campaign) are shown; null: nowhere.
  core::Progress* progress = nullptr;
};

/// Loads, plans, simulates and writes summary.json, config.resolved.json, manifest.json and
/// timeline.json into the output folder. A study the parallelism policy cannot plan is a result
/// (summary status "infeasible" with the reason; no timeline), not an error. All inputs are
/// checked before anything is written; files are written under temporary names and renamed, so a
/// failed run leaves no partial output. Returns the summary.
core::Json run_study(const RunOptions& options);

/// The parallelism policy cannot plan the study on its cluster (its plan() threw ConfigError:
/// GPUs not divisible by t × p, heads by t, the batch by the replicas, ...). The study file
/// itself is valid: `run` and sweeps report this as a result with status "infeasible" and the
/// message as its reason; `plan`, which has no program to write, exits 2 with it.
class InfeasiblePlan : public core::ConfigError {
 public:
  using core::ConfigError::ConfigError;
};

/// What the policies decided for a study (typed) and its lowered program of one iteration.
struct PlannedStudy {
  policies::Plan plan;
  program::Program program;  ///< what `frugalsim plan` writes
};

/// Plans the study with its parallelism and memory policies and lowers the plan; the program is
/// validated. Throws InfeasiblePlan (file, pointer, why) when the policies cannot plan it.
PlannedStudy plan_study(const study::Study& study);

}  // namespace frugal::app
