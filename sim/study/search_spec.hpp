// The optional "search" section of a study: what `frugalsim search` explores (the layout space),
// what it optimises and under which constraints. `frugalsim run` ignores it; the study reader
// checks it like every other section.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/core/plugin.hpp"

namespace frugal::study {

struct SearchSpec {
  std::string objective = "throughput";  ///< throughput, cost, energy, goodput
  int top = 10;                          ///< layouts printed
  int finalists = 16;                    ///< layouts simulated, best estimates first
  double time_budget_s = 0;              ///< no finalist starts after it (0: none)
  int max_gpus = 0;                      ///< 0: the cluster's
  double max_memory_per_gpu_bytes = 0;   ///< 0: the GPUs' own
  double max_cost_per_token = 0;         ///< 0: none
  /// Dimensions given in /search/space, in the order search_space_section() declares them: a
  /// megatron parameter, "micro_batch_size", "memory" (memory policy specs) or "nodes" (node
  /// counts), each with its values; the dimensions not given take their defaults.
  std::vector<std::pair<std::string, std::vector<core::Json>>> space;
};

/// The objectives, in the order the reference lists them.
const std::vector<std::string>& search_objectives();

/// /search and /search/space (the search's own dimensions, then every other parameter of the
/// megatron policy), declared for the reference and the reader.
const core::SectionInfo& search_section();
const core::SectionInfo& search_space_section();

/// Strict reading of /search (ConfigError at the pointer at fault). A space value's validity for
/// its parameter is checked when the search builds its layouts.
SearchSpec read_search_spec(const core::Json& value, const std::string& file, const std::string& pointer);

}  // namespace frugal::study
