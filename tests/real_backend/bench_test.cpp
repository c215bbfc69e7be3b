// frugal-real bench under mpirun -np 2 (small sizes): nccl-tests-style collectives with correct
// results and bus bandwidth factors, GEMM rates, copies, streaming and latency in bench.json.
#include <gtest/gtest.h>

#include "real_backend/bench.hpp"
#include "tests/real_backend/test_programs.hpp"

using namespace frugal;
using namespace frugal::real::testing;
namespace fs = std::filesystem;

TEST(Bench, BusBandwidthFactorsAreThoseOfNcclTests) {
  EXPECT_DOUBLE_EQ(program::busbw_factor(CollectiveKind::kAllReduce, 8), 2.0 * 7 / 8);
  EXPECT_DOUBLE_EQ(program::busbw_factor(CollectiveKind::kReduceScatter, 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(program::busbw_factor(CollectiveKind::kAllGather, 4), 3.0 / 4);
  EXPECT_DOUBLE_EQ(program::busbw_factor(CollectiveKind::kAllToAll, 2), 0.5);
  EXPECT_DOUBLE_EQ(program::busbw_factor(CollectiveKind::kBroadcast, 8), 1.0);
}

TEST(Bench, GroupsCoverEveryPowerOfTwoBlock) {
  const auto g = real::bench_groups(8);
  ASSERT_EQ(g.size(), 1u + 4 + 2);  // world, 4 pairs, 2 quads
  EXPECT_EQ(g[0].ranks.size(), 8u);
  EXPECT_EQ(g[1].ranks, (std::vector<core::RankId>{core::RankId(0), core::RankId(1)}));
  EXPECT_EQ(g[6].ranks.front(), core::RankId(4));
  EXPECT_EQ(real::bench_groups(1).size(), 1u);
}

TEST(Bench, ProgramGemmsAreDistinct) {
  const auto shapes = real::program_gemms(data_parallel(2));
  EXPECT_EQ(shapes.size(), 2u);  // forward/backward share [256,128,128]; backward adds [128,128,256]
}

TEST(Bench, ProgramHostStepsJoinTheHostComputeSweep) {
  Program p;
  RankProgram rp;
  rp.rank = core::RankId(0);
  RankBuilder b(rp);
  b.host_compute("cpu adam", Compute{Phase::kOptimizer, "adam", 3e6, 0, {}});
  b.host_compute("cpu adam again", Compute{Phase::kOptimizer, "adam", 3e6, 0, {}});
  b.compute("fwd", Compute{Phase::kForward, "l0", 5e6, 0, {}});  // not a host step
  p.ranks.push_back(rp);
  EXPECT_EQ(real::program_host_flops(p), std::vector<double>{3e6});
}

TEST(Bench, TwoRanksWriteACompleteBenchFile) {
  const ScratchDir dir("bench");
  save_program(data_parallel(2), dir / "p.json");
  const CommandResult r = run_command(mpirun(2) + " bench -o b.json --warmup 1 --iterations 3 --min-bytes 1KiB "
                                                  "--max-bytes 64KiB --step-factor 8 --gemm-sizes 64,128 --program p.json",
                                      dir);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("all_reduce"), std::string::npos) << r.out;
  const core::Json b = core::Json::parse(read_file(dir / "b.json"));
  EXPECT_EQ(b.at("format"), "frugal-real-bench");
  EXPECT_EQ(b.at("manifest").at("launch").at("world_size"), 2);
  EXPECT_EQ(b.at("gemm").size(), 4u);  // 64³, 128³ and the program's two shapes
  for (const auto& g : b.at("gemm")) EXPECT_GT(g.at("flops_per_s").get<double>(), 1e6);
  int all_reduce = 0;
  for (const auto& c : b.at("collectives")) {
    EXPECT_GT(c.at("busbw_bytes_per_s").get<double>(), 0.0);
    if (c.at("collective") == "send_recv") continue;
    EXPECT_EQ(c.at("wrong"), 0) << c.dump();
    if (c.at("collective") != "all_reduce") continue;
    ++all_reduce;
    EXPECT_EQ(c.at("group_size"), 2);
    EXPECT_DOUBLE_EQ(c.at("busbw_bytes_per_s").get<double>(), c.at("algbw_bytes_per_s").get<double>());  // factor 1 at n=2
  }
  EXPECT_EQ(all_reduce, 3);  // 1 KiB, 8 KiB, 64 KiB
  EXPECT_EQ(b.at("copies").size(), 2u * 2 * 3);
  ASSERT_EQ(b.at("host_compute").size(), 2u);  // the square sweep's 64 and 128 (the program has no host step)
  for (const auto& h : b.at("host_compute")) {
    EXPECT_GT(h.at("flops_per_s").get<double>(), 1e6);
    EXPECT_FALSE(h.at("program").get<bool>());
  }
  EXPECT_EQ(b.at("memory").size(), 7u);  // streaming goes past the cache: 1 KiB, 8 KiB, ... 256 MiB
  EXPECT_GT(b.at("latency").at("launch_and_synchronise_s").at("median").get<double>(), 0.0);
}
