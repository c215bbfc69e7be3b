// MPI start-up and host-side helpers (contract in launch.hpp).
#include "real_backend/launch.hpp"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace frugal::real {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    throw LaunchError(std::string("environment variable ") + name + "=\"" + v + "\" is not an integer");
  }
}

}  // namespace

MpiSession::MpiSession(int& argc, char**& argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  launch_.thread_multiple = provided >= MPI_THREAD_MULTIPLE;
  MPI_Comm_rank(MPI_COMM_WORLD, &launch_.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &launch_.size);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  launch_.hostname = host;
  if (launch_.size > 1) {
    launch_.source = "mpi";
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, launch_.rank, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &launch_.local_rank);
    MPI_Comm_size(local, &launch_.local_size);
    MPI_Comm_free(&local);
    return;
  }
  try {
    const int world = env_int("WORLD_SIZE", 0);
    if (world <= 0) {
      launch_.source = "single";
      return;
    }
    launch_.source = "env";
    launch_.rank = env_int("RANK", 0);
    launch_.local_rank = env_int("LOCAL_RANK", launch_.rank);
    launch_.local_size = env_int("LOCAL_WORLD_SIZE", 1);
    launch_.size = world;
    if (world > 1)
      launch_error_ = "WORLD_SIZE=" + std::to_string(world) +
                      " but MPI started a single process: launch the ranks with mpirun -np " + std::to_string(world) +
                      " or srun (the ranks of frugal-real connect through MPI)";
    else if (launch_.rank != 0)
      launch_error_ = "RANK=" + std::to_string(launch_.rank) + " is out of range for WORLD_SIZE=1";
  } catch (const LaunchError& e) {
    launch_error_ = e.what();
  }
  if (!launch_error_.empty()) {  // keep a usable identity for the error path
    launch_.rank = 0;
    launch_.size = 1;
  }
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

int MpiSession::world_rank() const {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int MpiSession::world_size() const {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

const Launch& MpiSession::launch() const {
  if (!launch_error_.empty()) throw LaunchError(launch_error_);
  return launch_;
}

std::string MpiSession::library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string s(text, static_cast<std::size_t>(length));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string MpiSession::standard_version() {
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

MpiSession::Agreement MpiSession::agree(int local_code) const {
  int size = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int mine = local_code != 0 ? rank : size;
  int first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first == size) return {};
  int code = local_code;
  MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
  return {code, first == rank};
}

std::vector<std::string> MpiSession::gather(const std::string& mine) const {
  int size = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const long long length = static_cast<long long>(mine.size());
  std::vector<long long> lengths(static_cast<std::size_t>(size));
  MPI_Gather(&length, 1, MPI_LONG_LONG, lengths.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  // Point-to-point rather than Gatherv: per-rank payloads may exceed an int count.
  std::vector<std::string> out;
  constexpr long long kChunk = 1 << 30;
  if (rank == 0) {
    out.resize(static_cast<std::size_t>(size));
    out[0] = mine;
    for (int r = 1; r < size; ++r) {
      std::string& s = out[static_cast<std::size_t>(r)];
      s.resize(static_cast<std::size_t>(lengths[static_cast<std::size_t>(r)]));
      for (long long off = 0; off < static_cast<long long>(s.size()); off += kChunk)
        MPI_Recv(s.data() + off, static_cast<int>(std::min<long long>(kChunk, static_cast<long long>(s.size()) - off)),
                 MPI_CHAR, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
  } else {
    for (long long off = 0; off < length; off += kChunk)
      MPI_Send(mine.data() + off, static_cast<int>(std::min<long long>(kChunk, length - off)), MPI_CHAR, 0, 0,
               MPI_COMM_WORLD);
  }
  return out;
}

std::string MpiSession::broadcast(const std::string& from_rank0) const {
  long long length = static_cast<long long>(from_rank0.size());
  MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string s = from_rank0;
  s.resize(static_cast<std::size_t>(length));
  if (length > 0) MPI_Bcast(s.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
  return s;
}

void MpiSession::barrier() const { MPI_Barrier(MPI_COMM_WORLD); }

void MpiSession::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this only tells the compiler so
}

}  // namespace frugal::real
