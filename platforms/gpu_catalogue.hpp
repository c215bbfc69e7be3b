// GPU catalogue: datasheet figures per GPU model (platforms/gpus.json). Pure data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/core/precision.hpp"

namespace frugal::platforms {

/// One output tile shape a GPU's GEMM kernels use: m × n elements of C per thread block, reaching
/// `efficiency` of the GPU's large-GEMM efficiency (smaller tiles reuse less of what they load).
struct GemmTile {
  std::int64_t m = 0, n = 0;
  double efficiency = 1;
  bool operator==(const GemmTile&) const = default;
};

/// Tile and wave model of GEMM efficiency by shape (cost::gemm_efficiency): the GPU runs `sms`
/// tiles at once (one per streaming multiprocessor), its kernels choose among `tiles` and split k
/// into up to `max_split_k` parts, and each tile pays `k_overhead` elements of k of prologue and
/// epilogue. sms == 0: no shape model.
struct GemmShapeModel {
  int sms = 0;
  std::vector<GemmTile> tiles;
  double k_overhead = 0;
  int max_split_k = 1;
  bool operator==(const GemmShapeModel&) const = default;
};

struct GpuSpec {
  std::string name;                                     ///< catalogue key, e.g. "A100-80GB"
  std::string description;                              ///< free text (optional)
  std::string source;                                   ///< where the figures come from (optional)
  /// Dense (no sparsity) peak per precision the hardware runs natively. A precision that is
  /// absent is not supported: peak() throws for it.
  std::map<core::Precision, double> peak_flops_per_s;
  /// Explicit substitutions for precisions the GPU lacks, as mixed-precision frameworks do
  /// (V100/T4: bf16 → fp16 autocast, tf32 → fp32). Keys are never in peak_flops_per_s; values
  /// always are. Used only through runs_as(); peak() itself never substitutes.
  std::map<core::Precision, core::Precision> fallback;
  double memory_bytes = 0;                              ///< HBM/GDDR capacity
  double hbm_bandwidth_bytes_per_s = 0;
  double idle_power_w = 0;
  double max_power_w = 0;
  /// Fraction of peak that large GEMMs reach (before calibration); effective speed =
  /// peak × matmul_efficiency. With a gemm_shape model, the efficiency of a GEMM whose tiles fill
  /// every wave and whose k is long; its shape losses come on top.
  double matmul_efficiency = 0.7;
  /// matmul_efficiency of fp8 GEMMs (relative to the fp8 peak), which reach a smaller fraction
  /// of their peak than 16-bit ones on Hopper; 0: matmul_efficiency. Read through
  /// matmul_efficiency_of().
  double matmul_efficiency_fp8 = 0;
  /// Measured efficiency of single GEMMs by size (FLOPs of one GEMM → fraction of peak), sorted
  /// by FLOPs; empty: every GEMM runs at matmul_efficiency. Written by `frugalsim calibrate`.
  std::vector<std::pair<double, double>> gemm_efficiency;
  /// Efficiency of one GEMM from its shape (wave quantization, tile padding, short k) below
  /// matmul_efficiency; a gemm_efficiency table, when there is one, takes precedence.
  GemmShapeModel gemm_shape;
  /// Measured bandwidth of memory-bound work by the bytes one compute op moves (bytes → bytes/s),
  /// sorted by bytes; empty: every op streams at hbm_bandwidth. Small working sets run from
  /// caches, faster than HBM or DRAM. Written by `frugalsim calibrate`.
  std::vector<std::pair<double, double>> memory_bandwidth_by_size;
  /// Fixed cost of one kernel (launch, ramp-up and tail: the device idles between two kernels
  /// even when the host runs ahead), paid once per kernel of every compute op
  /// (program::Compute::kernels). `frugalsim calibrate` fits it from the smallest GEMMs.
  double kernel_launch_s = 0;
  /// How much longer a compute kernel takes, as a fraction, while a collective of its GPU runs on
  /// a communication stream: NCCL's kernels take SMs and HBM bandwidth from it (compute runs at
  /// 1/(1 + overlap_slowdown) of its speed meanwhile). 0: overlapped communication is free.
  double overlap_slowdown = 0;
  /// The device runs one op at a time in program order, whatever the op's stream: a CPU core
  /// that computes and also drives its own communication cannot overlap the two. False for
  /// GPUs, whose compute and communication streams run concurrently.
  bool serial_streams = false;

  /// Peak for `p`; throws std::invalid_argument if the GPU does not support it (the message
  /// names the GPU, the precisions it has and its fallback for `p`, if any).
  double peak(core::Precision p) const;
  /// Fraction of peak reached by one GEMM of `flops`: interpolated in log(FLOPs) over
  /// gemm_efficiency (clamped at its ends), or matmul_efficiency when there is no table.
  double gemm_efficiency_at(double flops) const;
  /// Bandwidth of a compute op's memory-bound work of `bytes`: interpolated in log(bytes) over
  /// memory_bandwidth_by_size (clamped at its ends), or hbm_bandwidth_bytes_per_s without one.
  double memory_bandwidth_at(double bytes) const;
  /// The fraction of peak large GEMMs in `p` reach: matmul_efficiency_fp8 (when set) for fp8,
  /// matmul_efficiency otherwise.
  double matmul_efficiency_of(core::Precision p) const;
  /// peak(p) × matmul_efficiency_of(p) (same strictness as peak()).
  double effective_flops_per_s(core::Precision p) const;
  /// True when the GPU has a native peak for `p`.
  bool supports(core::Precision p) const { return peak_flops_per_s.count(p) != 0; }
  /// The precision the GPU actually computes in when a job asks for `p`: `p` itself when
  /// supported, else its declared fallback; throws std::invalid_argument when neither exists.
  /// Mixed clusters call effective_flops_per_s(runs_as(p)).
  core::Precision runs_as(core::Precision p) const;
  /// Whether a job in `p` runs a fused attention kernel here by default, as the frameworks do:
  /// FlashAttention-2 needs 16-bit operands (fp8 recipes keep attention in bf16) and Ampere or
  /// later, i.e. native bf16. False for fp32/tf32 jobs, V100, T4 and CPU devices.
  bool runs_fused_attention(core::Precision p) const;

  bool operator==(const GpuSpec&) const = default;
};

class GpuCatalogue {
 public:
  /// Reads a catalogue file: {"gpus": {"<name>": {...}, ...}}.
  static GpuCatalogue load(const std::filesystem::path& path);
  /// The shipped catalogue (platforms/gpus.json).
  static const GpuCatalogue& shipped();

  /// Throws ConfigError(referrer, pointer, "unknown GPU ... (valid: ...)").
  const GpuSpec& get(const std::string& name, const std::string& referrer = "",
                     const std::string& pointer = "") const;
  std::vector<std::string> names() const;
  const std::map<std::string, GpuSpec>& all() const { return gpus_; }

 private:
  std::map<std::string, GpuSpec> gpus_;
};

/// Reads one GPU object (every key, then reader.finish()). An optional "name" key must equal
/// `name` (catalogue entries are named by their key; inline GPUs in clusters carry "name").
GpuSpec read_gpu(core::ObjectReader& reader, const std::string& name);
/// Resolved form with "name" and SI numbers; read_gpu() on it gives back an equal GpuSpec.
core::Json to_json(const GpuSpec& gpu);

/// platforms/ of the first data folder (core::data_search_path()).
std::filesystem::path platform_data_dir();

}  // namespace frugal::platforms
