// sim/cost/compute_cost against closed forms: a layer's time without tables is the policies'
// per-sample formula × b; with tables it is the sum of its three compute ops with every GEMM at
// the efficiency of its size.
#include <gtest/gtest.h>

#include "sim/cost/compute_cost.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

/// One layer of two GEMMs per sample: "mlp_up" 64×256×128 (grows with b) and "attn_scores"
/// 64×64×32 × 4 heads (repeated per sample), plus 1e6 other FLOPs; memory-bound bytes.
workloads::Layer test_layer(double recompute_flops) {
  workloads::Layer l;
  l.name = "layer_0";
  l.forward_gemms = {{"mlp_up", 64, 256, 128, 1}, {"attn_scores", 64, 64, 32, 4}};
  double gemm = 0;
  for (const auto& g : l.forward_gemms) gemm += g.flops();
  l.forward_flops = gemm + 1e6;
  l.backward_flops = 2 * gemm + 2e6;
  l.recompute_flops = recompute_flops;
  l.forward_memory_bytes = 3e6;
  l.backward_memory_bytes = 5e6;
  l.recompute_memory_bytes = recompute_flops > 0 ? 3e6 : 0.0;  // a full replay of the forward's traffic
  return l;
}

TEST(CostCompute, WithoutTablesTheClosedFormTimesSamples) {
  const platforms::GpuSpec gpu = testing::test_gpu(100e12, 2e12, 50, 400, 0.5);
  const workloads::Layer l = test_layer(4e6);
  const double per_sample = (l.forward_flops + l.backward_flops + l.recompute_flops) / 50e12 +
                            (l.forward_memory_bytes + l.backward_memory_bytes + l.recompute_memory_bytes) / 2e12;
  EXPECT_DOUBLE_EQ(cost::layer_seconds(l, 1, gpu, core::Precision::kBf16), per_sample);
  EXPECT_DOUBLE_EQ(cost::layer_seconds(l, 3, gpu, core::Precision::kBf16), per_sample * 3);
  EXPECT_DOUBLE_EQ(cost::layer_seconds_per_sample(l, 3, gpu, core::Precision::kBf16), per_sample);
  workloads::LayerChain chain;
  chain.layers = {l, test_layer(0)};
  const double flops = 2 * (l.forward_flops + l.backward_flops) + l.recompute_flops;
  EXPECT_DOUBLE_EQ(cost::chain_seconds_per_sample(chain, 4, gpu, core::Precision::kBf16),
                   flops / 50e12 + (2 * (l.forward_memory_bytes + l.backward_memory_bytes) + l.recompute_memory_bytes) / 2e12);
}

TEST(CostCompute, ScaledGemmsFollowTheLowering) {
  EXPECT_EQ(cost::scale_gemm({"mlp_up", 64, 256, 128, 1}, 3), (program::Gemm{192, 256, 128, 1}));
  EXPECT_EQ(cost::scale_gemm({"attn_scores", 64, 64, 32, 4}, 3), (program::Gemm{64, 64, 32, 12}));
  EXPECT_EQ(cost::scale_gemm({"attn_values", 64, 32, 64, 4}, 2), (program::Gemm{64, 32, 64, 8}));
  std::vector<program::Gemm> backward;
  cost::add_backward_gemms({10, 20, 30, 2}, backward);
  ASSERT_EQ(backward.size(), 2u);
  EXPECT_EQ(backward[0], (program::Gemm{10, 30, 20, 2}));
  EXPECT_EQ(backward[1], (program::Gemm{30, 20, 10, 2}));
}

/// GEMMs of up to 1e7 FLOPs at 10 %, of 1e9 FLOPs and more at 40 % (log-linear between);
/// matmul_efficiency 0.5 for the other FLOPs; 1 MB of memory traffic at 100 GB/s, 100 MB at 1 TB/s.
platforms::GpuSpec calibrated_gpu() {
  platforms::GpuSpec gpu = testing::test_gpu(100e12, 2e12, 50, 400, 0.5);
  gpu.gemm_efficiency = {{1e7, 0.1}, {1e9, 0.4}};
  gpu.memory_bandwidth_by_size = {{1e6, 100e9}, {1e8, 1e12}};
  return gpu;
}

TEST(CostCompute, WithTablesEveryGemmAtTheEfficiencyOfItsSize) {
  const platforms::GpuSpec gpu = calibrated_gpu();
  const workloads::Layer l = test_layer(4e6);
  const std::int64_t b = 2;
  const double peak = 100e12, speed = 50e12;
  // Forward GEMMs at b = 2: mlp_up 128×256×128 (8,388,608 FLOPs, below 1e7: 10 %), attn_scores
  // 64×64×32 × 8 (262,144 FLOPs each: 10 %). Backward: two GEMMs of the same FLOPs per forward one.
  const double mlp = 2.0 * 128 * 256 * 128, attn = 2.0 * 64 * 64 * 32 * 8;
  const double gemm_s = (mlp + attn) / (peak * 0.1);
  const auto bw = [&](double bytes) { return gpu.memory_bandwidth_at(bytes); };
  const double forward_s = gemm_s + (l.forward_flops * b - (mlp + attn)) / speed + 6e6 / bw(6e6);
  const double backward_s = 2 * gemm_s + (l.backward_flops * b - 2 * (mlp + attn)) / speed + 10e6 / bw(10e6);
  const double recompute_s = 8e6 / speed + 6e6 / bw(6e6);
  const double expected = forward_s + backward_s + recompute_s;
  EXPECT_NEAR(cost::layer_seconds(l, b, gpu, core::Precision::kBf16), expected, 1e-12 * expected);
  EXPECT_NEAR(cost::layer_seconds_per_sample(l, b, gpu, core::Precision::kBf16), expected / 2, 1e-12 * expected);
  // Slower than the uncalibrated estimate: small GEMMs at 10 % instead of 50 %.
  platforms::GpuSpec plain = gpu;
  plain.gemm_efficiency.clear();
  plain.memory_bandwidth_by_size.clear();
  EXPECT_GT(cost::layer_seconds(l, b, gpu, core::Precision::kBf16), 3 * cost::layer_seconds(l, b, plain, core::Precision::kBf16));
}

TEST(CostCompute, FlatTableAtMatmulEfficiencyGivesTheUncalibratedTime) {
  platforms::GpuSpec gpu = testing::test_gpu(100e12, 2e12, 50, 400, 0.5);
  const workloads::Layer l = test_layer(0);
  const double plain = cost::layer_seconds(l, 4, gpu, core::Precision::kBf16);
  gpu.gemm_efficiency = {{1, 0.5}, {1e15, 0.5}};
  EXPECT_NEAR(cost::layer_seconds(l, 4, gpu, core::Precision::kBf16), plain, 1e-12 * plain);
}

TEST(CostCompute, ComputeOpAmountAndSeconds) {
  const platforms::GpuSpec gpu = calibrated_gpu();
  program::Compute c{program::Phase::kForward, "x", 3e9, 1e7, {{1000, 1000, 500, 1}}};  // one GEMM of 1e9 FLOPs
  const double seconds = 1e9 / (100e12 * 0.4) + 2e9 / 50e12 + 1e7 / gpu.memory_bandwidth_at(1e7);
  EXPECT_NEAR(cost::compute_seconds(c, gpu, core::Precision::kBf16), seconds, 1e-12 * seconds);
  EXPECT_NEAR(cost::compute_exec_amount(c, gpu, core::Precision::kBf16, 50e12), seconds * 50e12, 1e-12 * seconds * 50e12);
}

TEST(CostCompute, EveryKernelPaysTheLaunchCost) {
  platforms::GpuSpec gpu = calibrated_gpu();
  gpu.kernel_launch_s = 3e-6;
  // 5 kernels, one of them the GEMM: 5 launches on top of the work.
  program::Compute c{program::Phase::kForward, "x", 3e9, 1e7, {{1000, 1000, 500, 1}}, 5};
  const double work = 1e9 / (100e12 * 0.4) + 2e9 / 50e12 + 1e7 / gpu.memory_bandwidth_at(1e7);
  EXPECT_NEAR(cost::compute_seconds(c, gpu, core::Precision::kBf16), work + 5 * 3e-6, 1e-12 * work);
  // A GEMM is a kernel even when the op does not count it.
  c.kernels = 0;
  EXPECT_EQ(cost::launched_kernels(c), 1);
  EXPECT_NEAR(cost::compute_seconds(c, gpu, core::Precision::kBf16), work + 3e-6, 1e-12 * work);
  // Uncalibrated: the per-sample form plus the layer's launches once per micro-batch.
  platforms::GpuSpec plain = testing::test_gpu(100e12, 2e12, 50, 400, 0.5);
  workloads::Layer l = test_layer(4e6);
  const double per_sample = cost::layer_seconds(l, 1, plain, core::Precision::kBf16);
  plain.kernel_launch_s = 2e-6;
  l.forward_kernels = 7;
  l.backward_kernels = 11;
  l.recompute_kernels = 3;
  EXPECT_DOUBLE_EQ(cost::layer_launch_s(l, plain), 21 * 2e-6);
  EXPECT_NEAR(cost::layer_seconds(l, 4, plain, core::Precision::kBf16), 4 * per_sample + 21 * 2e-6, 1e-12);
  EXPECT_NEAR(cost::layer_seconds_per_sample(l, 4, plain, core::Precision::kBf16), per_sample + 21 * 2e-6 / 4, 1e-12);
  workloads::LayerChain chain;
  chain.layers = {l, l};
  EXPECT_NEAR(cost::chain_seconds_per_sample(chain, 4, plain, core::Precision::kBf16),
              2 * (per_sample + 21 * 2e-6 / 4), 1e-12);
  // Without recomputation its kernels are not launched.
  l.recompute_flops = 0;
  EXPECT_DOUBLE_EQ(cost::layer_launch_s(l, plain), 18 * 2e-6);
  // Calibrated: the three compute ops carry the counts.
  l.recompute_flops = 4e6;
  platforms::GpuSpec no_launch = gpu;
  no_launch.kernel_launch_s = 0;
  EXPECT_NEAR(cost::layer_seconds(l, 4, gpu, core::Precision::kBf16) - cost::layer_seconds(l, 4, no_launch, core::Precision::kBf16),
              21 * 3e-6, 1e-12);
}

}  // namespace
}  // namespace frugal
