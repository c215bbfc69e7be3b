// Every plug-in family a study configures, where it sits in the study and what it decides: the
// one list `frugalsim list` and docs/reference.md walk. Add a family: one entry in
// plugin_families.cpp (its registry and where the study reads it).
#pragma once

#include <vector>

#include "sim/core/plugin.hpp"

namespace frugal::study {

/// The families in the order the reference shows them, each with its plug-ins in name order.
const std::vector<core::PluginFamily>& plugin_families();

}  // namespace frugal::study
