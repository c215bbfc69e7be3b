// frugalsim search STUDY.json: the best layouts of a study's model on its cluster. Every layout
// of the study's search space (sim/search/layout_space.hpp) is planned and estimated in-process;
// the best estimates that pass the exact static memory check (the lowered program's peaks) are
// simulated in parallel processes with the sweep runner; the table of the finalists is a
// sweep's (sweep.csv, sweep.jsonl), search.csv lists every layout with its fate.
#pragma once

#include <string>
#include <vector>

namespace frugal::app {

/// `frugalsim search STUDY.json [-o DIR] [-j N] [--objective O] [--top N] [--finalists K]
/// [--max-gpus N] [--max-memory Q] [--max-cost-per-token X] [--time-budget T] [--resume] [-q]`
/// (arguments after "search"; options override the study's /search). Returns 0 when every
/// finalist gave a result (or none was left), 3 when one failed; throws
/// boost::program_options::error (usage) and core::ConfigError (bad study or space).
/// Contract: no SimGrid engine exists in the process (finalists are forked).
int cmd_search(const std::vector<std::string>& args);

}  // namespace frugal::app
