// The explicit list of parallelism policies. Add a policy: write impl/<name>.cpp defining
// <name>_parallelism_info() and make_<name>_parallelism(), add one FRUGAL_PLUGIN line here.
#include "policies/parallelism/parallelism_policy.hpp"

namespace frugal::policies {

const core::Registry<ParallelismPolicy>& parallelism_policies() {
  static const core::Registry<ParallelismPolicy> registry = [] {
    core::Registry<ParallelismPolicy> r;
    FRUGAL_PLUGIN(r, parallelism, data_parallel);
    FRUGAL_PLUGIN(r, parallelism, megatron);
    return r;
  }();
  return registry;
}

}  // namespace frugal::policies
