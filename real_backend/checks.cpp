// Start-up correctness checks (contract in checks.hpp).
#include "real_backend/checks.hpp"

#include <algorithm>
#include <cmath>

namespace frugal::real {

std::vector<double> reference_gemm(int m, int n, int k, const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> c(static_cast<std::size_t>(m) * n, 0.0);
  for (int j = 0; j < n; ++j)
    for (int p = 0; p < k; ++p) {
      const double bv = b[static_cast<std::size_t>(j) * k + p];
      for (int i = 0; i < m; ++i) c[static_cast<std::size_t>(j) * m + i] += a[static_cast<std::size_t>(p) * m + i] * bv;
    }
  return c;
}

double relative_error(const std::vector<float>& c, const std::vector<double>& reference) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double got = i < c.size() ? static_cast<double>(c[i]) : NAN;
    worst = std::max(worst, std::isfinite(got) ? std::abs(got - reference[i]) : INFINITY);
    scale = std::max(scale, std::abs(reference[i]));
  }
  if (c.size() != reference.size()) return INFINITY;
  return scale > 0 ? worst / scale : worst;
}

CheckResult check_gemm(Device& device) {
  struct Shape {
    int m, n, k;
  };
  const Shape shapes[] = {{1, 1, 1}, {17, 23, 31}, {64, 64, 64}, {128, 96, 200}, {33, 257, 65}};
  // Multiples of 1/8 in [-0.5, 0.5]: exact in bf16; products are multiples of 1/64 below 0.25
  // and k ≤ 257 of them sum exactly in fp32 (fp32 output on every device): any error is a bug.
  constexpr double kTolerance = 1e-6;
  CheckResult out;
  core::Json checked = core::Json::array();
  double worst = 0;
  for (const Shape& s : shapes) {
    std::vector<float> a(static_cast<std::size_t>(s.m) * s.k), b(static_cast<std::size_t>(s.k) * s.n);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(static_cast<int>((i * 7 + 3) % 9) - 4) / 8.0f;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(static_cast<int>((i * 5 + 1) % 9) - 4) / 8.0f;
    const double error = relative_error(device.gemm_on_host_data(s.m, s.n, s.k, a, b), reference_gemm(s.m, s.n, s.k, a, b));
    worst = std::max(worst, error);
    checked.push_back({{"m", s.m}, {"n", s.n}, {"k", s.k}, {"relative_error", error}});
    if (!(error <= kTolerance) && out.ok) {
      out.ok = false;
      out.message = "GEMM check failed on the " + device.kind() + " device: " + std::to_string(s.m) + "x" +
                    std::to_string(s.n) + "x" + std::to_string(s.k) + " differs from the reference by " +
                    std::to_string(error) + " (relative; tolerance " + std::to_string(kTolerance) + ")";
    }
  }
  out.report = {{"ok", out.ok}, {"tolerance", kTolerance}, {"max_relative_error", worst}, {"shapes", checked}};
  return out;
}

CheckResult check_all_reduce(Device& device, Communicator& comm, const std::vector<program::Group>& groups) {
  constexpr std::size_t kElements = 1024;
  const std::size_t bytes = kElements * sizeof(float);
  CheckResult out;
  core::Json checked = core::Json::array();
  Buffer send = device.allocate(bytes, Stream::kComm);
  Buffer recv = device.allocate(bytes, Stream::kComm);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (comm.group_rank(static_cast<int>(g)) < 0) continue;
    std::vector<float> host(kElements, static_cast<float>(comm.rank()));
    device.upload(send, host.data(), bytes);
    comm.collective(program::CollectiveKind::kAllReduce, static_cast<int>(g), 0, send, recv, static_cast<double>(bytes),
                    DataType::kFloat32, Stream::kComm);
    device.synchronise();
    device.download(host.data(), recv, bytes);
    double expected = 0;
    for (const core::RankId r : groups[g].ranks) expected += static_cast<double>(r.value);
    const auto wrong = std::count_if(host.begin(), host.end(), [&](float v) { return static_cast<double>(v) != expected; });
    checked.push_back({{"group", groups[g].name}, {"expected", expected}, {"wrong_elements", wrong}});
    if (wrong > 0 && out.ok) {
      out.ok = false;
      out.message = "all-reduce check failed on group \"" + groups[g].name + "\" (" + comm.kind() + "): " +
                    std::to_string(wrong) + " of " + std::to_string(kElements) + " elements differ from " +
                    std::to_string(expected) + " (the sum of the members' ranks), e.g. " + std::to_string(host[0]);
    }
  }
  device.release(send, Stream::kComm);
  device.release(recv, Stream::kComm);
  device.synchronise();
  out.report = {{"ok", out.ok}, {"elements", kElements}, {"groups", checked}};
  return out;
}

}  // namespace frugal::real
