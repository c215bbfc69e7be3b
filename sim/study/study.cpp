// Strict study loading.
#include "sim/study/study.hpp"

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
  if (is_path && std::filesystem::path(ref).is_relative()) ref = (base_dir / ref).lexically_normal().string();
  return by_name(ref, r.file(), r.pointer_of(key));
}

}  // namespace

Override parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || text.empty() || text[0] != '/')
    throw ConfigError("--set", text, "expected /json/pointer=value (e.g. /training/micro_batch_size=4)");
  return Override{text.substr(0, eq), text.substr(eq + 1)};
}

Study read_study(const Json& document, const std::string& file, const std::filesystem::path& base_dir) {
  ObjectReader r(document, file, "");
  Study s;
  s.file = file;
  s.name = r.string_or("name", std::filesystem::path(file).stem().string());
  r.string_or("description", "");
  s.seed = static_cast<std::uint64_t>(r.integer_or("seed", 0, 0));

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
  s.training.global_batch_size = t.integer("global_batch_size", 1);
  s.training.micro_batch_size = t.integer("micro_batch_size", 1);
  s.training.seq_length = t.integer("seq_length", 1);
  const std::string precision = t.choice_or("precision", core::precision_names(), "bf16");
  s.training.precision = core::parse_precision(precision);
  s.training.reserved_memory_bytes = t.quantity_or("reserved_memory", core::Dimension::kBytes, 1024.0 * 1024 * 1024);
  s.iterations = static_cast<int>(t.integer_or("iterations", 2, 1, 100000));
  if (s.training.micro_batch_size > s.training.global_batch_size)
    t.fail("micro_batch_size", "micro_batch_size (" + std::to_string(s.training.micro_batch_size) +
                                   ") > global_batch_size (" + std::to_string(s.training.global_batch_size) + ")");
  if (s.training.seq_length > s.model.max_position_embeddings)
    t.fail("seq_length", "seq_length (" + std::to_string(s.training.seq_length) + ") > the model's max_position_embeddings (" +
                             std::to_string(s.model.max_position_embeddings) + ")");
  t.finish();
  for (int g = 0; g < s.cluster.gpu_count(); ++g) {
    try {
      const auto& gpu = s.cluster.gpu_spec(g);
      (void)gpu.peak(gpu.runs_as(s.training.precision));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(file, "/training/precision", e.what());
    }
  }

  const Json parallelism = r.has("parallelism") ? r.value("parallelism") : Json{{"impl", "data_parallel"}};
  s.parallelism = policies::parallelism_policies().create(parallelism, file, r.pointer_of("parallelism"),
                                                          &s.parallelism_params);
  const Json memory = r.has("memory") ? r.value("memory") : Json{{"impl", "none"}};
  s.memory = policies::memory_policies().create(memory, file, r.pointer_of("memory"), &s.memory_params);

  if (r.has("campaign")) s.campaign = read_campaign(r.value("campaign"), file, r.pointer_of("campaign"), s.cluster);

  if (auto sim = r.optional_object("simulation")) {
    s.simulation.collectives = engine::collective_model_from_string(
        sim->choice_or("collectives", engine::collective_model_names(), engine::to_string(s.simulation.collectives)));
    s.simulation.identical_ranks = engine::identical_ranks_from_string(
        sim->choice_or("identical_ranks", engine::identical_ranks_names(), engine::to_string(s.simulation.identical_ranks)));
    s.simulation.coarse_above_ranks =
        static_cast<int>(sim->integer_or("coarse_above_ranks", s.simulation.coarse_above_ranks, 0, 1 << 30));
    sim->finish();
  }

  if (auto out = r.optional_object("outputs")) {
    s.write_timeline = out->boolean_or("timeline", true);
    out->finish();
  }
  r.finish();
  return s;
}

Study load_study(const std::filesystem::path& path, const std::vector<Override>& overrides) {
  Json doc = core::load_json_file(path);
  for (const Override& o : overrides) {
    Json value;
    try {
      value = Json::parse(o.value);
    } catch (const Json::parse_error&) {
      value = o.value;  // a bare word: take it as a string
    }
    try {
      doc[Json::json_pointer(o.pointer)] = value;
    } catch (const Json::exception& e) {
      throw ConfigError("--set", o.pointer, std::string("cannot set this pointer: ") + e.what());
    }
  }
  return read_study(doc, path.string(), path.parent_path());
}

Json Study::resolved() const {
  Json training_json = {{"global_batch_size", training.global_batch_size},
                        {"micro_batch_size", training.micro_batch_size},
                        {"seq_length", training.seq_length},
                        {"precision", core::to_string(training.precision)},
                        {"reserved_memory_bytes", training.reserved_memory_bytes},
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
                    {"coarse_above_ranks", simulation.coarse_above_ranks}}},
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
  return eo;
}

}  // namespace frugal::study
