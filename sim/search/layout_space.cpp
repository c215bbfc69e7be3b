// The layout search's space and screen (see layout_space.hpp).
#include "sim/search/layout_space.hpp"

#include <algorithm>
#include <set>

#include "policies/memory/stage_schedules.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "sim/core/units.hpp"

namespace frugal::search {
namespace {

using core::ConfigError;
using core::Json;

/// Dimensions in the order they vary (first slowest) and whether the megatron policy takes them.
const std::vector<std::string>& ordered_dimensions() {
  static const std::vector<std::string> names = {
      "nodes",  "tensor_model_parallel_size", "context_parallel_size", "pipeline_model_parallel_size",
      "virtual_pipeline_model_parallel_size", "schedule", "sequence_parallel", "zero_stage", "micro_batch_size",
      "memory", "partition", "batch_split"};
  return names;
}

std::vector<Json> divisors(int n) {
  std::vector<Json> out;
  for (int k = 1; k <= n; ++k)
    if (n % k == 0) out.emplace_back(k);
  return out;
}

bool mixed(const platforms::Cluster& cluster) {
  for (int g = 1; g < cluster.gpu_count(); ++g)
    if (cluster.gpu_spec(g).name != cluster.gpu_spec(0).name) return true;
  return false;
}

/// The study's megatron spec (its own parameters), or a bare one when it uses another policy.
Json base_parallelism(const Json& document) {
  if (document.contains("parallelism") && document.at("parallelism").is_object() &&
      document.at("parallelism").value("impl", "") == "megatron")
    return document.at("parallelism");
  return Json{{"impl", "megatron"}};
}

Json memory_spec(const Json& value) { return value.is_string() ? Json{{"impl", value}} : value; }

std::string space_pointer(const std::string& dimension, std::size_t i) {
  return "/search/space/" + core::pointer_escape(dimension) + "/" + std::to_string(i);
}

/// Why a layout the policy could build is the same run as another layout of the space ("" when
/// it is not): GPipe and 1F1B coincide without pipelining, and so do the balanced and equal
/// partitions; interleaving needs pipeline stages; the proportional split needs replicas.
std::string redundant(const Json& parallelism, int gpus) {
  const int t = parallelism.value("tensor_model_parallel_size", 1), p = parallelism.value("pipeline_model_parallel_size", 1),
            c = parallelism.value("context_parallel_size", 1);
  if (p == 1 && parallelism.value("schedule", "1f1b") == "gpipe") return "gpipe without pipeline stages is 1f1b";
  if (p == 1 && parallelism.value("virtual_pipeline_model_parallel_size", 1) > 1) return "virtual stages without pipeline stages";
  if (p == 1 && parallelism.value("partition", "equal") == "balanced") return "balanced partition of one stage is equal";
  if (t * c * p > 0 && gpus % (t * c * p) == 0 && gpus / (t * c * p) == 1 &&
      parallelism.value("batch_split", "equal") == "proportional")
    return "proportional split of one replica is equal";
  return "";
}

}  // namespace

std::size_t LayoutSpace::size() const {
  std::size_t n = 1;
  for (const auto& d : dimensions) n *= d.values.size();
  return n;
}

std::vector<std::size_t> LayoutSpace::digits(std::size_t index) const {
  std::vector<std::size_t> out(dimensions.size());
  for (std::size_t k = dimensions.size(); k-- > 0;) {
    out[k] = index % dimensions[k].values.size();
    index /= dimensions[k].values.size();
  }
  return out;
}

platforms::Cluster cluster_with_nodes(const platforms::Cluster& cluster, int nodes) {
  if (nodes <= 0 || nodes == cluster.node_count()) return cluster;
  Json doc = platforms::to_json(cluster);
  doc["nodes"][0]["count"] = nodes;
  return platforms::read_cluster(doc, "<search>", "/cluster", platforms::GpuCatalogue::shipped());
}

LayoutSpace make_space(const study::Study& study, const Json& document, const study::SearchSpec& spec) {
  const std::string file = study.file.string();
  const int max_gpus = spec.max_gpus;
  std::map<std::string, std::vector<Json>> given;
  std::vector<std::string> extra;  // given megatron parameters outside the ordered list
  const auto& ordered = ordered_dimensions();
  for (const auto& [name, values] : spec.space) {  // the reader took only declared dimensions
    given[name] = values;
    if (std::find(ordered.begin(), ordered.end(), name) == ordered.end()) extra.push_back(name);
  }
  const bool one_group = study.cluster.node_types.size() == 1;
  const int per_node = study.cluster.node_types.front().gpus_per_node;
  if (given.count("nodes") && !one_group)
    throw ConfigError(file, "/search/space/nodes", "node counts need a cluster of one node type (this one has " +
                                                       std::to_string(study.cluster.node_types.size()) + ")");
  std::vector<Json> nodes{Json(study.cluster.node_count())};
  if (given.count("nodes")) {
    nodes.clear();
    for (std::size_t i = 0; i < given["nodes"].size(); ++i) {
      const Json& v = given["nodes"][i];
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > (1 << 20))
        throw ConfigError(file, space_pointer("nodes", i), "expected a node count (a positive integer), got " + v.dump());
      if (max_gpus <= 0 || v.get<std::int64_t>() * per_node <= max_gpus) nodes.push_back(v);
    }
  } else if (max_gpus > 0 && study.cluster.gpu_count() > max_gpus) {
    if (!one_group)
      throw ConfigError(file, "/search/max_gpus", "fewer GPUs than the cluster's " + std::to_string(study.cluster.gpu_count()) +
                                                      " need a cluster of one node type, whose node count the search lowers");
    nodes = {Json(max_gpus / per_node)};
  }
  if (nodes.empty() || nodes.front().get<int>() < 1)
    throw ConfigError(file, "/search/max_gpus", "no node count of " + std::to_string(per_node) + " GPUs fits within " +
                                                    std::to_string(max_gpus) + " GPUs");
  int most_gpus = 0;
  for (const Json& n : nodes) most_gpus = std::max(most_gpus, n.get<int>() * (one_group ? per_node : 1));
  if (!one_group) most_gpus = study.cluster.gpu_count();

  const bool heterogeneous = mixed(study.cluster);
  const Json base = base_parallelism(document);
  const auto study_value = [&](const std::string& name, const Json& fallback) {
    return std::vector<Json>{base.contains(name) ? base.at(name) : fallback};
  };
  std::map<std::string, std::vector<Json>> defaults = {
      {"nodes", nodes},
      {"tensor_model_parallel_size", divisors(most_gpus)},
      {"context_parallel_size", {Json(1)}},
      {"pipeline_model_parallel_size", divisors(most_gpus)},
      {"virtual_pipeline_model_parallel_size", {Json(1), Json(2), Json(4)}},
      {"schedule", {Json("1f1b"), Json("gpipe")}},
      {"sequence_parallel", {Json(false), Json(true)}},
      {"zero_stage", {Json(0), Json(1), Json(2), Json(3)}},
      {"micro_batch_size", {Json(1), Json(2), Json(4), Json(8)}},
      {"memory", {Json("none"), Json("selective"), Json("full")}},
      {"partition", heterogeneous ? std::vector<Json>{Json("equal"), Json("balanced")} : study_value("partition", "equal")},
      {"batch_split",
       heterogeneous ? std::vector<Json>{Json("equal"), Json("proportional")} : study_value("batch_split", "equal")},
  };
  LayoutSpace space;
  for (const auto& name : ordered) {
    Dimension d;
    d.name = name;
    d.given = given.count(name) > 0;
    d.values = d.given && name != "nodes" ? given[name] : defaults[name];
    space.dimensions.push_back(std::move(d));
  }
  for (const auto& name : extra) space.dimensions.push_back(Dimension{name, given[name], true});
  for (const Json& n : nodes) space.clusters.emplace(n.get<int>(), cluster_with_nodes(study.cluster, n.get<int>()));
  return space;
}

LayoutSpec layout_spec(const LayoutSpace& space, std::size_t index, const Json& document) {
  LayoutSpec out;
  out.parallelism = base_parallelism(document);
  out.memory = document.contains("memory") ? document.at("memory") : Json{{"impl", "none"}};
  const auto digit = space.digits(index);
  for (std::size_t k = 0; k < space.dimensions.size(); ++k) {
    const Dimension& d = space.dimensions[k];
    const Json& v = d.values[digit[k]];
    if (d.name == "nodes") out.nodes = v.get<int>();
    else if (d.name == "micro_batch_size") out.micro_batch_size = v.is_number_integer() ? v.get<std::int64_t>() : 0;
    else if (d.name == "memory") out.memory = memory_spec(v);
    else out.parallelism[d.name] = v;
  }
  return out;
}

double objective_score(const std::string& objective, double tokens_per_s, double cost_per_token,
                       double energy_j_per_token) {
  if (objective == "cost") return -cost_per_token;
  if (objective == "energy") return -energy_j_per_token;
  return tokens_per_s;
}

std::vector<ScreenedLayout> screen(const study::Study& study, const Json& document, const LayoutSpace& space,
                                   const study::SearchSpec& spec) {
  const std::string file = study.file.string();
  const auto& parallelism = policies::parallelism_policies();
  const auto& memories = policies::memory_policies();
  const Json base = base_parallelism(document);

  // Every value alone on the study's spec: a value its parameter refuses is the user's error.
  std::map<std::string, std::vector<std::shared_ptr<const policies::MemoryPolicy>>> memory_of;
  for (const Dimension& d : space.dimensions) {
    for (std::size_t i = 0; i < d.values.size(); ++i) {
      const Json& v = d.values[i];
      const std::string at = space_pointer(d.name, i);
      try {
        if (d.name == "memory") {
          memory_of["memory"].push_back(memories.create(memory_spec(v), file, at));
        } else if (d.name == "nodes") {
          continue;  // read and bounded by make_space
        } else if (d.name == "micro_batch_size") {
          if (!v.is_number_integer() || v.get<std::int64_t>() < 1)
            throw ConfigError(file, at, "expected a micro-batch size (a positive integer), got " + v.dump());
        } else {
          Json alone = base;
          alone[d.name] = v;
          parallelism.create(alone, file, "/parallelism")->check_cluster(study.cluster);
        }
      } catch (const ConfigError& e) {
        throw ConfigError(file, at, "value " + v.dump() + " of " + d.name + ": " + e.message());
      }
    }
  }
  std::size_t memory_dim = 0, nodes_dim = 0;
  for (std::size_t k = 0; k < space.dimensions.size(); ++k) {
    if (space.dimensions[k].name == "memory") memory_dim = k;
    if (space.dimensions[k].name == "nodes") nodes_dim = k;
  }

  std::vector<ScreenedLayout> out(space.size());
  for (std::size_t index = 0; index < out.size(); ++index) {
    ScreenedLayout& s = out[index];
    s.index = index;
    const LayoutSpec layout = layout_spec(space, index, document);
    const auto digit = space.digits(index);
    const platforms::Cluster& cluster = space.clusters.at(space.dimensions[nodes_dim].values[digit[nodes_dim]].get<int>());
    const policies::MemoryPolicy& memory = *memory_of["memory"][digit[memory_dim]];
    if (const std::string why = redundant(layout.parallelism, cluster.gpu_count()); !why.empty()) {
      s.fate = Fate::kInvalid;
      s.reason = "redundant";
      s.message = why;
      continue;
    }
    policies::TrainingSetup setup = study.training;
    setup.micro_batch_size = layout.micro_batch_size;
    policies::Plan plan;
    try {
      if (setup.micro_batch_size > setup.global_batch_size)
        throw ConfigError("", "/training/micro_batch_size", "micro_batch_size (" + std::to_string(setup.micro_batch_size) +
                                                                ") > global_batch_size (" +
                                                                std::to_string(setup.global_batch_size) + ")");
      plan = parallelism.create(layout.parallelism, file, "/parallelism")->plan(study.model, cluster, setup, memory);
      policies::schedule_rematerialization(plan, study.model, cluster, setup, memory);
    } catch (const core::ParamError& e) {
      s.fate = Fate::kInvalid;
      s.reason = e.param();
      s.message = e.message();
      continue;
    } catch (const ConfigError& e) {
      s.fate = Fate::kInvalid;
      s.reason = e.pointer().substr(e.pointer().rfind('/') + 1);
      s.message = e.message();
      continue;
    } catch (const std::invalid_argument& e) {  // a shape the layer chain cannot build
      s.fate = Fate::kInvalid;
      s.reason = "model shape";
      s.message = e.what();
      continue;
    }
    s.estimate = estimate_iteration(plan, study.model, cluster, setup);
    s.score = objective_score(spec.objective, s.estimate.tokens_per_s, s.estimate.cost_per_token,
                              s.estimate.energy_j_per_token);
    // Schedule policies fit their schedules to the memory: the exact check judges them.
    const bool judged_by_schedule = memory.schedules_stages();
    if (!judged_by_schedule && (!s.estimate.fits || (spec.max_memory_per_gpu_bytes > 0 &&
                                                     s.estimate.peak_memory_bytes > spec.max_memory_per_gpu_bytes)))
      s.fate = Fate::kOverMemory;
    else if (spec.max_cost_per_token > 0 && s.estimate.cost_per_token > spec.max_cost_per_token)
      s.fate = Fate::kOverCost;
    if (s.fate == Fate::kOverMemory)
      s.message = "estimated peak " + core::format_bytes(s.estimate.peak_memory_bytes) + " per GPU";
    else if (s.fate == Fate::kOverCost)
      s.message = "estimated " + std::to_string(s.estimate.cost_per_token) + " per token";
  }
  return out;
}

}  // namespace frugal::search
