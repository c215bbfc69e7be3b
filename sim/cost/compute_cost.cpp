// Compute-op cost with per-GEMM-size efficiency and per-layer time estimates (see
// compute_cost.hpp).
#include "sim/cost/compute_cost.hpp"

#include <algorithm>

namespace frugal::cost {

int launched_kernels(const program::Compute& c) { return std::max(c.kernels, static_cast<int>(c.gemms.size())); }

double compute_exec_amount(const program::Compute& c, const platforms::GpuSpec& gpu, core::Precision precision,
                           double speed_flops_per_s) {
  const core::Precision runs = gpu.runs_as(precision);
  const core::Precision sixteen = runs == core::Precision::kFp8 ? gpu.runs_as(core::Precision::kBf16) : runs;
  // Work in the 16-bit precision of an fp8 job, in FLOPs at `speed`.
  const double slower = sixteen == runs ? 1.0 : speed_flops_per_s / gpu.effective_flops_per_s(sixteen);
  double amount = std::max(0.0, c.flops);
  const bool priced = prices_each_gemm(gpu);
  if (priced || slower != 1.0) {
    // A GEMM at efficiency e of the peak of its precision p takes flops / (peak(p) · e)
    //   = flops · (matmul_efficiency_of(p) / e) / effective_flops_per_s(p).
    double all_gemm_flops = 0, scaled = 0;
    for (const program::Gemm& g : c.gemms) {
      const double f = g.flops();
      all_gemm_flops += f;
      const core::Precision p = g.keeps_16bit ? sixteen : runs;
      const double work = priced ? f * gpu.matmul_efficiency_of(p) / gemm_efficiency(gpu, g, p) : f;
      scaled += p == runs ? work : work * slower;
    }
    amount = std::max(0.0, c.flops - all_gemm_flops) * slower + scaled;
  }
  if (c.memory_bytes > 0 && gpu.hbm_bandwidth_bytes_per_s > 0)
    amount += c.memory_bytes * speed_flops_per_s / gpu.memory_bandwidth_at(c.memory_bytes);
  if (gpu.kernel_launch_s > 0) amount += launched_kernels(c) * gpu.kernel_launch_s * speed_flops_per_s;
  return amount;
}

double compute_seconds(const program::Compute& c, const platforms::GpuSpec& gpu, core::Precision precision) {
  const double speed = gpu.effective_flops_per_s(gpu.runs_as(precision));
  return compute_exec_amount(c, gpu, precision, speed) / speed;
}

program::Gemm scale_gemm(const workloads::GemmShape& g, std::int64_t samples) {
  const bool attention = g.name.rfind("attn_scores", 0) == 0 || g.name.rfind("attn_values", 0) == 0;
  if (attention) return {g.m, g.n, g.k, g.batch * samples, g.keeps_16bit};
  return {g.m * samples, g.n, g.k, g.batch, g.keeps_16bit};
}

void add_backward_gemms(const program::Gemm& f, std::vector<program::Gemm>& out) {
  out.push_back({f.m, f.k, f.n, f.batch, f.keeps_16bit});
  out.push_back({f.k, f.n, f.m, f.batch, f.keeps_16bit});
}

void layer_gemms(const workloads::Layer& l, std::int64_t samples, std::vector<program::Gemm>& forward,
                 std::vector<program::Gemm>& backward) {
  for (const workloads::GemmShape& g : l.forward_gemms) {
    forward.push_back(scale_gemm(g, samples));
    add_backward_gemms(forward.back(), backward);
  }
  for (const workloads::GemmShape& g : l.backward_replayed_gemms) backward.push_back(scale_gemm(g, samples));
}

program::Compute forward_op(const workloads::Layer& l, std::int64_t samples, std::vector<program::Gemm> gemms,
                            program::Phase phase) {
  const auto b = static_cast<double>(samples);
  return {phase, l.name, l.forward_flops * b, l.forward_memory_bytes * b, std::move(gemms), l.forward_kernels};
}

program::Compute backward_op(const workloads::Layer& l, std::int64_t samples, std::vector<program::Gemm> gemms) {
  const auto b = static_cast<double>(samples);
  return {program::Phase::kBackward, l.name, l.backward_flops * b, l.backward_memory_bytes * b, std::move(gemms),
          l.backward_kernels};
}

program::Compute backward_op(const workloads::Layer& l, std::int64_t samples) {
  std::vector<program::Gemm> forward, backward;
  layer_gemms(l, samples, forward, backward);
  return backward_op(l, samples, std::move(backward));
}

BackwardSplit split_weight_gradients(const workloads::Layer& l, program::Compute backward) {
  BackwardSplit out{std::move(backward), {}};
  program::Compute& w = out.weight_gradients;
  w.phase = out.rest.phase;
  w.layer = out.rest.layer;
  // layer_gemms' order: forward GEMM i's input gradient at 2i, its weight gradient at 2i + 1.
  std::vector<program::Gemm> kept;
  kept.reserve(out.rest.gemms.size());
  for (std::size_t i = 0; i < out.rest.gemms.size(); ++i) {
    const bool column_wgrad = i % 2 == 1 && i / 2 < l.forward_gemms.size() && l.forward_gemms[i / 2].column_parallel;
    (column_wgrad ? w.gemms : kept).push_back(out.rest.gemms[i]);
  }
  out.rest.gemms = std::move(kept);
  for (const program::Gemm& g : w.gemms) w.flops += g.flops();
  w.kernels = static_cast<int>(w.gemms.size());
  out.rest.flops -= w.flops;
  out.rest.kernels -= w.kernels;
  return out;
}

program::Compute recompute_op(const workloads::Layer& l, std::int64_t samples) {
  const auto b = static_cast<double>(samples);
  program::Compute c{program::Phase::kRecompute, l.name, l.recompute_flops * b, l.recompute_memory_bytes * b, {},
                     l.recompute_kernels};
  for (const workloads::GemmShape& g : l.recompute_gemms) c.gemms.push_back(scale_gemm(g, samples));
  return c;
}

bool prices_each_op(const platforms::GpuSpec& gpu, core::Precision precision) {
  return prices_each_gemm(gpu) || !gpu.memory_bandwidth_by_size.empty() ||
         gpu.runs_as(precision) == core::Precision::kFp8;
}

double layer_launch_s(const workloads::Layer& l, const platforms::GpuSpec& gpu) {
  const int kernels = l.forward_kernels + l.backward_kernels + (l.recompute_flops > 0 ? l.recompute_kernels : 0);
  return kernels * gpu.kernel_launch_s;
}

namespace {

/// The uncalibrated closed form of one sample's work (no fixed costs).
double layer_work_per_sample_s(const workloads::Layer& l, const platforms::GpuSpec& gpu, core::Precision precision) {
  return (l.forward_flops + l.backward_flops + l.recompute_flops) / gpu.effective_flops_per_s(gpu.runs_as(precision)) +
         (l.forward_memory_bytes + l.backward_memory_bytes + l.recompute_memory_bytes) / gpu.hbm_bandwidth_bytes_per_s;
}

}  // namespace

double layer_seconds(const workloads::Layer& l, std::int64_t samples, const platforms::GpuSpec& gpu,
                     core::Precision precision) {
  const auto b = static_cast<double>(samples);
  if (!prices_each_op(gpu, precision)) return layer_work_per_sample_s(l, gpu, precision) * b + layer_launch_s(l, gpu);
  const LayerPassSeconds passes = layer_pass_seconds(l, samples, gpu, precision);
  double seconds = passes.forward_s + passes.backward_s;
  if (l.recompute_flops > 0) seconds += compute_seconds(recompute_op(l, samples), gpu, precision);
  return seconds;
}

LayerPassSeconds layer_pass_seconds(const workloads::Layer& l, std::int64_t samples, const platforms::GpuSpec& gpu,
                                    core::Precision precision) {
  std::vector<program::Gemm> forward, backward;
  layer_gemms(l, samples, forward, backward);
  return {compute_seconds(forward_op(l, samples, std::move(forward)), gpu, precision),
          compute_seconds(backward_op(l, samples, std::move(backward)), gpu, precision)};
}

double layer_seconds_per_sample(const workloads::Layer& l, std::int64_t micro_batch, const platforms::GpuSpec& gpu,
                                core::Precision precision) {
  const std::int64_t b = std::max<std::int64_t>(1, micro_batch);
  if (!prices_each_op(gpu, precision))
    return layer_work_per_sample_s(l, gpu, precision) + layer_launch_s(l, gpu) / static_cast<double>(b);
  return layer_seconds(l, b, gpu, precision) / static_cast<double>(b);
}

double chain_seconds_per_sample(const workloads::LayerChain& chain, std::int64_t micro_batch,
                                const platforms::GpuSpec& gpu, core::Precision precision) {
  if (!prices_each_op(gpu, precision)) {
    double flops = 0, bytes = 0, launch_s = 0;
    for (const auto& l : chain.layers) {
      flops += l.forward_flops + l.backward_flops + l.recompute_flops;
      bytes += l.forward_memory_bytes + l.backward_memory_bytes + l.recompute_memory_bytes;
      launch_s += layer_launch_s(l, gpu);
    }
    return flops / gpu.effective_flops_per_s(gpu.runs_as(precision)) + bytes / gpu.hbm_bandwidth_bytes_per_s +
           launch_s / static_cast<double>(std::max<std::int64_t>(1, micro_batch));
  }
  const std::int64_t b = std::max<std::int64_t>(1, micro_batch);
  double seconds = 0;
  for (const auto& l : chain.layers) seconds += layer_seconds(l, b, gpu, precision);
  return seconds / static_cast<double>(b);
}

}  // namespace frugal::cost
