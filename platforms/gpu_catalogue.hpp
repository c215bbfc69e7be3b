// GPU catalogue: datasheet figures per GPU model (platforms/gpus.json). Pure data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/core/precision.hpp"

namespace frugal::platforms {

struct GpuSpec {
  std::string name;                                     ///< catalogue key, e.g. "A100-80GB"
  std::map<core::Precision, double> peak_flops_per_s;   ///< dense peak per precision
  double memory_bytes = 0;                              ///< HBM/GDDR capacity
  double hbm_bandwidth_bytes_per_s = 0;
  double idle_power_w = 0;
  double max_power_w = 0;
  /// Fraction of peak that large GEMMs reach (before calibration); effective speed =
  /// peak × matmul_efficiency.
  double matmul_efficiency = 0.7;

  /// Peak for `p`; throws std::invalid_argument if the GPU does not support it.
  double peak(core::Precision p) const;
  /// peak(p) × matmul_efficiency.
  double effective_flops_per_s(core::Precision p) const;
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

GpuSpec read_gpu(core::ObjectReader& reader, const std::string& name);
core::Json to_json(const GpuSpec& gpu);

/// Directory of shipped platform data (platforms/), from the source tree or FRUGALSIM_DATA_DIR.
std::filesystem::path platform_data_dir();

}  // namespace frugal::platforms
