// CUDA device (label "gpu"): the exact GEMM check, large-shape cuBLAS throughput, copies and a
// one-rank program end to end on NCCL. Skipped without a usable GPU, unless the build sets
// FRUGAL_REQUIRE_GPU (then a missing GPU fails).
#include <gtest/gtest.h>

#include "real_backend/checks.hpp"
#include "real_backend/cuda/cuda_device.hpp"
#include "real_backend/executor.hpp"
#include "tests/real_backend/test_programs.hpp"

using namespace frugal;
using namespace frugal::real::testing;

namespace {

/// The GPU of this process, or a skip (a failure when a GPU is required).
#define FRUGAL_CUDA_DEVICE_OR_SKIP(var)                                   \
  std::unique_ptr<real::Device> var;                                      \
  try {                                                                   \
    var = real::make_cuda_device(0, 0);                                   \
  } catch (const real::DeviceUnavailable& e) {                            \
    if (FRUGAL_REQUIRE_GPU) FAIL() << "GPU required: " << e.what();       \
    GTEST_SKIP() << "no usable GPU: " << e.what();                        \
  }

}  // namespace

TEST(CudaDevice, GemmMatchesTheReferenceExactly) {
  FRUGAL_CUDA_DEVICE_OR_SKIP(d);
  const real::CheckResult r = real::check_gemm(*d);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(CudaDevice, LargeBf16GemmReachesTensorCoreThroughput) {
  FRUGAL_CUDA_DEVICE_OR_SKIP(d);
  const program::Gemm g{8192, 8192, 8192, 1};
  real::Workspace w;
  w.gemm_a_elements = w.gemm_b_elements = w.gemm_c_elements = 8192u * 8192u;
  d->reserve_workspace(w);
  for (int i = 0; i < 3; ++i) d->gemm(g, Stream::kCompute);
  const int a = d->mark(Stream::kCompute);
  constexpr int kRuns = 10;
  for (int i = 0; i < kRuns; ++i) d->gemm(g, Stream::kCompute);
  const int b = d->mark(Stream::kCompute);
  d->synchronise();
  const double rate = kRuns * 2.0 * 8192.0 * 8192.0 * 8192.0 / d->elapsed_s(a, b);
  std::printf("bf16 GEMM 8192^3: %.1f TFLOP/s on %s\n", rate / 1e12, d->describe().at("model").get<std::string>().c_str());
  EXPECT_GT(rate, 50e12);  // every Ampere/Hopper part is far above this; a fallback path is not
}

TEST(CudaDevice, CopiesAndAllocationsWork) {
  FRUGAL_CUDA_DEVICE_OR_SKIP(d);
  real::Workspace w;
  w.copy_bytes = 64 << 20;
  w.stream_bytes = 64 << 20;
  d->reserve_workspace(w);
  const int a = d->mark(Stream::kCopy);
  d->copy(program::CopyDirection::kHostToDevice, 64 << 20, Stream::kCopy);
  const int b = d->mark(Stream::kCopy);
  d->synchronise();
  EXPECT_GT(64.0 * (1 << 20) / d->elapsed_s(a, b), 1e9);  // pinned PCIe copies: GB/s
  EXPECT_THROW(d->allocate(static_cast<std::size_t>(d->capacity_bytes()) + 1, Stream::kCompute), real::OutOfMemory);
}

TEST(CudaDevice, OneRankProgramRunsEndToEnd) {
  FRUGAL_CUDA_DEVICE_OR_SKIP(d);
  const Program p = data_parallel(1, 3, 1024, 4096);
  auto comm = real::make_nccl_communicator(*d, p.groups);
  EXPECT_TRUE(real::check_all_reduce(*d, *comm, p.groups).ok);
  real::ExecutorOptions o;
  o.iterations = 3;
  real::Executor ex(p, 0, *d, *comm, o);
  const real::RankRun run = ex.run();
  EXPECT_EQ(run.timings.size(), 3 * p.ranks[0].ops.size());
  for (const auto& t : run.timings) EXPECT_GE(t.end_s, t.start_s);
  EXPECT_TRUE(run.out_of_memory.empty());
}
