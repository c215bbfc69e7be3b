// Lowering: Plan + layer chain → Program (per-rank ops of one iteration). The only place that
// decides op order, buffers and collectives, so the simulator and the real backend execute
// exactly what the policies decided. A schedule walk calls the passes of pass.hpp, one concern
// each (passes/*.cpp).
#pragma once

#include "policies/plan.hpp"
#include "sim/program/program.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::policies {

/// Lowers a plan (Plan::check() must hold) with any combination of tensor (Megatron, optionally sequence-parallel),
/// pipeline (GPipe, 1F1B, interleaved 1F1B) and data parallelism (ZeRO stages 0–3).
///
/// Per rank: resident model state (ZeRO-sharded), workspace and reserve; then the rank's pipeline
/// schedule. A forward unit receives its input from the previous virtual stage (compute stream),
/// runs each layer (allocating its stored activations; ZeRO-3 first all-gathers the layer's
/// weights on the comm stream, one layer ahead), follows each transformer layer with its tensor-
/// parallel collectives (2 all-reduces, or 2 reduce-scatters + 2 all-gathers with sequence
/// parallelism), and sends its output to the next virtual stage (comm stream). A backward unit
/// mirrors it and frees the activations. During the last micro-batch's backward of each chunk,
/// gradients are bucketed and all-reduced (ZeRO 0) or reduce-scattered (ZeRO ≥ 1) on the comm
/// stream as soon as their layers are done. With tied embeddings and p > 1 the last stage holds a
/// copy of the word embeddings, whose gradients are all-reduced with the first stage's. The
/// optimizer step waits for every gradient collective; ZeRO 1–2 then all-gather the weights.
/// Sends are non-blocking for their stream (the engine completes them in the background).
program::Program lower(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup);

/// The compact form (program::Program::classes): one lowered program per class of
/// plan.rank_classes(), its lowest rank as representative; the other ranks name it and map its
/// groups (tensor, data, tied embedding) and pipeline peers to theirs. program::expand() of it
/// equals lower() of the same plan. Costs the representatives' ops only.
program::Program lower_compact(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup);

/// Device bytes each rank of `plan` holds for the whole iteration (what lower() puts in its
/// RankProgram::resident on the device: model state, workspace, reserve, communication buffers):
/// the memory its activations cannot use. One entry per rank.
std::vector<double> resident_device_bytes(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup);

/// Virtual stage → [first, end) range of chain layers of a plan.
std::pair<int, int> stage_layers(const Plan& plan, int virtual_stage, int chain_layers);

/// The chain layers pipeline rank `stage` holds: those of its model chunks' virtual stages
/// (chunk c: virtual stage c·p + stage), in chunk order.
std::vector<int> pipeline_rank_layers(const Plan& plan, int stage, int chain_layers);

}  // namespace frugal::policies
