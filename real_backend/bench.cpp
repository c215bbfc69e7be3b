// Microbenchmarks (contract in bench.hpp). Host-side reductions of timings use MPI directly:
// MPI launches every configuration of frugal-real, whatever the device's communicator.
#include "real_backend/bench.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "real_backend/executor.hpp"
#include "real_backend/stats.hpp"

namespace frugal::real {
namespace {

using core::Json;
using program::CollectiveKind;

constexpr CollectiveKind kKinds[] = {CollectiveKind::kAllReduce, CollectiveKind::kReduceScatter,
                                     CollectiveKind::kAllGather, CollectiveKind::kBroadcast, CollectiveKind::kAllToAll};

std::vector<double> slowest_rank(std::vector<double> times) {
  MPI_Allreduce(MPI_IN_PLACE, times.data(), static_cast<int>(times.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return times;
}

/// Warm-up, a barrier, then `iterations` calls of `f` timed one by one on `stream`.
template <class F>
std::vector<double> time_iterations(Device& device, Stream stream, const BenchOptions& o, F&& f) {
  for (int i = 0; i < o.warmup; ++i) f();
  device.synchronise();
  MPI_Barrier(MPI_COMM_WORLD);
  device.clear_markers();
  std::vector<std::pair<int, int>> marks;
  for (int i = 0; i < o.iterations; ++i) {
    const int a = device.mark(stream);
    f();
    marks.emplace_back(a, device.mark(stream));
  }
  device.synchronise();
  std::vector<double> times;
  for (const auto& [a, b] : marks) times.push_back(device.elapsed_s(a, b));
  device.clear_markers();
  return slowest_rank(std::move(times));
}

std::vector<double> sizes(const BenchOptions& o, double floor_bytes, double max_bytes) {
  std::vector<double> out;
  const double step = std::max(1.01, o.step_factor);
  for (double b = std::max(o.min_bytes, floor_bytes); b <= max_bytes * 1.0000001; b *= step) out.push_back(std::round(b));
  return out;
}

std::vector<double> sizes(const BenchOptions& o, double floor_bytes) { return sizes(o, floor_bytes, o.max_bytes); }

double memory_max_bytes(const BenchOptions& o) { return std::max(o.max_bytes, o.memory_max_bytes); }

std::string line(const char* format, auto... args) {
  char text[512];
  std::snprintf(text, sizeof(text), format, args...);
  return text;
}


/// Elements of `kind` that differ from their expected value after one fp32 call (nccl-tests' #wrong).
long check_collective(Device& device, Communicator& comm, CollectiveKind kind, int group,
                      const program::Group& members, Buffer send, Buffer recv, double bytes) {
  const int n = static_cast<int>(members.ranks.size());
  const int pos = comm.group_rank(group);
  const int rank = comm.rank();
  const CollectiveShape shape = collective_shape(kind, bytes, n, DataType::kFloat32);
  const std::size_t el = shape.elements, total = shape.bytes / sizeof(float);
  std::vector<float> in(total, 0.0f), expect(total, 0.0f);
  double sum = 0;
  for (const core::RankId r : members.ranks) sum += static_cast<double>(r.value + 1);
  std::size_t checked = el;
  switch (kind) {
    case CollectiveKind::kAllReduce:
    case CollectiveKind::kReduceScatter:
      std::fill(in.begin(), in.end(), static_cast<float>(rank + 1));
      std::fill(expect.begin(), expect.end(), static_cast<float>(sum));
      break;
    case CollectiveKind::kAllGather:
      std::fill(in.begin(), in.end(), static_cast<float>(rank));
      for (int j = 0; j < n; ++j)
        std::fill_n(expect.begin() + static_cast<long>(j * el), el, static_cast<float>(members.ranks[static_cast<std::size_t>(j)].value));
      checked = total;
      break;
    case CollectiveKind::kBroadcast:
      std::fill(in.begin(), in.end(), pos == 0 ? 42.0f : 0.0f);
      std::fill(expect.begin(), expect.end(), 42.0f);
      break;
    case CollectiveKind::kAllToAll:
      for (int j = 0; j < n; ++j) {
        std::fill_n(in.begin() + static_cast<long>(j * el), el, static_cast<float>(rank * 1000 + j));
        std::fill_n(expect.begin() + static_cast<long>(j * el), el,
                    static_cast<float>(members.ranks[static_cast<std::size_t>(j)].value * 1000 + pos));
      }
      checked = total;
      break;
  }
  device.upload(send, in.data(), shape.bytes);
  comm.collective(kind, group, 0, send, recv, bytes, DataType::kFloat32, Stream::kComm);
  device.synchronise();
  std::vector<float> out(total);
  device.download(out.data(), kind == CollectiveKind::kBroadcast ? send : recv, shape.bytes);
  long wrong = 0;
  for (std::size_t i = 0; i < checked; ++i) wrong += out[i] != expect[i] ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  return wrong;
}

Json bench_gemm(const BenchOptions& o, Device& device, const std::function<void(const std::string&)>& print) {
  std::vector<program::Gemm> shapes;
  for (int s : o.gemm_sizes) shapes.push_back({s, s, s, 1});
  shapes.insert(shapes.end(), o.gemm_shapes.begin(), o.gemm_shapes.end());
  print("# gemm: m        n        k    batch   median(us)      min(us)  TFLOP/s(median)");
  Json out = Json::array();
  for (const program::Gemm& g : shapes) {
    const Summary t = summarize(time_iterations(device, Stream::kCompute, o, [&] { device.gemm(g, Stream::kCompute); }));
    const double rate = g.flops() / t.median;
    out.push_back({{"m", g.m}, {"n", g.n}, {"k", g.k}, {"batch", g.batch}, {"flops", g.flops()},
                   {"time_s", to_json(t)}, {"flops_per_s", rate}, {"peak_flops_per_s", g.flops() / t.min}});
    print(line("  %8lld %8lld %8lld %8lld %12.1f %12.1f %12.4f", static_cast<long long>(g.m), static_cast<long long>(g.n),
               static_cast<long long>(g.k), static_cast<long long>(g.batch), t.median * 1e6, t.min * 1e6, rate / 1e12));
  }
  return out;
}

Json bench_collectives(const BenchOptions& o, Device& device, Communicator& comm, const std::vector<program::Group>& groups,
                       Buffer send, Buffer recv, const std::function<void(const std::string&)>& print) {
  const DataType type = comm.preferred_type();
  const int world = comm.size();
  print("# collective      group  groups      size(B)    count  type   median(us)  algbw(GB/s)  busbw(GB/s)  #wrong");
  Json out = Json::array();
  for (const CollectiveKind kind : kKinds) {
    for (int g = static_cast<int>(groups.size()) - 1; g >= 0; --g) {
      // One group per size is the one this rank belongs to (group 0 is the world).
      const program::Group& members = groups[static_cast<std::size_t>(g)];
      if (comm.group_rank(g) < 0) continue;
      const int n = static_cast<int>(members.ranks.size());
      for (double bytes : sizes(o, 4.0 * n)) {
        const CollectiveShape shape = collective_shape(kind, bytes, n, type);
        const Summary t = summarize(time_iterations(device, Stream::kComm, o, [&] {
          comm.collective(kind, g, 0, send, recv, bytes, type, Stream::kComm);
        }));
        const double moved = static_cast<double>(shape.bytes);
        const double algbw = moved / t.median;
        const double busbw = algbw * program::busbw_factor(kind, n);
        const long wrong = check_collective(device, comm, kind, g, members, send, recv, bytes);
        out.push_back({{"collective", program::to_string(kind)}, {"group_size", n}, {"groups", world / n},
                       {"bytes", moved}, {"elements", shape.elements}, {"type", type == DataType::kFloat32 ? "float32" : "bfloat16"},
                       {"time_s", to_json(t)}, {"algbw_bytes_per_s", algbw}, {"busbw_bytes_per_s", busbw},
                       {"busbw_factor", program::busbw_factor(kind, n)}, {"wrong", wrong}});
        print(line("  %-15s %5d %7d %12.0f %8zu  %-6s %11.2f %12.3f %12.3f %7ld", program::to_string(kind).c_str(), n,
                   world / n, moved, shape.elements, type == DataType::kFloat32 ? "f32" : "bf16", t.median * 1e6,
                   algbw / 1e9, busbw / 1e9, wrong));
      }
    }
  }
  if (world >= 2) {  // ring send/recv: everyone sends to the next rank, busbw factor 1
    for (double bytes : sizes(o, 1.0)) {
      const auto b = static_cast<std::size_t>(bytes);
      const int to = (comm.rank() + 1) % world, from = (comm.rank() + world - 1) % world;
      const Summary t = summarize(time_iterations(device, Stream::kComm, o, [&] {
        comm.send_recv(to, from, send, recv, b, Stream::kComm);
      }));
      out.push_back({{"collective", "send_recv"}, {"group_size", world}, {"groups", 1}, {"bytes", bytes},
                     {"elements", b}, {"type", "bytes"}, {"time_s", to_json(t)}, {"algbw_bytes_per_s", bytes / t.median},
                     {"busbw_bytes_per_s", bytes / t.median}, {"busbw_factor", 1.0}, {"wrong", nullptr}});
      print(line("  %-15s %5d %7d %12.0f %8zu  %-6s %11.2f %12.3f %12.3f %7s", "send_recv", world, 1, bytes, b, "u8",
                 t.median * 1e6, bytes / t.median / 1e9, bytes / t.median / 1e9, "n/a"));
    }
  }
  return out;
}

Json bench_copies(const BenchOptions& o, Device& device, const std::function<void(const std::string&)>& print) {
  print("# copy            memory        size(B)   median(us)   GB/s(median)");
  Json out = Json::array();
  for (const auto direction : {program::CopyDirection::kHostToDevice, program::CopyDirection::kDeviceToHost})
    for (const bool pinned : {true, false})
      for (double bytes : sizes(o, 1.0)) {
        const Summary t = summarize(time_iterations(device, Stream::kCopy, o, [&] {
          if (pinned) device.copy(direction, bytes, Stream::kCopy);
          else device.copy_pageable(direction, bytes, Stream::kCopy);
        }));
        out.push_back({{"direction", program::to_string(direction)}, {"memory", pinned ? "pinned" : "pageable"},
                       {"bytes", bytes}, {"time_s", to_json(t)}, {"bandwidth_bytes_per_s", bytes / t.median}});
        print(line("  %-15s %-9s %12.0f %12.2f %12.3f", program::to_string(direction).c_str(), pinned ? "pinned" : "pageable",
                   bytes, t.median * 1e6, bytes / t.median / 1e9));
      }
  return out;
}

/// Host compute ops (compute-bound FLOPs on the host stream, as the executor runs the CPU
/// optimizer step: synthetic_gemm) at the sweep's square sizes up to 1,024 and `host_flops`.
Json bench_host_compute(const BenchOptions& o, Device& device, const std::function<void(const std::string&)>& print) {
  Json out = Json::array();
  if (device.kind() != "cpu") {
    print("# host compute: runs on the CPU device only (skipped)");
    return out;
  }
  std::map<std::int64_t, bool> sizes;  // n → a program's host step runs it
  for (const int s : o.gemm_sizes)
    if (s <= 1024) sizes[s] = false;
  for (const double f : o.host_flops) sizes[synthetic_gemm(f).m] = true;
  print("# host compute      FLOPs   median(us)   GFLOP/s(median)");
  for (const auto& [n, from_program] : sizes) {
    const program::Gemm g{n, n, n, 1};
    const double flops = g.flops();
    const Summary t = summarize(time_iterations(device, Stream::kHost, o, [&] { device.gemm(g, Stream::kHost); }));
    out.push_back({{"flops", flops}, {"time_s", to_json(t)}, {"flops_per_s", flops / t.median}, {"program", from_program}});
    print(line("  %18.0f %12.2f %12.3f%s", flops, t.median * 1e6, flops / t.median / 1e9, from_program ? "  (program)" : ""));
  }
  return out;
}

Json bench_memory(const BenchOptions& o, Device& device, const std::function<void(const std::string&)>& print) {
  print("# memory stream  traffic(B)   median(us)   GB/s(median)");
  Json out = Json::array();
  for (double bytes : sizes(o, 2.0, memory_max_bytes(o))) {
    const Summary t = summarize(time_iterations(device, Stream::kCompute, o, [&] { device.stream_memory(bytes, Stream::kCompute); }));
    out.push_back({{"bytes", bytes}, {"time_s", to_json(t)}, {"bandwidth_bytes_per_s", bytes / t.median}});
    print(line("  %12.0f %12.2f %12.3f", bytes, t.median * 1e6, bytes / t.median / 1e9));
  }
  return out;
}

Json bench_latency(const BenchOptions& o, Device& device, const std::function<void(const std::string&)>& print) {
  constexpr int kBurst = 1000;
  using Clock = std::chrono::steady_clock;
  std::vector<double> launch, round_trip;
  for (int i = 0; i < o.warmup + o.iterations; ++i) {
    const auto t0 = Clock::now();
    for (int j = 0; j < kBurst; ++j) device.launch_empty(Stream::kCompute);
    const auto t1 = Clock::now();
    device.synchronise();
    const auto t2 = Clock::now();
    device.launch_empty(Stream::kCompute);
    device.synchronise();
    const auto t3 = Clock::now();
    if (i < o.warmup) continue;
    launch.push_back(std::chrono::duration<double>(t1 - t0).count() / kBurst);
    round_trip.push_back(std::chrono::duration<double>(t3 - t2).count());
  }
  const Summary l = summarize(slowest_rank(launch)), r = summarize(slowest_rank(round_trip));
  print(line("# latency: launch %.3f us (median of %d-launch bursts), launch + synchronise %.3f us", l.median * 1e6, kBurst,
             r.median * 1e6));
  return Json{{"launch_s", to_json(l)}, {"launch_and_synchronise_s", to_json(r)}, {"burst", kBurst}};
}

}  // namespace

std::vector<program::Group> bench_groups(int n) {
  std::vector<program::Group> groups;
  program::Group world{"world", {}};
  for (int r = 0; r < n; ++r) world.ranks.emplace_back(r);
  groups.push_back(world);
  for (int g = 2; g < n; g *= 2) {
    if (n % g != 0) continue;
    for (int b = 0; b < n / g; ++b) {
      program::Group block{"size" + std::to_string(g) + "_" + std::to_string(b), {}};
      for (int r = b * g; r < (b + 1) * g; ++r) block.ranks.emplace_back(r);
      groups.push_back(block);
    }
  }
  return groups;
}

std::vector<program::Gemm> program_gemms(const program::Program& program) {
  std::vector<program::Gemm> out;
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>> seen;
  for (const auto& rp : program.ranks)
    for (const auto& op : rp.ops)
      if (op.kind == program::OpKind::kCompute)
        for (const program::Gemm& g : op.compute().gemms)
          if (seen.insert({g.m, g.n, g.k, g.batch}).second) out.push_back(g);
  return out;
}

std::vector<double> program_host_flops(const program::Program& program) {
  std::set<double> flops;
  for (const auto& rp : program.ranks)
    for (const auto& op : rp.ops)
      if (op.kind == program::OpKind::kCompute && op.stream == Stream::kHost && op.compute().flops > 0)
        flops.insert(op.compute().flops);
  return {flops.begin(), flops.end()};
}

Json run_benchmarks(const BenchOptions& o, Device& device, Communicator& comm,
                    const std::function<void(const std::string&)>& print_all) {
  auto print = [&](const std::string& s) {
    if (comm.rank() == 0) print_all(s);
  };
  const std::vector<program::Group> groups = bench_groups(comm.size());
  Workspace ws;
  for (int s : o.gemm_sizes) {
    const auto e = static_cast<std::size_t>(s) * static_cast<std::size_t>(s);
    ws.gemm_a_elements = std::max(ws.gemm_a_elements, e);
    ws.gemm_b_elements = std::max(ws.gemm_b_elements, e);
    ws.gemm_c_elements = std::max(ws.gemm_c_elements, e);
  }
  std::vector<program::Gemm> shapes = o.gemm_shapes;
  for (const double f : o.host_flops) shapes.push_back(synthetic_gemm(f));
  for (const program::Gemm& g : shapes) {
    ws.gemm_a_elements = std::max(ws.gemm_a_elements, static_cast<std::size_t>(g.m * g.k));
    ws.gemm_b_elements = std::max(ws.gemm_b_elements, static_cast<std::size_t>(g.k * g.n));
    ws.gemm_c_elements = std::max(ws.gemm_c_elements, static_cast<std::size_t>(g.m * g.n));
  }
  ws.stream_bytes = static_cast<std::size_t>((o.memory ? memory_max_bytes(o) : o.max_bytes) / 2) + 1;
  ws.copy_bytes = static_cast<std::size_t>(o.max_bytes) + 1;
  device.reserve_workspace(ws);

  Json out = Json::object();
  if (o.latency) out["latency"] = bench_latency(o, device, print);
  if (o.gemm) out["gemm"] = bench_gemm(o, device, print);
  if (o.memory) out["memory"] = bench_memory(o, device, print);
  if (o.copies) out["copies"] = bench_copies(o, device, print);
  if (o.host_compute) out["host_compute"] = bench_host_compute(o, device, print);
  if (o.collectives) {
    const std::size_t bytes =
        collective_shape(CollectiveKind::kAllGather, o.max_bytes, comm.size(), DataType::kFloat32).bytes +
        static_cast<std::size_t>(o.max_bytes) + 64 * static_cast<std::size_t>(comm.size());
    Buffer send = device.allocate(bytes, Stream::kComm), recv = device.allocate(bytes, Stream::kComm);
    out["collectives"] = bench_collectives(o, device, comm, groups, send, recv, print);
    device.release(send, Stream::kComm);
    device.release(recv, Stream::kComm);
  }
  return out;
}

}  // namespace frugal::real
