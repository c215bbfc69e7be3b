// The list of plug-in families (see plugin_families.hpp).
#include "sim/study/plugin_families.hpp"

#include "platforms/availability/availability_model.hpp"
#include "policies/memory/memory_policy.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "policies/resilience/resilience_policy.hpp"
#include "sim/program/program.hpp"

namespace frugal::study {
namespace {

/// Collective algorithms are IR values, not configured objects: names and meanings only.
core::PluginFamily collective_algorithms() {
  core::PluginFamily family{"collective_algorithm",
                            "the `algorithm` of a collective op in the Program; the parallelism policy chooses it "
                            "(`/parallelism/algorithm` of data_parallel, `/parallelism/gradient_algorithm` of megatron)",
                            "how a collective is decomposed into point-to-point steps (simulator and real backend)",
                            {}};
  for (const auto a : program::all_collective_algorithms())
    family.plugins.push_back(core::PluginInfo{program::to_string(a), program::describe(a), {}});
  return family;
}

}  // namespace

const std::vector<core::PluginFamily>& plugin_families() {
  static const std::vector<core::PluginFamily> families = {
      core::family_of("parallelism", "/parallelism",
                      "how the model is laid out over the GPUs: layout, placement, batch split, gradient collectives",
                      policies::parallelism_policies()),
      core::family_of("memory", "/memory",
                      "how layers keep what their backward needs: store it or recompute it (rematerialization)",
                      policies::memory_policies()),
      core::family_of("checkpoint", "/campaign/resilience/checkpoint",
                      "when to write checkpoints, where to (host memory, peer, persistent storage)",
                      policies::checkpoint_policies()),
      core::family_of("recovery", "/campaign/resilience/recovery",
                      "how the job recovers from failures, preemptions and slowdowns (restart, shrink, wait)",
                      policies::recovery_policies()),
      core::family_of("availability", "/campaign/availability/<node type>",
                      "when nodes of a type fail, are preempted or slow down (one model or an array of them)",
                      platforms::availability_models()),
      collective_algorithms(),
  };
  return families;
}

}  // namespace frugal::study
