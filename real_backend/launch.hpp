// Process start-up of the real backend: MPI is always initialised; rank, size and local rank
// come from MPI when launched by mpirun/srun, else from RANK/WORLD_SIZE/LOCAL_RANK, else one
// rank. Also the few host-side MPI helpers every command needs (agreement on errors, gathers).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace frugal::real {

/// The launch itself is wrong (e.g. WORLD_SIZE=2 but MPI started a single process). Exit 2.
class LaunchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Launch {
  int rank = 0;
  int size = 1;
  int local_rank = 0;  ///< among the ranks of this host (selects the GPU)
  int local_size = 1;
  std::string source;  ///< "mpi", "env" or "single"
  std::string hostname;
  bool thread_multiple = false;  ///< MPI_THREAD_MULTIPLE provided (needed by the streams schedule)
};

/// Owns MPI_Init_thread / MPI_Finalize. One per process, created first in main().
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  /// MPI's own rank and size (valid even when launch() throws).
  int world_rank() const;
  int world_size() const;
  /// Throws LaunchError when the environment asks for ranks that MPI did not start.
  const Launch& launch() const;
  /// "Open MPI v4.1.4, ..." (MPI_Get_library_version) and the MPI standard version.
  static std::string library_version();
  static std::string standard_version();

  /// Every rank passes its own failure (code 0 = none). Returns, on every rank, the code of the
  /// lowest failing rank and whether this rank is that one (so it alone prints the message).
  struct Agreement {
    int code = 0;
    bool reporter = false;
  };
  Agreement agree(int local_code) const;
  /// Rank 0 receives every rank's string (in rank order); other ranks get an empty vector.
  std::vector<std::string> gather(const std::string& mine) const;
  /// Broadcast of rank 0's string.
  std::string broadcast(const std::string& from_rank0) const;
  void barrier() const;
  /// Terminates every rank (MPI_Abort); for main() only, after an unrecoverable error.
  [[noreturn]] void abort(int code) const;

 private:
  Launch launch_;
  std::string launch_error_;
};

}  // namespace frugal::real
