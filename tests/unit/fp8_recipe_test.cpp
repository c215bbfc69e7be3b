// An fp8 job as Transformer Engine runs it, against closed forms: linear-layer GEMMs at the fp8
// peak and efficiency, attention and logits GEMMs at the bf16 ones, the casts' HBM traffic, and
// tensors stored and communicated in bf16 (activations, weights, fp32 main gradients).
#include <gtest/gtest.h>

#include "platforms/gpu_catalogue.hpp"
#include "policies/model_state.hpp"
#include "sim/cost/compute_cost.hpp"
#include "sim/cost/gemm_efficiency.hpp"
#include "sim/program/program.hpp"
#include "tests/support/small_cluster.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal {
namespace {

using core::Precision;

/// bf16 at 100 TFLOP/s and 0.8 of it; fp8 at 200 TFLOP/s and 0.6 of it; 2 TB/s; no shape model,
/// no launch cost: the flat model.
platforms::GpuSpec hopper_like() {
  platforms::GpuSpec gpu = testing::test_gpu(100e12, 2e12, 50, 400, 0.8);
  gpu.peak_flops_per_s[Precision::kFp8] = 200e12;
  gpu.matmul_efficiency_fp8 = 0.6;
  return gpu;
}

TEST(Fp8Recipe, EfficiencyOfFp8GemmsIsItsOwn) {
  platforms::GpuSpec gpu = hopper_like();
  EXPECT_DOUBLE_EQ(gpu.matmul_efficiency_of(Precision::kFp8), 0.6);
  EXPECT_DOUBLE_EQ(gpu.matmul_efficiency_of(Precision::kBf16), 0.8);
  EXPECT_DOUBLE_EQ(gpu.effective_flops_per_s(Precision::kFp8), 120e12);
  EXPECT_DOUBLE_EQ(gpu.effective_flops_per_s(Precision::kBf16), 80e12);
  gpu.matmul_efficiency_fp8 = 0;  // not given: the 16-bit efficiency
  EXPECT_DOUBLE_EQ(gpu.effective_flops_per_s(Precision::kFp8), 160e12);
  // The shipped H100 has its own fp8 efficiency (fitted to measured fp8 training steps), below
  // both the bf16 one and the bf16 one scaled by the measured fp8/bf16 ratio of achievable matmul
  // throughput (73.4 % / 80.3 %).
  const platforms::GpuSpec& h100 = platforms::GpuCatalogue::shipped().get("H100-SXM");
  EXPECT_GT(h100.matmul_efficiency_fp8, 0);
  EXPECT_LT(h100.matmul_efficiency_of(Precision::kFp8), h100.matmul_efficiency * 0.734 / 0.803);
}

TEST(Fp8Recipe, SixteenBitGemmsRunAtTheBf16Rate) {
  const platforms::GpuSpec gpu = hopper_like();
  const program::Gemm linear{1024, 2048, 4096, 1}, attention{512, 512, 128, 16, true};
  const program::Compute op{program::Phase::kForward, "layer_0", linear.flops() + attention.flops() + 3e9, 4e9,
                            {linear, attention}, 0};
  // fp8: the linear GEMM at 200e12 · 0.6, the attention GEMM and the 3e9 other FLOPs at
  // 100e12 · 0.8, the bytes at 2 TB/s.
  EXPECT_NEAR(cost::compute_seconds(op, gpu, Precision::kFp8),
              linear.flops() / 120e12 + (attention.flops() + 3e9) / 80e12 + 4e9 / 2e12, 1e-15);
  // bf16: the flag changes nothing.
  EXPECT_NEAR(cost::compute_seconds(op, gpu, Precision::kBf16), op.flops / 80e12 + 4e9 / 2e12, 1e-15);
  // The engine's amount at the host's fp8 speed is the same time.
  EXPECT_NEAR(cost::compute_exec_amount(op, gpu, Precision::kFp8, 120e12) / 120e12,
              cost::compute_seconds(op, gpu, Precision::kFp8), 1e-15);
}

TEST(Fp8Recipe, ShapeModelScalesTheFp8Efficiency) {
  platforms::GpuSpec gpu = hopper_like();
  gpu.gemm_shape.sms = 4;
  gpu.gemm_shape.tiles = {{128, 128, 1.0}};
  gpu.gemm_shape.k_overhead = 0;
  gpu.gemm_shape.max_split_k = 1;
  // 3 tiles on 4 SMs: one wave, 3/4 used.
  const program::Gemm g{384, 128, 4096, 1}, kept{384, 128, 4096, 1, true};
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(gpu, g, Precision::kFp8), 0.6 * 0.75);
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(gpu, g, Precision::kBf16), 0.8 * 0.75);
  const program::Compute op{program::Phase::kForward, "layer_0", g.flops() + kept.flops(), 0, {g, kept}, 0};
  EXPECT_NEAR(cost::compute_seconds(op, gpu, Precision::kFp8),
              g.flops() / (200e12 * 0.6 * 0.75) + kept.flops() / (100e12 * 0.8 * 0.75), 1e-15);
}

TEST(Fp8Recipe, LayerChainAddsCastTrafficAndKeepsBf16Tensors) {
  const workloads::ModelSpec m = workloads::load_model("gpt3-1.3b");
  const std::int64_t s = 2048, t = 2;
  const workloads::ShardSpec shard{t, false, workloads::Recompute::kFull};
  const auto bf16 = workloads::build_layer_chain(m, s, Precision::kBf16, shard);
  const auto fp8 = workloads::build_layer_chain(m, s, Precision::kFp8, shard);
  const double h = m.hidden_size, ffn = m.intermediate_size, kv = m.kv_dim(), sd = s;
  // Forward: the two norm outputs, the attention-out and MLP-down inputs, 4 bytes per element;
  // backward: every linear layer's output gradient.
  const double forward_casts = 4 * sd * (2 * h + h / t + ffn / t);
  const double backward_casts = 4 * sd * ((h + 2 * kv) / t + 2 * h + ffn / t);
  const workloads::Layer& a = bf16.layers.at(1);
  const workloads::Layer& b = fp8.layers.at(1);
  EXPECT_NEAR(b.forward_memory_bytes - a.forward_memory_bytes, forward_casts, 1e-6 * forward_casts);
  EXPECT_NEAR(b.backward_memory_bytes - a.backward_memory_bytes, backward_casts, 1e-6 * backward_casts);
  EXPECT_DOUBLE_EQ(b.recompute_memory_bytes, b.forward_memory_bytes);  // full recomputation replays the casts
  EXPECT_EQ(b.forward_kernels, a.forward_kernels + 4);
  EXPECT_EQ(b.backward_kernels, a.backward_kernels + 4);
  // Stored and communicated tensors stay in bf16.
  EXPECT_DOUBLE_EQ(b.activation_bytes, a.activation_bytes);
  EXPECT_DOUBLE_EQ(b.output_bytes, a.output_bytes);
  EXPECT_DOUBLE_EQ(fp8.layers.back().activation_bytes, bf16.layers.back().activation_bytes);
  // Only the attention core and the logits keep 16 bits.
  for (const workloads::GemmShape& g : b.forward_gemms)
    EXPECT_EQ(g.keeps_16bit, g.name == "attn_scores" || g.name == "attn_values") << g.name;
  EXPECT_TRUE(fp8.layers.back().forward_gemms.at(0).keeps_16bit);
  // The lowering's GEMMs carry the flag to the backward's gradient GEMMs.
  std::vector<program::Gemm> forward, backward;
  cost::layer_gemms(b, 1, forward, backward);
  int kept = 0;
  for (const program::Gemm& g : backward) kept += g.keeps_16bit ? 1 : 0;
  EXPECT_EQ(kept, 4);  // two gradients of each attention GEMM
}

TEST(Fp8Recipe, ModelStateIsTheBf16One) {
  for (auto convention : {policies::StateConvention::kMegatron, policies::StateConvention::kZero}) {
    const auto a = policies::model_state_bytes(Precision::kBf16, convention);
    const auto b = policies::model_state_bytes(Precision::kFp8, convention);
    EXPECT_DOUBLE_EQ(a.weights, b.weights);
    EXPECT_DOUBLE_EQ(a.gradients, b.gradients);
    EXPECT_DOUBLE_EQ(a.optimizer, b.optimizer);
  }
  EXPECT_DOUBLE_EQ(core::stored_bytes_per_element(Precision::kFp8), 2);
  EXPECT_DOUBLE_EQ(core::bytes_per_element(Precision::kFp8), 1);
}

TEST(Fp8Recipe, AGemmKeptIn16BitsSurvivesTheProgramFile) {
  program::Program p;
  program::RankProgram rp;
  rp.rank = core::RankId(0);
  program::RankBuilder b(rp);
  b.compute("fwd", {program::Phase::kForward, "layer_0", 2e9, 0, {{128, 256, 64, 1}, {64, 64, 32, 8, true}}});
  p.ranks.push_back(rp);
  const core::Json j = program::to_json(p);
  const program::Program back = program::from_json(core::Json::parse(j.dump()), "x");
  EXPECT_EQ(back, p);
  core::Json bad = j;
  bad["ranks"][0]["ops"][0]["gemms"][1][4] = 8;
  EXPECT_THROW(program::from_json(bad, "x"), core::ConfigError);
}

}  // namespace
}  // namespace frugal
