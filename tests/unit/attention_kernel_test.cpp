// The fused attention kernel (FlashAttention-2) against closed forms: no s² activation, traffic or
// workspace; causal block skipping halves the attention GEMMs; the backward replays QKᵀ; which
// GPUs and precisions run it by default.
#include <gtest/gtest.h>

#include "platforms/gpu_catalogue.hpp"
#include "sim/cost/compute_cost.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::workloads {
namespace {

using core::Precision;

ShardSpec shard(std::int64_t t, bool sp, Recompute r, AttentionKernel k) {
  ShardSpec s{t, sp, r};
  s.attention = k;
  return s;
}

const Layer& layer0(const LayerChain& c) { return c.layers.at(1); }

TEST(FlashAttention, StoresWhatSelectiveRecomputationKeepsPlusTheLogSumExp) {
  // Korthikanti's selective row drops exactly the s² tensors a fused kernel never writes; the
  // kernel adds its fp32 log-sum-exp, 4·(a/t)·s bytes per sample.
  const ModelSpec m = load_model("gpt3-175b");
  for (std::int64_t t : {1, 8})
    for (bool sp : {false, true}) {
      if (sp && t == 1) continue;
      const double naive_selective =
          layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(t, sp, Recompute::kSelective, AttentionKernel::kNaive)))
              .activation_bytes;
      const double flash =
          layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(t, sp, Recompute::kNone, AttentionKernel::kFlash)))
              .activation_bytes;
      EXPECT_NEAR(flash, naive_selective + 4.0 * 96 / t * 2048, 1e-9 * flash) << "t=" << t << " sp=" << sp;
    }
  // GPT shapes, bf16: s·h·(10/t + 24/t) + 4·(a/t)·s under sequence parallelism (t = 8).
  const double s = 2048, h = 12288;
  EXPECT_DOUBLE_EQ(
      layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(8, true, Recompute::kNone, AttentionKernel::kFlash)))
          .activation_bytes,
      s * h * 34 / 8 + 4 * 12.0 * s);
}

TEST(FlashAttention, Llama3_8bAt8kTokensKeepsATenthOfTheNaiveActivations) {
  // Llama 3 8B, 8,192 tokens, t = 8 with sequence parallelism: the naive kernel stores ~45 GiB of
  // activations per sequence, the fused one a tenth of that (the s² terms were 40 of 44.5 s·h).
  const ModelSpec m = load_model("llama3-8b");
  const auto naive = build_layer_chain(m, 8192, Precision::kBf16, shard(8, true, Recompute::kNone, AttentionKernel::kNaive));
  const auto flash = build_layer_chain(m, 8192, Precision::kBf16, shard(8, true, Recompute::kNone, AttentionKernel::kFlash));
  const double s = 8192, h = 4096, kv = 1024, ffn = 14336, e = 2, t = 8;
  const double per_layer = (4 * s * h * e + 2 * s * h) / t + (2 * s * h + 2 * s * kv + 3 * s * ffn) * e / t + 4 * 32 / t * s;
  EXPECT_NEAR(layer0(flash).activation_bytes / per_layer, 1.0, 1e-12);
  double naive_layers = 0, flash_layers = 0;
  for (std::size_t i = 1; i + 1 < naive.layers.size(); ++i) {
    naive_layers += naive.layers[i].activation_bytes;
    flash_layers += flash.layers[i].activation_bytes;
  }
  EXPECT_NEAR(naive_layers / (1024.0 * 1024 * 1024), 44.5, 0.5);
  EXPECT_NEAR(naive_layers / flash_layers, 9.9, 0.1);
}

TEST(FlashAttention, CausalSkippingHalvesTheAttentionGemmsAndTheBackwardReplaysTheScores) {
  const ModelSpec m = load_model("gpt3-1.3b");  // h = 2048, a = 16
  const double s = 2048, h = 2048;
  const auto naive = layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(2, false, Recompute::kNone, AttentionKernel::kNaive)));
  const auto flash = layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(2, false, Recompute::kNone, AttentionKernel::kFlash)));
  const double attention = 4 * s * s * h / 2;  // scores and values GEMMs, per GPU of t = 2
  EXPECT_DOUBLE_EQ(naive.forward_flops - flash.forward_flops, attention / 2);
  EXPECT_EQ(flash.forward_gemms[1].n, 1024);  // keys per query, on average
  EXPECT_EQ(flash.forward_gemms[2].k, 1024);
  ASSERT_EQ(flash.backward_replayed_gemms.size(), 1u);
  EXPECT_EQ(flash.backward_replayed_gemms[0], flash.forward_gemms[1]);
  EXPECT_DOUBLE_EQ(flash.backward_flops, 2 * flash.forward_flops + attention / 4);
  EXPECT_TRUE(naive.backward_replayed_gemms.empty());
  EXPECT_DOUBLE_EQ(naive.backward_flops, 2 * naive.forward_flops);
  // The lowering's backward op: the gradient GEMMs of every forward GEMM and the replayed one.
  std::vector<program::Gemm> forward, backward;
  cost::layer_gemms(flash, 3, forward, backward);
  ASSERT_EQ(backward.size(), 2 * forward.size() + 1);
  EXPECT_EQ(backward.back(), cost::scale_gemm(flash.forward_gemms[1], 3));
  double backward_gemm_flops = 0;
  for (const auto& g : backward) backward_gemm_flops += 2.0 * g.m * g.n * g.k * g.batch;
  EXPECT_NEAR(backward_gemm_flops, 3 * flash.backward_flops, 1e-9 * backward_gemm_flops);
}

TEST(FlashAttention, NoScoreTrafficNoScoreWorkspaceAndNothingForSelectiveToDrop) {
  const ModelSpec m = load_model("gpt3-1.3b");
  const double s = 2048, h = 2048, a = 16, t = 2, e = 2;
  const auto naive = layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(2, false, Recompute::kNone, AttentionKernel::kNaive)));
  const auto flash = layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(2, false, Recompute::kNone, AttentionKernel::kFlash)));
  // Naive softmax + dropout: read + write the scores, read + write + mask the dropout output;
  // the fused kernel writes its log-sum-exp instead.
  const double scores = a / t * s * s;
  EXPECT_DOUBLE_EQ(naive.forward_memory_bytes - flash.forward_memory_bytes, 2 * scores * e + scores * (2 * e + 1) - 4 * a / t * s);
  // Workspace: the fp32 dQ accumulator or the MLP gradient (GeLU: s·4h/t), not (a/t)·s².
  EXPECT_DOUBLE_EQ(flash.transient_bytes, std::max(4 * s * h / t, s * 4 * h / t * e));
  EXPECT_GT(naive.transient_bytes, scores * e - 1);
  const auto selective =
      layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(2, false, Recompute::kSelective, AttentionKernel::kFlash)));
  EXPECT_EQ(selective.activation_bytes, flash.activation_bytes);
  EXPECT_EQ(selective.recompute_flops, 0);
  EXPECT_EQ(selective.backward_memory_bytes, flash.backward_memory_bytes);
  const auto full = layer0(build_layer_chain(m, 2048, Precision::kBf16, shard(2, false, Recompute::kFull, AttentionKernel::kFlash)));
  EXPECT_DOUBLE_EQ(full.recompute_flops, flash.forward_flops);
  EXPECT_DOUBLE_EQ(full.activation_bytes, s * h * e);
  EXPECT_DOUBLE_EQ(full.backward_memory_bytes, flash.backward_memory_bytes);
  EXPECT_DOUBLE_EQ(full.recompute_memory_bytes, flash.forward_memory_bytes);  // the replay's, charged once
}

TEST(FlashAttention, ModelFlopsCountFullAttentionWhateverTheKernel) {
  // MFU's numerator is Narayanan's formula: the kernel's skipped blocks are not model FLOPs.
  const ModelSpec m = load_model("gpt3-1.3b");
  const auto chain = build_layer_chain(m, 2048, Precision::kBf16);
  EXPECT_EQ(chain.shard.attention, AttentionKernel::kNaive);
  EXPECT_DOUBLE_EQ(model_flops_per_iteration(m, 2048, 4), 4 * (chain.forward_flops() + chain.backward_flops()));
}

TEST(FlashAttention, RunsByDefaultOn16BitJobsOnAmpereAndLater) {
  const auto& gpus = platforms::GpuCatalogue::shipped();
  for (const char* name : {"A100-80GB", "H100-SXM", "L40S", "RTX-4090"}) {
    const auto& g = gpus.get(name);
    EXPECT_TRUE(g.runs_fused_attention(Precision::kBf16)) << name;
    EXPECT_TRUE(g.runs_fused_attention(Precision::kFp16)) << name;
    EXPECT_FALSE(g.runs_fused_attention(Precision::kFp32)) << name;
    EXPECT_FALSE(g.runs_fused_attention(Precision::kTf32)) << name;
  }
  EXPECT_TRUE(gpus.get("H100-SXM").runs_fused_attention(Precision::kFp8));
  EXPECT_FALSE(gpus.get("A100-80GB").runs_fused_attention(Precision::kFp8));  // no fp8 on Ampere
  for (const char* name : {"V100-SXM2-32GB", "T4"}) {
    EXPECT_FALSE(gpus.get(name).runs_fused_attention(Precision::kBf16)) << name;
    EXPECT_FALSE(gpus.get(name).runs_fused_attention(Precision::kFp16)) << name;
  }
  EXPECT_EQ(to_string(AttentionKernel::kFlash), "flash");
  EXPECT_EQ(to_string(AttentionKernel::kNaive), "naive");
}

}  // namespace
}  // namespace frugal::workloads
