// `frugalsim collective` as a user runs it: nccl-tests' sizes and columns, times equal to the
// ring's closed form on one node, bus bandwidth reaching the link's, bad options exit 2.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/cli.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::read_json;
using test_support::run_frugalsim;
using Json = nlohmann::json;

namespace {

// The quickstart's A100 node: 4 GPUs, NVLink 300 GB/s and 1 us per GPU link, so a step between
// two GPUs costs α = 2 us and S/β with β = 300 GB/s.
constexpr double kAlpha = 2e-6, kBeta = 300e9;

Json sweep(const std::string& name, const std::string& args) {
  const auto dir = fresh_dir("collective_" + name);
  const auto r = run_frugalsim("collective quickstart " + args + " -o " + (dir / "out.json").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("#       size         count      type   redop    root     time   algbw   busbw"), std::string::npos)
      << r.output;
  return r.exit_code == 0 ? read_json(dir / "out.json") : Json::object();
}

}  // namespace

TEST(CollectiveCommand, RingAllReduceOnOneNodeIsTheClosedForm) {
  const Json out = sweep("all_reduce", "--ranks 4 -b 8 -e 64M -f 4 --collectives step_by_step");
  ASSERT_TRUE(out.contains("collectives"));
  EXPECT_EQ(out.at("algorithm"), "auto");
  const Json& rows = out.at("collectives");
  ASSERT_EQ(rows.size(), 12u);  // 8 B, 32 B, ..., 32 MiB (×4 while ≤ 64 MiB)
  for (const Json& row : rows) EXPECT_EQ(row.at("algorithm"), "ring");  // one node without NVLS: the ring only
  double size = 8;
  for (const Json& row : rows) {
    EXPECT_EQ(row.at("bytes").get<double>(), size);
    EXPECT_EQ(row.at("elements").get<double>(), size / 4);  // float
    const double expected = 2 * 3 * (kAlpha + size / 4 / kBeta);  // 2(n−1)(α + S/(nβ))
    EXPECT_NEAR(row.at("time_s").at("median").get<double>() / expected, 1.0, 1e-9) << size;
    EXPECT_DOUBLE_EQ(row.at("busbw_bytes_per_s").get<double>(), row.at("algbw_bytes_per_s").get<double>() * 1.5);
    size *= 4;
  }
  // Large messages: the bus bandwidth tends to the link's (32 MiB: 2(n−1)α = 12 us of 180 us).
  EXPECT_GT(rows.back().at("busbw_bytes_per_s").get<double>(), 0.93 * kBeta);
  EXPECT_LT(rows.back().at("busbw_bytes_per_s").get<double>(), kBeta);
}

TEST(CollectiveCommand, AllGatherSizesAreWholeElementsOnEveryRank) {
  const Json out = sweep("all_gather", "--op all_gather --ranks 4 -b 8 -e 1K -d bfloat16 --collectives step_by_step");
  const Json& rows = out.at("collectives");
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0].at("bytes").get<double>(), 8);  // 4 ranks × 1 bf16 element
  EXPECT_EQ(rows[0].at("elements").get<double>(), 4);
  for (const Json& row : rows) {
    const double s = row.at("bytes").get<double>();
    EXPECT_NEAR(row.at("time_s").at("median").get<double>() / (3 * (kAlpha + s / 4 / kBeta)), 1.0, 1e-9) << s;
    EXPECT_DOUBLE_EQ(row.at("busbw_factor").get<double>(), 0.75);
  }
}

TEST(CollectiveCommand, AutoPicksPerSizeAsTheEngineDoes) {
  // 4 A100 + 4 RTX 4090 nodes: two nodes of four, so ring, hierarchical and tree are eligible;
  // each row names what cost::select_algorithm picked for its size, and a forced algorithm runs
  // as asked.
  const Json out = sweep("two_nodes", "-b 1K -e 64M -f 64");
  EXPECT_EQ(out.at("algorithm"), "auto");
  EXPECT_EQ(out.at("ranks"), 8);
  const Json& rows = out.at("collectives");
  ASSERT_EQ(rows.size(), 3u);
  for (const Json& row : rows) EXPECT_NE(row.at("algorithm"), "auto");
  // 2 nodes of 4: the hierarchical all-reduce's 2(L−1) + 2(M−1) = 8 steps, 6 of them over
  // NVLink, beat the ring's 14 and the tree's 2·4 + k − 1 at every size here.
  EXPECT_EQ(rows.front().at("algorithm"), "hierarchical");
  const Json ring = sweep("two_nodes_ring", "-b 1M -e 4M --algorithm ring");
  EXPECT_EQ(ring.at("algorithm"), "ring");
  EXPECT_EQ(ring.at("collectives").at(0).at("algorithm"), "ring");
  // NVLS asked for where no switch reduces: the ring runs, and the row says so.
  const Json nvls = sweep("two_nodes_nvls", "-b 1M -e 1M --algorithm nvls");
  EXPECT_EQ(nvls.at("algorithm"), "nvls");
  EXPECT_EQ(nvls.at("collectives").at(0).at("algorithm"), "ring");
}

TEST(CollectiveCommand, NvlsOnOneDgxH100Node) {
  // 8 GPUs of one DGX H100 node: NVLS at every size (one switch round trip, 275 GB/s per GPU),
  // busbw = 1.75 × algbw tending to 481 GB/s as nccl-tests reports it.
  const auto dir = fresh_dir("collective_nvls");
  const auto r = run_frugalsim("collective dgx-h100 --ranks 8 -b 8 -e 1G -f 1024 --collectives step_by_step -o " +
                               (dir / "out.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json out = read_json(dir / "out.json");
  for (const Json& row : out.at("collectives")) {
    EXPECT_EQ(row.at("algorithm"), "nvls") << row.dump();
    const double s = row.at("bytes").get<double>();
    EXPECT_NEAR(row.at("time_s").at("median").get<double>() / (2e-6 + s / 275e9), 1.0, 1e-9) << s;
  }
  EXPECT_NE(r.output.find("nvls"), std::string::npos);
}

TEST(CollectiveCommand, RingsAcrossDgxH100NodesUseEveryRail) {
  // Two DGX H100 nodes: 8 GPUs and 8 NICs of 400 Gb/s each. The all-gather's ring runs as 8
  // channels whose rings leave each node through different NICs: a step sends S/(16·8) through
  // one NIC (α = 1 + 0.13 + 1 us, β = 50 GB/s) while 7 such chunks share the GPU's 450 GB/s
  // NVLink, so the bus bandwidth reaches the node's 8 × 50 GB/s instead of one NIC's 50.
  const auto dir = fresh_dir("collective_rails");
  const auto r = run_frugalsim("collective dgx-h100 --op all_gather --ranks 16 -b 1G -e 1G --collectives step_by_step -o " +
                               (dir / "out.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json row = read_json(dir / "out.json").at("collectives").at(0);
  const double b = 1024.0 * 1024 * 1024 / (16 * 8);
  const double step = std::max(2e-6 + 7 * b / 450e9, 2.13e-6 + b / 50e9);
  EXPECT_NEAR(row.at("time_s").at("median").get<double>() / (15 * step), 1.0, 1e-9);
  EXPECT_GT(row.at("busbw_bytes_per_s").get<double>(), 0.98 * 400e9);
  EXPECT_LT(row.at("busbw_bytes_per_s").get<double>(), 400e9);
}

TEST(CollectiveCommand, BadOptionsExit2WithTheOptionNamed) {
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {Case{"quickstart --op all_sum", "--op: unknown collective \"all_sum\""},
                        Case{"quickstart --ranks 9", "--ranks: expected 2 to 8 ranks"},
                        Case{"quickstart -b 1X", "--minbytes: expected a size in bytes"},
                        Case{"quickstart -b 1M -e 1K", "--minbytes: minbytes (1M) > maxbytes (1K)"},
                        Case{"quickstart -d int3", "--datatype: unknown datatype \"int3\""},
                        Case{"quickstart -f 1", "--stepfactor: expected an integer from 2 to 1024"},
                        Case{"no-such-cluster", "unknown cluster \"no-such-cluster\""}}) {
    const auto r = run_frugalsim("collective " + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
  }
}
