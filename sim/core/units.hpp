// Physical quantities in configuration files: "200 Gbps", "80 GiB", "30 min", "989 TFLOPS".
// Everything is converted to SI base units (bytes, seconds, bytes/s, FLOP, FLOP/s, watts).
#pragma once

#include <string>
#include <string_view>

namespace frugal::core {

enum class Dimension {
  kBytes,      ///< "80 GiB", "512 MB", "4 KiB"
  kTime,       ///< "30 min", "2 us", "1.5 h", "120 s"
  kBandwidth,  ///< bytes/s: "25 GB/s", "200 Gbps", "300 GBps"
  kFlops,      ///< an amount of work: "3.2 TFLOP"
  kFlopRate,   ///< "989 TFLOPS", "19.5 TFLOP/s"
  kPower,      ///< "400 W", "1.2 kW"
  kEnergy,     ///< "3.6 MJ", "1 kWh"
};

/// Suffix that a numeric key must carry to be read in SI units, e.g. kTime → "_s".
std::string_view si_suffix(Dimension dim);

/// Name of the dimension for messages, e.g. "a size in bytes (e.g. \"80 GiB\")".
std::string describe(Dimension dim);

/// Parses "<number> <unit>" (the space is optional) into SI units of `dim`.
/// Throws std::invalid_argument whose message lists the accepted units.
double parse_quantity(std::string_view text, Dimension dim);

/// Bytes for messages, 4 significant digits in the largest binary unit that fits: "1.5 GiB",
/// "312 MiB", "900 B".
std::string format_bytes(double bytes);

}  // namespace frugal::core
