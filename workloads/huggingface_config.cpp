// HuggingFace config.json → ModelSpec. Every key of the input is accounted for: mapped (read
// through huggingface_keys().mapped), ignored (recorded), refused or unknown (ConfigError).
#include "workloads/huggingface_config.hpp"

#include <algorithm>
#include <optional>

#include "workloads/model_keys.hpp"

namespace frugal::workloads {
namespace {

using core::Json;

bool contains(const std::vector<std::string>& names, const std::string& key) {
  return std::find(names.begin(), names.end(), key) != names.end();
}

bool is_mapped(const HuggingFaceKeys& hf, const std::string& key) {
  return std::any_of(hf.mapped.keys.begin(), hf.mapped.keys.end(),
                     [&](const core::SectionKey& k) { return k.spec.name == key; });
}

std::string str(std::int64_t v) { return std::to_string(v); }

/// Reads the mapped keys of one config, with GPT-2's aliases and the family's defaults.
class Reader {
 public:
  Reader(core::ObjectReader& r, const core::PluginParams& p, const HuggingFaceFamily& family)
      : r_(r), p_(p), family_(family) {}

  /// `key` or its GPT-2 `alias`; a key given twice with different values is an error.
  std::optional<std::int64_t> integer(const std::string& key, const std::string& alias = "") const {
    const bool a = p_.has(key), b = !alias.empty() && p_.has(alias);
    if (a && b && p_.integer(key) != p_.integer(alias))
      r_.fail(alias, alias + " (" + str(p_.integer(alias)) + ") contradicts " + key + " (" + str(p_.integer(key)) + ")");
    if (a) return p_.integer(key);
    if (b) return p_.integer(alias);
    return std::nullopt;
  }

  std::int64_t required(const std::string& key, const std::string& alias = "") const {
    if (auto v = integer(key, alias)) return *v;
    r_.fail(key, "missing required key" + (alias.empty() ? std::string() : " (or " + alias + ")"));
  }

  bool boolean(const std::string& key, bool fallback) const { return p_.has(key) ? p_.boolean(key) : fallback; }

  /// A boolean the family fixes: any other value is a structure FrugalSim does not model.
  void must_be(const std::string& key, bool expected, const std::string& what) const {
    if (p_.has(key) && p_.boolean(key) != expected)
      r_.fail(key, key + " = " + (expected ? "false" : "true") + " (" + what + ") is not modelled for model_type \"" +
                       family_.model_type + "\" (only " + (expected ? "true" : "false") + ")");
  }

 private:
  core::ObjectReader& r_;
  const core::PluginParams& p_;
  const HuggingFaceFamily& family_;
};

void check_architectures(core::ObjectReader& r) {
  if (!r.has("architectures")) return;
  const Json& list = r.array("architectures");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = r.pointer_of("architectures") + "/" + std::to_string(i);
    if (!list[i].is_string()) throw core::ConfigError(r.file(), at, "expected a class name (a string)");
    const auto name = list[i].get<std::string>();
    if (!name.ends_with("ForCausalLM") && !name.ends_with("LMHeadModel"))
      throw core::ConfigError(r.file(), at, "\"" + name + "\" is not a causal language model (...ForCausalLM, "
                                            "...LMHeadModel): only those are modelled");
  }
}

}  // namespace

bool is_huggingface_config(const Json& value) { return value.is_object() && value.contains("model_type"); }

ModelSpec read_huggingface_config(const Json& value, const std::string& file, const std::string& pointer) {
  const HuggingFaceKeys& hf = huggingface_keys();
  core::ObjectReader top(value, file, pointer);

  // A mixture-of-experts family is named as such, before any of its keys is looked at.
  if (value.contains("model_type") && value["model_type"].is_string() &&
      contains(hf.moe_model_types, value["model_type"].get<std::string>()))
    top.fail("model_type", "\"" + value["model_type"].get<std::string>() +
                               "\" is a mixture-of-experts model: mixture-of-experts is not modelled yet");
  // Every key accounted for before any is read.
  Json mapped = Json::object();
  Json ignored = Json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const auto refused = std::find_if(hf.refused.begin(), hf.refused.end(), [&](const RefusedKey& k) { return k.key == key; });
    if (refused != hf.refused.end()) top.fail(key, refused->why);
    if (contains(hf.ignored, key)) {
      ignored[key] = it.value();
    } else if (is_mapped(hf, key)) {
      if (!it.value().is_null()) mapped[key] = it.value();  // null: HuggingFace's default
    } else {
      top.fail(key, "unknown key in a HuggingFace config.json: it may change cost, so it is refused (the keys FrugalSim "
                    "maps, ignores and refuses are listed in docs/reference.md, section Model file)");
    }
  }
  core::ObjectReader r(mapped, file, pointer);
  const std::string model_type = r.string("model_type");
  std::vector<std::string> types;
  for (const auto& f : hf.families) types.push_back(f.model_type);
  const auto family_it = std::find_if(hf.families.begin(), hf.families.end(),
                                      [&](const HuggingFaceFamily& f) { return f.model_type == model_type; });
  if (family_it == hf.families.end())
    r.fail("model_type", "model_type \"" + model_type + "\" is not modelled (" + core::list_valid(types) + ")");
  const HuggingFaceFamily& family = *family_it;
  check_architectures(r);
  const core::PluginParams p = core::read_section(r, hf.mapped);
  r.finish();
  const Reader read(r, p, family);

  ModelSpec m;
  m.hidden_size = read.required("hidden_size", "n_embd");
  m.num_hidden_layers = read.required("num_hidden_layers", "n_layer");
  m.num_attention_heads = read.required("num_attention_heads", "n_head");
  m.num_key_value_heads = read.integer("num_key_value_heads").value_or(m.num_attention_heads);
  if (family.gated_mlp) {
    if (p.has("n_inner")) r.fail("n_inner", "n_inner is GPT-2's key; model_type \"" + model_type + "\" uses intermediate_size");
    m.intermediate_size = read.required("intermediate_size");
  } else {
    m.intermediate_size = read.integer("intermediate_size", "n_inner").value_or(4 * m.hidden_size);
  }
  m.vocab_size = read.required("vocab_size");
  m.max_position_embeddings = read.required("max_position_embeddings", "n_positions");
  if (p.has("hidden_act") && p.has("activation_function") && p.string("hidden_act") != p.string("activation_function"))
    r.fail("activation_function", "activation_function contradicts hidden_act");
  m.gated_mlp = family.gated_mlp;
  m.tie_word_embeddings = read.boolean("tie_word_embeddings", family.tie_word_embeddings);
  m.position_embedding_type = family.position_embedding_type;
  m.norm_type = family.norm_type;
  m.use_bias = family.use_bias;
  m.qkv_bias = family.qkv_bias;
  read.must_be("attention_bias", family.use_bias || family.qkv_bias, "biases on the attention projections");
  read.must_be("mlp_bias", family.use_bias, "biases on the MLP projections");
  if (auto head_dim = read.integer("head_dim");
      head_dim && *head_dim * m.num_attention_heads != m.hidden_size)
    r.fail("head_dim", "head_dim (" + str(*head_dim) + ") × num_attention_heads (" + str(m.num_attention_heads) +
                           ") != hidden_size (" + str(m.hidden_size) + "): attention wider or narrower than the "
                           "residual stream is not modelled");
  // Qwen2 carries sliding_window even when it is off (use_sliding_window: false).
  const bool window_on = model_type == "qwen2" ? read.boolean("use_sliding_window", false) : true;
  if (p.has("use_sliding_window") && model_type != "qwen2")
    r.fail("use_sliding_window", "use_sliding_window is Qwen2's key; model_type \"" + model_type + "\" has none");
  if (window_on) m.sliding_window = read.integer("sliding_window").value_or(0);

  // Shapes that cannot be built, with the arithmetic (as read_model does).
  if (m.hidden_size % m.num_attention_heads != 0)
    r.fail(p.has("n_head") ? "n_head" : "num_attention_heads",
           "hidden_size (" + str(m.hidden_size) + ") is not divisible by num_attention_heads (" +
               str(m.num_attention_heads) + ")");
  if (m.num_attention_heads % m.num_key_value_heads != 0)
    r.fail("num_key_value_heads", "num_attention_heads (" + str(m.num_attention_heads) +
                                      ") is not divisible by num_key_value_heads (" + str(m.num_key_value_heads) + ")");

  if (ignored.contains("_name_or_path") && ignored["_name_or_path"].is_string()) {
    const auto path = ignored["_name_or_path"].get<std::string>();
    m.name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  }
  m.description = family.examples + " (HuggingFace model_type \"" + model_type + "\")";
  m.source = "HuggingFace config.json " + (file.empty() ? std::string("(inline)") : file) + pointer;
  m.ignored_huggingface_keys = std::move(ignored);
  return m;
}

}  // namespace frugal::workloads
