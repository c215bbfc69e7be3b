// The "search" section of a study (see search_spec.hpp).
#include "sim/study/search_spec.hpp"

#include <limits>

#include "policies/parallelism/parallelism_policy.hpp"

namespace frugal::study {
namespace {

using core::Dimension;
using core::Json;
using core::ObjectReader;
using core::ParamSpec;
using core::ParamType;
constexpr double kNone = 1e300;
constexpr double kInf = std::numeric_limits<double>::infinity();

ParamSpec list_key(std::string name, std::string meaning) {
  return ParamSpec{std::move(name), ParamType::kObject, {}, Json(), -kNone, kNone, {}, std::move(meaning)};
}

}  // namespace

const std::vector<std::string>& search_objectives() {
  static const std::vector<std::string> names = {"throughput", "cost", "energy", "goodput"};
  return names;
}

const core::SectionInfo& search_section() {
  static const core::SectionInfo section{
      "/search",
      "what `frugalsim search` explores and optimises (`frugalsim run` ignores it)",
      {ParamSpec{"objective", ParamType::kChoice, {}, "throughput", -kNone, kNone, search_objectives(),
                 "throughput: most tokens/s; cost: least cost per token (the nodes' billed price per GPU-hour); "
                 "energy: least energy per token; goodput: most goodput tokens/s of the study's campaign"},
       ParamSpec{"top", ParamType::kInteger, {}, 10, 1, 100000, {}, "layouts printed, best first"},
       ParamSpec{"finalists", ParamType::kInteger, {}, 16, 1, 100000, {},
                 "layouts simulated, the best estimates that pass the exact static memory check first"},
       {ParamSpec{"time_budget", ParamType::kQuantity, Dimension::kTime, Json(), 1e-9, kInf, {},
                  "no finalist starts after it (the screen always completes)"},
        "none"},
       {ParamSpec{"max_gpus", ParamType::kInteger, {}, Json(), 1, 1 << 24, {},
                  "at most this many GPUs: fewer nodes of a one-group cluster"},
        "the cluster's"},
       {ParamSpec{"max_memory_per_gpu", ParamType::kQuantity, Dimension::kBytes, Json(), 1, kInf, {},
                  "peak memory per GPU at most this (estimated when screening, simulated for finalists)"},
        "the GPUs' own"},
       {ParamSpec{"max_cost_per_token", ParamType::kNumber, {}, Json(), 0, kInf, {},
                  "currency units per token at most this (billed price per GPU-hour × GPUs × time per token)"},
        "none"},
       {list_key("space", "the values each dimension takes (`/search/space`)"), "every default"}}};
  return section;
}

const core::SectionInfo& search_space_section() {
  static const core::SectionInfo section = [] {
    core::SectionInfo out{"/search/space", "each key a list of values; a dimension left out takes its default list", {}};
    const std::vector<std::pair<std::string, std::string>> own = {
        {"nodes", "node counts of a one-group cluster; default: the cluster's (or the most max_gpus allows)"},
        {"tensor_model_parallel_size", "default: every divisor of the GPUs"},
        {"context_parallel_size", "default: [1]"},
        {"pipeline_model_parallel_size", "default: every divisor of the GPUs"},
        {"virtual_pipeline_model_parallel_size", "default: [1, 2, 4] (v > 1 with p > 1 only)"},
        {"schedule", "default: [\"1f1b\", \"gpipe\"] (gpipe with p > 1 only)"},
        {"sequence_parallel", "default: [false, true] (true with t > 1 only)"},
        {"zero_stage", "default: [0, 1, 2, 3]"},
        {"micro_batch_size", "default: [1, 2, 4, 8]"},
        {"memory", "memory policies, names or {\"impl\": ...} objects; default: [\"none\", \"selective\", \"full\"]"},
        {"partition", "default: [\"equal\", \"balanced\"] on a mixed cluster, else the study's"},
        {"batch_split", "default: [\"equal\", \"proportional\"] on a mixed cluster, else the study's"}};
    for (const auto& [name, meaning] : own) out.keys.push_back(core::SectionKey(list_key(name, meaning)));
    // Every other parameter of the megatron policy, at the study's value by default.
    for (const core::PluginInfo* info : policies::parallelism_policies().infos()) {
      if (info->name != "megatron") continue;
      for (const auto& p : info->params) {
        bool listed = false;
        for (const auto& k : out.keys) listed = listed || k.spec.name == p.name;
        if (!listed) out.keys.push_back(core::SectionKey(list_key(p.name, "megatron's " + p.name + "; default: the study's value")));
      }
    }
    return out;
  }();
  return section;
}

SearchSpec read_search_spec(const Json& value, const std::string& file, const std::string& pointer) {
  ObjectReader r(value, file, pointer);
  const auto keys = core::read_section(r, search_section());
  SearchSpec spec;
  spec.objective = keys.string("objective");
  spec.top = static_cast<int>(keys.integer("top"));
  spec.finalists = static_cast<int>(keys.integer("finalists"));
  if (keys.has("time_budget")) spec.time_budget_s = keys.number("time_budget");
  if (keys.has("max_gpus")) spec.max_gpus = static_cast<int>(keys.integer("max_gpus"));
  if (keys.has("max_memory_per_gpu")) spec.max_memory_per_gpu_bytes = keys.number("max_memory_per_gpu");
  if (keys.has("max_cost_per_token")) spec.max_cost_per_token = keys.number("max_cost_per_token");
  if (auto space = r.optional_object("space")) {
    for (const auto& key : search_space_section().keys) {
      const std::string& name = key.spec.name;
      if (!space->has(name)) continue;
      const Json& values = space->array(name);
      if (values.empty()) space->fail(name, "expected a non-empty list of values");
      spec.space.emplace_back(name, std::vector<Json>(values.begin(), values.end()));
    }
    space->finish();
  }
  r.finish();
  return spec;
}

}  // namespace frugal::study
