// Compute-op cost with per-GEMM-size efficiency (see compute_cost.hpp).
#include "sim/engine/compute_cost.hpp"

#include <algorithm>

namespace frugal::engine {

double compute_exec_amount(const program::Compute& c, const platforms::GpuSpec& gpu, double speed_flops_per_s) {
  double amount = std::max(0.0, c.flops);
  if (!gpu.gemm_efficiency.empty()) {
    // A GEMM at efficiency e takes flops / (peak · e) = flops · (matmul_efficiency / e) / speed.
    double gemm_flops = 0, scaled = 0;
    for (const program::Gemm& g : c.gemms) {
      const double f = 2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
      gemm_flops += f * static_cast<double>(g.batch);
      scaled += f * static_cast<double>(g.batch) * gpu.matmul_efficiency / gpu.gemm_efficiency_at(f);
    }
    amount = std::max(0.0, c.flops - gemm_flops) + scaled;
  }
  if (c.memory_bytes > 0 && gpu.hbm_bandwidth_bytes_per_s > 0)
    amount += c.memory_bytes * speed_flops_per_s / gpu.memory_bandwidth_at(c.memory_bytes);
  return amount;
}

}  // namespace frugal::engine
