// Reading a HuggingFace config.json (Llama, Mistral, Qwen2, GPT-2, GPT-NeoX) as a ModelSpec,
// through the declarations of workloads/model_keys.hpp. Must not guess: a key that changes cost
// and is not modelled, or that it does not know, is a ConfigError naming file and pointer.
#pragma once

#include <string>

#include "workloads/model_spec.hpp"

namespace frugal::workloads {

/// True when `value` is an object with `model_type` (HuggingFace's config.json always has it;
/// FrugalSim's format never does).
bool is_huggingface_config(const core::Json& value);

/// The model a HuggingFace config.json describes. The family (`model_type`) fixes what the file
/// does not say (gated MLP, norm, positions, biases, defaults); keys that do not change cost are
/// kept in `ignored_huggingface_keys`; a null value means the key's default, as in HuggingFace.
/// Throws core::ConfigError at file:pointer/key for a mixture-of-experts model, a refused or
/// unknown key, a missing required key or a wrong value. `name` is the `_name_or_path`'s last
/// component, or empty (load_model then names it after its folder).
ModelSpec read_huggingface_config(const core::Json& value, const std::string& file, const std::string& pointer);

}  // namespace frugal::workloads
