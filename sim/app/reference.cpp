// docs/reference.md from the declarations: the study's sections, the model file, the cluster file,
// the GPU catalogue and the sweep file, then the plug-in families.
#include "sim/app/reference.hpp"

#include <sstream>

#include "sim/study/plugin_families.hpp"
#include "sim/study/study.hpp"
#include "platforms/platform_keys.hpp"
#include "sim/app/sweep_keys.hpp"
#include "workloads/model_keys.hpp"

namespace frugal::app {

std::string reference_markdown() {
  std::ostringstream out;
  out << "# FrugalSim reference\n\n"
      << "Generated from the declarations in the code; do not edit. Regenerate with\n`" << kRegenerateReference
      << "`\n(a test fails when this page and the code disagree).\n\n"
      << "A plug-in is configured as `{\"impl\": \"<name>\", ...parameters}`. A parameter without a default is\n"
      << "required; unknown keys are errors. A quantity takes a unit string under its name\n"
      << "(`\"bucket_size\": \"25 MiB\"`) or an SI number under its name with the unit suffix\n"
      << "(`\"bucket_size_bytes\": 26214400`); defaults and bounds are in SI units. An error about a parameter\n"
      << "names the file and the JSON pointer of the key as written (`study.json:/parallelism/bucket_size: ...`).\n\n"
      << "## Study file\n\nThe keys of a study's own sections, as read; objects are described by their own section\n"
      << "or plug-in family. Sweep files and `--set` overrides address these keys by JSON pointer.\n";
  for (const auto* sections : {&study::study_sections(), &study::campaign_sections()})
    for (const auto& section : *sections) out << "\n" << core::markdown_section(section);
  out << "\n" << workloads::model_keys_markdown();
  out << "\n" << platforms::platform_keys_markdown();
  out << "\n" << sweep_keys_markdown();
  out << "\n## Plug-in families\n\n| family | where | meaning | plug-ins |\n|---|---|---|---|\n";
  const auto& families = study::plugin_families();
  for (const auto& f : families) {
    std::string names;
    for (const auto& p : f.plugins) names += (names.empty() ? "" : ", ") + p.name;
    out << "| [" << f.name << "](#" << f.name << ") | "
        << (f.location.starts_with("/") ? "`" + f.location + "`" : f.location) << " | " << f.meaning << " | " << names
        << " |\n";
  }
  for (const auto& f : families) out << "\n" << core::markdown_family(f);
  return out.str();
}

}  // namespace frugal::app
