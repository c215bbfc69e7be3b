// Program executor (contract in executor.hpp). Timestamps are device markers, so the same code
// times synchronous CPU work (host clock) and asynchronous CUDA streams (events).
#include "real_backend/executor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "sim/core/error.hpp"

namespace frugal::real {
namespace {

using program::OpKind;

/// Above this arithmetic intensity (FLOP per byte of memory traffic) the FLOPs of a compute op
/// without GEMM shapes are compute-bound on every device we target, so they run as a square
/// GEMM of the same FLOPs; below it they are elementwise work, covered by the memory stream.
constexpr double kComputeBoundFlopsPerByte = 8.0;

program::Gemm scaled(const program::Gemm& g, double scale) {
  if (scale == 1.0) return g;
  program::Gemm out = g;
  // The lowering scales GEMMs by samples through the batch (attention) or the rows (the rest).
  if (g.batch > 1) out.batch = std::max<std::int64_t>(1, std::llround(static_cast<double>(g.batch) * scale));
  else out.m = std::max<std::int64_t>(1, std::llround(static_cast<double>(g.m) * scale));
  return out;
}


}  // namespace

std::string to_string(Schedule s) { return s == Schedule::kSerial ? "serial" : "streams"; }

std::vector<OpWork> plan_work(const program::Program& program, int rank, double scale) {
  const program::RankProgram& rp = program.ranks.at(static_cast<std::size_t>(rank));
  std::vector<OpWork> work(rp.ops.size());
  for (std::size_t i = 0; i < rp.ops.size(); ++i) {
    const program::Op& op = rp.ops[i];
    OpWork& w = work[i];
    switch (op.kind) {
      case OpKind::kCompute: {
        const program::Compute& c = op.compute();
        for (const program::Gemm& g : c.gemms) w.gemms.push_back(scaled(g, scale));
        const double flops = c.flops * scale;
        if (c.gemms.empty() && flops > 0 && flops > kComputeBoundFlopsPerByte * c.memory_bytes * scale) {
          w.gemms.push_back(synthetic_gemm(flops));
          w.synthetic_gemm = true;
        }
        for (const program::Gemm& g : w.gemms) w.gemm_flops += g.flops();
        w.stream_bytes = c.memory_bytes * scale;
        w.stream_kernels = std::max(1, c.kernels - static_cast<int>(c.gemms.size()));
        break;
      }
      case OpKind::kCollective: w.bytes = op.collective().bytes * scale; break;
      case OpKind::kSend:
      case OpKind::kRecv: w.bytes = op.p2p().bytes * scale; break;
      case OpKind::kCopy: w.bytes = op.copy().bytes * scale; break;
      case OpKind::kAlloc:
      case OpKind::kFree: w.bytes = op.memory().bytes * scale; break;
      case OpKind::kCheckpointWrite: w.bytes = op.checkpoint().bytes * scale; break;
    }
  }
  return work;
}

Workspace workspace_for(const std::vector<OpWork>& work, const program::RankProgram& rp, std::size_t max_buffer_bytes) {
  Workspace ws;
  const std::size_t cap_elements = std::max<std::size_t>(1, max_buffer_bytes / 4);
  const double cap = static_cast<double>(max_buffer_bytes);
  auto operand = [&](std::int64_t rows, std::int64_t cols, std::int64_t batch) {
    const auto one = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    return std::min(one * static_cast<std::size_t>(batch), std::max(one, cap_elements));
  };
  double stream = 0, copy = 0;
  for (std::size_t i = 0; i < work.size(); ++i) {
    for (const program::Gemm& g : work[i].gemms) {
      ws.gemm_a_elements = std::max(ws.gemm_a_elements, operand(g.m, g.k, g.batch));
      ws.gemm_b_elements = std::max(ws.gemm_b_elements, operand(g.k, g.n, g.batch));
      ws.gemm_c_elements = std::max(ws.gemm_c_elements, operand(g.m, g.n, g.batch));
    }
    stream = std::max(stream, work[i].stream_bytes / 2);
    const OpKind k = rp.ops[i].kind;
    if (k == OpKind::kCopy || k == OpKind::kCheckpointWrite) copy = std::max(copy, work[i].bytes);
  }
  ws.stream_bytes = static_cast<std::size_t>(std::min(stream, cap));
  ws.copy_bytes = static_cast<std::size_t>(std::min(copy, cap));
  return ws;
}

struct Executor::Impl {
  const program::Program& program;
  const program::RankProgram& rp;
  int rank;
  Device& device;
  Communicator& comm;
  ExecutorOptions options;
  std::vector<OpWork> work;
  DataType type;
  Buffer send_buffer, recv_buffer;
  std::vector<int> root_position;  // per op: broadcast root as a group position

  /// A live buffer of the program: device memory, host memory (Device::allocate_host) or an
  /// NVMe file (an unlinked file in the checkpoint folder, read and written with pread/pwrite).
  struct Slot {
    program::Location location = program::Location::kDevice;
    Buffer device;
    void* host = nullptr;
    int fd = -1;
    std::size_t bytes = 0;
  };

  std::mutex memory_mutex;
  std::map<std::string, Slot> live;
  std::vector<char> nvme_scratch;  ///< host end of anonymous NVMe copies
  int nvme_scratch_fd = -1;        ///< NVMe end of anonymous NVMe copies
  std::atomic<int> nvme_files{0};  ///< NVMe files opened (allocs may run on two streams at once)
  double program_bytes = 0, program_peak_bytes = 0;
  std::vector<OutOfMemoryEvent> oom;
  std::filesystem::path checkpoint_file;

  // Per (iteration, op) markers of the phase being run.
  std::vector<int> start_marker, end_marker;

  // Streams schedule.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  std::vector<int> done;  // per op: iterations completed in this phase
  bool aborted = false;
  // Receives posted ahead (PointToPoint::posted_ahead) are made when the first op that needs them
  // runs, on their own stream: per op, the iterations in which one was claimed.
  std::vector<int> claimed;

  Impl(const program::Program& p, int r, Device& d, Communicator& c, ExecutorOptions o)
      : program(p), rp(p.ranks.at(static_cast<std::size_t>(r))), rank(r), device(d), comm(c), options(std::move(o)),
        type(c.preferred_type()) {
    work = plan_work(program, rank, options.scale);
    device.reserve_workspace(workspace_for(work, rp, options.max_buffer_bytes));
    const double cap = static_cast<double>(options.max_buffer_bytes);
    std::size_t comm_bytes = 1;
    root_position.assign(rp.ops.size(), 0);
    for (std::size_t i = 0; i < rp.ops.size(); ++i) {
      const program::Op& op = rp.ops[i];
      if (op.kind == OpKind::kCollective) {
        const program::Collective& c = op.collective();
        const int n = comm.group_size(c.group);
        comm_bytes = std::max(comm_bytes, collective_shape(c.kind, std::min(work[i].bytes, cap), n, type).bytes);
        const auto& ranks = program.groups.at(static_cast<std::size_t>(c.group)).ranks;
        const auto it = std::find(ranks.begin(), ranks.end(), c.root);
        root_position[i] = it == ranks.end() ? 0 : static_cast<int>(it - ranks.begin());
      } else if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) {
        comm_bytes = std::max(comm_bytes, static_cast<std::size_t>(std::min(work[i].bytes, cap)));
      }
    }
    send_buffer = device.allocate(comm_bytes, Stream::kComm);
    recv_buffer = device.allocate(comm_bytes, Stream::kComm);
    std::vector<char> init(comm_bytes, 0);
    device.upload(send_buffer, init.data(), comm_bytes);
    device.upload(recv_buffer, init.data(), comm_bytes);
    std::filesystem::path dir = options.checkpoint_dir.empty() ? std::filesystem::temp_directory_path() : options.checkpoint_dir;
    checkpoint_file = dir / ("frugal-real-checkpoint-rank" + std::to_string(rank) + "-" + std::to_string(getpid()) + ".bin");
    // Host compute is timed with the device's markers: on the CPU device they are the host clock
    // that also times the CPU work; CUDA events would not see work done by the host.
    for (std::size_t i = 0; i < rp.ops.size(); ++i)
      if (rp.ops[i].stream == Stream::kHost && rp.ops[i].kind == OpKind::kCompute && device.kind() != "cpu")
        throw std::runtime_error("rank " + std::to_string(rank) + " op " + std::to_string(i) + " (\"" + rp.ops[i].name +
                                 "\"): host compute runs on the CPU device only (this device is " + device.kind() + ")");
  }

  ~Impl() {
    device.synchronise();
    for (auto& [name, slot] : live) free_slot(slot, Stream::kCompute);
    if (nvme_scratch_fd >= 0) ::close(nvme_scratch_fd);
    device.release(send_buffer, Stream::kComm);
    device.release(recv_buffer, Stream::kComm);
    std::error_code ignored;
    std::filesystem::remove(checkpoint_file, ignored);
  }

  /// An unlinked file of `bytes` in the checkpoint folder: the NVMe end of a buffer.
  int open_nvme_file(std::size_t bytes) {
    const std::filesystem::path path =
        checkpoint_file.parent_path() / ("frugal-real-nvme-rank" + std::to_string(rank) + "-" +
                                         std::to_string(getpid()) + "-" + std::to_string(nvme_files++) + ".bin");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create NVMe buffer file " + path.string());
    ::unlink(path.c_str());  // removed when closed, even if the run fails
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      ::close(fd);
      throw OutOfMemory(static_cast<double>(bytes), 0, 0, "cannot size NVMe buffer file " + path.string());
    }
    return fd;
  }

  void free_slot(Slot& slot, Stream stream) {
    switch (slot.location) {
      case program::Location::kDevice: device.release(slot.device, stream); break;
      case program::Location::kHost: device.release_host(slot.host); break;
      case program::Location::kNvme: ::close(slot.fd); break;
    }
  }

  void allocate(const std::string& name, double bytes, program::Location location, Stream stream, int op, int iteration,
                bool warmup) {
    Slot slot;
    slot.location = location;
    slot.bytes = static_cast<std::size_t>(bytes);
    try {
      switch (location) {
        case program::Location::kDevice: slot.device = device.allocate(slot.bytes, stream); break;
        case program::Location::kHost: slot.host = device.allocate_host(slot.bytes); break;
        case program::Location::kNvme: slot.fd = open_nvme_file(slot.bytes); break;
      }
    } catch (const OutOfMemory& e) {
      std::lock_guard lock(memory_mutex);
      auto same = std::find_if(oom.begin(), oom.end(), [&](const OutOfMemoryEvent& o) { return o.op == op && o.buffer == name; });
      if (same != oom.end()) ++same->count;
      else oom.push_back({op, iteration, warmup, name, e.requested_bytes, e.in_use_bytes, e.capacity_bytes, e.what(), 1});
      return;
    }
    std::lock_guard lock(memory_mutex);
    live[name] = slot;
    if (location != program::Location::kDevice) return;
    program_bytes += bytes;
    program_peak_bytes = std::max(program_peak_bytes, program_bytes);
  }

  void release(const std::string& name, Stream stream) {
    Slot slot;
    {
      std::lock_guard lock(memory_mutex);
      auto it = live.find(name);
      if (it == live.end()) return;  // its allocation ran out of memory (reported there)
      slot = it->second;
      live.erase(it);
      if (slot.location == program::Location::kDevice) program_bytes -= static_cast<double>(slot.bytes);
    }
    free_slot(slot, stream);
  }

  /// pwrite/pread of `bytes` at offset 0 of `fd`, in chunks; `write` with fdatasync, so the time is
  /// the drive's (as a checkpoint write's is).
  static void file_io(int fd, char* data, std::size_t bytes, bool write) {
    for (std::size_t done = 0; done < bytes;) {
      const ssize_t n = write ? ::pwrite(fd, data + done, bytes - done, static_cast<off_t>(done))
                              : ::pread(fd, data + done, bytes - done, static_cast<off_t>(done));
      if (n <= 0) throw std::runtime_error(std::string("NVMe buffer file ") + (write ? "write" : "read") + " failed");
      done += static_cast<std::size_t>(n);
    }
    if (write) ::fdatasync(fd);
  }

  /// A copy between named buffers (Copy contract): the bytes really move between the two ends.
  void copy_buffers(const program::Copy& c, double bytes, Stream stream) {
    Slot src, dst;
    {
      std::lock_guard lock(memory_mutex);
      const auto s_it = live.find(c.src);
      const auto d_it = live.find(c.dst);
      if (s_it == live.end() || d_it == live.end()) return;  // an allocation ran out of memory (reported there)
      src = s_it->second;
      dst = d_it->second;
    }
    const std::size_t n = std::min({static_cast<std::size_t>(bytes), src.bytes, dst.bytes});
    switch (c.direction) {
      case program::CopyDirection::kDeviceToHost: device.copy_buffer(c.direction, src.device, dst.host, n, stream); break;
      case program::CopyDirection::kHostToDevice: device.copy_buffer(c.direction, dst.device, src.host, n, stream); break;
      case program::CopyDirection::kHostToNvme:
        device.synchronise(stream);  // the host end may still be filled by an asynchronous copy
        file_io(dst.fd, static_cast<char*>(src.host), n, true);
        break;
      case program::CopyDirection::kNvmeToHost:
        device.synchronise(stream);
        file_io(src.fd, static_cast<char*>(dst.host), n, false);
        break;
    }
  }

  /// A copy naming no buffers: the device's copy buffers between device and host, a scratch
  /// host buffer and file between host and NVMe.
  void copy_anonymous(program::CopyDirection direction, double bytes, Stream stream) {
    if (direction == program::CopyDirection::kDeviceToHost || direction == program::CopyDirection::kHostToDevice) {
      device.copy(direction, bytes, stream);
      return;
    }
    const auto total = static_cast<std::size_t>(bytes);
    const std::size_t chunk_cap = std::max<std::size_t>(1, std::min(options.max_buffer_bytes, total));
    // The scratch file is as large as the scratch buffer, so that a read (NVMe → host) finds
    // as many bytes as it asks for.
    if (nvme_scratch_fd < 0 || nvme_scratch.size() < chunk_cap) {
      if (nvme_scratch_fd >= 0) ::close(nvme_scratch_fd);
      nvme_scratch.assign(std::max(nvme_scratch.size(), chunk_cap), 1);
      nvme_scratch_fd = open_nvme_file(nvme_scratch.size());
    }
    for (std::size_t left = total; left > 0;) {
      const std::size_t chunk = std::min(left, chunk_cap);
      file_io(nvme_scratch_fd, nvme_scratch.data(), chunk, direction == program::CopyDirection::kHostToNvme);
      left -= chunk;
    }
  }

  void write_checkpoint(double bytes, Stream stream) {
    device.copy(program::CopyDirection::kDeviceToHost, bytes, stream);
    device.synchronise(stream);
    const int fd = ::open(checkpoint_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write checkpoint file " + checkpoint_file.string());
    const auto* data = static_cast<const char*>(device.copy_host_data());
    const auto chunk_cap = std::max<std::size_t>(1, std::min(options.max_buffer_bytes, static_cast<std::size_t>(bytes)));
    for (auto remaining = static_cast<std::size_t>(bytes); remaining > 0;) {
      const std::size_t chunk = std::min(remaining, chunk_cap);
      const ssize_t n = ::write(fd, data, chunk);
      if (n <= 0) {
        ::close(fd);
        throw std::runtime_error("writing checkpoint file " + checkpoint_file.string() + " failed");
      }
      remaining -= static_cast<std::size_t>(n);
    }
    ::fdatasync(fd);
    ::close(fd);
  }

  void execute(std::size_t idx, int iteration, bool warmup) {
    const program::Op& op = rp.ops[idx];
    const OpWork& w = work[idx];
    const Stream s = op.stream;
    const double cap = static_cast<double>(options.max_buffer_bytes);
    switch (op.kind) {
      case OpKind::kCompute:
        for (const program::Gemm& g : w.gemms) device.gemm(g, s);
        if (w.stream_bytes > 0)
          for (int k = 0; k < w.stream_kernels; ++k) device.stream_memory(w.stream_bytes / w.stream_kernels, s);
        break;
      case OpKind::kCollective: {
        const program::Collective& c = op.collective();
        for (double left = w.bytes; left > 0; left -= cap)
          comm.collective(c.kind, c.group, root_position[idx], send_buffer, recv_buffer, std::min(left, cap), type, s);
        break;
      }
      case OpKind::kSend:
      case OpKind::kRecv: {
        const program::PointToPoint& p = op.p2p();
        for (double left = w.bytes; left > 0; left -= cap) {
          const auto chunk = static_cast<std::size_t>(std::max(1.0, std::min(left, cap)));
          // One thread runs every op (serial schedule on a synchronous device): a send must not
          // wait for its receiver, who may be waiting for this rank's next op (1F1B pipelines).
          if (op.kind == OpKind::kSend && background_sends())
            comm.send_background(static_cast<int>(p.peer.value), p.tag, send_buffer, chunk, s);
          else if (op.kind == OpKind::kSend)
            comm.send(static_cast<int>(p.peer.value), p.tag, send_buffer, chunk, s);
          else comm.recv(static_cast<int>(p.peer.value), p.tag, recv_buffer, chunk, s);
        }
        break;
      }
      case OpKind::kCopy:
        if (!(w.bytes > 0)) break;
        if (op.copy().src.empty()) copy_anonymous(op.copy().direction, w.bytes, s);
        else copy_buffers(op.copy(), w.bytes, s);
        break;
      case OpKind::kAlloc:
        allocate(op.memory().buffer, w.bytes, op.memory().location, s, static_cast<int>(idx), iteration, warmup);
        break;
      case OpKind::kFree:
        release(op.memory().buffer, s);
        break;
      case OpKind::kCheckpointWrite:
        if (w.bytes > 0) write_checkpoint(w.bytes, s);
        break;
    }
  }

  std::size_t slot(int iteration, std::size_t idx) const { return static_cast<std::size_t>(iteration) * rp.ops.size() + idx; }

  /// Sends complete in the background when one thread runs every op on a synchronous device.
  bool background_sends() const { return options.schedule == Schedule::kSerial && !device.asynchronous(); }

  /// A receive posted ahead: this backend makes it when the first op that needs it runs (its
  /// transfer does not overlap the ops in between; each library's receive would block the
  /// stream it is posted on, and the ops queued behind it).
  bool deferred(std::size_t idx) const {
    const program::Op& op = rp.ops[idx];
    return op.kind == OpKind::kRecv && op.runs_detached();
  }

  /// Runs op `idx` of iteration `it` between its markers.
  void run_op(std::size_t idx, int it, int first_iteration, bool warmup) {
    const Stream s = rp.ops[idx].stream;
    start_marker[slot(it, idx)] = device.mark(s);
    execute(idx, first_iteration + it, warmup);
    end_marker[slot(it, idx)] = device.mark(s);
  }

  /// Makes receive `idx` (posted ahead) in iteration `it` unless an op made it already (or another
  /// stream's thread is making it).
  void receive_once(std::size_t idx, int it, int first_iteration, bool warmup) {
    {
      std::lock_guard lock(done_mutex);
      if (claimed[idx] > it) return;
      claimed[idx] = it + 1;
    }
    run_op(idx, it, first_iteration, warmup);
    {
      std::lock_guard lock(done_mutex);
      done[idx] = it + 1;
    }
    done_cv.notify_all();
  }

  /// Makes the receives posted ahead that op `idx` needs.
  void receive_deferred(std::size_t idx, int it, int first_iteration, bool warmup) {
    for (const core::OpId d : rp.ops[idx].deps)
      if (deferred(static_cast<std::size_t>(d.value))) receive_once(static_cast<std::size_t>(d.value), it, first_iteration, warmup);
  }

  void run_serial(int iterations, int first_iteration, bool warmup) {
    const bool async = device.asynchronous();
    for (int it = 0; it < iterations; ++it) {
      for (std::size_t idx = 0; idx < rp.ops.size(); ++idx) {
        const program::Op& op = rp.ops[idx];
        if (deferred(idx)) continue;
        receive_deferred(idx, it, first_iteration, warmup);
        if (async)
          for (const core::OpId d : op.deps)
            if (rp.ops[static_cast<std::size_t>(d.value)].stream != op.stream)
              device.wait(op.stream, end_marker[slot(it, static_cast<std::size_t>(d.value))]);
        run_op(idx, it, first_iteration, warmup);
      }
      receive_unclaimed(std::nullopt, it, first_iteration, warmup);
      if (background_sends()) comm.complete_sends();  // the iteration ends with its sends
    }
  }

  /// At the end of iteration `it`: the receives posted ahead (on `stream`, or any) that no op
  /// needed.
  void receive_unclaimed(std::optional<Stream> stream, int it, int first_iteration, bool warmup) {
    for (std::size_t idx = 0; idx < rp.ops.size(); ++idx)
      if (deferred(idx) && (!stream || rp.ops[idx].stream == *stream)) receive_once(idx, it, first_iteration, warmup);
  }

  void run_stream(Stream stream, int iterations, int first_iteration, bool warmup) {
    for (int it = 0; it < iterations; ++it) {
      for (std::size_t idx = 0; idx < rp.ops.size(); ++idx) {
        const program::Op& op = rp.ops[idx];
        if (op.stream != stream || deferred(idx)) continue;
        receive_deferred(idx, it, first_iteration, warmup);
        {
          std::unique_lock lock(done_mutex);
          done_cv.wait(lock, [&] {
            if (aborted) return true;
            for (const core::OpId d : op.deps)
              if (done[static_cast<std::size_t>(d.value)] <= it) return false;
            return true;
          });
          if (aborted) return;
        }
        run_op(idx, it, first_iteration, warmup);
        {
          std::lock_guard lock(done_mutex);
          done[idx] = it + 1;
        }
        done_cv.notify_all();
      }
      receive_unclaimed(stream, it, first_iteration, warmup);
    }
  }

  void run_streams(int iterations, int first_iteration, bool warmup) {
    done.assign(rp.ops.size(), 0);
    aborted = false;
    std::exception_ptr error;
    std::mutex error_mutex;
    std::vector<std::thread> threads;
    for (int s = 0; s < kStreamCount; ++s) {
      const auto stream = static_cast<Stream>(s);
      if (std::none_of(rp.ops.begin(), rp.ops.end(), [&](const program::Op& op) { return op.stream == stream; })) continue;
      threads.emplace_back([&, stream] {
        try {
          run_stream(stream, iterations, first_iteration, warmup);
        } catch (...) {
          {
            std::lock_guard lock(error_mutex);
            if (!error) error = std::current_exception();
          }
          std::lock_guard lock(done_mutex);
          aborted = true;
          done_cv.notify_all();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    if (error) std::rethrow_exception(error);
  }

  void run_phase(int iterations, int first_iteration, bool warmup) {
    claimed.assign(rp.ops.size(), 0);
    done.assign(rp.ops.size(), 0);
    start_marker.assign(static_cast<std::size_t>(iterations) * rp.ops.size(), -1);
    end_marker.assign(start_marker.size(), -1);
    if (options.schedule == Schedule::kStreams) run_streams(iterations, first_iteration, warmup);
    else run_serial(iterations, first_iteration, warmup);
    device.synchronise();
  }

  RankRun run() {
    RankRun out;
    out.rank = rank;
    for (const program::Memory& m : rp.resident)
      if (m.bytes > 0) allocate(m.buffer, m.bytes * options.scale, m.location, Stream::kCompute, -1, -1, true);
    device.clear_markers();
    run_phase(options.warmup_iterations, 0, true);
    comm.barrier();
    device.clear_markers();
    const int epoch = device.mark(Stream::kCompute);
    const auto wall_start = std::chrono::steady_clock::now();
    run_phase(options.iterations, options.warmup_iterations, false);
    out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    for (int it = 0; it < options.iterations; ++it)
      for (std::size_t idx = 0; idx < rp.ops.size(); ++idx)
        out.timings.push_back({static_cast<int>(idx), it, device.elapsed_s(epoch, start_marker[slot(it, idx)]),
                               device.elapsed_s(epoch, end_marker[slot(it, idx)])});
    device.clear_markers();
    for (const program::Memory& m : rp.resident) release(m.buffer, Stream::kCompute);
    out.work = work;
    out.out_of_memory = oom;
    out.program_peak_bytes = program_peak_bytes;
    out.device_peak_bytes = device.peak_bytes();
    out.capacity_bytes = device.capacity_bytes();
    return out;
  }
};

Executor::Executor(const program::Program& program, int rank, Device& device, Communicator& communicator,
                   ExecutorOptions options)
    : impl_(std::make_unique<Impl>(program, rank, device, communicator, std::move(options))) {}

Executor::~Executor() = default;

RankRun Executor::run() { return impl_->run(); }

program::Gemm synthetic_gemm(double flops) {
  const auto n = std::max<std::int64_t>(1, std::llround(std::cbrt(flops / 2.0)));
  return {n, n, n, 1};
}

}  // namespace frugal::real
