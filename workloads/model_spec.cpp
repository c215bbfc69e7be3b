// Reading and writing model descriptions (HuggingFace config.json names) and finding the zoo.
// Strict: unknown keys, wrong types and impossible shapes are ConfigErrors naming the pointer.
#include "workloads/model_spec.hpp"
#include "sim/core/build_info.hpp"

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace frugal::workloads {
namespace {

const std::vector<std::string> kPositionTypes = {"absolute", "rotary"};
const std::vector<std::string> kNormTypes = {"layernorm", "rmsnorm"};

bool looks_like_path(const std::string& s) {
  return s.find('/') != std::string::npos ||
         (s.size() >= 5 && s.compare(s.size() - 5, 5, ".json") == 0);
}

}  // namespace

ModelSpec read_model(const core::Json& value, const std::string& file, const std::string& pointer) {
  core::ObjectReader r(value, file, pointer);
  ModelSpec m;
  m.name = r.string_or("name", "");
  m.description = r.string_or("description", "");
  m.source = r.string_or("source", "");
  m.hidden_size = r.integer("hidden_size", 1);
  m.num_hidden_layers = r.integer("num_hidden_layers", 1);
  m.num_attention_heads = r.integer("num_attention_heads", 1);
  m.vocab_size = r.integer("vocab_size", 1);
  // HuggingFace defaults: no GQA, the GPT 4h MLP, GPT-2/3 context.
  m.num_key_value_heads = r.integer_or("num_key_value_heads", m.num_attention_heads, 1);
  m.intermediate_size = r.integer_or("intermediate_size", 4 * m.hidden_size, 1);
  m.max_position_embeddings = r.integer_or("max_position_embeddings", 2048, 1);
  m.gated_mlp = r.boolean_or("gated_mlp", false);
  m.tie_word_embeddings = r.boolean_or("tie_word_embeddings", true);
  m.position_embedding_type = r.choice_or("position_embedding_type", kPositionTypes, "absolute");
  m.norm_type = r.choice_or("norm_type", kNormTypes, "layernorm");
  m.use_bias = r.boolean_or("use_bias", true);
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
    if (!std::filesystem::is_regular_file(path))
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
  if (m.name.empty()) m.name = path.stem().string();
  return m;
}

}  // namespace frugal::workloads
