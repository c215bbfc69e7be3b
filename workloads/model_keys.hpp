// The keys of a model file, declared once: FrugalSim's own format and the HuggingFace
// config.json keys it accepts. The readers (model_spec.cpp, huggingface_config.cpp) read through
// these declarations and docs/reference.md is generated from them, so the two cannot drift.
#pragma once

#include <string>
#include <vector>

#include "sim/core/plugin.hpp"

namespace frugal::workloads {

/// FrugalSim's model format (workloads/models/*.json, a study's inline `/model`): every key, its
/// type, default (or what its absence means) and meaning. read_model reads exactly these.
const core::SectionInfo& model_keys();

/// What a HuggingFace `model_type` implies for the block: the structure its modelling code
/// hard-wires, which config.json does not spell out.
struct HuggingFaceFamily {
  std::string model_type;               ///< "llama"
  std::string examples;                 ///< "Llama 2, Llama 3"
  bool gated_mlp = false;               ///< act(gate)·up then down (three h×ffn matrices)
  std::string norm_type;                ///< "rmsnorm" or "layernorm"
  std::string position_embedding_type;  ///< "rotary" or "absolute"
  bool use_bias = false;                ///< biases on every linear layer
  bool qkv_bias = false;                ///< biases on q, k, v only (Qwen2)
  bool tie_word_embeddings = false;     ///< the family's default when config.json omits the key
  std::string hidden_act;               ///< the family's default activation
};

/// A key refused because it changes cost in a way FrugalSim does not model.
struct RefusedKey {
  std::string key;
  std::string why;  ///< the error message (exit 2)
};

/// The HuggingFace config.json keys FrugalSim knows. An object with `model_type` is read as one.
struct HuggingFaceKeys {
  core::SectionInfo mapped;              ///< keys that set the model's structure (typed, bounded)
  std::vector<std::string> ignored;      ///< keys that do not change cost: accepted, recorded
  std::vector<RefusedKey> refused;       ///< keys that change cost and are not modelled: exit 2
  std::vector<HuggingFaceFamily> families;       ///< supported model_type values
  std::vector<std::string> moe_model_types;      ///< mixture-of-experts families: refused
  std::vector<std::string> activations;          ///< accepted hidden_act / activation_function values
};
const HuggingFaceKeys& huggingface_keys();

/// docs/reference.md's section on model files, from the declarations above.
std::string model_keys_markdown();

}  // namespace frugal::workloads
