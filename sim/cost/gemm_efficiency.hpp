// Efficiency of one GEMM on one GPU: a calibrated table by size, else the tile and wave model of
// its shape, else the GPU's flat matmul_efficiency. Pure functions; no SimGrid.
#pragma once

#include "platforms/gpu_catalogue.hpp"
#include "sim/program/program.hpp"

namespace frugal::cost {

/// Fraction of the `precision` peak of the tile and wave model (platforms::GemmShapeModel) for
/// `g` on `gpu`:
///   matmul_efficiency_of(precision) · max over tiles (tm, tn, e) and splits s ≤ max_split_k of
///   e · u · (k/s) / (k/s + k_overhead),  u = m·n·batch·s / (w·sms·tm·tn),
///   w = ⌈⌈m/tm⌉·⌈n/tn⌉·batch·s / sms⌉ waves of tiles.
/// u counts both losses of a GEMM whose sizes are not multiples of its tiles: the padded part of
/// the edge tiles and the idle SMs of the last wave. A GEMM whose m and n are multiples of a
/// tile, whose tile count is a multiple of sms and whose k is long reaches matmul_efficiency · e.
/// The split-k reduction is not priced. Requires gpu.gemm_shape.sms > 0.
double shape_efficiency(const platforms::GpuSpec& gpu, const program::Gemm& g,
                        core::Precision precision = core::Precision::kBf16);

/// Fraction of the `precision` peak `g` runs at on `gpu`: gpu.gemm_efficiency_at(g.matrix_flops())
/// when the GPU has a calibrated gemm_efficiency table (the measurement, in the precision it was
/// calibrated in, overrides the model; it was measured on single GEMMs, so a batch runs at the
/// efficiency of one of its products), shape_efficiency when it has a gemm_shape model,
/// matmul_efficiency_of(precision) otherwise.
double gemm_efficiency(const platforms::GpuSpec& gpu, const program::Gemm& g,
                       core::Precision precision = core::Precision::kBf16);

/// Whether `gpu` prices each GEMM by itself (a gemm_efficiency table or a gemm_shape model)
/// rather than every GEMM FLOP at matmul_efficiency.
bool prices_each_gemm(const platforms::GpuSpec& gpu);

}  // namespace frugal::cost
