// Test helpers: small studies and programs built in code (no files), shared by unit and
// integration tests.
#pragma once

#include "platforms/cluster_spec.hpp"
#include "policies/lowering/lowering.hpp"
#include "policies/memory/stage_schedules.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "workloads/model_spec.hpp"

namespace frugal::test_support {

/// A tiny GPT (h=128, L=2, a=4, V=1000, s≤256): plans and lowers in microseconds.
inline workloads::ModelSpec tiny_model() {
  workloads::ModelSpec m;
  m.name = "tiny";
  m.hidden_size = 128;
  m.num_hidden_layers = 2;
  m.num_attention_heads = 4;
  m.num_key_value_heads = 4;
  m.intermediate_size = 512;
  m.vocab_size = 1000;
  m.max_position_embeddings = 256;
  return m;
}

inline policies::TrainingSetup tiny_setup(std::int64_t global_batch = 8, std::int64_t micro_batch = 2) {
  policies::TrainingSetup s;
  s.global_batch_size = global_batch;
  s.micro_batch_size = micro_batch;
  s.seq_length = 128;
  s.reserved_memory_bytes = 0;
  return s;
}

/// A data-parallel plan from the registered policy with the given JSON parameters.
inline policies::Plan data_parallel_plan(const workloads::ModelSpec& model, const platforms::Cluster& cluster,
                                         const policies::TrainingSetup& setup, core::Json params = {}) {
  if (params.is_null()) params = core::Json::object();
  params["impl"] = "data_parallel";
  auto policy = policies::parallelism_policies().create(params, "test", "/parallelism");
  return policy->plan(model, cluster, setup);
}

/// A megatron plan with the given JSON parameters and memory policy (its name, or its JSON
/// object), rematerialization schedules included as a study plans them.
inline policies::Plan megatron_plan(const workloads::ModelSpec& model, const platforms::Cluster& cluster,
                                    const policies::TrainingSetup& setup, core::Json params,
                                    const core::Json& memory = "none") {
  params["impl"] = "megatron";
  const auto recompute = policies::memory_policies().create(
      memory.is_string() ? core::Json{{"impl", memory}} : memory, "test", "/memory");
  auto plan = policies::parallelism_policies().create(params, "test", "/parallelism")->plan(model, cluster, setup, *recompute);
  policies::schedule_rematerialization(plan, model, cluster, setup, *recompute);
  return plan;
}

/// `nodes` DGX A100 nodes (8 GPUs each) from the shipped cluster file.
inline platforms::Cluster dgx_nodes(int nodes) {
  auto j = core::load_json_file(platforms::platform_data_dir() / "clusters" / "dgx-a100.json");
  j["nodes"] = core::Json::array({{{"type", j["nodes"][0]["type"]}, {"count", nodes}}});
  return platforms::read_cluster(j, "dgx", "", platforms::GpuCatalogue::shipped());
}

}  // namespace frugal::test_support
