// The explicit list of parallelism policies. Add a policy: write impl/<name>.cpp with a
// PluginInfo and a factory, declare both here, add one line to the list.
#include "policies/parallelism/parallelism_policy.hpp"

namespace frugal::policies {

core::PluginInfo data_parallel_info();
std::unique_ptr<ParallelismPolicy> make_data_parallel(const core::PluginParams& params);
core::PluginInfo megatron_info();
std::unique_ptr<ParallelismPolicy> make_megatron(const core::PluginParams& params);

const core::Registry<ParallelismPolicy>& parallelism_policies() {
  static const core::Registry<ParallelismPolicy> registry = [] {
    core::Registry<ParallelismPolicy> r;
    r.add(data_parallel_info(), make_data_parallel);
    r.add(megatron_info(), make_megatron);
    return r;
  }();
  return registry;
}

}  // namespace frugal::policies
