// Pipeline schedules: the order in which one pipeline rank runs the forward and backward passes
// of its micro-batches and model chunks. GPipe (all forwards, then all backwards), 1F1B
// (PipeDream-Flush: warm-up forwards, then one forward one backward, then cool-down), and
// interleaved 1F1B with v chunks per rank (Narayanan et al. SC'21 §2.2). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace frugal::policies {

enum class PipelineSchedule { kGPipe, kOneFOneB };

struct ScheduleUnit {
  bool forward = true;
  int micro_batch = 0;
  int chunk = 0;  ///< model chunk of this rank (virtual stage = chunk × p + pipeline rank)
  bool operator==(const ScheduleUnit&) const = default;
};

/// Units of pipeline rank `stage` (0-based) of `stages` ranks, for `micro_batches` micro-batches
/// and `chunks` model chunks per rank. Every (micro-batch, chunk) appears once forward and once
/// backward; a backward comes after its forward. Interleaving (chunks > 1) needs the 1F1B
/// schedule and micro_batches a multiple of stages (as Megatron-LM): throws
/// std::invalid_argument otherwise.
std::vector<ScheduleUnit> pipeline_schedule(PipelineSchedule schedule, int stage, int stages, int micro_batches,
                                            int chunks = 1);

/// Bubble fraction of a schedule with equal stage times and free communication:
/// (p−1)/(m+p−1) for GPipe and 1F1B, (p−1)/(v·m+p−1) interleaved.
double ideal_bubble_fraction(int stages, int micro_batches, int chunks = 1);

}  // namespace frugal::policies
