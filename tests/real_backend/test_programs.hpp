// Small Programs for the real-backend tests, built with RankBuilder (never hand-written JSON),
// and a way to run the frugal-real CLI and collect its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "real_backend/executor.hpp"
#include "sim/program/program.hpp"

namespace frugal::real::testing {

using namespace frugal::program;

/// The timing of op `op` in iteration `iteration` of a run; throws when it has none.
inline const OpTiming& timing(const RankRun& run, int op, int iteration) {
  for (const auto& t : run.timings)
    if (t.op == op && t.iteration == iteration) return t;
  throw std::runtime_error("no timing");
}

/// prefix + number, appended (GCC 12 warns falsely on "literal" + std::string).
inline std::string numbered(const char* prefix, int n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

/// An empty program for rank `r`, on GPU `r`.
inline RankProgram rank_on_gpu(int r) {
  RankProgram rp;
  rp.rank = core::RankId(r);
  rp.gpu = r;
  return rp;
}

/// Data-parallel training step on `ranks` ranks: resident weights, per layer an activation
/// alloc + forward GEMMs, backward GEMMs + free, gradient all-reduce buckets on the comm stream
/// (each after its layer's backward), an optimizer step after all buckets.
inline Program data_parallel(int ranks, int layers = 3, std::int64_t hidden = 128, std::int64_t tokens = 256) {
  Program p;
  Group dp{"dp", {}};
  for (int r = 0; r < ranks; ++r) dp.ranks.emplace_back(r);
  p.groups.push_back(dp);
  const double grad_bytes = 4.0 * static_cast<double>(hidden * hidden);
  for (int r = 0; r < ranks; ++r) {
    RankProgram rp = rank_on_gpu(r);
    rp.resident.push_back({MemoryTag::kParameters, "weights", grad_bytes * layers});
    RankBuilder b(rp);
    const Gemm fwd{tokens, hidden, hidden, 1};
    const double flops = 2.0 * static_cast<double>(tokens * hidden * hidden);
    for (int l = 0; l < layers; ++l) {
      b.alloc({MemoryTag::kActivations, numbered("act", l), 4.0 * static_cast<double>(tokens * hidden)});
      b.compute(numbered("fwd l", l), {Phase::kForward, numbered("l", l), flops, 1e5, {fwd}});
    }
    std::vector<OpId> buckets;
    for (int l = layers - 1; l >= 0; --l) {
      const OpId bwd = b.compute(numbered("bwd l", l),
                                 {Phase::kBackward, numbered("l", l), 2 * flops, 2e5,
                                  {{tokens, hidden, hidden, 1}, {hidden, hidden, tokens, 1}}});
      b.free({MemoryTag::kActivations, numbered("act", l), 4.0 * static_cast<double>(tokens * hidden)});
      Collective ar;
      ar.group = 0;
      ar.instance = layers - 1 - l;
      ar.bytes = grad_bytes;
      buckets.push_back(b.collective(numbered("allreduce bucket ", layers - 1 - l), ar, {bwd}));
    }
    b.compute("optimizer step", {Phase::kOptimizer, "optimizer", 12.0 * hidden * hidden * layers, 16.0 * grad_bytes, {}}, buckets);
    p.ranks.push_back(rp);
  }
  p.metadata = {{"model", "test-dp"}};
  return p;
}

/// Two pipeline stages, two micro-batches, GPipe order (all forwards, then all backwards):
/// stage 0 sends activations (tag = micro-batch) and receives gradients (tag 100 + micro-batch)
/// on the comm stream. Sends block until received (as in the simulator), so both stages issue
/// their transfers in the same order. Each stage offloads and checkpoints on the copy stream.
inline Program pipeline_two_stages() {
  Program p;
  const Gemm g{128, 128, 128, 1};
  const double flops = 2.0 * 128 * 128 * 128, act = 64.0 * 1024;
  for (int r = 0; r < 2; ++r) {
    RankProgram rp = rank_on_gpu(r);
    RankBuilder b(rp);
    const auto peer = core::RankId(1 - r);
    const std::string stage = numbered("stage", r);
    std::vector<OpId> fwd(2);
    for (int mb = 0; mb < 2; ++mb) {
      if (r == 0) {
        fwd[mb] = b.compute(numbered("fwd mb", mb), {Phase::kForward, stage, flops, 0, {g}});
        b.add(OpKind::kSend, Stream::kComm, numbered("send act mb", mb), {fwd[mb]}, PointToPoint{peer, mb, act});
      } else {
        const OpId in = b.add(OpKind::kRecv, Stream::kComm, numbered("recv act mb", mb), {}, PointToPoint{peer, mb, act});
        fwd[mb] = b.compute(numbered("fwd mb", mb), {Phase::kForward, stage, flops, 0, {g}}, {in});
      }
    }
    for (int mb = 0; mb < 2; ++mb) {
      if (r == 0) {
        const OpId in = b.add(OpKind::kRecv, Stream::kComm, numbered("recv grad mb", mb), {}, PointToPoint{peer, 100 + mb, act});
        b.compute(numbered("bwd mb", mb), {Phase::kBackward, stage, 2 * flops, 0, {g, g}}, {in, fwd[mb]});
      } else {
        const OpId bw = b.compute(numbered("bwd mb", mb), {Phase::kBackward, stage, 2 * flops, 0, {g, g}}, {fwd[mb]});
        b.add(OpKind::kSend, Stream::kComm, numbered("send grad mb", mb), {bw}, PointToPoint{peer, 100 + mb, act});
      }
    }
    const OpId off = b.add(OpKind::kCopy, Stream::kCopy, "offload", {}, Copy{CopyDirection::kDeviceToHost, 1 << 20});
    b.add(OpKind::kCheckpointWrite, Stream::kCopy, "checkpoint", {off}, CheckpointWrite{1 << 16});
    p.ranks.push_back(rp);
  }
  return p;
}

/// Two pipeline stages in 1F1B order over `micro_batches` micro-batches of `bytes` messages: stage
/// 0 runs forward k + 1 before backward k, stage 1 a forward then its backward. With blocking
/// sends above the eager limit one thread deadlocks (stage 0 sends activation k + 1 while stage 1
/// sends gradient k): sends must complete in the background.
inline Program pipeline_one_f_one_b(int micro_batches, double bytes) {
  Program p;
  const Gemm g{64, 64, 64, 1};
  const double flops = 2.0 * 64 * 64 * 64;
  for (int r = 0; r < 2; ++r) {
    RankProgram rp = rank_on_gpu(r);
    RankBuilder b(rp);
    const auto peer = core::RankId(1 - r);
    auto forward = [&](int mb) {
      if (r == 0) {
        const OpId f = b.compute(numbered("fwd mb", mb), {Phase::kForward, "stage0", flops, 0, {g}});
        b.add(OpKind::kSend, Stream::kComm, numbered("send act mb", mb), {f}, PointToPoint{peer, mb, bytes});
      } else {
        const OpId in = b.add(OpKind::kRecv, Stream::kCompute, numbered("recv act mb", mb), {}, PointToPoint{peer, mb, bytes});
        b.compute(numbered("fwd mb", mb), {Phase::kForward, "stage1", flops, 0, {g}}, {in});
      }
    };
    auto backward = [&](int mb) {
      if (r == 0) {
        const OpId in = b.add(OpKind::kRecv, Stream::kCompute, numbered("recv grad mb", mb), {}, PointToPoint{peer, 100 + mb, bytes});
        b.compute(numbered("bwd mb", mb), {Phase::kBackward, "stage0", 2 * flops, 0, {g, g}}, {in});
      } else {
        const OpId bw = b.compute(numbered("bwd mb", mb), {Phase::kBackward, "stage1", 2 * flops, 0, {g, g}});
        b.add(OpKind::kSend, Stream::kComm, numbered("send grad mb", mb), {bw}, PointToPoint{peer, 100 + mb, bytes});
      }
    };
    if (r == 0) forward(0);
    for (int mb = 0; mb < micro_batches; ++mb) {
      if (r == 1) forward(mb);
      else if (mb + 1 < micro_batches) forward(mb + 1);
      backward(mb);
    }
    p.ranks.push_back(rp);
  }
  return p;
}

/// A fresh folder under the system temp dir, removed at the end of the test unless it failed
/// (then its files, stdout.txt and stderr.txt included, are kept for a look).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    std::string leaf = "frugal-real-test-";
    leaf += name;
    leaf += "-";
    leaf += std::to_string(::getpid());
    path_ = std::filesystem::temp_directory_path() / leaf;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  operator const std::filesystem::path&() const { return path_; }
  std::filesystem::path operator/(const std::string& leaf) const { return path_ / leaf; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CommandResult {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `command` through /bin/sh in `dir`, with OpenBLAS on one thread per rank.
inline CommandResult run_command(const std::string& command, const std::filesystem::path& dir) {
  const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string line = "cd '" + dir.string() + "' && OPENBLAS_NUM_THREADS=1 " + command + " > '" + out.string() +
                           "' 2> '" + err.string() + "'";
  const int status = std::system(line.c_str());
  CommandResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline std::string frugal_real() { return FRUGAL_REAL_EXE; }
inline std::string mpirun(int ranks) {
  return std::string(FRUGAL_MPIEXEC) + " " + FRUGAL_MPIRUN_FLAGS + " -np " + std::to_string(ranks) + " " + FRUGAL_REAL_EXE;
}

}  // namespace frugal::real::testing
