// frugal-real on the CUDA device (label "gpu"): a one-rank program end to end. Exit code 77 means
// no usable GPU: skipped, unless the build sets FRUGAL_REQUIRE_GPU.
#include <gtest/gtest.h>

#include "tests/real_backend/test_programs.hpp"

using namespace frugal;
using namespace frugal::real::testing;

TEST(CudaCli, OneRankProgramWritesMeasurements) {
  const ScratchDir dir("gpu-cli");
  save_program(data_parallel(1, 3, 1024, 4096), dir / "p.json");
  const CommandResult r = run_command(frugal_real() + " run p.json --device cuda -o m.json --iterations 3", dir);
  if (r.code == 77 && !FRUGAL_REQUIRE_GPU) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.code, 0) << r.err;
  const core::Json m = core::Json::parse(read_file(dir / "m.json"));
  EXPECT_EQ(m.at("manifest").at("device").at("kind"), "cuda");
  EXPECT_TRUE(m.at("checks").at("gemm").at("ok").get<bool>());
}
