// Unit strings of configuration files: decimal/binary prefixes, bits vs bytes, time, FLOP rates.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "sim/core/units.hpp"

namespace frugal::core {
namespace {

TEST(Units, ParsesCommonQuantities) {
  EXPECT_DOUBLE_EQ(parse_quantity("200 Gbps", Dimension::kBandwidth), 25e9);
  EXPECT_DOUBLE_EQ(parse_quantity("25 GB/s", Dimension::kBandwidth), 25e9);
  EXPECT_DOUBLE_EQ(parse_quantity("80 GiB", Dimension::kBytes), 80.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_quantity("512MB", Dimension::kBytes), 512e6);
  EXPECT_DOUBLE_EQ(parse_quantity("30 min", Dimension::kTime), 1800);
  EXPECT_DOUBLE_EQ(parse_quantity("1.5 h", Dimension::kTime), 5400);
  EXPECT_DOUBLE_EQ(parse_quantity("2 us", Dimension::kTime), 2e-6);
  EXPECT_DOUBLE_EQ(parse_quantity("989 TFLOPS", Dimension::kFlopRate), 989e12);
  EXPECT_DOUBLE_EQ(parse_quantity("1 kWh", Dimension::kEnergy), 3.6e6);
}

TEST(Units, SiSuffixes) {
  EXPECT_EQ(si_suffix(Dimension::kBytes), "_bytes");
  EXPECT_EQ(si_suffix(Dimension::kTime), "_s");
  EXPECT_EQ(si_suffix(Dimension::kBandwidth), "_bytes_per_s");
}

std::string error_of(const std::string& text, Dimension dim) {
  try {
    parse_quantity(text, dim);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for " << text;
  return "";
}

TEST(Units, ErrorsListTheUnits) {
  const std::string wrong_unit = error_of("80 GB/s", Dimension::kBytes);
  EXPECT_NE(wrong_unit.find("unknown unit \"GB/s\""), std::string::npos);
  EXPECT_NE(wrong_unit.find("GiB"), std::string::npos);
  EXPECT_NE(error_of("80", Dimension::kBytes).find("missing unit"), std::string::npos);
  EXPECT_NE(error_of("fast", Dimension::kFlopRate).find("TFLOPS"), std::string::npos);
  EXPECT_NE(error_of("30 minutes", Dimension::kTime).find("min"), std::string::npos);
}

}  // namespace
}  // namespace frugal::core
