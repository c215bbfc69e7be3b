// fp8 delayed scaling's amax reduction: its group and its bytes.
#include "policies/fp8_scaling.hpp"

namespace frugal::policies {

std::vector<core::RankId> amax_reduction_group(const Plan& plan, const TrainingSetup& setup, core::RankId rank) {
  if (setup.precision != core::Precision::kFp8) return {};
  std::vector<core::RankId> group;
  switch (setup.fp8_amax_reduction) {
    case AmaxReduction::kData: group = plan.layout.group({Dim::kTensor, Dim::kData, Dim::kContext}, rank); break;
    case AmaxReduction::kTensor: group = plan.layout.group({Dim::kTensor, Dim::kContext}, rank); break;
    case AmaxReduction::kNone: break;
  }
  if (group.size() < 2) group.clear();
  return group;
}

int fp8_gemms(const workloads::Layer& layer) {
  if (layer.kind != workloads::LayerKind::kTransformer) return 0;
  int n = 0;
  for (const auto& g : layer.forward_gemms) n += g.keeps_16bit ? 0 : 1;
  return n;
}

double amax_bytes(int gemms, bool forward) { return 4.0 * gemms * (forward ? 3 : 2); }

}  // namespace frugal::policies
