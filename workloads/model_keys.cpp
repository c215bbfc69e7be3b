// Declarations of the model file keys (FrugalSim's format, HuggingFace config.json) and their
// reference page. Sources of the HuggingFace semantics: the transformers modelling and
// configuration code of each family (LlamaConfig, MistralConfig, Qwen2Config, GPT2Config,
// GPTNeoXConfig), whose defaults apply when a config.json leaves a key out.
#include "workloads/model_keys.hpp"

#include <limits>
#include <sstream>

namespace frugal::workloads {
namespace {

using core::keys::boolean;
using core::keys::choice;
using core::keys::integer;
using core::keys::object;
using core::keys::text;

// Bounds far above any published model (GPT-3: h 12,288, L 96, V 50,257; Llama 3.1 405B: h 16,384,
// L 126, ffn 53,248, V 128,256) that keep every count the model implies within 64-bit integers:
// 12·h²·L parameters < 2^54, times any bytes per parameter < 2^63.
constexpr double kMaxHidden = 1 << 18;
constexpr double kMaxLayers = 1 << 14;
constexpr double kMaxHeads = 1 << 14;
constexpr double kMaxIntermediate = 1 << 20;
constexpr double kMaxVocab = 1 << 24;
constexpr double kMaxPositions = 1 << 24;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

const core::SectionInfo& model_keys() {
  static const core::SectionInfo section{
      "/model",
      "FrugalSim's model format: workloads/models/*.json, a path, or the study's inline object (an object "
      "with `model_type` is read as a HuggingFace config.json instead, below)",
      {{text("name", "label of the model in outputs"), "the file's stem (`config.json`: its folder's name)"},
       text("description", "free text, not used", ""),
       text("source", "where the numbers come from (paper, config URL)", ""),
       integer("hidden_size", "h: width of the residual stream (elements per token)", {}, 1, kMaxHidden),
       integer("num_hidden_layers", "L: transformer layers", {}, 1, kMaxLayers),
       integer("num_attention_heads", "a: attention heads (must divide hidden_size)", {}, 1, kMaxHeads),
       {integer("num_key_value_heads", "key/value heads; fewer than num_attention_heads is grouped-query attention "
                                       "(must divide num_attention_heads)",
                {}, 1, kMaxHeads),
        "num_attention_heads"},
       {integer("intermediate_size", "MLP width (elements per token)", {}, 1, kMaxIntermediate), "4 × hidden_size"},
       integer("vocab_size", "V: vocabulary entries (output head and embedding rows)", {}, 1, kMaxVocab),
       integer("max_position_embeddings", "longest sequence in tokens (bounds /training/seq_length; rows of the "
                                          "learned position table)", 2048, 1, kMaxPositions),
       boolean("gated_mlp", "gated MLP (SwiGLU, Llama): act(gate)·up, three h × intermediate_size matrices instead "
                            "of two", false),
       boolean("tie_word_embeddings", "the output head shares the input embedding (no separate V × h matrix)", true),
       choice("position_embedding_type", {"absolute", "rotary"},
              "absolute: a learned max_position_embeddings × h table; rotary: no table, Q and K rotated", "absolute"),
       choice("norm_type", {"layernorm", "rmsnorm"}, "layernorm: weight and bias; rmsnorm: weight only",
              "layernorm"),
       boolean("use_bias", "biases on every linear layer (GPT: yes; Llama: no)", true),
       boolean("qkv_bias", "biases on the query, key and value projections even without use_bias (Qwen2)", false),
       {integer("sliding_window", "tokens a query attends to (sliding-window attention, Mistral): not modelled, "
                                  "so a study whose seq_length exceeds it is refused", {}, 1, kMaxPositions),
        "none: each token attends to every earlier one"},
       {object("ignored_huggingface_keys", "keys of a HuggingFace config.json that were ignored (they do not change "
                                           "cost), with their values: written to config.resolved.json, not used"),
        "none"}}};
  return section;
}

const HuggingFaceKeys& huggingface_keys() {
  static const HuggingFaceKeys keys = [] {
    HuggingFaceKeys k;
    //                model_type  examples                     gated  norm       positions   bias   qkv    tie    act
    k.families = {{"llama", "Llama 1, 2, 3", true, "rmsnorm", "rotary", false, false, false, "silu"},
                  {"mistral", "Mistral 7B", true, "rmsnorm", "rotary", false, false, false, "silu"},
                  {"qwen2", "Qwen2, Qwen2.5", true, "rmsnorm", "rotary", false, true, false, "silu"},
                  {"gpt2", "GPT-2", false, "layernorm", "absolute", true, false, true, "gelu_new"},
                  {"gpt_neox", "GPT-NeoX-20B, Pythia", false, "layernorm", "rotary", true, false, false, "gelu"}};
    k.moe_model_types = {"mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3", "dbrx",
                         "jamba", "olmoe", "granitemoe", "phimoe", "switch_transformers", "nllb_moe"};
    // Activations are elementwise: their FLOPs are not counted (dense GEMMs only) and their
    // memory traffic is one read and one write whichever function it is.
    k.activations = {"silu", "swish", "gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_accurate",
                     "quick_gelu", "relu"};
    std::vector<std::string> types;
    for (const auto& f : k.families) types.push_back(f.model_type);
    k.mapped = core::SectionInfo{
        "/model",
        "a HuggingFace config.json (an object with `model_type`): the keys that set the model",
        {{choice("model_type", types, "the model family: fixes what config.json does not say (table below)"),
          "required"},
         {object("architectures", "list of class names; each must be a causal language model (`...ForCausalLM`, "
                                  "`...LMHeadModel`)"),
          "a causal language model"},
         {integer("hidden_size", "h (hidden_size)", {}, 1, kMaxHidden), "required (or n_embd)"},
         {integer("n_embd", "GPT-2's name of hidden_size", {}, 1, kMaxHidden), "hidden_size"},
         {integer("num_hidden_layers", "L (num_hidden_layers)", {}, 1, kMaxLayers), "required (or n_layer)"},
         {integer("n_layer", "GPT-2's name of num_hidden_layers", {}, 1, kMaxLayers), "num_hidden_layers"},
         {integer("num_attention_heads", "a (num_attention_heads)", {}, 1, kMaxHeads), "required (or n_head)"},
         {integer("n_head", "GPT-2's name of num_attention_heads", {}, 1, kMaxHeads), "num_attention_heads"},
         {integer("num_key_value_heads", "grouped-query attention (num_key_value_heads)", {}, 1, kMaxHeads), "num_attention_heads"},
         {integer("intermediate_size", "MLP width (intermediate_size)", {}, 1, kMaxIntermediate),
          "required for gated families; else 4 × hidden_size"},
         {integer("n_inner", "GPT-2's name of intermediate_size (null: 4 × hidden_size)", {}, 1, kMaxIntermediate), "4 × hidden_size"},
         {integer("vocab_size", "V (vocab_size)", {}, 1, kMaxVocab), "required"},
         {integer("max_position_embeddings", "longest sequence (max_position_embeddings)", {}, 1, kMaxPositions), "required (or n_positions)"},
         {integer("n_positions", "GPT-2's name of max_position_embeddings", {}, 1, kMaxPositions), "max_position_embeddings"},
         {choice("hidden_act", k.activations,
                 "MLP activation; whether the MLP is gated follows model_type, not this name"),
          "the family's"},
         {choice("activation_function", k.activations, "GPT-2's name of hidden_act"), "the family's"},
         {boolean("tie_word_embeddings", "tie_word_embeddings"), "the family's"},
         {integer("head_dim", "must equal hidden_size / num_attention_heads (other values are not modelled)", {}, 1,
                 kMaxHidden),
          "hidden_size / num_attention_heads"},
         {boolean("attention_bias", "biases on the attention projections: must be the family's (false for llama, "
                                    "mistral; true for gpt_neox)"),
          "the family's"},
         {boolean("mlp_bias", "biases on the MLP projections: must be the family's (false for llama, mistral, qwen2)"),
          "the family's"},
         {integer("sliding_window", "sliding_window (null: none; qwen2: only with use_sliding_window)", {}, 1, kMaxPositions), "none"},
         {boolean("use_sliding_window", "qwen2: whether sliding_window applies"), "false"}}};
    k.ignored = {"_name_or_path", "transformers_version", "torch_dtype", "dtype", "use_cache", "bos_token_id",
                 "eos_token_id", "pad_token_id", "initializer_range", "rms_norm_eps", "layer_norm_epsilon",
                 "layer_norm_eps", "attention_dropout", "hidden_dropout", "classifier_dropout", "attn_pdrop",
                 "embd_pdrop", "resid_pdrop", "rope_theta", "rope_scaling", "rotary_emb_base", "rotary_pct",
                 "pretraining_tp", "max_window_layers", "use_parallel_residual", "n_ctx", "scale_attn_weights",
                 "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "summary_activation",
                 "summary_first_dropout", "summary_proj_to_labels", "summary_type", "summary_use_proj",
                 "task_specific_params"};
    const std::string moe = "mixture-of-experts is not modelled yet (read as a dense model it would count one "
                            "expert per layer: too few parameters, and too few FLOPs with several experts per token)";
    k.refused = {{"num_local_experts", moe},       {"num_experts", moe},
                 {"num_experts_per_tok", moe},     {"n_routed_experts", moe},
                 {"n_shared_experts", moe},        {"moe_intermediate_size", moe},
                 {"shared_expert_intermediate_size", moe}, {"router_aux_loss_coef", moe},
                 {"output_router_logits", moe},    {"decoder_sparse_step", moe},
                 {"q_lora_rank", "low-rank (multi-head latent) attention is not modelled"},
                 {"kv_lora_rank", "low-rank (multi-head latent) attention is not modelled"},
                 {"layer_types", "per-layer attention types (sliding and full layers mixed) are not modelled"},
                 {"add_cross_attention", "cross-attention layers are not modelled"}};
    return k;
  }();
  return keys;
}

std::string model_keys_markdown() {
  const HuggingFaceKeys& hf = huggingface_keys();
  const core::SectionInfo& own = model_keys();
  std::ostringstream out;
  out << "## Model file\n\n"
      << "`/model` of a study is a name from `workloads/models/`, a path to a JSON file (relative to the study "
         "file), or an inline object. Counts are plain integers (elements, tokens, layers, heads). A model "
         "object is read in one of two formats.\n\n"
      << "### FrugalSim format\n\n" << own.summary << ".\n\n" << core::markdown_keys(own)
      << "\n### HuggingFace config.json\n\n"
      << "An object with `model_type` is a HuggingFace `config.json`, read as published; the result is written to "
         "`config.resolved.json` in FrugalSim's format, with `ignored_huggingface_keys` listing what was left out. "
         "Keys that set the model:\n\n"
      << core::markdown_keys(hf.mapped)
      << "\nWhat each `model_type` implies (its modelling code, not its config.json):\n\n"
      << "| model_type | examples | MLP | norm | positions | biases | tie_word_embeddings by default | default "
         "activation |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& f : hf.families)
    out << "| `" << f.model_type << "` | " << f.examples << " | " << (f.gated_mlp ? "gated (3 matrices)" : "2 matrices")
        << " | " << f.norm_type << " | " << f.position_embedding_type << " | "
        << (f.use_bias ? "every linear layer" : f.qkv_bias ? "q, k, v only" : "none") << " | "
        << (f.tie_word_embeddings ? "true" : "false") << " | " << f.hidden_act << " |\n";
  out << "\nAccepted and ignored (they do not change the cost FrugalSim models: tokenizer ids, numerics, dtype "
         "(the study's `/training/precision` decides), dropout (masks are always counted), rotary details, "
         "tooling): ";
  for (std::size_t i = 0; i < hf.ignored.size(); ++i) out << (i ? ", " : "") << "`" << hf.ignored[i] << "`";
  out << ".\n\nRefused with exit code 2 (they change cost in a way FrugalSim does not model), as is a "
         "mixture-of-experts `model_type` (" << joined(hf.moe_model_types) << ") and any key not listed here:\n\n"
      << "| key | why |\n|---|---|\n";
  for (const auto& r : hf.refused) out << "| `" << r.key << "` | " << r.why << " |\n";
  return out.str();
}

}  // namespace frugal::workloads
