// GEMM efficiency by calibrated size, by tile and wave shape, or flat (see gemm_efficiency.hpp).
#include "sim/cost/gemm_efficiency.hpp"

#include <algorithm>
#include <cmath>

namespace frugal::cost {

double shape_efficiency(const platforms::GpuSpec& gpu, const program::Gemm& g, core::Precision precision) {
  const platforms::GemmShapeModel& model = gpu.gemm_shape;
  const auto sms = static_cast<double>(model.sms);
  const double useful = static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.batch);
  double best = 0;
  for (const platforms::GemmTile& tile : model.tiles) {
    const auto tiles = static_cast<double>((g.m + tile.m - 1) / tile.m) *
                       static_cast<double>((g.n + tile.n - 1) / tile.n) * static_cast<double>(g.batch);
    const auto tile_area = static_cast<double>(tile.m) * static_cast<double>(tile.n);
    for (int s = 1; s <= model.max_split_k && s <= g.k; ++s) {
      const double waves = std::ceil(tiles * s / sms);
      const double used = useful * s / (waves * sms * tile_area);
      const double k_part = static_cast<double>(g.k) / s;
      best = std::max(best, tile.efficiency * used * k_part / (k_part + model.k_overhead));
    }
  }
  return gpu.matmul_efficiency_of(precision) * best;
}

double gemm_efficiency(const platforms::GpuSpec& gpu, const program::Gemm& g, core::Precision precision) {
  if (!gpu.gemm_efficiency.empty()) return gpu.gemm_efficiency_at(g.matrix_flops());
  if (gpu.gemm_shape.sms > 0) return shape_efficiency(gpu, g, precision);
  return gpu.matmul_efficiency_of(precision);
}

bool prices_each_gemm(const platforms::GpuSpec& gpu) { return !gpu.gemm_efficiency.empty() || gpu.gemm_shape.sms > 0; }

}  // namespace frugal::cost
