// Layer cost model against closed forms: Narayanan FLOPs, Korthikanti activations (GPT-3 175B
// test vector), real parameter counts of GPT-3 and Llama, GQA/gated shapes, tensor-parallel splits.
#include <gtest/gtest.h>

#include <stdexcept>

#include "workloads/layer_chain.hpp"

namespace frugal::workloads {
namespace {

using core::Precision;
constexpr double kMiB = 1024.0 * 1024.0;

const Layer& layer0(const LayerChain& c) { return c.layers.at(1); }

TEST(LayerChain, NarayananFlopsForGptModels) {
  for (const char* name : {"gpt3-125m", "gpt3-1.3b", "gpt3-13b", "gpt3-175b"}) {
    const ModelSpec m = load_model(name);
    const double h = m.hidden_size, L = m.num_hidden_layers, V = m.vocab_size;
    for (std::int64_t s : {128, 1024, 2048}) {
      for (double B : {1.0, 8.0, 1536.0}) {
        const double expected = 72 * B * s * L * h * h * (1 + s / (6 * h) + V / (12 * h * L));
        EXPECT_NEAR(model_flops_per_iteration(m, s, B) / expected, 1.0, 1e-9) << name << " s=" << s;
      }
      const LayerChain c = build_layer_chain(m, s, Precision::kBf16);
      const double fwd = 24 * s * L * h * h + 4.0 * s * s * h * L + 2 * s * h * V;
      EXPECT_NEAR(c.forward_flops() / fwd, 1.0, 1e-12);
      EXPECT_EQ(c.layers.size(), static_cast<std::size_t>(L + 2));
    }
  }
}

TEST(LayerChain, RecomputeFlops) {
  const ModelSpec m = load_model("gpt3-1.3b");
  const auto full = build_layer_chain(m, 2048, Precision::kBf16, {1, false, Recompute::kFull});
  EXPECT_DOUBLE_EQ(layer0(full).recompute_flops, layer0(full).forward_flops);
  EXPECT_EQ(full.layers.front().recompute_flops, 0);
  const auto sel = build_layer_chain(m, 2048, Precision::kBf16, {1, false, Recompute::kSelective});
  EXPECT_DOUBLE_EQ(layer0(sel).recompute_flops, 4.0 * 2048 * 2048 * 2048);  // 4·s²·h
  EXPECT_EQ(layer0(build_layer_chain(m, 2048, Precision::kBf16)).recompute_flops, 0);
}

TEST(LayerChain, KernelCountsFollowTheLayerStructure) {
  // GPT (absolute positions, GeLU): 5 elementwise kernels (2 norms, 2 dropout + residual, GeLU)
  // and 4 dense GEMMs; the naive attention core is 4 kernels (2 GEMMs, softmax, dropout) forward
  // and 6 backward, the fused one 1 and 2.
  const ModelSpec gpt = load_model("gpt3-1.3b");
  const auto naive = build_layer_chain(gpt, 2048, Precision::kBf16, {1, false, Recompute::kSelective});
  EXPECT_EQ(layer0(naive).forward_kernels, 5 + 4 + 4);
  EXPECT_EQ(layer0(naive).backward_kernels, 5 + 8 + 6);
  EXPECT_EQ(layer0(naive).recompute_kernels, 4);  // selective replays the attention core
  ShardSpec flash_full{1, false, Recompute::kFull};
  flash_full.attention = AttentionKernel::kFlash;
  const auto flash = build_layer_chain(gpt, 2048, Precision::kBf16, flash_full);
  EXPECT_EQ(layer0(flash).forward_kernels, 5 + 4 + 1);
  EXPECT_EQ(layer0(flash).backward_kernels, 5 + 8 + 2);
  EXPECT_EQ(layer0(flash).recompute_kernels, layer0(flash).forward_kernels);
  EXPECT_EQ(layer0(build_layer_chain(gpt, 2048, Precision::kBf16)).recompute_kernels, 0);
  // Embedding (gather, position add, dropout) and head (norm, GEMM, three loss reductions).
  EXPECT_EQ(naive.layers.front().forward_kernels, 3);
  EXPECT_EQ(naive.layers.back().forward_kernels, 5);
  EXPECT_EQ(naive.layers.back().backward_kernels, 4);
  // Llama (rotary, gated MLP): one more elementwise kernel and one more dense GEMM.
  const auto llama = build_layer_chain(load_model("llama3-8b"), 2048, Precision::kBf16, flash_full);
  EXPECT_EQ(layer0(llama).forward_kernels, 6 + 5 + 1);
  EXPECT_EQ(layer0(llama).backward_kernels, 6 + 10 + 2);
  EXPECT_EQ(llama.layers.front().forward_kernels, 2);
}

TEST(LayerChain, ContextParallelismSplitsEveryPerGpuCostByC) {
  // Each of c GPUs holds s/c tokens and attends to all s: every transformer term of Korthikanti's
  // and Narayanan's per-layer formulas is linear in the local tokens, so costs divide by c exactly.
  const ModelSpec m = load_model("gpt3-1.3b");
  for (std::int64_t c : {2, 4}) {
    for (Recompute r : {Recompute::kNone, Recompute::kSelective, Recompute::kFull}) {
      ShardSpec one{2, true, r}, split{2, true, r};
      split.context_parallel = c;
      const auto a = build_layer_chain(m, 2048, Precision::kBf16, one);
      const auto b = build_layer_chain(m, 2048, Precision::kBf16, split);
      for (std::size_t i = 0; i < a.layers.size(); ++i) {
        EXPECT_NEAR(b.layers[i].forward_flops * c, a.layers[i].forward_flops, 1e-12 * a.layers[i].forward_flops) << i;
        EXPECT_NEAR(b.layers[i].recompute_flops * c, a.layers[i].recompute_flops, 1e-9 * a.layers[i].forward_flops) << i;
        EXPECT_NEAR(b.layers[i].output_bytes * c, a.layers[i].output_bytes, 1e-9) << i;
        if (a.layers[i].kind == LayerKind::kTransformer)
          EXPECT_NEAR(b.layers[i].activation_bytes * c / a.layers[i].activation_bytes, 1.0, 1e-12) << i;
      }
      // The attention GEMMs keep the whole sequence as their key length.
      EXPECT_EQ(layer0(b).forward_gemms[1].m, 2048 / c);
      EXPECT_EQ(layer0(b).forward_gemms[1].n, 2048);
      EXPECT_DOUBLE_EQ(layer0(b).kv_bytes * c, 2.0 * 2048 * 2048 / 2 * 2);  // 2·s·kv_dim/t elements, bf16
    }
  }
  ShardSpec odd;
  odd.context_parallel = 3;
  EXPECT_THROW(build_layer_chain(m, 2048, Precision::kBf16, odd), std::invalid_argument);
}

TEST(LayerChain, KorthikantiTable2Gpt3_175b) {
  const ModelSpec m = load_model("gpt3-175b");
  auto mib = [&](std::int64_t t, bool sp, Recompute r) {
    return layer0(build_layer_chain(m, 2048, Precision::kBf16, {t, sp, r})).activation_bytes / kMiB;
  };
  EXPECT_NEAR(mib(1, false, Recompute::kNone), 2736, 1);
  EXPECT_NEAR(mib(8, false, Recompute::kNone), 552, 1);
  EXPECT_NEAR(mib(8, true, Recompute::kNone), 342, 1);
  EXPECT_NEAR(mib(8, false, Recompute::kSelective), 312, 1);
  EXPECT_NEAR(mib(8, true, Recompute::kSelective), 102, 1);
  EXPECT_NEAR(mib(8, false, Recompute::kFull), 48, 1);
  // fp32 doubles the element tensors but not the 1-byte masks: (34 + 5as/h) → (66 + 9as/h)·sh.
  const double sh = 2048.0 * 12288;
  EXPECT_DOUBLE_EQ(layer0(build_layer_chain(m, 2048, Precision::kFp32)).activation_bytes,
                   sh * (66 + 9.0 * 96 * 2048 / 12288));
}

TEST(LayerChain, ParameterCounts) {
  for (const char* name : {"gpt3-125m", "gpt3-6.7b", "gpt3-175b"}) {
    const ModelSpec m = load_model(name);
    const double h = m.hidden_size, L = m.num_hidden_layers;
    const double s = m.max_position_embeddings, V = m.vocab_size;
    const double reference = 12 * L * h * h * (1 + 13 / (12 * h) + (V + s) / (12 * L * h));
    // The reference leaves out the final LayerNorm (2h).
    EXPECT_DOUBLE_EQ(parameter_count(m), reference + 2 * h) << name;
    EXPECT_DOUBLE_EQ(layer0(build_layer_chain(m, 16, Precision::kBf16)).parameters, 12 * h * h + 13 * h);
  }
  EXPECT_DOUBLE_EQ(parameter_count(load_model("llama2-7b")), 6738415616.0);
  EXPECT_DOUBLE_EQ(parameter_count(load_model("llama3-8b")), 8030261248.0);
  EXPECT_NEAR(parameter_count(load_model("llama2-70b")) / 68.98e9, 1.0, 1e-3);
  EXPECT_NEAR(parameter_count(load_model("llama3-70b")) / 70.55e9, 1.0, 1e-3);
}

TEST(LayerChain, GqaAndGatedShapes) {
  const ModelSpec m = load_model("llama3-8b");  // h 4096, kv 8 × 128, ffn 14336
  const auto c = build_layer_chain(m, 4096, Precision::kBf16, {2, false, Recompute::kNone});
  const auto& g = layer0(c).forward_gemms;
  ASSERT_EQ(g.size(), 7u);
  EXPECT_EQ(g[0], (GemmShape{"qkv", 4096, (4096 + 2 * 1024) / 2, 4096, 1, true}));
  EXPECT_EQ(g[1], (GemmShape{"attn_scores", 4096, 4096, 128, 16, false, true}));
  EXPECT_EQ(g[2], (GemmShape{"attn_values", 4096, 128, 4096, 16, false, true}));
  EXPECT_EQ(g[3], (GemmShape{"attn_out", 4096, 4096, 2048, 1}));
  EXPECT_EQ(g[4], (GemmShape{"mlp_up", 4096, 7168, 4096, 1, true}));
  EXPECT_EQ(g[5], (GemmShape{"mlp_gate", 4096, 7168, 4096, 1, true}));
  EXPECT_EQ(g[6], (GemmShape{"mlp_down", 4096, 4096, 7168, 1}));
  // No biases, RMSNorm: matrices halve, the two norms (2h) stay whole.
  const double h = 4096;
  EXPECT_DOUBLE_EQ(layer0(c).parameters, (h * 6144 + h * h + 3 * h * 14336) / 2 + 2 * h);
  EXPECT_EQ(c.layers.back().forward_gemms.at(0), (GemmShape{"logits", 4096, 64128, 4096, 1, false, true}));
  EXPECT_DOUBLE_EQ(c.layers.back().parameters, 64128 * h + h);  // untied head shard + norm
}

TEST(LayerChain, TensorParallelDividesPerGpuCosts) {
  const ModelSpec m = load_model("gpt3-6.7b");
  const auto one = build_layer_chain(m, 2048, Precision::kBf16);
  const auto four = build_layer_chain(m, 2048, Precision::kBf16, {4, true, Recompute::kNone});
  EXPECT_DOUBLE_EQ(layer0(four).forward_flops * 4, layer0(one).forward_flops);
  const double h = 4096;  // row-parallel biases (2h) and norms (4h) are replicated
  EXPECT_DOUBLE_EQ(layer0(four).parameters, (12 * h * h + 7 * h) / 4 + 6 * h);
  EXPECT_DOUBLE_EQ(layer0(four).output_bytes * 4, layer0(one).output_bytes);
  EXPECT_DOUBLE_EQ(layer0(one).output_bytes, 2048 * h * 2);
  EXPECT_GT(layer0(one).forward_memory_bytes, layer0(four).forward_memory_bytes);
  EXPECT_GT(layer0(one).transient_bytes, 0);
}

TEST(LayerChain, InvalidShapesThrow) {
  const ModelSpec m = load_model("gpt3-125m");  // 12 heads, ctx 2048
  EXPECT_THROW(build_layer_chain(m, 1024, Precision::kBf16, {5}), std::invalid_argument);
  EXPECT_THROW(build_layer_chain(m, 0, Precision::kBf16), std::invalid_argument);
  EXPECT_THROW(build_layer_chain(m, 4096, Precision::kBf16), std::invalid_argument);
  const ModelSpec llama = load_model("llama3-8b");  // 8 kv heads
  EXPECT_THROW(build_layer_chain(llama, 1024, Precision::kBf16, {16}), std::invalid_argument);
  ModelSpec odd = m;
  odd.intermediate_size = 3001;
  EXPECT_THROW(build_layer_chain(odd, 1024, Precision::kBf16, {2}), std::invalid_argument);
}

}  // namespace
}  // namespace frugal::workloads
