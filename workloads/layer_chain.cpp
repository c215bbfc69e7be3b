// Per-layer cost model of a decoder-only transformer: GEMM shapes and FLOPs (Narayanan et al.
// SC'21 eq. 3), parameters (real matrix shapes, GQA and gated MLPs included), stored activations
// (Korthikanti et al. 2022 Table 2, generalised), HBM traffic of the memory-bound ops, for a
// naive or a fused (FlashAttention-2, Dao 2023) attention kernel.
// Everything is per sample (one sequence) and per GPU of a tensor-parallel group.
#include "workloads/layer_chain.hpp"

#include <algorithm>
#include <stdexcept>

namespace frugal::workloads {
namespace {

using std::int64_t;

// Dimensions of one chain, checked once.
struct Dims {
  double s, h, a, kv_dim, ffn, V, s_max;  // s: tokens this GPU holds (s/c with context parallelism)
  double s_kv;    // tokens attended to: the whole sequence
  double t;       // tensor-parallel size
  double sp_div;  // t under sequence parallelism (norms, dropouts, residuals split), else 1
  double vocab_shard;  // ceil(V/t): Megatron pads the vocabulary so that shards are equal
  double e;       // bytes per element of activations in the chain's precision
  bool flash;     // fused attention kernel
  bool fp8;       // Transformer Engine's fp8 recipe: linear-layer GEMM operands cast to fp8
  int64_t s_i, s_kv_i, h_i, a_i, hd_i, kv_dim_i, ffn_i, vocab_shard_i, t_i;
};

[[noreturn]] void invalid(const ModelSpec& m, const std::string& why) {
  throw std::invalid_argument("model \"" + m.name + "\": " + why);
}

std::string str(int64_t v) { return std::to_string(v); }

void check_model(const ModelSpec& m) {
  const std::pair<const char*, int64_t> sizes[] = {
      {"hidden_size", m.hidden_size},
      {"num_hidden_layers", m.num_hidden_layers},
      {"num_attention_heads", m.num_attention_heads},
      {"num_key_value_heads", m.num_key_value_heads},
      {"intermediate_size", m.intermediate_size},
      {"vocab_size", m.vocab_size},
      {"max_position_embeddings", m.max_position_embeddings}};
  for (const auto& [name, v] : sizes)
    if (v <= 0) invalid(m, std::string(name) + " (" + str(v) + ") must be positive");
  if (m.hidden_size % m.num_attention_heads != 0)
    invalid(m, "hidden_size (" + str(m.hidden_size) + ") is not divisible by num_attention_heads (" +
                   str(m.num_attention_heads) + ")");
  if (m.num_attention_heads % m.num_key_value_heads != 0)
    invalid(m, "num_attention_heads (" + str(m.num_attention_heads) +
                   ") is not divisible by num_key_value_heads (" + str(m.num_key_value_heads) + ")");
}

Dims make_dims(const ModelSpec& m, int64_t s, core::Precision precision, const ShardSpec& shard) {
  check_model(m);
  const int64_t t = shard.tensor_parallel;
  if (t < 1) invalid(m, "tensor_parallel (" + str(t) + ") must be >= 1");
  if (m.num_attention_heads % t != 0)
    invalid(m, "num_attention_heads (" + str(m.num_attention_heads) +
                   ") is not divisible by tensor_parallel (" + str(t) + ")");
  if (m.num_key_value_heads % t != 0)
    invalid(m, "num_key_value_heads (" + str(m.num_key_value_heads) +
                   ") is not divisible by tensor_parallel (" + str(t) + ")");
  if (m.intermediate_size % t != 0)
    invalid(m, "intermediate_size (" + str(m.intermediate_size) +
                   ") is not divisible by tensor_parallel (" + str(t) + ")");
  if (s <= 0 || s > m.max_position_embeddings)
    invalid(m, "sequence_length (" + str(s) + ") must be in [1, max_position_embeddings (" +
                   str(m.max_position_embeddings) + ")]");
  // Sliding-window attention (Mistral) costs the same as full attention up to the window, and
  // is not modelled beyond it.
  if (m.sliding_window > 0 && s > m.sliding_window)
    invalid(m, "sequence_length (" + str(s) + ") > sliding_window (" + str(m.sliding_window) +
                   "): sliding-window attention is not modelled");
  const int64_t c = shard.context_parallel;
  if (c < 1 || s % c != 0)
    invalid(m, "sequence_length (" + str(s) + ") is not divisible by context_parallel (" + str(c) + ")");
  Dims d{};
  d.s_i = s / c;
  d.s_kv_i = s;
  d.s_kv = static_cast<double>(s);
  d.h_i = m.hidden_size;
  d.a_i = m.num_attention_heads;
  d.hd_i = m.head_dim();
  d.kv_dim_i = m.kv_dim();
  d.ffn_i = m.intermediate_size;
  d.t_i = t;
  d.vocab_shard_i = (m.vocab_size + t - 1) / t;
  d.s = static_cast<double>(d.s_i);
  d.h = static_cast<double>(m.hidden_size);
  d.a = static_cast<double>(m.num_attention_heads);
  d.kv_dim = static_cast<double>(m.kv_dim());
  d.ffn = static_cast<double>(m.intermediate_size);
  d.V = static_cast<double>(m.vocab_size);
  d.s_max = static_cast<double>(m.max_position_embeddings);
  d.t = static_cast<double>(t);
  d.sp_div = shard.sequence_parallel ? d.t : 1.0;
  d.vocab_shard = static_cast<double>(d.vocab_shard_i);
  d.e = core::stored_bytes_per_element(precision);
  d.flash = shard.attention == AttentionKernel::kFlash;
  d.fp8 = precision == core::Precision::kFp8;
  return d;
}

double norm_params(const ModelSpec& m) {
  return m.norm_type == "rmsnorm" ? m.hidden_size : 2.0 * m.hidden_size;  // weight (+ bias)
}

// Parameters of one transformer layer held by one GPU of a t-way tensor-parallel group.
// Column-parallel matrices (QKV, MLP up/gate) split their columns and biases by t; row-parallel
// matrices (attention out, MLP down) split their rows by t but keep their bias replicated, as do
// both norms (Megatron-LM). For GPT shapes and t = 1: 12h² + 13h.
double transformer_params(const ModelSpec& m, int64_t t) {
  const double h = m.hidden_size, kv = m.kv_dim(), ffn = m.intermediate_size, td = t;
  const double bias = m.use_bias ? 1.0 : 0.0;
  const double qkv_bias = m.use_bias || m.qkv_bias ? 1.0 : 0.0;  // Qwen2: q, k, v biases alone
  const double qkv = h * (h + 2 * kv) / td + qkv_bias * (h + 2 * kv) / td;
  const double out = h * h / td + bias * h;
  const double n_in = m.gated_mlp ? 2.0 : 1.0;  // gate and up, or up alone
  const double mlp = n_in * (h * ffn / td + bias * ffn / td) + ffn * h / td + bias * h;
  return qkv + out + mlp + 2 * norm_params(m);
}

double embedding_params(const ModelSpec& m, int64_t t) {
  const double vocab_shard = static_cast<double>((m.vocab_size + t - 1) / t);
  const double positions = m.position_embedding_type == "absolute"
                               ? static_cast<double>(m.max_position_embeddings) * m.hidden_size
                               : 0.0;  // rotary has no table; the learned table is replicated
  return vocab_shard * m.hidden_size + positions;
}

double head_params(const ModelSpec& m, int64_t t) {
  const double vocab_shard = static_cast<double>((m.vocab_size + t - 1) / t);
  return norm_params(m) + (m.tie_word_embeddings ? 0.0 : vocab_shard * m.hidden_size);
}

double sum_flops(const std::vector<GemmShape>& gemms) {
  double f = 0;
  for (const auto& g : gemms) f += g.flops();
  return f;
}

// Stored activation bytes of one transformer layer, per sample. Korthikanti et al. 2022 §4,
// term by term (16-bit tensors count 2 bytes, dropout masks 1 byte):
//   replicated under TP, split by t under SP: inputs of norm1, QKV, norm2, MLP-up (4·s·h
//   elements) and two dropout masks (2·s·h bytes);
//   split by t: Q (s·h), K and V (s·kv_dim each), attention-out input (s·h), MLP intermediates
//   (GeLU: its input and output, 2·s·ffn; SwiGLU: gate and up pre-activations and the down
//   input, 3·s·ffn), softmax output and attention-dropout output (2·(a/t)·s² elements) and the
//   attention-dropout mask ((a/t)·s² bytes).
// For GPT shapes and e = 2 this is exactly s·h·(10 + 24/t + 5as/(ht)) (TP) and its SP/selective
// rows. Other precisions scale the element tensors by e/2; masks stay 1 byte. Dropout masks are
// counted for every model (Megatron's defaults), a slight overestimate for dropout-free Llamas.
// A fused kernel stores none of the s² tensors (it regenerates its dropout mask from the RNG
// state); it keeps its output (the attention-out input above) and the fp32 log-sum-exp of each
// query row and head, 4·(a/t)·s bytes.
// The fused kernel's fp32 log-sum-exp of each query row and head, per sample: 4·(a/t)·s bytes
// (stored for its backward, written once in its forward).
double log_sum_exp_bytes(const Dims& d) { return 4 * d.a / d.t * d.s; }

struct TransformerActivations {
  double kept_always;    // stored unless full recompute
  double attention_s2;   // the 5as²b/t term, dropped by selective recompute (0 when fused)
  double layer_input;    // what full recompute keeps
};

TransformerActivations transformer_activations(const ModelSpec& m, const Dims& d) {
  const double e = d.e;
  const double replicated = (4 * d.s * d.h * e + 2 * d.s * d.h) / d.sp_div;
  const double mlp_tensors = m.gated_mlp ? 3.0 : 2.0;
  const double split = (2 * d.s * d.h + 2 * d.s * d.kv_dim + mlp_tensors * d.s * d.ffn) * e / d.t;
  if (d.flash) return {replicated + split + log_sum_exp_bytes(d), 0.0, d.s * d.h * e / d.sp_div};
  const double scores = d.a / d.t * d.s * d.s_kv;
  return {replicated + split, scores * (2 * e + 1), d.s * d.h * e / d.sp_div};
}

// HBM traffic (bytes) of the memory-bound ops of one transformer layer's forward, per sample.
// GEMM operands are not counted (they belong to the GEMM's own cost); bias adds are fused into
// GEMM epilogues. Terms (elements × e unless noted):
//   norm1, norm2: read + write s·h each (split by SP);
//   rotary embedding (if rotary): read + write Q and K, 2·s·(h + kv_dim)/t;
//   softmax with fused scale and causal mask: read + write (a/t)·s²;
//   attention dropout: read + write (a/t)·s², plus a 1-byte mask;
//   two dropout + residual adds: read 2, write 1 s·h tensors, plus a 1-byte mask (split by SP);
//   activation: GeLU reads and writes s·ffn/t; SwiGLU reads 2 and writes 1.
// That is the naive kernel (scores materialised), as in Korthikanti's analysis. The fused kernel
// streams no score tensor: its operands are its GEMMs' (not counted, as for every GEMM) and it
// writes the fp32 log-sum-exp, 4·(a/t)·s bytes, in place of the softmax and dropout terms.
struct TransformerTraffic {
  double forward;
  double softmax_dropout;  // the part selective recompute replays (0 when fused)
};

// HBM traffic (bytes) of an fp8 job's casts in one transformer layer, per sample (0 in other
// precisions). Transformer Engine casts each linear layer's input to fp8 together with its
// transpose for the weight gradient, reading 2 bytes and writing 1 + 1 per element, in the
// forward (QKV and MLP-up/gate read the two norm outputs, s·h each; attention-out and MLP-down
// their s·h/t and s·ffn/t inputs), and each linear layer's output gradient likewise in the
// backward. One cast kernel per linear input or output gradient (four each way). The fp8 copies
// of the weights are cast once per iteration, not per micro-batch: not counted.
struct CastTraffic {
  double forward = 0, backward = 0;
  int kernels = 0;  // each way
};

CastTraffic fp8_cast_traffic(const ModelSpec& m, const Dims& d) {
  if (!d.fp8) return {};
  constexpr double kCastBytes = 2 + 1 + 1;
  const double inputs = d.s * (2 * d.h + d.h / d.t + d.ffn / d.t);
  const double output_gradients = d.s * ((d.h + 2 * d.kv_dim) / d.t + 2 * d.h + (m.gated_mlp ? 2.0 : 1.0) * d.ffn / d.t);
  return {kCastBytes * inputs, kCastBytes * output_gradients, 4};
}

TransformerTraffic transformer_traffic(const ModelSpec& m, const Dims& d) {
  const double e = d.e;
  const double sh = d.s * d.h / d.sp_div;
  const double norms = 2 * (2 * sh * e);
  const double residuals = 2 * (sh * (3 * e + 1));
  const double rotary =
      m.position_embedding_type == "rotary" ? 2 * d.s * (d.h + d.kv_dim) / d.t * e : 0.0;
  const double activation = (m.gated_mlp ? 3.0 : 2.0) * d.s * d.ffn / d.t * e;
  const double norms_residuals_rotary = norms + residuals + rotary;
  if (d.flash) return {norms_residuals_rotary + log_sum_exp_bytes(d) + activation, 0.0};
  const double scores = d.a / d.t * d.s * d.s_kv;
  const double softmax_dropout = 2 * scores * e + scores * (2 * e + 1);
  return {norms_residuals_rotary + softmax_dropout + activation, softmax_dropout};
}

Layer embedding_layer(const ModelSpec& m, const Dims& d) {
  Layer l;
  l.name = "embedding";
  l.kind = LayerKind::kEmbedding;
  l.parameters = embedding_params(m, d.t_i);
  const double e = d.e;
  const double sh = d.s * d.h;
  const bool absolute = m.position_embedding_type == "absolute";
  // Forward: gather s rows and write them (2·s·h); absolute positions: read the position rows
  // and the token rows, write the sum (3·s·h); embedding dropout: read + write + 1-byte mask.
  // Backward: scatter-add of the output gradient into the table rows (read gradient,
  // read-modify-write rows: 3·s·h), the same for the position table, dropout backward.
  const double dropout = sh / d.sp_div * (2 * e + 1);
  l.forward_memory_bytes = 2 * sh * e + (absolute ? 3 * sh * e / d.sp_div : 0.0) + dropout;
  l.backward_memory_bytes = 3 * sh * e + (absolute ? 3 * sh * e / d.sp_div : 0.0) + dropout;
  // Stored: the token ids (int64) for the backward scatter and the dropout mask.
  l.activation_bytes = 8 * d.s + sh / d.sp_div;
  l.input_bytes = l.activation_bytes;
  // The gathered rows before the tensor-parallel reduction are a full s·h tensor.
  l.transient_bytes = sh * e;
  l.output_bytes = sh * e / d.sp_div;
  // Kernels: gather (backward: scatter-add), position add when absolute, dropout.
  l.forward_kernels = l.backward_kernels = absolute ? 3 : 2;
  return l;
}

Layer transformer_layer(const ModelSpec& m, const Dims& d, const ShardSpec& shard, int64_t index) {
  Layer l;
  l.name = "layer_" + std::to_string(index);
  l.kind = LayerKind::kTransformer;
  const int64_t s = d.s_i, h = d.h_i, t = d.t_i;
  const int64_t heads = d.a_i / t;
  // A fused kernel skips the key blocks the causal mask hides: each query attends on average to
  // half the keys (also with context parallelism, whose load-balanced split gives every GPU
  // early and late queries), so both attention GEMMs run over ⌈s_kv/2⌉ keys.
  const int64_t keys = d.flash ? (d.s_kv_i + 1) / 2 : d.s_kv_i;
  l.forward_gemms.push_back({"qkv", s, (h + 2 * d.kv_dim_i) / t, h, 1, true});
  l.forward_gemms.push_back({"attn_scores", s, keys, d.hd_i, heads, false, true});
  l.forward_gemms.push_back({"attn_values", s, d.hd_i, keys, heads, false, true});
  l.forward_gemms.push_back({"attn_out", s, h, h / t, 1});
  l.forward_gemms.push_back({"mlp_up", s, d.ffn_i / t, h, 1, true});
  if (m.gated_mlp) l.forward_gemms.push_back({"mlp_gate", s, d.ffn_i / t, h, 1, true});
  l.forward_gemms.push_back({"mlp_down", s, h, d.ffn_i / t, 1});
  l.forward_flops = sum_flops(l.forward_gemms);
  // Each GEMM's backward computes the input gradient and the weight gradient: 2× the forward.
  // The fused backward also recomputes the scores QKᵀ from Q, K and the log-sum-exp.
  if (d.flash) l.backward_replayed_gemms.push_back(l.forward_gemms[1]);
  l.backward_flops = 2 * l.forward_flops + sum_flops(l.backward_replayed_gemms);
  l.parameters = transformer_params(m, t);

  const TransformerActivations act = transformer_activations(m, d);
  const TransformerTraffic traffic = transformer_traffic(m, d);
  const double all = act.kept_always + act.attention_s2;
  // Elementwise backward reads the output gradient and a saved tensor and writes the input
  // gradient: about twice the forward traffic. Recomputation replays forward traffic.
  const CastTraffic casts = fp8_cast_traffic(m, d);
  l.forward_memory_bytes = traffic.forward + casts.forward;
  l.backward_memory_bytes = 2 * traffic.forward + casts.backward;
  // Kernels, one per term of the traffic above: two norms, rotary (when used), two dropout +
  // residual adds and the activation (the same count backward); one per dense GEMM forward and
  // two (input and weight gradients) backward; the attention core: naive, the scores and values
  // GEMMs, softmax and dropout (backward: four GEMMs, softmax and dropout gradients); fused, one
  // kernel forward and two backward (FlashAttention-2's preprocessing of dO·O and its main kernel);
  // an fp8 job's cast kernels.
  const int elementwise = 5 + (m.position_embedding_type == "rotary" ? 1 : 0);
  const int dense_gemms = static_cast<int>(l.forward_gemms.size()) - 2;
  const int attention_forward = d.flash ? 1 : 4;
  l.forward_kernels = elementwise + dense_gemms + attention_forward + casts.kernels;
  l.backward_kernels = elementwise + 2 * dense_gemms + (d.flash ? 2 : 6) + casts.kernels;
  l.input_bytes = act.layer_input;
  l.recompute = shard.recompute_of(index);
  switch (l.recompute) {
    case Recompute::kNone:
      l.activation_bytes = all;
      break;
    case Recompute::kSelective:
      // A fused kernel stores nothing that selective recomputation would drop: it changes nothing.
      l.activation_bytes = act.kept_always;
      if (!d.flash) {
        l.recompute_gemms = {l.forward_gemms[1], l.forward_gemms[2]};
        l.recompute_flops = sum_flops(l.recompute_gemms);
        l.recompute_kernels = attention_forward;
      }
      l.recompute_memory_bytes = traffic.softmax_dropout;
      break;
    case Recompute::kFull:
      l.activation_bytes = act.layer_input;
      l.recompute_gemms = l.forward_gemms;
      l.recompute_flops = l.forward_flops;
      l.recompute_kernels = l.forward_kernels;
      l.recompute_memory_bytes = l.forward_memory_bytes;
      break;
  }
  // Workspace: the larger of the attention kernel's and the gradient of the MLP intermediate(s);
  // plus, during the backward, whatever recomputation rematerialises. The naive kernel
  // materialises the pre-softmax scores ((a/t)·s²; their gradient in the backward is the same
  // size); the fused backward accumulates dQ in fp32 (4·s·h/t bytes).
  const double attention_workspace = d.flash ? 4 * d.s * d.h / d.t : d.a / d.t * d.s * d.s_kv * d.e;
  const double mlp_grad = (m.gated_mlp ? 2.0 : 1.0) * d.s * d.ffn / d.t * d.e;
  l.transient_bytes = std::max(attention_workspace, mlp_grad) + (all - l.activation_bytes);
  l.output_bytes = d.s * d.h * d.e / d.sp_div;
  l.kv_bytes = 2 * d.s * d.kv_dim / d.t * d.e;
  return l;
}

Layer head_layer(const ModelSpec& m, const Dims& d) {
  Layer l;
  l.name = "head";
  l.kind = LayerKind::kHead;
  // Logits over the vocabulary shard (vocab-parallel output layer, Megatron).
  l.forward_gemms.push_back({"logits", d.s_i, d.vocab_shard_i, d.h_i, 1, false, true});
  l.forward_flops = sum_flops(l.forward_gemms);
  l.backward_flops = 2 * l.forward_flops;
  l.parameters = head_params(m, d.t_i);
  const double e = d.e;
  const double sh = d.s * d.h / d.sp_div;
  const double logits = d.s * d.vocab_shard;
  // Cross-entropy in fp32, as Megatron's vocab-parallel loss does: read the logits (e), write
  // an fp32 copy, max-subtract/exp in place (read + write), sum (read): e + 16 bytes/element.
  // Backward: read the fp32 softmax, write the logit gradient (4 + e). Final norm: 2·s·h forward,
  // twice that backward.
  l.forward_memory_bytes = 2 * sh * e + logits * (e + 16);
  l.backward_memory_bytes = 4 * sh * e + logits * (4 + e);
  // Stored (Korthikanti §4.3, 4·s·b·h/t·(1 + V/h) under SP): the final norm input and the
  // logits GEMM input (s·h each, split by SP), and the fp32 softmax of the logits (4 bytes).
  l.activation_bytes = 2 * sh * e + 4 * logits;
  l.input_bytes = sh * e;
  l.transient_bytes = 4 * logits;  // the fp32 gradient of the logits
  l.output_bytes = 0;              // only the scalar loss leaves the head
  // Kernels: final norm, logits GEMM, the loss's max, exp-sum and loss reductions; backward: the
  // loss gradient, two GEMMs, the norm's gradient.
  l.forward_kernels = 5;
  l.backward_kernels = 4;
  return l;
}

}  // namespace

std::string to_string(AttentionKernel k) { return k == AttentionKernel::kFlash ? "flash" : "naive"; }

std::string to_string(Recompute r) {
  switch (r) {
    case Recompute::kNone: return "none";
    case Recompute::kSelective: return "selective";
    case Recompute::kFull: return "full";
  }
  return "?";
}

double LayerChain::forward_flops() const {
  double f = 0;
  for (const auto& l : layers) f += l.forward_flops;
  return f;
}

double LayerChain::backward_flops() const {
  double f = 0;
  for (const auto& l : layers) f += l.backward_flops;
  return f;
}

double LayerChain::recompute_flops() const {
  double f = 0;
  for (const auto& l : layers) f += l.recompute_flops;
  return f;
}

double LayerChain::parameters() const {
  double p = 0;
  for (const auto& l : layers) p += l.parameters;
  return p;
}

double LayerChain::activation_bytes() const {
  double b = 0;
  for (const auto& l : layers) b += l.activation_bytes;
  return b;
}

LayerChain build_layer_chain(const ModelSpec& model, std::int64_t sequence_length,
                             core::Precision precision, const ShardSpec& shard) {
  const Dims d = make_dims(model, sequence_length, precision, shard);
  if (!shard.per_layer.empty() && static_cast<std::int64_t>(shard.per_layer.size()) != model.num_hidden_layers)
    throw std::invalid_argument("per-layer recomputation lists " + std::to_string(shard.per_layer.size()) +
                                " layers, the model has num_hidden_layers = " + std::to_string(model.num_hidden_layers));
  LayerChain chain;
  chain.sequence_length = sequence_length;
  chain.precision = precision;
  chain.shard = shard;
  chain.layers.reserve(static_cast<std::size_t>(model.num_hidden_layers) + 2);
  chain.layers.push_back(embedding_layer(model, d));
  for (std::int64_t i = 0; i < model.num_hidden_layers; ++i)
    chain.layers.push_back(transformer_layer(model, d, shard, i));
  chain.layers.push_back(head_layer(model, d));
  return chain;
}

double parameter_count(const ModelSpec& model) {
  check_model(model);
  return embedding_params(model, 1) +
         static_cast<double>(model.num_hidden_layers) * transformer_params(model, 1) +
         head_params(model, 1);
}

double model_flops_per_iteration(const ModelSpec& model, std::int64_t sequence_length, double samples) {
  // Model FLOPs exclude recomputation by definition (MFU, Narayanan et al. §5.1).
  const LayerChain chain = build_layer_chain(model, sequence_length, core::Precision::kBf16);
  return samples * (chain.forward_flops() + chain.backward_flops());
}

}  // namespace frugal::workloads
