// nccl-tests output as calibration input: `frugalsim calibrate all_reduce_perf.txt` fits the
// intra-node link through the ring's steps (with --all-reduce-algorithm nvls, the node's NVLink
// SHARP bandwidth through the all-reduce's own line, the link through sendrecv_perf's), and
// `frugalsim collective` on the calibrated platform gives back the times nccl-tests printed.
// Output it cannot use is exit 2 with the line.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "platforms/gpu_catalogue.hpp"
#include "tests/support/cli.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::read_json;
using test_support::run_frugalsim;
using test_support::write_file;
using Json = nlohmann::json;

namespace {

constexpr int kRanks = 8;
constexpr double kAlpha = 3e-6, kBeta = 150e9;  // one route inside the node

double ring_all_reduce_s(double bytes) { return 2 * (kRanks - 1) * (kAlpha + bytes / kRanks / kBeta); }

// An nccl-tests program's output as it prints it (times in us with two decimals), `seconds` giving
// the time of each size.
std::string perf_output(const std::string& test, const std::vector<std::string>& hosts,
                        const std::function<double(double)>& seconds, const std::string& row_override = "") {
  std::string text =
      "# nThread 1 nGpus 1 minBytes 8 maxBytes 134217728 step: 4(factor) warmup iters: 5 iters: 20 agg iters: 1 "
      "validation: 1 graph: 0\n#\n# Using devices\n";
  for (int r = 0; r < kRanks; ++r) {
    char line[200];
    std::snprintf(line, sizeof line, "#  Rank %2d Group  0 Pid %6d on %10s device %2d [0x%02x] NVIDIA H100 80GB HBM3\n", r,
                  1000 + r, hosts[static_cast<std::size_t>(r) % hosts.size()].c_str(), r, 0x18 + r);
    text += line;
  }
  text +=
      "#\n# Collective test starting: " + test + "\n"
      "#                                                              out-of-place                       in-place\n"
      "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw "
      "#wrong\n"
      "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)\n";
  for (double size = 8; size <= 134217728; size *= 4) {
    const double t = seconds(size);
    char line[300];
    std::snprintf(line, sizeof line, "%12.0f  %12.0f     float     sum      -1  %7.2f  %6.2f  %6.2f      0  %7.2f  %6.2f  %6.2f      0\n",
                  size, size / 4, t * 1e6, size / t / 1e9, size / t / 1e9 * 1.75, t * 1e6, size / t / 1e9,
                  size / t / 1e9 * 1.75);
    text += line;
  }
  text += row_override + "# Out of bounds values : 0 OK\n# Avg bus bandwidth    : 42.0\n#\n";
  return text;
}

std::string all_reduce_perf(const std::vector<std::string>& hosts, const std::string& row_override = "") {
  return perf_output("all_reduce_perf", hosts, ring_all_reduce_s, row_override);
}

}  // namespace

TEST(NcclTestsCalibration, FitsTheLinkAndTheCollectiveCommandGivesTheTimesBack) {
  const auto dir = fresh_dir("nccl_tests_fit");
  write_file(dir / "all_reduce_perf.txt", all_reduce_perf({"node1"}));
  const auto fit = run_frugalsim("calibrate " + (dir / "all_reduce_perf.txt").string() + " --platform dgx-h100 -o " +
                                 (dir / "cal.json").string());
  ASSERT_EQ(fit.exit_code, 0) << fit.output;
  const Json cal = read_json(dir / "cal.json");
  const Json& link = cal.at("node_types").at("h100").at("intra_node");
  EXPECT_NEAR(link.at("latency_s").get<double>() / (kAlpha / 2), 1.0, 0.01);
  EXPECT_NEAR(link.at("bandwidth_bytes_per_s").get<double>() / kBeta, 1.0, 0.01);
  // No GEMM in the input: the GPU's compute figures are the catalogue's.
  EXPECT_FALSE(cal.at("node_types").at("h100").at("gpu").contains("gemm_efficiency"));
  EXPECT_EQ(cal.at("node_types").at("h100").at("gpu").at("matmul_efficiency").get<double>(),
            platforms::GpuCatalogue::shipped().get("H100-SXM").matmul_efficiency);

  const auto sim = run_frugalsim("collective " + (dir / "cal.json").string() +
                                 " --ranks 8 --algorithm ring --collectives step_by_step -b 8 -e 128M -f 4 -o " +
                                 (dir / "sim.json").string());
  ASSERT_EQ(sim.exit_code, 0) << sim.output;
  const Json rows = read_json(dir / "sim.json").at("collectives");
  ASSERT_EQ(rows.size(), 13u);
  for (const Json& row : rows) {
    const double bytes = row.at("bytes").get<double>();
    EXPECT_NEAR(row.at("time_s").at("median").get<double>() / ring_all_reduce_s(bytes), 1.0, 0.01) << bytes;
  }
}

TEST(NcclTestsCalibration, OutputItCannotUseIsExit2WithTheLine) {
  const auto dir = fresh_dir("nccl_tests_bad");
  struct Case {
    std::string name, text, message;
  };
  const std::string two_hosts = all_reduce_perf({"node1", "node2"});
  std::string unnamed = all_reduce_perf({"node1"});
  unnamed.erase(unnamed.find("# Collective test starting: all_reduce_perf\n"),
                std::string("# Collective test starting: all_reduce_perf\n").size());
  for (const Case& c :
       {Case{"two_hosts.txt", two_hosts, "line 4: the ranks ran on 2 hosts"},
        Case{"garbage_row_allreduce.txt", all_reduce_perf({"node1"}, "  1024  256  float  sum  -1  fast\n"),
             "expected nccl-tests' columns"},
        Case{"unnamed.txt", unnamed, "cannot tell which collective"}}) {
    write_file(dir / c.name, c.text);
    const auto r = run_frugalsim("calibrate " + (dir / c.name).string() + " --platform dgx-h100 -o " +
                                 (dir / "cal.json").string());
    EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.name << "\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "cal.json")) << c.name;
  }
}

TEST(NcclTestsCalibration, NvlsAllReducesFitTheSwitchBandwidthAndTheCollectiveCommandGivesTheTimesBack) {
  // NCCL_ALGO=NVLS all_reduce_perf: T = α_nvls + S/β_nvls; sendrecv_perf: T = α + S/β per route
  // (an NVLS all-reduce moves S each way over every GPU's link: β_nvls ≤ β).
  constexpr double kNvlsAlpha = 9e-6, kNvlsBeta = 260e9, kRouteBeta = 400e9;
  const auto nvls_s = [](double bytes) { return kNvlsAlpha + bytes / kNvlsBeta; };
  const auto route_s = [](double bytes) { return kAlpha + bytes / kRouteBeta; };
  const auto dir = fresh_dir("nccl_tests_nvls");
  write_file(dir / "all_reduce_perf.txt", perf_output("all_reduce_perf", {"node1"}, nvls_s));
  write_file(dir / "sendrecv_perf.txt", perf_output("sendrecv_perf", {"node1"}, route_s));
  const std::string inputs = (dir / "all_reduce_perf.txt").string() + " " + (dir / "sendrecv_perf.txt").string();
  const auto fit = run_frugalsim("calibrate " + inputs + " --all-reduce-algorithm nvls --platform dgx-h100 -o " +
                                 (dir / "cal.json").string());
  ASSERT_EQ(fit.exit_code, 0) << fit.output;
  const Json cal = read_json(dir / "cal.json");
  const Json& link = cal.at("node_types").at("h100").at("intra_node");
  EXPECT_NEAR(link.at("nvls_bandwidth_bytes_per_s").get<double>() / kNvlsBeta, 1.0, 0.01);
  EXPECT_FALSE(link.contains("nvls_bandwidth"));
  EXPECT_NEAR(link.at("bandwidth_bytes_per_s").get<double>() / kRouteBeta, 1.0, 0.01);
  EXPECT_NEAR(link.at("latency_s").get<double>() / (kAlpha / 2), 1.0, 0.01);

  // The switch's route is the link's; the rest of α_nvls is the all-reduce's fixed overhead.
  const auto sim = run_frugalsim("collective " + (dir / "cal.json").string() +
                                 " --ranks 8 --algorithm nvls -b 8 -e 128M -f 4 -o " + (dir / "sim.json").string());
  ASSERT_EQ(sim.exit_code, 0) << sim.output;
  const Json rows = read_json(dir / "sim.json").at("collectives");
  ASSERT_EQ(rows.size(), 13u);
  for (const Json& row : rows) {
    const double bytes = row.at("bytes").get<double>();
    EXPECT_NEAR(row.at("time_s").at("median").get<double>() / nvls_s(bytes), 1.0, 0.01) << bytes;
  }

  // The same all-reduces read as ring steps would give another link: the flag is what tells them apart.
  const auto ring = run_frugalsim("calibrate " + inputs.substr(0, inputs.find(' ')) + " --platform dgx-h100 -o " +
                                  (dir / "ring.json").string());
  ASSERT_EQ(ring.exit_code, 0) << ring.output;
  EXPECT_FALSE(read_json(dir / "ring.json").at("node_types").at("h100").at("intra_node").contains("nvls_bandwidth_bytes_per_s"));
}

TEST(NcclTestsCalibration, AnAllReduceAlgorithmItCannotFitOrANodeWithoutNvlinkIsExit2) {
  const auto dir = fresh_dir("nccl_tests_nvls_bad");
  write_file(dir / "all_reduce_perf.txt", all_reduce_perf({"node1"}));
  const std::string input = (dir / "all_reduce_perf.txt").string();
  const auto tree = run_frugalsim("calibrate " + input + " --all-reduce-algorithm tree --platform dgx-h100 -o " +
                                  (dir / "cal.json").string());
  EXPECT_EQ(tree.exit_code, 2) << tree.output;
  EXPECT_NE(tree.output.find("--all-reduce-algorithm"), std::string::npos) << tree.output;
  EXPECT_NE(tree.output.find("\"ring\" or \"nvls\""), std::string::npos) << tree.output;
  const auto unknown = run_frugalsim("calibrate " + input + " --all-reduce-algorithm sharp --platform dgx-h100 -o " +
                                     (dir / "cal.json").string());
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("--all-reduce-algorithm"), std::string::npos) << unknown.output;
  // A PCIe node has no NVLink SHARP.
  const auto pcie = run_frugalsim("calibrate " + input + " --all-reduce-algorithm nvls --platform " +
                                  std::string("quickstart") + " -o " + (dir / "cal.json").string());
  EXPECT_EQ(pcie.exit_code, 2) << pcie.output;
  EXPECT_NE(pcie.output.find("no NVLink"), std::string::npos) << pcie.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "cal.json"));
}
