// Strict study loading: the study's own sections are read through their declared keys
// (study_sections(), also docs/reference.md); models, clusters and plug-ins by their own readers.
#include "sim/study/study.hpp"

#include <algorithm>
#include <limits>

#include "sim/core/paths.hpp"

namespace frugal::study {
namespace {

using core::ConfigError;
using core::Json;
using core::ObjectReader;

/// A reference to a zoo entry, a file, or an inline object.
template <class T, class ByName, class Inline>
T resolve_ref(ObjectReader& r, const std::string& key, const std::filesystem::path& base_dir, ByName by_name,
              Inline from_object) {
  const Json& v = r.value(key);
  if (v.is_object()) return from_object(v, r.file(), r.pointer_of(key));
  if (!v.is_string()) r.fail(key, "expected a name, a path to a JSON file, or an object");
  std::string ref = v.get<std::string>();
  const bool is_path = ref.find('/') != std::string::npos || ref.ends_with(".json");
  if (is_path && std::filesystem::path(ref).is_relative()) {
    // Relative to the study's folder, whether written in the study or given with --set.
    const std::filesystem::path folder =
        base_dir.empty() ? std::filesystem::current_path() : std::filesystem::absolute(base_dir).lexically_normal();
    const std::filesystem::path resolved = (base_dir / ref).lexically_normal();
    if (!core::path_exists(resolved))
      r.fail(key, "file \"" + ref + "\" not found: a relative path in a study (written there or given with --set) is "
                  "resolved from the study's folder, " + folder.string() + ", giving " + (folder / ref).lexically_normal().string());
    ref = resolved.string();
  }
  return by_name(ref, r.file(), r.pointer_of(key));
}

using core::ParamSpec;
using core::ParamType;
constexpr double kNone = 1e300;  // "no bound" of booleans, strings, choices and objects
constexpr double kInf = std::numeric_limits<double>::infinity();

/// An object-valued key, read by its own code; `absent`: what leaving it out means ("": required).
core::SectionKey object_key(std::string name, std::string absent, std::string meaning) {
  return {ParamSpec{std::move(name), ParamType::kObject, {}, core::Json(), -kNone, kNone, {}, std::move(meaning)},
          std::move(absent)};
}

const core::SectionInfo& top_section() {
  static const core::SectionInfo section{
      "",
      "the study file: what to simulate and how",
      {{ParamSpec{"name", ParamType::kString, {}, core::Json(), -kNone, kNone, {}, "label of the run in its outputs"},
        "the study file's name"},
       ParamSpec{"description", ParamType::kString, {}, "", -kNone, kNone, {}, "free text, not used"},
       ParamSpec{"seed", ParamType::kInteger, {}, 0, 0, kInf, {}, "seed of every random draw (availability models)"},
       object_key("model", "",
                  "a name from workloads/models, a path to a JSON file, or an inline object (HuggingFace field names)"),
       object_key("cluster", "", "a name from platforms/clusters, a path to a JSON file, or an inline object"),
       object_key("training", "", "the training setup (`/training`)"),
       object_key("parallelism", "{\"impl\": \"data_parallel\"}", "the parallelism policy (family parallelism)"),
       object_key("memory", "{\"impl\": \"none\"}", "how layers keep their activations (family memory)"),
       object_key("campaign", "none: one iteration", "a whole training campaign with failures (`/campaign`)"),
       object_key("simulation", "all defaults", "how the engine models an iteration (`/simulation`)"),
       object_key("outputs", "all defaults", "optional outputs (`/outputs`)"),
       object_key("search", "none", "the layout space `frugalsim search` explores (`/search`); `run` ignores it")}};
  return section;
}

// Far above any published run (GPT-3: 1,536 sequences of 2,048 tokens; Llama 3: 16M tokens per
// batch) and low enough that every count and byte total the training implies stays exact.
constexpr double kMaxSequences = 1 << 24;
constexpr double kMaxTokensPerSequence = 1 << 24;

const core::SectionInfo& training_section() {
  static const core::SectionInfo section{
      "/training",
      "the training step (Megatron-LM's names)",
      {ParamSpec{"global_batch_size", ParamType::kInteger, {}, core::Json(), 1, kMaxSequences, {},
                 "sequences per iteration over all data-parallel replicas"},
       ParamSpec{"micro_batch_size", ParamType::kInteger, {}, core::Json(), 1, kMaxSequences, {},
                 "sequences per micro-batch of one replica (<= global_batch_size)"},
       ParamSpec{"seq_length", ParamType::kInteger, {}, core::Json(), 1, kMaxTokensPerSequence, {},
                 "tokens per sequence (<= the model's max_position_embeddings)"},
       ParamSpec{"precision", ParamType::kChoice, {}, "bf16", -kNone, kNone, core::precision_names(),
                 "arithmetic precision; each GPU runs it at its catalogue peak (or the nearest it supports). fp8 is "
                 "Transformer Engine's recipe: linear-layer GEMMs in fp8 (matmul_efficiency_fp8) with their casts, "
                 "attention and logits in bf16, tensors stored and communicated in bf16"},
       ParamSpec{"reserved_memory", ParamType::kQuantity, core::Dimension::kBytes, 1024.0 * 1024 * 1024, 0, kInf, {},
                 "GPU memory per GPU not available to the model (CUDA context, framework, fragmentation)"},
       ParamSpec{"attention", ParamType::kChoice, {}, "auto", -kNone, kNone, {"auto", "naive", "flash"},
                 "attention kernel: naive (scores, softmax and dropout through HBM, s² stored), flash (fused, "
                 "FlashAttention-2), auto: flash when every GPU runs it (16-bit job, Ampere or later), else naive"},
       ParamSpec{"fp8_amax_reduction", ParamType::kChoice, {}, "data", -kNone, kNone, policies::amax_reduction_names(),
                 "fp8 only (Transformer Engine's delayed scaling): after each model chunk's forward and backward of a "
                 "micro-batch, a blocking max all-reduce of its amaxes on the compute stream over the pipeline "
                 "stage's tensor × data × context ranks (data: Megatron-Core's amax reduction group), its tensor × "
                 "context ranks (tensor: tp_only_amax_red), or none"},
       ParamSpec{"iterations", ParamType::kInteger, {}, 2, 1, 100000, {}, "iterations simulated op by op"}}};
  return section;
}

const core::SectionInfo& simulation_section() {
  static const SimulationSettings defaults;
  static const core::SectionInfo section{
      "/simulation",
      "how the engine models an iteration (sim/engine/simulation.hpp)",
      {ParamSpec{"collectives", ParamType::kChoice, {}, engine::to_string(defaults.collectives), -kNone, kNone,
                 engine::collective_model_names(),
                 "step_by_step: every step as point-to-point transfers; aggregate: one transfer per member and step "
                 "volume; auto: aggregate above coarse_above_ranks ranks"},
       ParamSpec{"identical_ranks", ParamType::kChoice, {}, engine::to_string(defaults.identical_ranks), -kNone, kNone,
                 engine::identical_ranks_names(),
                 "all: simulate every rank; representatives: one per class of identical ranks; auto: representatives "
                 "above coarse_above_ranks ranks"},
       ParamSpec{"coarse_above_ranks", ParamType::kInteger, {}, defaults.coarse_above_ranks, 0, 1 << 30, {},
                 "threshold of both auto modes"},
       ParamSpec{"closed_form_collectives", ParamType::kBoolean, {}, defaults.closed_form_collectives, -kNone, kNone,
                 {},
                 "with aggregate collectives and representatives: a representative whose GPU links carry only its "
                 "own node-local collectives prices them by their closed form (same times, fewer activities); "
                 "false runs them as transfers"}}};
  return section;
}

const core::SectionInfo& outputs_section() {
  static const core::SectionInfo section{
      "/outputs",
      "optional outputs of a run",
      {ParamSpec{"timeline", ParamType::kBoolean, {}, true, -kNone, kNone, {}, "write timeline.json (Chrome trace)"}}};
  return section;
}

}  // namespace

const std::vector<core::SectionInfo>& study_sections() {
  static const std::vector<core::SectionInfo> sections = {top_section(),        training_section(),
                                                         simulation_section(), outputs_section(),
                                                         search_section(),     search_space_section()};
  return sections;
}

void apply_memory_budgets(platforms::Cluster& cluster, const policies::MemoryPolicy& memory,
                          const std::optional<core::PluginParams>& memory_params, const std::string& file) {
  for (const std::string& gpu : memory.budgeted_gpu_types()) {
    bool present = false;
    std::string types;
    for (const auto& type : cluster.node_types) {
      present = present || type.gpu.name == gpu;
      if (types.find("\"" + type.gpu.name + "\"") == std::string::npos) types += (types.empty() ? "" : ", ") + ("\"" + type.gpu.name + "\"");
    }
    if (present) continue;
    const core::ParamError error("memory_budget_per_gpu", "\"" + gpu + "\" is not a GPU of the cluster (its GPUs: " + types + ")");
    throw memory_params ? memory_params->locate(error) : ConfigError(file, "/memory/memory_budget_per_gpu", error.message());
  }
  for (auto& type : cluster.node_types)
    if (const double budget = memory.memory_budget_bytes(type.gpu.name); budget > 0)
      type.gpu.memory_bytes = std::min(type.gpu.memory_bytes, budget);
}

Override parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || text.empty() || text[0] != '/')
    throw ConfigError("--set", text, "expected /json/pointer=value (e.g. /training/micro_batch_size=4)");
  return Override{text.substr(0, eq), text.substr(eq + 1)};
}

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// "auto": the fused kernel when every GPU of the cluster runs it for this precision (a job runs
// one code path on all its ranks), else the naive one.
workloads::AttentionKernel resolve_attention(const std::string& choice, const platforms::Cluster& cluster,
                                             core::Precision precision) {
  if (choice == "flash") return workloads::AttentionKernel::kFlash;
  if (choice == "naive") return workloads::AttentionKernel::kNaive;
  for (int g = 0; g < cluster.gpu_count(); ++g)
    if (!cluster.gpu_spec(g).runs_fused_attention(precision)) return workloads::AttentionKernel::kNaive;
  return workloads::AttentionKernel::kFlash;
}

}  // namespace

std::string settable_pointer_problem(const std::string& pointer, const Json& base, const std::string& study_file,
                                     bool create_parents) {
  if (pointer.empty() || pointer[0] != '/')
    return "expected a JSON pointer into the study, starting with \"/\" (got \"" + pointer + "\")";
  if (std::count(pointer.begin(), pointer.end(), '/') > core::kMaxJsonDepth)
    return "JSON pointer deeper than " + std::to_string(core::kMaxJsonDepth) + " levels";
  Json::json_pointer jp;
  try {
    jp = Json::json_pointer(pointer);
  } catch (const Json::exception& e) {
    return "malformed JSON pointer \"" + pointer + "\": " + e.what();
  }
  // Walk from the root: arrays are indexed within their size, scalars are never entered, and a
  // missing member is created (as an object) only where allowed and never as an array.
  std::vector<std::string> tokens;
  for (Json::json_pointer p = jp; !p.empty(); p = p.parent_pointer()) tokens.insert(tokens.begin(), p.back());
  const Json* at = &base;
  std::string where;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    const bool last = i + 1 == tokens.size();
    const std::string shown_where = where.empty() ? "/" : where;
    if (at->is_array()) {
      const std::size_t index = all_digits(token) && token.size() <= 18 ? std::stoull(token) : at->size();
      if (index >= at->size())
        return "\"" + pointer + "\": " + shown_where + " in " + study_file + " is an array of " +
               std::to_string(at->size()) + " elements; \"" + token + "\" is not one of its indices";
      at = &(*at)[index];
    } else if (at->is_object()) {
      const auto it = at->find(token);
      if (it == at->end()) {
        if (last) return "";
        const std::string missing = where + "/" + core::pointer_escape(token);
        if (!create_parents) return "\"" + pointer + "\": " + study_file + " has nothing at " + missing;
        // A token met on a created (null) value makes an array when it is all digits, empty or
        // "-" (nlohmann::json's rule), and an array is never created.
        for (std::size_t k = i + 1; k < tokens.size(); ++k)
          if (tokens[k] == "-" || tokens[k].empty() || all_digits(tokens[k]))
            return "\"" + pointer + "\": " + study_file + " has nothing at " + missing +
                   ", and an index (\"" + tokens[k] + "\") cannot create an array";
        return "";
      }
      at = &*it;
    } else {
      return "\"" + pointer + "\": " + shown_where + " in " + study_file + " is " +
             (at->is_string() ? "a string" : "not an object") + "; a value must go into an object or an array";
    }
    where += "/" + core::pointer_escape(token);
  }
  return "";
}

Study read_study(const Json& document, const std::string& file, const std::filesystem::path& base_dir) {
  ObjectReader r(document, file, "");
  Study s;
  s.file = file;
  const auto top = core::read_section(r, top_section());
  s.name = top.has("name") ? top.string("name") : std::filesystem::path(file).stem().string();
  s.seed = static_cast<std::uint64_t>(top.integer("seed"));

  s.model = resolve_ref<workloads::ModelSpec>(
      r, "model", base_dir,
      [](const std::string& ref, const std::string& f, const std::string& p) { return workloads::load_model(ref, f, p); },
      [](const Json& v, const std::string& f, const std::string& p) { return workloads::read_model(v, f, p); });
  const auto& catalogue = platforms::GpuCatalogue::shipped();
  s.cluster = resolve_ref<platforms::Cluster>(
      r, "cluster", base_dir,
      [&](const std::string& ref, const std::string& f, const std::string& p) {
        return platforms::load_cluster(ref, catalogue, f, p);
      },
      [&](const Json& v, const std::string& f, const std::string& p) {
        return platforms::read_cluster(v, f, p, catalogue);
      });

  ObjectReader t = r.object("training");
  const auto training = core::read_section(t, training_section());
  s.training.global_batch_size = training.integer("global_batch_size");
  s.training.micro_batch_size = training.integer("micro_batch_size");
  s.training.seq_length = training.integer("seq_length");
  s.training.precision = core::parse_precision(training.string("precision"));
  s.training.reserved_memory_bytes = training.number("reserved_memory");
  s.iterations = static_cast<int>(training.integer("iterations"));
  if (s.training.micro_batch_size > s.training.global_batch_size)
    t.fail("micro_batch_size", "micro_batch_size (" + std::to_string(s.training.micro_batch_size) +
                                   ") > global_batch_size (" + std::to_string(s.training.global_batch_size) + ")");
  if (s.training.seq_length > s.model.max_position_embeddings)
    t.fail("seq_length", "seq_length (" + std::to_string(s.training.seq_length) + ") > the model's max_position_embeddings (" +
                             std::to_string(s.model.max_position_embeddings) + ")");
  if (s.model.sliding_window > 0 && s.training.seq_length > s.model.sliding_window)
    t.fail("seq_length", "seq_length (" + std::to_string(s.training.seq_length) + ") > the model's sliding_window (" +
                             std::to_string(s.model.sliding_window) +
                             "): sliding-window attention is not modelled (up to the window it costs the same as "
                             "full attention)");
  t.finish();
  for (int g = 0; g < s.cluster.gpu_count(); ++g) {
    try {
      const auto& gpu = s.cluster.gpu_spec(g);
      (void)gpu.peak(gpu.runs_as(s.training.precision));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(file, "/training/precision", e.what());
    }
  }
  s.training.attention = resolve_attention(training.string("attention"), s.cluster, s.training.precision);
  s.training.fp8_amax_reduction = policies::parse_amax_reduction(training.string("fp8_amax_reduction"));

  const Json parallelism = r.has("parallelism") ? r.value("parallelism") : Json{{"impl", "data_parallel"}};
  s.parallelism = policies::parallelism_policies().create(parallelism, file, r.pointer_of("parallelism"),
                                                          &s.parallelism_params);
  try {
    s.parallelism->check_cluster(s.cluster);
  } catch (const core::ParamError& e) {
    throw s.parallelism_params->locate(e);
  }
  const Json memory = r.has("memory") ? r.value("memory") : Json{{"impl", "none"}};
  s.memory = policies::memory_policies().create(memory, file, r.pointer_of("memory"), &s.memory_params);
  apply_memory_budgets(s.cluster, *s.memory, s.memory_params, file);

  if (r.has("campaign")) s.campaign = read_campaign(r.value("campaign"), file, r.pointer_of("campaign"), s.cluster);

  if (auto sim = r.optional_object("simulation")) {
    const auto simulation = core::read_section(*sim, simulation_section());
    s.simulation.collectives = engine::collective_model_from_string(simulation.string("collectives"));
    s.simulation.identical_ranks = engine::identical_ranks_from_string(simulation.string("identical_ranks"));
    s.simulation.coarse_above_ranks = static_cast<int>(simulation.integer("coarse_above_ranks"));
    s.simulation.closed_form_collectives = simulation.boolean("closed_form_collectives");
    sim->finish();
  }

  if (auto out = r.optional_object("outputs")) {
    s.write_timeline = core::read_section(*out, outputs_section()).boolean("timeline");
    out->finish();
  }
  if (r.has("search")) s.search = read_search_spec(r.value("search"), file, r.pointer_of("search"));
  r.finish();
  return s;
}

void apply_overrides(Json& doc, const std::vector<Override>& overrides, const std::string& file) {
  for (const Override& o : overrides) {
    const std::string problem = settable_pointer_problem(o.pointer, doc, file, true);
    if (!problem.empty()) throw ConfigError("--set", o.pointer, problem);
    Json value;
    try {
      value = core::parse_json(o.value, "--set " + o.pointer);
    } catch (const ConfigError&) {
      // A bare word ("fp16", "10 GiB") is a string; an object or array must be valid JSON.
      if (!o.value.empty() && (o.value[0] == '{' || o.value[0] == '[')) throw;
      value = o.value;
    }
    try {
      doc[Json::json_pointer(o.pointer)] = std::move(value);
    } catch (const Json::exception& e) {  // settable_pointer_problem should have said why
      throw core::InternalError("--set " + o.pointer + ": " + e.what());
    }
  }
}

Study load_study(const std::filesystem::path& path, const std::vector<Override>& overrides) {
  Json doc = core::load_json_file(path);
  apply_overrides(doc, overrides, path.string());
  return read_study(doc, path.string(), path.parent_path());
}

Json Study::resolved() const {
  Json training_json = {{"global_batch_size", training.global_batch_size},
                        {"micro_batch_size", training.micro_batch_size},
                        {"seq_length", training.seq_length},
                        {"precision", core::to_string(training.precision)},
                        {"reserved_memory_bytes", training.reserved_memory_bytes},
                        {"attention", workloads::to_string(training.attention)},
                        {"fp8_amax_reduction", policies::to_string(training.fp8_amax_reduction)},
                        {"iterations", iterations}};
  Json out = Json{{"name", name},
                  {"seed", seed},
                  {"model", workloads::to_json(model)},
                  {"cluster", platforms::to_json(cluster)},
                  {"training", training_json},
                  {"parallelism", parallelism_params ? parallelism_params->to_json() : Json()},
                  {"memory", memory_params ? memory_params->to_json() : Json()},
                  {"simulation",
                   {{"collectives", engine::to_string(simulation.collectives)},
                    {"identical_ranks", engine::to_string(simulation.identical_ranks)},
                    {"coarse_above_ranks", simulation.coarse_above_ranks},
                    {"closed_form_collectives", simulation.closed_form_collectives}}},
                  {"outputs", {{"timeline", write_timeline}}}};
  if (campaign) out["campaign"] = campaign->resolved();
  return out;
}

engine::EngineOptions Study::engine_options() const {
  engine::EngineOptions eo;
  eo.iterations = iterations;
  eo.precision = training.precision;
  eo.record_timeline = write_timeline;
  eo.collective_model = simulation.collectives;
  eo.identical_ranks = simulation.identical_ranks;
  eo.coarse_above_ranks = simulation.coarse_above_ranks;
  eo.closed_form_collectives = simulation.closed_form_collectives;
  return eo;
}

}  // namespace frugal::study
