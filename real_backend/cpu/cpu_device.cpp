// CPU device (contract in cpu_device.hpp). OpenBLAS is the BLAS: the reference BLAS is ~50×
// slower and would make every calibration wrong, so CMake requires the openblas pkg-config module.
#include "real_backend/cpu/cpu_device.hpp"

#include <cblas.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "sim/core/error.hpp"

namespace frugal::real {
namespace {

constexpr std::size_t kPageBytes = 4096;

double meminfo_bytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  double kib = 0;
  std::string unit;
  while (in >> name >> kib >> unit)
    if (name == key + ":") return kib * 1024.0;
  return 0;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown";
}

void fill(std::vector<float>& v, unsigned seed) {
  // Small values in [-0.5, 0.5) / 64: sums of thousands of products stay far from overflow
  // and denormals (which would slow the GEMM).
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(static_cast<int>((i * 2654435761u + seed) % 1024) - 512) / 65536.0f;
}

int checked_int(std::int64_t v, const char* what) {
  if (v <= 0 || v > INT_MAX) throw core::InternalError(std::string("GEMM dimension ") + what + " out of range for BLAS");
  return static_cast<int>(v);
}

}  // namespace

CpuDevice::CpuDevice(const Options& options) {
  const int local = std::max(1, options.local_size);
  if (options.threads > 0) {
    openblas_set_num_threads(options.threads);
  } else if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    openblas_set_num_threads(std::max(1, cores / local));
  }
  thread_cpu_clock_ = options.thread_cpu_clock;
  if (thread_cpu_clock_ && openblas_get_num_threads() > 1)
    throw std::invalid_argument("--clock thread-cpu times the calling thread only, so BLAS must not use helper threads: "
                                "give --threads 1 (OpenBLAS has " + std::to_string(openblas_get_num_threads()) + ")");
  capacity_bytes_ = options.capacity_bytes > 0 ? options.capacity_bytes : 0.8 * meminfo_bytes("MemAvailable") / local;
}

CpuDevice::~CpuDevice() {
  for (auto& [bytes, p] : cache_) std::free(p);
}

int CpuDevice::blas_threads() const { return openblas_get_num_threads(); }

core::Json CpuDevice::describe() const {
  return core::Json{{"kind", "cpu"},
                    {"model", cpu_model()},
                    {"logical_cores", std::thread::hardware_concurrency()},
                    {"memory_total_bytes", meminfo_bytes("MemTotal")},
                    {"capacity_bytes", capacity_bytes_},
                    {"precision", "fp32"},
                    {"clock", thread_cpu_clock_ ? "thread-cpu" : "wall"},
                    {"blas", {{"library", "OpenBLAS"},
                              {"pkg_config_version", FRUGAL_OPENBLAS_VERSION},
                              {"config", openblas_get_config()},
                              {"core", openblas_get_corename()},
                              {"threads", openblas_get_num_threads()}}}};
}

double CpuDevice::in_use_bytes() const {
  std::lock_guard lock(mutex_);
  return in_use_bytes_;
}

double CpuDevice::peak_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_bytes_;
}

Buffer CpuDevice::allocate(std::size_t bytes, Stream) {
  std::lock_guard lock(mutex_);
  const double b = static_cast<double>(bytes);
  if (auto it = cache_.find(bytes); it != cache_.end()) {
    void* p = it->second;
    cache_.erase(it);
    cached_bytes_ -= b;
    in_use_bytes_ += b;
    peak_bytes_ = std::max(peak_bytes_, in_use_bytes_);
    return {p, bytes};
  }
  if (in_use_bytes_ + cached_bytes_ + b > capacity_bytes_) {  // give cached blocks back first
    for (auto& [size, p] : cache_) std::free(p);
    cache_.clear();
    cached_bytes_ = 0;
  }
  if (in_use_bytes_ + b > capacity_bytes_)
    throw OutOfMemory(b, in_use_bytes_, capacity_bytes_, "capacity of the CPU device exceeded");
  void* p = std::malloc(std::max<std::size_t>(bytes, 1));
  if (p == nullptr) throw OutOfMemory(b, in_use_bytes_, capacity_bytes_, "malloc failed");
  // Touch every page so that the memory is really committed, as cudaMalloc's is.
  auto* c = static_cast<char*>(p);
  for (std::size_t off = 0; off < bytes; off += kPageBytes) c[off] = 0;
  in_use_bytes_ += b;
  peak_bytes_ = std::max(peak_bytes_, in_use_bytes_);
  return {p, bytes};
}

void CpuDevice::release(Buffer buffer, Stream) {
  if (buffer.data == nullptr) return;
  std::lock_guard lock(mutex_);
  cache_.emplace(buffer.bytes, buffer.data);
  in_use_bytes_ -= static_cast<double>(buffer.bytes);
  cached_bytes_ += static_cast<double>(buffer.bytes);
}

void* CpuDevice::allocate_host(std::size_t bytes) {
  void* p = std::malloc(std::max<std::size_t>(bytes, 1));
  if (p == nullptr) throw OutOfMemory(static_cast<double>(bytes), 0, 0, "malloc of host memory failed");
  auto* c = static_cast<char*>(p);
  for (std::size_t off = 0; off < bytes; off += kPageBytes) c[off] = 0;  // committed, as pinned memory is
  return p;
}

void CpuDevice::release_host(void* data) { std::free(data); }

void CpuDevice::copy_buffer(program::CopyDirection direction, Buffer device, void* host, std::size_t bytes, Stream) {
  const std::size_t n = std::min(bytes, device.bytes);
  if (direction == program::CopyDirection::kDeviceToHost) std::memcpy(host, device.data, n);
  else if (direction == program::CopyDirection::kHostToDevice) std::memcpy(device.data, host, n);
  else throw core::InternalError("copy_buffer: not a device/host direction");
}

void CpuDevice::upload(Buffer dst, const void* host, std::size_t bytes) { std::memcpy(dst.data, host, bytes); }
void CpuDevice::download(void* host, Buffer src, std::size_t bytes) { std::memcpy(host, src.data, bytes); }

void CpuDevice::reserve_workspace(const Workspace& w) {
  const double total = 4.0 * static_cast<double>(w.gemm_a_elements + w.gemm_b_elements + w.gemm_c_elements) +
                       2.0 * static_cast<double>(w.stream_bytes + w.copy_bytes);
  if (total > capacity_bytes_)
    throw OutOfMemory(total, in_use_bytes(), capacity_bytes_, "the workspace (GEMM operands, streaming and copy buffers) does not fit");
  a_.assign(std::max<std::size_t>(w.gemm_a_elements, 1), 0.0f);
  b_.assign(std::max<std::size_t>(w.gemm_b_elements, 1), 0.0f);
  c_.assign(std::max<std::size_t>(w.gemm_c_elements, 1), 0.0f);
  fill(a_, 1);
  fill(b_, 2);
  stream_src_.assign(std::max<std::size_t>(w.stream_bytes, 1), 1);
  stream_dst_.assign(std::max<std::size_t>(w.stream_bytes, 1), 0);
  copy_device_.assign(std::max<std::size_t>(w.copy_bytes, 1), 1);
  copy_host_.assign(std::max<std::size_t>(w.copy_bytes, 1), 0);
}

void CpuDevice::gemm(const program::Gemm& g, Stream) {
  const int m = checked_int(g.m, "m"), n = checked_int(g.n, "n"), k = checked_int(g.k, "k");
  const std::size_t mk = static_cast<std::size_t>(m) * k, kn = static_cast<std::size_t>(k) * n,
                    mn = static_cast<std::size_t>(m) * n;
  if (mk > a_.size() || kn > b_.size() || mn > c_.size())
    throw core::InternalError("GEMM operands larger than the reserved workspace");
  // Batches take successive operands while they fit, then wrap around (distinct memory, as in
  // a strided-batched GEMM, up to the workspace size).
  const std::size_t fit_a = a_.size() / mk, fit_b = b_.size() / kn, fit_c = c_.size() / mn;
  std::lock_guard lock(gemm_mutex_);
  for (std::int64_t i = 0; i < g.batch; ++i) {
    const auto u = static_cast<std::size_t>(i);
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a_.data() + (u % fit_a) * mk, m,
                b_.data() + (u % fit_b) * kn, k, 0.0f, c_.data() + (u % fit_c) * mn, m);
  }
}

void CpuDevice::stream_memory(double bytes, Stream) {
  // A copy of N bytes reads N and writes N: memory traffic 2N.
  auto remaining = static_cast<std::size_t>(std::max(0.0, bytes) / 2);
  while (remaining > 0) {
    const std::size_t chunk = std::min(remaining, stream_src_.size());
    std::memcpy(stream_dst_.data(), stream_src_.data(), chunk);
    remaining -= chunk;
  }
}

void CpuDevice::copy(program::CopyDirection direction, double bytes, Stream) {
  auto remaining = static_cast<std::size_t>(std::max(0.0, bytes));
  const bool to_host = direction == program::CopyDirection::kDeviceToHost;
  while (remaining > 0) {
    const std::size_t chunk = std::min(remaining, copy_host_.size());
    if (to_host) std::memcpy(copy_host_.data(), copy_device_.data(), chunk);
    else std::memcpy(copy_device_.data(), copy_host_.data(), chunk);
    remaining -= chunk;
  }
}

std::vector<float> CpuDevice::gemm_on_host_data(int m, int n, int k, const std::vector<float>& a,
                                                const std::vector<float>& b) {
  std::vector<float> c(static_cast<std::size_t>(m) * n, 0.0f);
  cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data(), m, b.data(), k, 0.0f, c.data(), m);
  return c;
}

double CpuDevice::now_s() const {
  if (!thread_cpu_clock_)
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

int CpuDevice::mark(Stream) {
  const double now = now_s();
  std::lock_guard lock(mutex_);
  marks_.push_back(now);
  return static_cast<int>(marks_.size()) - 1;
}

double CpuDevice::elapsed_s(int from, int to) {
  std::lock_guard lock(mutex_);
  return marks_.at(static_cast<std::size_t>(to)) - marks_.at(static_cast<std::size_t>(from));
}

void CpuDevice::clear_markers() {
  std::lock_guard lock(mutex_);
  marks_.clear();
}

}  // namespace frugal::real
