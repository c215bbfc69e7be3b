// ZeRO model-state arithmetic.
#include "policies/model_state.hpp"

#include <stdexcept>

namespace frugal::policies {

ModelStateBytes model_state_bytes(core::Precision precision) {
  const double w = core::bytes_per_element(precision);
  return ModelStateBytes{w, w, w < 4 ? 12.0 : 8.0};
}

ShardedModelState sharded_model_state(double parameters, core::Precision precision, int zero_stage, int data_parallel) {
  if (zero_stage < 0 || zero_stage > 3 || data_parallel < 1) throw std::invalid_argument("bad ZeRO stage or DP degree");
  const ModelStateBytes b = model_state_bytes(precision);
  const double nd = data_parallel;
  return ShardedModelState{parameters * b.weights / (zero_stage >= 3 ? nd : 1.0),
                           parameters * b.gradients / (zero_stage >= 2 ? nd : 1.0),
                           parameters * b.optimizer / (zero_stage >= 1 ? nd : 1.0)};
}

}  // namespace frugal::policies
