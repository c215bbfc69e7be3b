// Model-state arithmetic: bytes per parameter by precision and framework, ZeRO sharding.
#include "policies/model_state.hpp"

#include <stdexcept>

namespace frugal::policies {

// In StateConvention's order: to_string and state_convention_from_string index it.
std::vector<std::string> state_convention_names() { return {"zero", "megatron", "zero_16bit_optimizer"}; }

std::string to_string(StateConvention convention) { return state_convention_names()[static_cast<int>(convention)]; }

StateConvention state_convention_from_string(const std::string& name) {
  const std::vector<std::string> names = state_convention_names();  // in the enum's order
  std::string valid;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<StateConvention>(i);
    valid += (i > 0 ? ", " : "") + names[i];
  }
  throw std::invalid_argument("unknown model-state convention \"" + name + "\" (valid: " + valid + ")");
}

ModelStateBytes model_state_bytes(core::Precision precision, StateConvention convention) {
  const double w = core::stored_bytes_per_element(precision);
  if (convention == StateConvention::kZero16BitOptimizer) return ModelStateBytes{w, w, w >= 4 ? 4.0 : 6.0};
  if (w >= 4) return ModelStateBytes{w, w, 8.0};  // fp32: Adam m and v only, either way
  if (convention == StateConvention::kZero) return ModelStateBytes{w, w, 12.0};
  // Megatron: bf16 accumulates into fp32 main gradients (so does fp8, which Megatron runs as a
  // bf16 job whose linear GEMMs Transformer Engine casts to fp8); fp16 keeps fp16 gradients and
  // fp32 main gradients next to the main weights in the optimizer.
  if (precision == core::Precision::kBf16 || precision == core::Precision::kFp8) return ModelStateBytes{w, 4.0, 12.0};
  return ModelStateBytes{w, w, 16.0};
}

double optimizer_step_bytes(core::Precision precision, const ModelStateBytes& b, double parameters, int zero_stage,
                            int data_parallel) {
  const ShardedModelState held = sharded_model_state(parameters, ModelStateBytes{1, 1, 1}, zero_stage, data_parallel);
  const double updated_parameters = held.optimizer_bytes, held_gradients = held.gradients_bytes;
  constexpr double kFp32 = 4, kAdam = 28;
  const double to_fp32 = b.gradients < kFp32 ? b.gradients + kFp32 : 0.0;
  const double unscale = precision == core::Precision::kFp16 ? 2 * kFp32 : 0.0;
  const double to_weights = b.weights < kFp32 ? kFp32 + b.weights : 0.0;
  return updated_parameters * (to_fp32 + unscale + kFp32 + kAdam + to_weights) + held_gradients * b.gradients;
}

ShardedModelState sharded_model_state(double parameters, const ModelStateBytes& b, int zero_stage, int data_parallel) {
  if (zero_stage < 0 || zero_stage > 3 || data_parallel < 1) throw std::invalid_argument("bad ZeRO stage or DP degree");
  const double nd = data_parallel;
  return ShardedModelState{parameters * b.weights / (zero_stage >= 3 ? nd : 1.0),
                           parameters * b.gradients / (zero_stage >= 2 ? nd : 1.0),
                           parameters * b.optimizer / (zero_stage >= 1 ? nd : 1.0)};
}

}  // namespace frugal::policies
