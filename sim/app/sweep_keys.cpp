// Declarations of the sweep file keys and their reference section.
#include "sim/app/sweep_keys.hpp"

#include <sstream>

namespace frugal::app {

using core::SectionInfo;
using core::keys::boolean;
using core::keys::integer;
using core::keys::object;
using core::keys::text;

const SectionInfo& sweep_file_keys() {
  static const SectionInfo section{
      "",
      "a sweep file's top level",
      {{text("name", "label of the sweep"), "the file's stem"},
       text("study", "the base study, relative to the sweep file"),
       {object("parameters", "the axes of a full grid, the first varying slowest: an array of `/parameters/<i>`"),
        "no axis: one point (per seed)"},
       {object("set", "JSON pointer → value applied to every point (`{\"/campaign/goal/wall_time\": \"7 days\"}`)"),
        "none"},
       {object("seeds", "array of distinct non-negative integer seeds: the innermost axis, set at `/seed`"),
        "the study's seed"},
       {integer("repetitions", "N seeds from the study's own (seed, seed + 1, ...): instead of `seeds`", {}, 1,
                1'000'000),
        "the study's seed"},
       {object("outputs", "what each point keeps besides its summary (`/outputs`)"), "summaries only"}}};
  return section;
}

const SectionInfo& sweep_axis_keys() {
  static const SectionInfo section{
      "/parameters/<i>",
      "one axis: a parameter (`pointer`, `values`, `name`), or a `zip` of parameters whose i-th values go together",
      {{text("pointer", "JSON pointer into the study; its parent must exist there"), "required (unless zip)"},
       {text("name", "the parameter's column in sweep.csv"), "the pointer"},
       {object("values", "array of JSON values (objects included), at least one"), "required (unless zip)"},
       {object("zip", "array of parameters (`pointer`, `values`, `name`) with as many values each"), "none"}}};
  return section;
}

const SectionInfo& sweep_outputs_keys() {
  static const SectionInfo section{
      "/outputs",
      "files each point keeps (both run to megabytes a point)",
      {boolean("timeline", "keep each point's timeline.json", false),
       boolean("events", "keep each campaign point's event log", false)}};
  return section;
}

std::string sweep_keys_markdown() {
  std::ostringstream out;
  out << "## Sweep file\n\n"
      << "`frugalsim sweep SWEEP.json` runs one point per combination of the axes (× seeds), each a study with "
         "the point's values written at their pointers.\n";
  for (const SectionInfo* s : {&sweep_file_keys(), &sweep_axis_keys(), &sweep_outputs_keys()})
    out << "\n" << core::markdown_section(*s);
  return out.str();
}

}  // namespace frugal::app
