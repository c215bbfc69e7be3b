// Numeric precision of training (what the GEMMs run in and what activations are stored as).
#pragma once

#include <string>
#include <vector>

namespace frugal::core {

enum class Precision { kFp32, kTf32, kBf16, kFp16, kFp8 };

inline const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names = {"fp32", "tf32", "bf16", "fp16", "fp8"};
  return names;
}

inline std::string to_string(Precision p) { return precision_names()[static_cast<int>(p)]; }

/// Throws std::invalid_argument for an unknown name.
Precision parse_precision(const std::string& name);

/// Bytes per stored element: 4 for fp32/tf32, 2 for bf16/fp16, 1 for fp8.
inline double bytes_per_element(Precision p) {
  switch (p) {
    case Precision::kFp32:
    case Precision::kTf32: return 4;
    case Precision::kBf16:
    case Precision::kFp16: return 2;
    case Precision::kFp8: return 1;
  }
  return 4;
}

/// Bytes per element of the tensors a job in `p` stores and communicates (activations,
/// parameters, gradients): bytes_per_element, except 2 for fp8. An fp8 job runs Transformer
/// Engine's recipe: only the operands of the linear layers' GEMMs are cast to fp8 (the layer
/// chain's fp8_cast_traffic); activations, weights, gradients and every collective or transfer
/// stay in bf16.
inline double stored_bytes_per_element(Precision p) { return p == Precision::kFp8 ? 2 : bytes_per_element(p); }

}  // namespace frugal::core
