// Command-line plumbing shared by the subcommands (see command_line.hpp).
#include "sim/app/command_line.hpp"

#include <malloc.h>

namespace frugal::app {

void tune_allocator() { mallopt(M_MXFAST, 0); }

}  // namespace frugal::app
