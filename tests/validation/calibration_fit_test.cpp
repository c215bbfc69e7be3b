// Calibration fits on synthetic measurements with known answers: the α-β line, the size factors
// that bend it through band-wise different curves, and their place in a calibrated cluster.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/calibration/calibration.hpp"
#include "sim/cost/compute_cost.hpp"

namespace frugal::calibration {
namespace {

using Points = std::vector<std::pair<double, double>>;

/// A cluster document of one node with two of `gpu` (a catalogue name or an inline GPU).
core::Json one_node_cluster(const core::Json& gpu) {
  core::Json doc = core::Json::parse(R"({
    "name": "t",
    "node_types": { "cpu": {
      "gpus_per_node": 2,
      "intra_node": {"kind": "pcie", "bandwidth": "10 GB/s", "latency": "1 us"},
      "host_link": {"bandwidth": "10 GB/s", "latency": "1 us"}, "host_memory": "16 GiB",
      "nic": {"bandwidth": "10 Gbps", "latency": "10 us"}, "nics_per_node": 1,
      "cpu": {"speed": "100 GFLOPS", "idle_power": "10 W", "max_power": "60 W"} } },
    "nodes": [ {"type": "cpu", "count": 1} ],
    "network": {"topology": "star", "switch_latency": "1 us"} })");
  doc["node_types"]["cpu"]["gpu"] = gpu;
  return doc;
}

TEST(CalibrationFit, AlphaBetaLineIsRecoveredExactly) {
  Points pts;
  for (double s : {1e3, 1e5, 1e6, 1e7}) pts.emplace_back(s, 3e-6 + s / 8e9);
  const AlphaBeta ab = fit_alpha_beta(pts);
  EXPECT_NEAR(ab.alpha_s, 3e-6, 1e-12);
  EXPECT_NEAR(ab.beta_bytes_per_s, 8e9, 1e-3);
  EXPECT_NEAR(ab.r2, 1.0, 1e-12);
  EXPECT_EQ(ab.points, 4);
}

/// Per band (α_b, β_b): the fitted factors applied to the global line reproduce every point.
TEST(CalibrationFit, SizeFactorsReproduceBandwiseCurves) {
  struct Band {
    std::vector<double> sizes;
    double alpha_s, beta;
  };
  const std::vector<Band> bands = {{{256, 1024}, 2e-6, 2e9},        // below 4 KiB: latency-bound, eager
                                   {{8192, 32768}, 5e-6, 4e9},      // [4 KiB, 64 KiB)
                                   {{131072, 524288}, 9e-6, 9e9},   // [64 KiB, 1 MiB)
                                   {{4194304}, 9e-6, 11e9}};        // one size: bandwidth only
  Points pts;
  for (const Band& b : bands)
    for (double s : b.sizes) pts.emplace_back(s, b.alpha_s + s / b.beta);
  const AlphaBeta line = fit_alpha_beta(pts);
  platforms::LinkSpec link{line.beta_bytes_per_s, line.alpha_s};
  link.factors = fit_size_factors(pts, line);
  ASSERT_EQ(link.factors.size(), 4u);
  EXPECT_EQ(link.factors[0].from_bytes, 0);
  EXPECT_EQ(link.factors[1].from_bytes, 4096);
  EXPECT_EQ(link.factors[3].from_bytes, 1048576);
  EXPECT_EQ(link.factors[3].latency, 1.0);
  for (const auto& [bytes, seconds] : pts) {
    const platforms::SizeFactor* f = link.factor_for(bytes);
    ASSERT_NE(f, nullptr);
    const double predicted = line.alpha_s * f->latency + bytes / (line.beta_bytes_per_s * f->bandwidth);
    EXPECT_NEAR(predicted, seconds, 1e-9 * seconds) << bytes << " B";
  }
}

TEST(CalibrationFit, AStraightLineNeedsNoFactorBeyondOne) {
  Points pts;
  for (double s : {512.0, 2048.0, 16384.0, 65536.0, 1e6, 4e6}) pts.emplace_back(s, 1e-6 + s / 5e9);
  const AlphaBeta line = fit_alpha_beta(pts);
  const auto factors = fit_size_factors(pts, line);
  ASSERT_EQ(factors.size(), 1u);  // neighbouring bands within 2 % merge into the first
  EXPECT_NEAR(factors[0].latency, 1.0, 1e-6);
  EXPECT_NEAR(factors[0].bandwidth, 1.0, 1e-6);
  EXPECT_TRUE(fit_size_factors({}, line).empty());
}

/// Wall-clock noise on a loaded machine can tilt the least-squares line to a negative slope: the
/// link then joins the extreme sizes, and still gets its size factors.
TEST(CalibrationFit, NoisyPointsStillGiveALinkAndFactors) {
  // Latency-bound small sizes measured slow (a descheduled rank), mid sizes fast.
  const Points noisy = {{1024, 40e-6}, {1024, 35e-6}, {262144, 10e-6}, {524288, 10e-6}, {1048576, 45e-6}};
  ASSERT_LE(fit_alpha_beta(noisy).beta_bytes_per_s, 0.0) << "the points must defeat least squares";
  const AlphaBeta line = fit_link(noisy);
  EXPECT_TRUE(line.from_extremes);
  EXPECT_NEAR(line.beta_bytes_per_s, (1048576.0 - 1024) / (45e-6 - 37.5e-6), 1e-3);
  EXPECT_NEAR(line.alpha_s, 37.5e-6 - 1024 / line.beta_bytes_per_s, 1e-15);
  EXPECT_FALSE(fit_size_factors(noisy, line).empty());
  // No size slower than the smallest: the largest size's rate bounds the bandwidth from below.
  const Points flat = {{1024, 50e-6}, {1048576, 40e-6}};
  const AlphaBeta bound = fit_link(flat);
  EXPECT_NEAR(bound.beta_bytes_per_s, 1048576 / 40e-6, 1e-3);
  EXPECT_NEAR(bound.alpha_s, 50e-6 - 1024 / bound.beta_bytes_per_s, 1e-15);
  EXPECT_FALSE(fit_size_factors(flat, bound).empty());
  // A clean line is left to least squares.
  Points clean;
  for (double s : {1e3, 1e6}) clean.emplace_back(s, 2e-6 + s / 4e9);
  EXPECT_FALSE(fit_link(clean).from_extremes);
}

TEST(CalibrationFit, CalibratedClusterCarriesTheFactors) {
  const core::Json doc = one_node_cluster("A100-80GB");
  Fit fit;
  fit.gemm_efficiency = {{1e6, 0.4}, {1e9, 0.8}};
  fit.matmul_efficiency = 0.8;
  fit.link = AlphaBeta{2e-6, 6e9, 0.99, 6};
  fit.link_factors = {{0, 1.5, 0.5}, {65536, 1.0, 0.9}};
  const core::Json calibrated = apply_fit(doc, fit, {"bench.json"});
  const platforms::Cluster c = platforms::read_cluster(calibrated, "cal.json", "", platforms::GpuCatalogue::shipped());
  EXPECT_EQ(c.node_types[0].gpu_link.factors, fit.link_factors);
  EXPECT_DOUBLE_EQ(c.node_types[0].gpu_link.latency_s, 1e-6);  // α of a route of two links
  EXPECT_NE(c.source.find("2 size factors"), std::string::npos) << c.source;
}

/// A bench file with one GEMM, an exact point-to-point line and collectives that cost a known
/// overhead on top of the engine's ring steps.
TEST(CalibrationFit, CollectiveOverheadIsTheLatencyBoundResidual) {
  const AlphaBeta line{2e-6, 5e9, 1, 0};
  core::Json collectives = core::Json::array();
  const auto add = [&](const std::string& kind, double bytes, double seconds) {
    collectives.push_back({{"collective", kind}, {"group_size", 2}, {"bytes", bytes}, {"time_s", {{"median", seconds}}}});
  };
  for (double s : {1024.0, 16384.0, 1048576.0, 16777216.0}) {
    add("send_recv", s, line.alpha_s + s / line.beta_bytes_per_s);
    add("all_reduce", s, 15e-6 + predicted_collective_s(program::CollectiveKind::kAllReduce, s, 2, line, {}));
    add("all_gather", s, predicted_collective_s(program::CollectiveKind::kAllGather, s, 2, line, {}));
  }
  add("all_reduce", 1 << 20, 1.0);  // an outlier above 64 KiB does not move the overhead
  const core::Json bench = {
      {"format", "frugal-real-bench"},
      {"manifest", {{"device", {{"kind", "cpu"}}}}},
      {"gemm", core::Json::array({{{"flops", 2e9}, {"batch", 1}, {"flops_per_s", 5e10}}})},
      {"collectives", collectives}};
  const Fit fit = fit_benches({bench}, {"bench.json"}, 1e11);
  EXPECT_NEAR(fit.link.alpha_s, line.alpha_s, 1e-12);
  EXPECT_NEAR(fit.link.beta_bytes_per_s, line.beta_bytes_per_s, 1e-3);
  EXPECT_DOUBLE_EQ(fit.matmul_efficiency, 0.5);
  ASSERT_EQ(fit.collective_overhead_s.size(), 5u);
  EXPECT_NEAR(fit.collective_overhead_s[0], 15e-6, 1e-12);  // all_reduce
  EXPECT_NEAR(fit.collective_overhead_s[2], 0.0, 1e-12);    // all_gather
  // Ring steps: all-reduce 2(n−1) steps of S/n; all-gather n−1.
  EXPECT_DOUBLE_EQ(predicted_collective_s(program::CollectiveKind::kAllReduce, 8e6, 4, line, {}),
                   6 * (2e-6 + 2e6 / 5e9));
  EXPECT_DOUBLE_EQ(predicted_collective_s(program::CollectiveKind::kAllGather, 8e6, 4, line, {}), 3 * (2e-6 + 2e6 / 5e9));
}

/// Streaming bandwidth by size, from two bench files: the table keeps every size (median over the
/// files), the out-of-cache figure is the median of the sizes within 4× of the largest, and both
/// reach the calibrated GPU.
TEST(CalibrationFit, MemoryBandwidthBySizeReachesTheCalibratedGpu) {
  const auto bench = [](double scale) {
    core::Json memory = core::Json::array();
    const std::vector<std::pair<double, double>> rows = {{1e6, 40e9}, {1e7, 30e9}, {1e8, 10e9}, {4e8, 8e9}};
    for (const auto& [bytes, bw] : rows) memory.push_back({{"bytes", bytes}, {"bandwidth_bytes_per_s", bw * scale}});
    return core::Json{{"format", "frugal-real-bench"},
                      {"manifest", {{"device", {{"kind", "cpu"}}}}},
                      {"gemm", core::Json::array({{{"flops", 2e9}, {"batch", 1}, {"flops_per_s", 5e10}}})},
                      {"memory", memory}};
  };
  const Fit fit = fit_benches({bench(0.9), bench(1.1)}, {"a.json", "b.json"}, 1e11);
  ASSERT_EQ(fit.memory_bandwidth_by_size.size(), 4u);
  EXPECT_DOUBLE_EQ(fit.memory_bandwidth_by_size[0].first, 1e6);
  EXPECT_NEAR(fit.memory_bandwidth_by_size[0].second, 40e9, 1);
  EXPECT_NEAR(fit.memory_bandwidth_by_size[3].second, 8e9, 1);
  EXPECT_NEAR(fit.memory_bandwidth_bytes_per_s, 0.5 * (8e9 * 1.1 + 10e9 * 0.9), 1);  // median of 4 values

  const core::Json doc = one_node_cluster(core::Json::parse(R"({
    "name": "core", "peak": {"fp32": "100 GFLOPS"}, "memory": "4 GB", "hbm_bandwidth": "20 GB/s",
    "idle_power": "5 W", "max_power": "15 W", "serial_streams": true})"));
  const platforms::Cluster c =
      platforms::read_cluster(apply_fit(doc, fit, {"a.json", "b.json"}), "cal.json", "", platforms::GpuCatalogue::shipped());
  const platforms::GpuSpec& gpu = c.node_types[0].gpu;
  EXPECT_EQ(gpu.memory_bandwidth_by_size, fit.memory_bandwidth_by_size);
  EXPECT_DOUBLE_EQ(gpu.hbm_bandwidth_bytes_per_s, fit.memory_bandwidth_bytes_per_s);
  EXPECT_NEAR(gpu.memory_bandwidth_at(1e6), 40e9, 1);
  EXPECT_TRUE(gpu.serial_streams);  // kept from the uncalibrated device
  EXPECT_NE(gpu.source.find("(4 sizes)"), std::string::npos) << gpu.source;

  // A row that is not a measurement names the bench file and the row.
  core::Json bad = bench(1.0);
  bad["memory"][1]["bandwidth_bytes_per_s"] = nullptr;  // what a zero-time row prints as
  try {
    (void)fit_benches({bench(1.0), bad}, {"a.json", "b.json"}, 1e11);
    FAIL() << "expected a ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.file(), "b.json");
    EXPECT_EQ(e.pointer(), "/memory/1/bandwidth_bytes_per_s");
  }
}

/// GEMMs measured faster than the nominal peak raise the peak to the best rate measured, with
/// efficiencies relative to it, so that the calibrated device predicts the measured rates.
TEST(CalibrationFit, GemmsAboveTheNominalPeakRaiseThePeak) {
  core::Json gemm = core::Json::array();
  for (const auto& [flops, rate] : std::vector<std::pair<double, double>>{{2e6, 100e9}, {2e9, 125e9}})
    gemm.push_back({{"flops", flops}, {"batch", 1}, {"flops_per_s", rate}});
  const core::Json bench = {{"format", "frugal-real-bench"}, {"manifest", {{"device", {{"kind", "cpu"}}}}}, {"gemm", gemm}};
  const Fit fit = fit_benches({bench}, {"a.json"}, 100e9);
  // The small GEMM's 20 us, 4 us above the best rate, are its launch (the line through both
  // sizes crosses 0 FLOPs at 4.004 us, clamped to 4): its work runs at 125 GFLOP/s, the large
  // one's, 2 GFLOP in 16 ms less 4 us, a little faster: that is the peak.
  EXPECT_NEAR(fit.kernel_launch_s, 4e-6, 1e-15);
  const double peak = 2e9 / (16e-3 - 4e-6);
  EXPECT_NEAR(fit.peak_flops_per_s, peak, 1e-3);
  ASSERT_EQ(fit.gemm_efficiency.size(), 2u);
  EXPECT_NEAR(fit.gemm_efficiency[0].second, 125e9 / peak, 1e-12);
  EXPECT_NEAR(fit.gemm_efficiency[1].second, 1.0, 1e-12);

  const core::Json doc = one_node_cluster(core::Json::parse(R"({
    "name": "core", "peak": {"fp32": "100 GFLOPS"}, "memory": "4 GB", "hbm_bandwidth": "20 GB/s",
    "idle_power": "5 W", "max_power": "15 W"})"));
  const platforms::Cluster c =
      platforms::read_cluster(apply_fit(doc, fit, {"a.json"}), "cal.json", "", platforms::GpuCatalogue::shipped());
  const platforms::GpuSpec& gpu = c.node_types[0].gpu;
  // One GEMM, one kernel: the measured times back.
  const auto one_gemm_s = [&](std::int64_t n) {
    const double f = 2.0 * n * n * n;
    return cost::compute_seconds(program::Compute{program::Phase::kForward, "g", f, 0, {{n, n, n, 1}}, 1}, gpu,
                                 core::Precision::kFp32);
  };
  EXPECT_NEAR(one_gemm_s(100) / (2e6 / 100e9), 1.0, 1e-12);
  EXPECT_NEAR(one_gemm_s(1000) / (2e9 / 125e9), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(gpu.kernel_launch_s, fit.kernel_launch_s);
  EXPECT_NE(gpu.source.find("peak raised"), std::string::npos) << gpu.source;
  EXPECT_NE(gpu.source.find("kernel launch 4 us"), std::string::npos) << gpu.source;
}

/// A GPU whose GEMMs all run at 80 % of peak after a fixed 5 us per kernel, from 64³ to 4096³:
/// the fit finds the 5 us and a flat 80 % table, and prices every measured GEMM at its time.
TEST(CalibrationFit, KernelLaunchIsTheFixedCostOfTheSmallestGemms) {
  const double peak = 989e12, launch = 5e-6;
  core::Json gemm = core::Json::array();
  std::vector<std::pair<std::int64_t, double>> measured;
  for (std::int64_t n = 64; n <= 4096; n *= 2) {
    const double f = 2.0 * n * n * n, t = launch + f / (0.8 * peak);
    gemm.push_back({{"flops", f}, {"batch", 1}, {"flops_per_s", f / t}});
    measured.emplace_back(n, t);
  }
  const core::Json bench = {{"format", "frugal-real-bench"}, {"manifest", {{"device", {{"kind", "cuda"}}}}}, {"gemm", gemm}};
  const Fit fit = fit_benches({bench}, {"h100.json"}, peak);
  // The line through the two smallest sizes meets 0 FLOPs at 5 us.
  EXPECT_NEAR(fit.kernel_launch_s, launch, 1e-15);
  EXPECT_EQ(fit.peak_flops_per_s, 0);  // nothing above the nominal peak
  for (const auto& [flops, eff] : fit.gemm_efficiency) EXPECT_NEAR(eff, 0.8, 1e-9) << flops;
  const core::Json doc = one_node_cluster(core::Json::parse(R"({
    "name": "gpu", "peak": {"bf16": "989 TFLOPS"}, "memory": "80 GB", "hbm_bandwidth": "3 TB/s",
    "idle_power": "75 W", "max_power": "700 W", "kernel_launch": "2 us"})"));
  const platforms::GpuSpec gpu =
      platforms::read_cluster(apply_fit(doc, fit, {"h100.json"}), "cal.json", "", platforms::GpuCatalogue::shipped())
          .node_types[0]
          .gpu;
  EXPECT_DOUBLE_EQ(gpu.kernel_launch_s, fit.kernel_launch_s);  // the fit replaces the declared 2 us
  for (const auto& [n, t] : measured) {
    const double f = 2.0 * n * n * n;
    const program::Compute one{program::Phase::kForward, "g", f, 0, {{n, n, n, 1}}, 1};
    EXPECT_NEAR(cost::compute_seconds(one, gpu, core::Precision::kBf16) / t, 1.0, 1e-9) << n;
  }
}

/// Copies T = α + S/β (pinned and pageable) and host compute at known rates on 2 ranks of a node:
/// the calibrated cluster's host link has β (the largest copies) and α, and its CPU the program
/// sizes' rate times the 2 ranks that ran at once; every row is checked like the other sections.
TEST(CalibrationFit, HostLinkAndCpuSpeedComeFromCopiesAndHostCompute) {
  const double alpha = 2e-6, beta = 12e9;
  core::Json copies = core::Json::array();
  for (const char* direction : {"host_to_device", "device_to_host"})
    for (double bytes : {4096.0, 65536.0, 1048576.0, 16777216.0}) {
      copies.push_back({{"direction", direction}, {"memory", "pinned"}, {"bytes", bytes},
                        {"time_s", {{"median", alpha + bytes / beta}}}});
      copies.push_back({{"direction", direction}, {"memory", "pageable"}, {"bytes", bytes},
                        {"time_s", {{"median", 3 * (alpha + bytes / beta)}}}});  // not the pinned link's
    }
  const core::Json host = core::Json::array({{{"flops", 4e6}, {"flops_per_s", 5e10}, {"program", false}},
                                             {{"flops", 4.4e7}, {"flops_per_s", 6e10}, {"program", true}},
                                             {{"flops", 2e9}, {"flops_per_s", 8e10}, {"program", false}}});
  const core::Json bench = {{"format", "frugal-real-bench"},
                            {"manifest", {{"device", {{"kind", "cpu"}}}, {"launch", {{"local_size", 2}}}}},
                            {"gemm", core::Json::array({{{"flops", 2e9}, {"batch", 1}, {"flops_per_s", 5e10}}})},
                            {"copies", copies},
                            {"host_compute", host}};
  const Fit fit = fit_benches({bench}, {"b.json"}, 1e11);
  EXPECT_NEAR(fit.host_link.alpha_s, alpha, 1e-12);
  EXPECT_NEAR(fit.host_link.beta_bytes_per_s / beta, 1.0, 1e-9);
  EXPECT_NEAR(fit.cpu_flops_per_s, 2 * 6e10, 1);  // the program's size, both ranks at once

  const core::Json doc = one_node_cluster(core::Json::parse(R"({
    "name": "core", "peak": {"fp32": "100 GFLOPS"}, "memory": "4 GB", "hbm_bandwidth": "20 GB/s",
    "idle_power": "5 W", "max_power": "15 W"})"));
  const platforms::Cluster c =
      platforms::read_cluster(apply_fit(doc, fit, {"b.json"}), "cal.json", "", platforms::GpuCatalogue::shipped());
  const platforms::NodeType& node = c.node_types[0];
  EXPECT_NEAR(node.host_link.bandwidth_bytes_per_s / beta, 1.0, 1e-9);
  EXPECT_NEAR(node.host_link.latency_s, alpha, 1e-12);
  EXPECT_NEAR(node.cpu_flops_per_s, 1.2e11, 1);
  EXPECT_NE(c.source.find("host link"), std::string::npos) << c.source;

  // Without a program's sizes: the largest size's rate.
  core::Json sweep_only = bench;
  for (auto& row : sweep_only["host_compute"]) row["program"] = false;
  EXPECT_NEAR(fit_benches({sweep_only}, {"b.json"}, 1e11).cpu_flops_per_s, 2 * 8e10, 1);

  core::Json bad = bench;
  bad["host_compute"][1]["program"] = "yes";
  try {
    (void)fit_benches({bad}, {"b.json"}, 1e11);
    FAIL() << "expected a ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/host_compute/1/program");
  }
}

}  // namespace
}  // namespace frugal::calibration
