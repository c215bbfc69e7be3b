// Cost of a compute op on one GPU, as the amount of an Exec on a host running at
// peak × matmul_efficiency: GEMMs at their size's calibrated efficiency, other FLOPs at
// matmul_efficiency, memory-bound bytes at the bandwidth measured for that many
// bytes (HBM bandwidth without a measured table). Pure function; no SimGrid.
#pragma once

#include "platforms/gpu_catalogue.hpp"
#include "sim/program/program.hpp"

namespace frugal::engine {

/// Exec amount (FLOP at `speed_flops_per_s` = peak × matmul_efficiency) whose duration is
///   Σ_gemm flops_g / (peak · eff(flops_g)) + (flops − Σ flops_g) / speed + memory_bytes / bw(memory_bytes),
/// bw = gpu.memory_bandwidth_at (hbm_bandwidth without a calibrated table).
double compute_exec_amount(const program::Compute& c, const platforms::GpuSpec& gpu, double speed_flops_per_s);

}  // namespace frugal::engine
