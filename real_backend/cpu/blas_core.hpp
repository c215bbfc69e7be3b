// OpenBLAS kernel choice on CPUs it does not recognise. OpenBLAS 0.3.21 (Debian 12) picks its
// kernels from the CPUID family and model; on virtual machines that mask the model ("Intel(R)
// Xeon(R) Processor") it falls back to its generic Prescott (SSE3) kernels: fp32 GEMMs at 33
// GFLOP/s per core where the SkylakeX (AVX-512) kernels run 219 on the same core (2048³,
// frugal-real bench --gemm). Every GEMM measured, and so every calibration, would be of the
// fallback instead of what the machine does.
#pragma once

#include <string>

namespace frugal::real {

/// The OPENBLAS_CORETYPE to run with: empty when the user set OPENBLAS_CORETYPE, or when OpenBLAS
/// chose a core other than its generic fallback; else the best kernel family the CPU's own flags
/// support ("SkylakeX" with AVX-512 F/BW/DQ/VL, "Haswell" with AVX2 and FMA), empty when neither.
std::string blas_core_to_force();

/// Called first in main(), before MPI starts: when blas_core_to_force() names a core, sets
/// OPENBLAS_CORETYPE and re-executes the program with the same arguments (OpenBLAS reads it when
/// it is loaded); returns only when nothing is to be forced or the re-execution failed.
void reexec_with_better_blas_core(char** argv);

}  // namespace frugal::real
