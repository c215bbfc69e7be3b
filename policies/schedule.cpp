// Pipeline schedules, following Megatron-LM's forward_backward_pipelining_{without,with}_
// interleaving (warm-up counts and virtual micro-batch → chunk mapping).
#include "policies/schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace frugal::policies {

std::vector<ScheduleUnit> pipeline_schedule(PipelineSchedule schedule, int stage, int stages, int micro_batches,
                                            int chunks) {
  if (stages < 1 || stage < 0 || stage >= stages || micro_batches < 1 || chunks < 1)
    throw std::invalid_argument("pipeline schedule: bad stage/stages/micro-batches/chunks");
  std::vector<ScheduleUnit> units;
  if (schedule == PipelineSchedule::kGPipe) {
    if (chunks != 1) throw std::invalid_argument("interleaved pipelines need the 1F1B schedule");
    for (int m = 0; m < micro_batches; ++m) units.push_back({true, m, 0});
    for (int m = 0; m < micro_batches; ++m) units.push_back({false, m, 0});
    return units;
  }
  if (chunks == 1) {
    const int warmup = std::min(stages - stage - 1, micro_batches);
    int next_f = 0, next_b = 0;
    for (; next_f < warmup; ++next_f) units.push_back({true, next_f, 0});
    while (next_f < micro_batches) {
      units.push_back({true, next_f++, 0});
      units.push_back({false, next_b++, 0});
    }
    while (next_b < micro_batches) units.push_back({false, next_b++, 0});
    return units;
  }
  if (micro_batches % stages != 0)
    throw std::invalid_argument("interleaved 1F1B needs the number of micro-batches (" + std::to_string(micro_batches) +
                                ") to be a multiple of the pipeline size (" + std::to_string(stages) + ")");
  // Virtual micro-batch k (0 ≤ k < m·v) runs chunk (k / p) mod v of micro-batch
  // (k / (p·v))·p + k mod p; backwards visit chunks in reverse.
  const int total = micro_batches * chunks;
  auto unit = [&](int k, bool forward) {
    const int group = k / (stages * chunks);
    const int in_group = k % (stages * chunks);
    int chunk = in_group / stages;
    if (!forward) chunk = chunks - 1 - chunk;
    return ScheduleUnit{forward, group * stages + in_group % stages, chunk};
  };
  const int warmup = std::min((stages - stage - 1) * 2 + (chunks - 1) * stages, total);
  int next_f = 0, next_b = 0;
  for (; next_f < warmup; ++next_f) units.push_back(unit(next_f, true));
  while (next_f < total) {
    units.push_back(unit(next_f++, true));
    units.push_back(unit(next_b++, false));
  }
  while (next_b < total) units.push_back(unit(next_b++, false));
  return units;
}

double ideal_bubble_fraction(int stages, int micro_batches, int chunks) {
  const double p = stages, m = micro_batches, v = chunks;
  return (p - 1) / (v * m + p - 1);
}

}  // namespace frugal::policies
