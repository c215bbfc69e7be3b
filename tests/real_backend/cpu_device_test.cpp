// CPU device: the GEMM check against the double-precision reference, the allocator's capacity
// (out-of-memory as an exception carrying the numbers) and its cache, streaming and copies.
#include <gtest/gtest.h>

#include "real_backend/checks.hpp"
#include "real_backend/cpu/cpu_device.hpp"

using namespace frugal;
using real::CpuDevice;

namespace {

CpuDevice small_device(double capacity_bytes = 256.0 * (1 << 20)) {
  CpuDevice::Options o;
  o.capacity_bytes = capacity_bytes;
  o.threads = 1;
  return CpuDevice(o);
}

}  // namespace

TEST(CpuDevice, GemmMatchesTheReferenceExactly) {
  CpuDevice d = small_device();
  const real::CheckResult r = real::check_gemm(d);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.report.at("max_relative_error").get<double>(), 0.0);
  EXPECT_EQ(r.report.at("shapes").size(), 5u);
}

TEST(CpuDevice, ReferenceGemmAndErrorCatchAWrongResult) {
  // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50], column-major.
  const std::vector<float> a = {1, 3, 2, 4}, b = {5, 7, 6, 8};
  const std::vector<double> c = real::reference_gemm(2, 2, 2, a, b);
  EXPECT_EQ(c, (std::vector<double>{19, 43, 22, 50}));
  EXPECT_EQ(real::relative_error({19, 43, 22, 50}, c), 0.0);
  EXPECT_NEAR(real::relative_error({19, 43, 22, 45}, c), 5.0 / 50.0, 1e-12);
  EXPECT_TRUE(std::isinf(real::relative_error({19, 43, 22}, c)));  // wrong size
  EXPECT_TRUE(std::isinf(real::relative_error({19, 43, 22, NAN}, c)));
}

TEST(CpuDevice, AllocationBeyondCapacityIsAnOutOfMemory) {
  CpuDevice d = small_device(1 << 20);
  const real::Buffer a = d.allocate(512 << 10, real::Stream::kCompute);
  EXPECT_EQ(d.in_use_bytes(), 512 << 10);
  try {
    d.allocate(768 << 10, real::Stream::kCompute);
    FAIL() << "no out-of-memory";
  } catch (const real::OutOfMemory& e) {
    EXPECT_EQ(e.requested_bytes, 768 << 10);
    EXPECT_EQ(e.in_use_bytes, 512 << 10);
    EXPECT_EQ(e.capacity_bytes, 1 << 20);
  }
  d.release(a, real::Stream::kCompute);
  EXPECT_EQ(d.in_use_bytes(), 0);
  // The cached block is given back when a new allocation needs the room.
  const real::Buffer b = d.allocate(768 << 10, real::Stream::kCompute);
  EXPECT_EQ(d.peak_bytes(), 768 << 10);
  d.release(b, real::Stream::kCompute);
}

TEST(CpuDevice, FreedBlocksAreReused) {
  CpuDevice d = small_device();
  const real::Buffer a = d.allocate(1 << 20, real::Stream::kCompute);
  d.release(a, real::Stream::kCompute);
  const real::Buffer b = d.allocate(1 << 20, real::Stream::kCompute);
  EXPECT_EQ(a.data, b.data);
  d.release(b, real::Stream::kCompute);
}

TEST(CpuDevice, WorkRunsAndMarkersAdvance) {
  CpuDevice d = small_device();
  real::Workspace w;
  w.gemm_a_elements = w.gemm_b_elements = w.gemm_c_elements = 64 * 64 * 2;
  w.stream_bytes = 1 << 20;
  w.copy_bytes = 1 << 20;
  d.reserve_workspace(w);
  const int m0 = d.mark(real::Stream::kCompute);
  d.gemm({64, 64, 64, 3}, real::Stream::kCompute);  // batches wrap around the workspace
  d.stream_memory(8.0 * (1 << 20), real::Stream::kCompute);
  d.copy(program::CopyDirection::kDeviceToHost, 3.0 * (1 << 20), real::Stream::kCopy);
  d.copy(program::CopyDirection::kHostToDevice, 100, real::Stream::kCopy);
  const int m1 = d.mark(real::Stream::kCopy);
  EXPECT_GT(d.elapsed_s(m0, m1), 0.0);
  d.clear_markers();
  EXPECT_EQ(d.mark(real::Stream::kCompute), 0);
  EXPECT_THROW(d.gemm({128, 128, 128, 1}, real::Stream::kCompute), core::InternalError);
}

TEST(CpuDevice, WorkspaceLargerThanCapacityIsRefused) {
  CpuDevice d = small_device(1 << 20);
  real::Workspace w;
  w.stream_bytes = 4 << 20;
  EXPECT_THROW(d.reserve_workspace(w), real::OutOfMemory);
}

TEST(CpuDevice, DescribesItsBlas) {
  CpuDevice d = small_device();
  const core::Json j = d.describe();
  EXPECT_EQ(j.at("kind"), "cpu");
  EXPECT_NE(j.at("blas").at("config").get<std::string>().find("OpenBLAS"), std::string::npos);
  EXPECT_EQ(j.at("blas").at("threads"), 1);
}
