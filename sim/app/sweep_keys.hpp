// The keys of a sweep file, declared once: read_sweep finishes every object against them and
// docs/reference.md's "Sweep file" section is generated from them.
#pragma once

#include <string>

#include "sim/core/plugin.hpp"

namespace frugal::app {

const core::SectionInfo& sweep_file_keys();     ///< the top level
const core::SectionInfo& sweep_axis_keys();     ///< /parameters/<i> and the members of a zip
const core::SectionInfo& sweep_outputs_keys();  ///< /outputs

/// docs/reference.md's section on sweep files.
std::string sweep_keys_markdown();

}  // namespace frugal::app
