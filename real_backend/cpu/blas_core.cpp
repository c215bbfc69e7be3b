// OpenBLAS kernel choice on CPUs it does not recognise (contract in blas_core.hpp).
#include "real_backend/cpu/blas_core.hpp"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace frugal::real {

std::string blas_core_to_force() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return "";
  const char* chosen = openblas_get_corename();
  if (chosen == nullptr || std::strcmp(chosen, "Prescott") != 0) return "";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return "";
}

void reexec_with_better_blas_core(char** argv) {
  const std::string core = blas_core_to_force();
  if (core.empty()) return;
  ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  ::unsetenv("OPENBLAS_CORETYPE");  // exec failed: go on with OpenBLAS's own choice
}

}  // namespace frugal::real
