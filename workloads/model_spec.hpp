// Transformer model description with HuggingFace config.json field names, and the model zoo.
// A model object is FrugalSim's own format or a HuggingFace config.json (it has `model_type`);
// both are declared in workloads/model_keys.hpp. Pure data: no SimGrid, no policies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"

namespace frugal::workloads {

/// A decoder-only transformer. Field names follow HuggingFace's config.json.
struct ModelSpec {
  std::string name;
  std::int64_t hidden_size = 0;              ///< h
  std::int64_t num_hidden_layers = 0;        ///< L
  std::int64_t num_attention_heads = 0;      ///< a
  std::int64_t num_key_value_heads = 0;      ///< grouped-query attention when < a (defaults to a)
  std::int64_t intermediate_size = 0;        ///< MLP width (defaults to 4h)
  std::int64_t vocab_size = 0;               ///< V
  std::int64_t max_position_embeddings = 0;  ///< longest sequence the model accepts
  bool gated_mlp = false;                    ///< SwiGLU-style MLP: three h×ffn matrices (Llama)
  bool tie_word_embeddings = true;           ///< output head shares the input embedding
  std::string position_embedding_type = "absolute";  ///< "absolute" (learned table) or "rotary"
  std::string norm_type = "layernorm";       ///< "layernorm" (weight+bias) or "rmsnorm" (weight)
  bool use_bias = true;                      ///< biases in the linear layers (GPT yes, Llama no)
  bool qkv_bias = false;                     ///< query/key/value biases even without use_bias (Qwen2)
  /// Sliding-window attention span in tokens (Mistral); 0: none. Not modelled: a study whose
  /// seq_length exceeds it is refused (with seq_length <= window the cost is the same).
  std::int64_t sliding_window = 0;
  /// Keys of a HuggingFace config.json read and left out because they do not change cost, with
  /// their values as written (an object; empty for FrugalSim's own format). Kept so that
  /// config.resolved.json says what was ignored; never read by the cost model.
  core::Json ignored_huggingface_keys = core::Json::object();
  std::string description;                   ///< free text, optional
  std::string source;                        ///< where the numbers come from (paper, config URL)

  bool operator==(const ModelSpec&) const = default;

  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
  std::int64_t kv_dim() const { return head_dim() * num_key_value_heads; }
};

/// Reads a model object, FrugalSim's format or a HuggingFace config.json (an object with
/// `model_type`, read_huggingface_config); errors name `file` and the pointer under `pointer`.
ModelSpec read_model(const core::Json& value, const std::string& file, const std::string& pointer);

/// Writes the model back (every field explicit): read_model(to_json(m)) == m.
core::Json to_json(const ModelSpec& model);

/// The zoo folder (workloads/models) of the first data folder (core::data_search_path()).
std::filesystem::path model_zoo_dir();

/// Names of the zoo's models: stems of workloads/models/*.json over the data search path
/// (core::data_search_path()), sorted.
std::vector<std::string> list_models();

/// Loads a model by zoo name ("gpt3-1.3b": the first workloads/models/<name>.json of the data
/// search path) or by path to a JSON file. Errors name the file, or `referrer` / `pointer` when
/// the name is unknown (listing valid names and every place looked in). A model without a name
/// is named after its file's stem, or its folder for a `config.json` (HuggingFace's layout).
ModelSpec load_model(const std::string& name_or_path, const std::string& referrer = "",
                     const std::string& pointer = "");

}  // namespace frugal::workloads
