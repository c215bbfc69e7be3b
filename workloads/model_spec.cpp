// Reading and writing model descriptions (FrugalSim's format through model_keys(), HuggingFace
// config.json through read_huggingface_config) and finding the zoo.
// Strict: unknown keys, wrong types and impossible shapes are ConfigErrors naming the pointer.
#include "workloads/model_spec.hpp"
#include "sim/core/build_info.hpp"
#include "workloads/huggingface_config.hpp"
#include "workloads/model_keys.hpp"
#include "sim/core/paths.hpp"

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace frugal::workloads {
namespace {

bool looks_like_path(const std::string& s) {
  return s.find('/') != std::string::npos ||
         (s.size() >= 5 && s.compare(s.size() - 5, 5, ".json") == 0);
}

}  // namespace

ModelSpec read_model(const core::Json& value, const std::string& file, const std::string& pointer) {
  if (is_huggingface_config(value)) return read_huggingface_config(value, file, pointer);
  core::ObjectReader r(value, file, pointer);
  const core::PluginParams p = core::read_section(r, model_keys());
  ModelSpec m;
  m.name = p.has("name") ? p.string("name") : "";
  m.description = p.string("description");
  m.source = p.string("source");
  m.hidden_size = p.integer("hidden_size");
  m.num_hidden_layers = p.integer("num_hidden_layers");
  m.num_attention_heads = p.integer("num_attention_heads");
  m.vocab_size = p.integer("vocab_size");
  // HuggingFace defaults: no GQA, the GPT 4h MLP, GPT-2/3 context.
  m.num_key_value_heads = p.has("num_key_value_heads") ? p.integer("num_key_value_heads") : m.num_attention_heads;
  m.intermediate_size = p.has("intermediate_size") ? p.integer("intermediate_size") : 4 * m.hidden_size;
  m.max_position_embeddings = p.integer("max_position_embeddings");
  m.gated_mlp = p.boolean("gated_mlp");
  m.tie_word_embeddings = p.boolean("tie_word_embeddings");
  m.position_embedding_type = p.string("position_embedding_type");
  m.norm_type = p.string("norm_type");
  m.use_bias = p.boolean("use_bias");
  m.qkv_bias = p.boolean("qkv_bias");
  m.sliding_window = p.has("sliding_window") ? p.integer("sliding_window") : 0;
  if (r.has("ignored_huggingface_keys")) {
    const core::Json& ignored = r.value("ignored_huggingface_keys");
    if (!ignored.is_object()) r.fail("ignored_huggingface_keys", "expected an object (key: value as written)");
    m.ignored_huggingface_keys = ignored;
  }
  r.finish();

  // Cross-field checks show the arithmetic (DESIGN.md §4).
  if (m.hidden_size % m.num_attention_heads != 0)
    r.fail("num_attention_heads", "hidden_size (" + std::to_string(m.hidden_size) +
                                      ") is not divisible by num_attention_heads (" +
                                      std::to_string(m.num_attention_heads) + ")");
  if (m.num_attention_heads % m.num_key_value_heads != 0)
    r.fail("num_key_value_heads", "num_attention_heads (" + std::to_string(m.num_attention_heads) +
                                      ") is not divisible by num_key_value_heads (" +
                                      std::to_string(m.num_key_value_heads) + ")");
  return m;
}

core::Json to_json(const ModelSpec& m) {
  core::Json j = core::Json::object();
  j["name"] = m.name;
  if (!m.description.empty()) j["description"] = m.description;
  if (!m.source.empty()) j["source"] = m.source;
  j["hidden_size"] = m.hidden_size;
  j["num_hidden_layers"] = m.num_hidden_layers;
  j["num_attention_heads"] = m.num_attention_heads;
  j["num_key_value_heads"] = m.num_key_value_heads;
  j["intermediate_size"] = m.intermediate_size;
  j["vocab_size"] = m.vocab_size;
  j["max_position_embeddings"] = m.max_position_embeddings;
  j["gated_mlp"] = m.gated_mlp;
  j["tie_word_embeddings"] = m.tie_word_embeddings;
  j["position_embedding_type"] = m.position_embedding_type;
  j["norm_type"] = m.norm_type;
  j["use_bias"] = m.use_bias;
  j["qkv_bias"] = m.qkv_bias;
  if (m.sliding_window > 0) j["sliding_window"] = m.sliding_window;
  if (!m.ignored_huggingface_keys.empty()) j["ignored_huggingface_keys"] = m.ignored_huggingface_keys;
  return j;
}

std::filesystem::path model_zoo_dir() {
  return core::data_dir() / "workloads" / "models";
}

std::vector<std::string> list_models() { return core::data_names("workloads/models"); }

ModelSpec load_model(const std::string& name_or_path, const std::string& referrer,
                     const std::string& pointer) {
  std::filesystem::path path;
  if (looks_like_path(name_or_path)) {
    path = name_or_path;  // relative to the current directory
    if (!core::is_regular_file(path))
      throw core::ConfigError(referrer, pointer, "model file \"" + name_or_path + "\" not found");
  } else {
    const std::filesystem::path file = std::filesystem::path("workloads") / "models" / (name_or_path + ".json");
    path = core::find_data_file(file);
    if (path.empty())
      throw core::ConfigError(referrer, pointer,
                              "unknown model \"" + name_or_path + "\" (" + core::list_valid(list_models()) +
                                  "; looked for " + core::searched_for(file) + ": put " + name_or_path +
                                  ".json in one of those folders, list another data folder in FRUGALSIM_DATA_DIR, "
                                  "or give a path to a .json file)");
  }
  const core::Json json = core::load_json_file(path);
  ModelSpec m = read_model(json, path.string(), "");
  if (m.name.empty()) {
    // HuggingFace keeps one config.json per model folder: the folder names the model.
    const auto folder = std::filesystem::absolute(path).parent_path().filename();
    m.name = path.filename() == "config.json" && !folder.empty() ? folder.string() : path.stem().string();
  }
  return m;
}

}  // namespace frugal::workloads
