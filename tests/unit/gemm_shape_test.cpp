// The tile and wave model of GEMM efficiency (sim/cost/gemm_efficiency) against hand-counted
// tiles and waves: exact fits reach matmul_efficiency, a wave with one tile too many halves it,
// padded edge tiles, short k, the best tile and split of k, batched GEMMs; a calibrated table
// overrides the model; compute ops (recomputation too) price each GEMM by it; the catalogue entry
// reads and writes.
#include <gtest/gtest.h>

#include "sim/core/error.hpp"
#include "sim/cost/compute_cost.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/small_cluster.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal {
namespace {

/// 100 TFLOP/s peak at matmul_efficiency 0.8; `sms` tiles at once; one 128×128 tile shape.
platforms::GpuSpec shaped_gpu(int sms, double k_overhead = 0, int max_split_k = 1) {
  platforms::GpuSpec gpu = testing::test_gpu(100e12, 2e12, 50, 400, 0.8);
  gpu.gemm_shape = {sms, {{128, 128, 1.0}}, k_overhead, max_split_k};
  return gpu;
}

TEST(GemmShape, FullWavesOfWholeTilesReachMatmulEfficiency) {
  // 4 × 2 tiles of 128 × 128 on 8 SMs: one full wave.
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(shaped_gpu(8), {512, 256, 4096, 1}), 0.8);
  // Two full waves.
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(shaped_gpu(4), {512, 256, 4096, 1}), 0.8);
}

TEST(GemmShape, OneTileMoreThanAWaveRunsASecondWave) {
  // 9 tiles on 8 SMs: 2 waves of 8 slots, 9 used: 0.8 · 9/16.
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(shaped_gpu(8), {128 * 9, 128, 4096, 1}), 0.8 * 9.0 / 16.0);
}

TEST(GemmShape, PaddedEdgeTilesCountAsWork) {
  // m = 129: 2 × 1 tiles on 2 SMs, 129·128 of 2·128·128 useful.
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(shaped_gpu(2), {129, 128, 4096, 1}), 0.8 * 129.0 / 256.0);
}

TEST(GemmShape, ShortKPaysThePrologueAndEpilogue) {
  // k = 384 with 128 elements of overhead: 384 / 512.
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(shaped_gpu(1, 128), {128, 128, 384, 1}), 0.8 * 0.75);
}

TEST(GemmShape, TheBestTileAndSplitAreChosen) {
  // A 256 × 128 tile would run half empty on a 128 × 128 GEMM: the 128 × 128 tile at 0.9 wins.
  platforms::GpuSpec gpu = shaped_gpu(1);
  gpu.gemm_shape.tiles = {{256, 128, 1.0}, {128, 128, 0.9}};
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(gpu, {128, 128, 4096, 1}), 0.8 * 0.9);
  // One tile on 4 SMs: split k in 4 fills the wave, each part 1024 long with 128 of overhead
  // (unsplit: 1/4 of the SMs busy at 4096/4224).
  const platforms::GpuSpec split = shaped_gpu(4, 128, 4);
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(split, {128, 128, 4096, 1}), 0.8 * 1024.0 / 1152.0);
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(shaped_gpu(4, 128, 1), {128, 128, 4096, 1}), 0.8 * 0.25 * 4096.0 / 4224.0);
  // k is never split into more parts than it has elements.
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(split, {128, 128, 2, 1}), 0.8 * 0.5 * 1.0 / 129.0);
}

TEST(GemmShape, BatchedGemmsCountTheTilesOfEveryMatrix) {
  // 3 matrices of one tile each on 2 SMs: 2 waves, 3 of 4 slots used.
  EXPECT_DOUBLE_EQ(cost::shape_efficiency(shaped_gpu(2), {128, 128, 4096, 3}), 0.8 * 0.75);
}

TEST(GemmShape, ACalibratedTableOverridesTheModel) {
  platforms::GpuSpec gpu = shaped_gpu(8);
  const program::Gemm small{128, 128, 128, 1};
  EXPECT_TRUE(cost::prices_each_gemm(gpu));
  EXPECT_DOUBLE_EQ(cost::gemm_efficiency(gpu, small), 0.8 / 8);
  gpu.gemm_efficiency = {{1e3, 0.3}, {1e12, 0.3}};
  EXPECT_DOUBLE_EQ(cost::gemm_efficiency(gpu, small), 0.3);
  // The table is by the FLOPs of one product: a batch of 64 runs at the efficiency of one.
  gpu.gemm_efficiency = {{small.matrix_flops(), 0.2}, {64 * small.matrix_flops(), 0.6}};
  EXPECT_DOUBLE_EQ(cost::gemm_efficiency(gpu, {128, 128, 128, 64}), 0.2);
  platforms::GpuSpec flat = testing::test_gpu(100e12, 2e12, 50, 400, 0.8);
  EXPECT_FALSE(cost::prices_each_gemm(flat));
  EXPECT_DOUBLE_EQ(cost::gemm_efficiency(flat, small), 0.8);
}

TEST(GemmShape, ComputeOpsPriceEachGemmByItsShape) {
  const platforms::GpuSpec gpu = shaped_gpu(8);
  // A full-wave GEMM (512×256×4096) at 0.8 and a one-tile GEMM (128×128×4096) at 0.1, plus 1e9
  // other FLOPs at the effective 80 TFLOP/s and no memory traffic.
  const double full = 2.0 * 512 * 256 * 4096, one = 2.0 * 128 * 128 * 4096;
  program::Compute c{program::Phase::kForward, "x", full + one + 1e9, 0, {{512, 256, 4096, 1}, {128, 128, 4096, 1}}};
  const double seconds = full / 80e12 + one / 10e12 + 1e9 / 80e12;
  EXPECT_NEAR(cost::compute_seconds(c, gpu, core::Precision::kBf16), seconds, 1e-12 * seconds);
  // A layer on such a GPU costs the sum of its ops, as the engine simulates them.
  workloads::Layer l;
  l.name = "l";
  l.forward_gemms = {{"mlp_up", 128, 128, 4096, 1}};
  l.forward_flops = one;
  l.backward_flops = 2 * one;
  // b = 2: forward 256×128×4096 (2 tiles: 0.2), backward 256×4096×128 (64 tiles, 8 waves, k = 128)
  // and 4096×128×256 (32 tiles, 4 waves, k = 256), k_overhead 0: both at 0.8.
  const double expected = 2 * one / 20e12 + 2 * (2 * one) / 80e12;
  EXPECT_NEAR(cost::layer_seconds(l, 2, gpu, core::Precision::kBf16), expected, 1e-12 * expected);
}

TEST(GemmShape, RecomputationReplaysTheGemmsOfWhatItRecomputes) {
  const platforms::GpuSpec& a100 = platforms::GpuCatalogue::shipped().get("A100-80GB");
  workloads::ShardSpec shard;
  shard.recompute = workloads::Recompute::kFull;
  const workloads::ModelSpec model = test_support::tiny_model();
  const workloads::LayerChain full = workloads::build_layer_chain(model, 256, core::Precision::kBf16, shard);
  const workloads::Layer& layer = full.layers[1];
  // Full recomputation replays the forward: the same op but for its phase, and the same time.
  const program::Compute replay = cost::recompute_op(layer, 3);
  EXPECT_EQ(replay.gemms.size(), layer.forward_gemms.size());
  const double forward_s = cost::layer_pass_seconds(layer, 3, a100, core::Precision::kBf16).forward_s;
  EXPECT_NEAR(cost::compute_seconds(replay, a100, core::Precision::kBf16), forward_s, 1e-12 * forward_s);
  // Selective recomputation (naive kernel) replays the scores and values GEMMs only.
  shard.recompute = workloads::Recompute::kSelective;
  const workloads::Layer selective = workloads::build_layer_chain(model, 256, core::Precision::kBf16, shard).layers[1];
  const program::Compute core_replay = cost::recompute_op(selective, 3);
  ASSERT_EQ(core_replay.gemms.size(), 2u);
  EXPECT_EQ(core_replay.gemms[0], cost::scale_gemm(selective.forward_gemms[1], 3));
  EXPECT_EQ(core_replay.gemms[1], cost::scale_gemm(selective.forward_gemms[2], 3));
  EXPECT_DOUBLE_EQ(core_replay.flops, core_replay.gemms[0].flops() + core_replay.gemms[1].flops());
}

TEST(GemmShape, SplittingOffTheColumnParallelWeightGradientsKeepsTheBackwardWhole) {
  const platforms::GpuSpec& a100 = platforms::GpuCatalogue::shipped().get("A100-80GB");
  for (const bool gated : {false, true}) {
    workloads::ModelSpec model = test_support::tiny_model();
    model.gated_mlp = gated;
    workloads::ShardSpec shard;
    shard.tensor_parallel = 2;
    const workloads::Layer layer = workloads::build_layer_chain(model, 256, core::Precision::kBf16, shard).layers[1];
    const program::Compute backward = cost::backward_op(layer, 3);
    const cost::BackwardSplit split = cost::split_weight_gradients(layer, backward);
    // QKV, MLP up (and gate): the weight gradient {k, n, m} of each forward GEMM {m, n, k}.
    std::vector<program::Gemm> expected;
    for (const auto& g : layer.forward_gemms)
      if (g.column_parallel) {
        const program::Gemm f = cost::scale_gemm(g, 3);
        expected.push_back({f.k, f.n, f.m, f.batch});
      }
    EXPECT_EQ(split.weight_gradients.gemms, expected);
    EXPECT_EQ(expected.size(), gated ? 3u : 2u);
    EXPECT_EQ(split.weight_gradients.kernels, static_cast<int>(expected.size()));
    EXPECT_EQ(split.rest.gemms.size() + expected.size(), backward.gemms.size());
    EXPECT_DOUBLE_EQ(split.rest.flops + split.weight_gradients.flops, backward.flops);
    EXPECT_EQ(split.rest.kernels + split.weight_gradients.kernels, backward.kernels);
    EXPECT_EQ(split.rest.memory_bytes, backward.memory_bytes);
    EXPECT_EQ(split.weight_gradients.memory_bytes, 0.0);
    // Priced GEMM by GEMM, the two ops take the whole backward's time.
    const double whole_s = cost::compute_seconds(backward, a100, core::Precision::kBf16);
    EXPECT_NEAR(cost::compute_seconds(split.rest, a100, core::Precision::kBf16) +
                    cost::compute_seconds(split.weight_gradients, a100, core::Precision::kBf16),
                whole_s, 1e-12 * whole_s);
  }
}

TEST(GemmShape, CatalogueEntryReadsAndWritesBack) {
  const platforms::GpuSpec& a100 = platforms::GpuCatalogue::shipped().get("A100-80GB");
  EXPECT_EQ(a100.gemm_shape.sms, 108);
  EXPECT_FALSE(a100.gemm_shape.tiles.empty());
  const core::Json resolved = platforms::to_json(a100);
  core::ObjectReader reader(resolved, "resolved", "");
  EXPECT_EQ(platforms::read_gpu(reader, "A100-80GB"), a100);
  // A GPT-3 175B MLP GEMM (b·s = 2048 tokens, t = 8) on the shipped A100 loses a few percent to
  // its shape; a 64-token GEMM loses most of its speed.
  const double big = cost::gemm_efficiency(a100, {2048, 6144, 12288, 1});
  EXPECT_GT(big, 0.9 * a100.matmul_efficiency);
  EXPECT_LT(big, a100.matmul_efficiency);
  EXPECT_LT(cost::gemm_efficiency(a100, {64, 1536, 12288, 1}), 0.5 * a100.matmul_efficiency);
}

TEST(GemmShape, BadTilesAreRejectedAtTheirPointer) {
  core::Json gpu = platforms::to_json(testing::test_gpu(100e12, 2e12, 50, 400, 0.8));
  const auto message = [&](const core::Json& shape) -> std::string {
    core::Json bad = gpu;
    bad["gemm_shape"] = shape;
    core::ObjectReader reader(bad, "gpus.json", "/gpus/g");
    try {
      platforms::read_gpu(reader, bad["name"].get<std::string>());
    } catch (const core::ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message({{"sms", 8}, {"tiles", {{128, 0, 1.0}}}}).find("/gpus/g/gemm_shape/tiles/0"), std::string::npos);
  EXPECT_NE(message({{"sms", 8}, {"tiles", {{128, 128, 1.5}}}}).find("efficiency in (0, 1]"), std::string::npos);
  EXPECT_NE(message({{"sms", 8}, {"tiles", core::Json::array()}}).find("at least one tile"), std::string::npos);
  EXPECT_NE(message({{"sms", 0}, {"tiles", {{128, 128, 1.0}}}}).find("/gpus/g/gemm_shape/sms"), std::string::npos);
  EXPECT_NE(message({{"sms", 8}, {"tiles", {{128, 128, 1.0}}}, {"tile", 1}}).find("/gpus/g/gemm_shape/tile: unknown key"),
            std::string::npos);
}

}  // namespace
}  // namespace frugal
