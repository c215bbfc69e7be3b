// Turns a simulation into the run's summary.json (per-iteration metrics, SI units, defined in
// results/README.md; timeline.json is timeline.hpp's). Deterministic: same inputs,
// byte-identical outputs.
#pragma once

#include "sim/engine/memory_check.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/study/study.hpp"

namespace frugal::metrics {

/// The static memory check (sim/engine/memory_check.hpp), under the names the outputs use.
using engine::check_memory;
using engine::MemoryCheck;

/// summary.json of a run that was simulated (`status: "ok"`).
/// `plan` is what `program` was lowered from (samples and pipeline stage of every rank).
core::Json make_summary(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                        const engine::SimulationResult& result);

/// summary.json of a run that does not fit (`status: "out_of_memory"`, the breakdown of the
/// peak of every overflowing GPU; performance metrics are null).
core::Json make_oom_summary(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                            const MemoryCheck& memory);

/// summary.json of a run whose plan cannot be built (`status: "infeasible"`, `reason`).
core::Json make_infeasible_summary(const study::Study& study, const std::string& reason);

/// "A100-80GB node0/gpu5": the GPU's kind and place.
std::string gpu_label(const platforms::Cluster& cluster, int gpu);

}  // namespace frugal::metrics
