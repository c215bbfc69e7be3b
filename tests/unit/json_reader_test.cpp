// Strict JSON reading: unknown keys, quantities in both forms, ranges, syntax errors with lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "sim/core/json_reader.hpp"

namespace frugal::core {
namespace {

// Runs `f` and returns the ConfigError it throws, failing the test if none is thrown.
template <class F>
ConfigError error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError";
  return ConfigError("", "", "");
}

TEST(JsonReader, UnknownKeyListsValidKeysAndPointer) {
  const Json j = Json::parse(R"({"resilience": {"intervl_s": 60, "storage": "nfs"}})");
  ObjectReader top(j, "study.json", "");
  ObjectReader r = top.object("resilience");
  r.quantity_or("interval", Dimension::kTime, 3600);
  r.string("storage");
  const ConfigError e = error_of([&] { r.finish(); });
  EXPECT_EQ(std::string(e.what()),
            "study.json:/resilience/intervl_s: unknown key (valid: interval, interval_s, storage)");
}

TEST(JsonReader, QuantityInBothForms) {
  const Json j = Json::parse(R"({"a": "80 GiB", "b_bytes": 1024, "c": "1 GB", "c_bytes": 5})");
  ObjectReader r(j, "f.json", "/x");
  EXPECT_DOUBLE_EQ(r.quantity("a", Dimension::kBytes), 80.0 * (1 << 30));
  EXPECT_DOUBLE_EQ(r.quantity("b", Dimension::kBytes), 1024);
  EXPECT_DOUBLE_EQ(r.quantity_or("d", Dimension::kBytes, 7), 7);
  const ConfigError both = error_of([&] { r.quantity("c", Dimension::kBytes); });
  EXPECT_EQ(both.pointer(), "/x/c_bytes");
  EXPECT_NE(both.message().find("not both"), std::string::npos);
  const Json bad = Json::parse(R"({"a": "80 GB/s"})");
  ObjectReader rb(bad, "f.json", "");
  const ConfigError unit = error_of([&] { rb.quantity("a", Dimension::kBytes); });
  EXPECT_EQ(unit.pointer(), "/a");
  EXPECT_NE(unit.message().find("GiB"), std::string::npos);
}

TEST(JsonReader, RangeAndTypeErrors) {
  const Json j = Json::parse(R"({"n": 0, "x": 1.5, "s": 3, "k": "ring"})");
  ObjectReader r(j, "f.json", "");
  EXPECT_NE(error_of([&] { r.integer("n", 1); }).message().find("expected >= 1"), std::string::npos);
  EXPECT_NE(error_of([&] { r.number("x", 0, 1); }).message().find("expected <= 1"), std::string::npos);
  EXPECT_NE(error_of([&] { r.integer("x"); }).message().find("expected an integer"), std::string::npos);
  EXPECT_NE(error_of([&] { r.string("s"); }).message().find("expected a string"), std::string::npos);
  EXPECT_NE(error_of([&] { r.choice("k", {"tree", "direct"}); }).message().find("valid: tree, direct"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { r.integer("missing"); }).pointer(), "/missing");
}

/// The ConfigError of loading a file that holds `text`; `path` is where it was.
ConfigError load_error(const std::string& text, std::filesystem::path& path) {
  path = std::filesystem::temp_directory_path() / ("frugal_json_reader_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << text;
  }
  const ConfigError e = error_of([&] { load_json_file(path); });
  std::filesystem::remove(path);
  return e;
}

TEST(JsonReader, SyntaxErrorGivesLineAndColumn) {
  std::filesystem::path path;
  const ConfigError e = load_error("{\n  \"a\": 1,\n  \"b\": ]\n}\n", path);
  EXPECT_EQ(e.file(), path.string());
  EXPECT_EQ(e.pointer().rfind("line 3 column ", 0), 0u) << e.pointer();
  EXPECT_NE(e.message().find("invalid JSON"), std::string::npos);
}

TEST(JsonReader, NumberTooLargeForADoubleIsBadInputAtItsLine) {
  std::filesystem::path path;
  const ConfigError e = load_error("{\n  \"s\": \"1e999 in a string is text\",\n  \"x\": -1e999\n}\n", path);
  EXPECT_EQ(e.file(), path.string());
  EXPECT_EQ(e.pointer(), "line 3 column 8");
  EXPECT_NE(e.message().find("too large"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace frugal::core
