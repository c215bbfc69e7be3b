// A study: which model, which cluster, which policies, and the training setup. Loaded strictly
// from a JSON file (with --set overrides); its resolved form alone reproduces the run.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/study/campaign_spec.hpp"
#include "sim/study/search_spec.hpp"
#include "workloads/model_spec.hpp"

namespace frugal::study {

/// "simulation": how the engine models an iteration (sim/engine/simulation.hpp). Defaults are
/// EngineOptions' own: both models "auto", coarse above EngineOptions::coarse_above_ranks ranks.
struct SimulationSettings {
  engine::CollectiveModel collectives = engine::EngineOptions{}.collective_model;
  engine::IdenticalRanks identical_ranks = engine::EngineOptions{}.identical_ranks;
  int coarse_above_ranks = engine::EngineOptions{}.coarse_above_ranks;
  bool closed_form_collectives = engine::EngineOptions{}.closed_form_collectives;
};

struct Study {
  std::string name;
  std::filesystem::path file;            ///< the study file ("" when built in code)
  workloads::ModelSpec model;
  platforms::Cluster cluster;
  policies::TrainingSetup training;
  int iterations = 1;                    ///< iterations simulated (results are per iteration)
  std::uint64_t seed = 0;
  bool write_timeline = true;
  std::shared_ptr<const policies::ParallelismPolicy> parallelism;
  std::optional<core::PluginParams> parallelism_params;
  /// "memory": how layers keep their activations ({"impl": "none"} when absent).
  std::shared_ptr<const policies::MemoryPolicy> memory;
  std::optional<core::PluginParams> memory_params;
  /// Optional "campaign": simulate a whole training campaign (failures, checkpoints, recovery)
  /// after the op-by-op iteration; see sim/campaign/campaign.hpp.
  std::optional<CampaignSpec> campaign;
  SimulationSettings simulation;
  /// Optional "search": the layout space of `frugalsim search` (ignored by a run).
  std::optional<SearchSpec> search;

  /// Engine options of the study's iterations: its iteration count, precision, timeline choice
  /// and "simulation" settings. Callers that simulate something else (one iteration of a shrunk
  /// layout) override the fields that differ.
  engine::EngineOptions engine_options() const;

  /// config.resolved.json: every default filled, units in SI, model and cluster inlined.
  core::Json resolved() const;
};

/// "What if only X GiB?": caps the memory of each GPU type of `cluster` at `memory`'s budget for
/// it (MemoryPolicy::memory_budget_bytes). A type the policy budgets that the cluster lacks is a
/// ConfigError at the policy's parameter (`memory_params` locates it; else /memory/... of `file`).
void apply_memory_budgets(platforms::Cluster& cluster, const policies::MemoryPolicy& memory,
                          const std::optional<core::PluginParams>& memory_params, const std::string& file);

/// One `--set /json/pointer=value` override; `value` is parsed as JSON, else taken as a string.
struct Override {
  std::string pointer;
  std::string value;
};

/// Parses "POINTER=VALUE"; throws ConfigError("--set", ...) when malformed.
Override parse_override(const std::string& text);

/// Why `pointer` cannot receive a value in `study` (`study_file` names it), or "" when it can: a
/// well-formed JSON pointer whose arrays on the way hold the index and that enters no scalar (a
/// value never grows an array). A missing member on the way is an error unless
/// `create_parents` (then it is created as an object; an index there is still an error, as it
/// would create an array). Sweep files pass false, `--set` true.
std::string settable_pointer_problem(const std::string& pointer, const core::Json& study, const std::string& study_file,
                                     bool create_parents);

/// Sets each override's value (parsed as JSON, else taken as a string; an object or array must
/// be valid JSON) at its pointer in `study`, in order, creating missing parent objects. Throws
/// ConfigError("--set", pointer, ...) for a pointer that settable_pointer_problem refuses or a
/// malformed object or array.
void apply_overrides(core::Json& study, const std::vector<Override>& overrides, const std::string& study_file);

/// Reads a study file, applies overrides, resolves the model and cluster (by zoo name, relative
/// to the study's folder, or by path) and checks everything. Throws ConfigError naming the file
/// and the pointer; nothing is written.
Study load_study(const std::filesystem::path& path, const std::vector<Override>& overrides = {});

/// Same from an in-memory document (`file` names it in errors; relative paths from `base_dir`).
Study read_study(const core::Json& document, const std::string& file, const std::filesystem::path& base_dir);

/// The study's own sections (top level, /training, /simulation, /outputs) with their keys
/// declared once: read_study reads through them and docs/reference.md lists them.
const std::vector<core::SectionInfo>& study_sections();

}  // namespace frugal::study
