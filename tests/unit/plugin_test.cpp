// The plug-in mechanism every family shares: FRUGAL_PLUGIN registration, the one parameter error
// (core::ParamError) located at file:pointer/<key as written> by the registry or by the
// parameters later, and the reference columns (type, unit, default, bounds) of each parameter.
#include <gtest/gtest.h>

#include "sim/core/plugin.hpp"

namespace frugal::toys {

using core::Json;
using core::ParamSpec;
using core::ParamType;

/// A family of its own, so the test does not depend on what the real families hold.
struct Toy {
  virtual ~Toy() = default;
  virtual double span_s() const = 0;
};

struct Window final : Toy {
  explicit Window(const core::PluginParams& p) : from_s(p.number("from")), to_s(p.number("to")) {
    if (to_s < from_s) throw core::ParamError("to", "to (" + std::to_string(to_s) + ") < from");
  }
  double span_s() const override { return to_s - from_s; }
  double from_s, to_s;
};

core::PluginInfo window_toy_info() {
  return {"window",
          "a time window",
          {ParamSpec{"from", ParamType::kQuantity, core::Dimension::kTime, 0.0, 0, 1e9, {}, "start"},
           ParamSpec{"to", ParamType::kQuantity, core::Dimension::kTime, 60.0, 0, 1e9, {}, "end"},
           ParamSpec{"mode", ParamType::kChoice, {}, "fast", -1e300, 1e300, {"fast", "slow|safe"}, "how | why"},
           ParamSpec{"count", ParamType::kInteger, {}, Json(), 1, std::numeric_limits<double>::infinity(), {},
                     "how many"}}};
}
std::unique_ptr<Toy> make_window_toy(const core::PluginParams& p) { return std::make_unique<Window>(p); }

core::PluginInfo empty_toy_info() { return {"empty", "nothing to set", {}}; }
std::unique_ptr<Toy> make_empty_toy(const core::PluginParams&) { return nullptr; }

const core::Registry<Toy>& toys() {
  static const core::Registry<Toy> registry = [] {
    core::Registry<Toy> r;
    FRUGAL_PLUGIN(r, toy, window);
    FRUGAL_PLUGIN(r, toy, empty);
    return r;
  }();
  return registry;
}

core::ConfigError error_of(const Json& spec) {
  try {
    toys().create(spec, "study.json", "/toy");
  } catch (const core::ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << spec.dump();
  return core::ConfigError("", "", "");
}

TEST(Plugin, OneLineRegistersDeclarationAndFactory) {
  EXPECT_EQ(toys().names(), (std::vector<std::string>{"empty", "window"}));
  std::optional<core::PluginParams> read;
  const auto w = toys().create(Json{{"impl", "window"}, {"from", "1 min"}, {"to_s", 90}, {"count", 2}}, "f", "/toy", &read);
  EXPECT_DOUBLE_EQ(w->span_s(), 30.0);
  EXPECT_EQ(read->to_json(), (Json{{"impl", "window"}, {"from_s", 60.0}, {"to_s", 90.0}, {"mode", "fast"}, {"count", 2}}));
  EXPECT_EQ(read->file(), "f");
  EXPECT_EQ(read->pointer(), "/toy");
}

TEST(Plugin, FactoryParamErrorIsLocatedAtTheKeyAsWritten) {
  auto e = error_of(Json{{"impl", "window"}, {"from", "2 min"}, {"to", "1 min"}, {"count", 1}});
  EXPECT_EQ(e.file(), "study.json");
  EXPECT_EQ(e.pointer(), "/toy/to");
  EXPECT_EQ(std::string(e.what()), "study.json:/toy/to: to (60.000000) < from");
  e = error_of(Json{{"impl", "window"}, {"from_s", 120}, {"to_s", 60}, {"count", 1}});
  EXPECT_EQ(e.pointer(), "/toy/to_s");
  // Reader errors keep their own pointers.
  EXPECT_EQ(error_of(Json{{"impl", "window"}}).pointer(), "/toy/count");
  EXPECT_EQ(error_of(Json{{"impl", "window"}, {"count", 1}, {"mode", "slow"}}).pointer(), "/toy/mode");
  EXPECT_EQ(error_of(Json{{"impl", "windows"}}).pointer(), "/toy/impl");
}

TEST(Plugin, LaterParamErrorIsLocatedByTheParameters) {
  std::optional<core::PluginParams> read;
  toys().create(Json{{"impl", "window"}, {"from_s", 5}, {"count", 1}}, "s.json", "/campaign/toy~1x", &read);
  const auto on_from = read->locate(core::ParamError("from", "bad start"));
  EXPECT_EQ(std::string(on_from.what()), "s.json:/campaign/toy~1x/from_s: bad start");
  EXPECT_EQ(read->locate(core::ParamError("count", "too many")).pointer(), "/campaign/toy~1x/count");
  EXPECT_EQ(read->locate(core::ParamError("to", "x")).pointer(), "/campaign/toy~1x/to");  // default: its name
  EXPECT_EQ(read->locate(core::ParamError("", "as a whole")).pointer(), "/campaign/toy~1x");
  // Unlocated, it is still a ConfigError naming the parameter.
  const core::ParamError raw("count", "too many");
  EXPECT_EQ(std::string(raw.what()), "<input>:/count: too many");
  EXPECT_EQ(raw.param(), "count");
}

TEST(Plugin, ReferenceColumnsShowTypeUnitDefaultAndBounds) {
  const auto info = window_toy_info();
  const auto from = core::param_columns(info.params[0]);
  EXPECT_EQ(from.key, "from or from_s");
  EXPECT_EQ(from.type, "duration");
  EXPECT_EQ(from.unit, "s");
  EXPECT_EQ(from.def, "0");
  EXPECT_EQ(from.bounds, "0 to 1000000000");
  const auto mode = core::param_columns(info.params[2]);
  EXPECT_EQ(mode.type, "choice");
  EXPECT_EQ(mode.unit, "");
  EXPECT_EQ(mode.def, "\"fast\"");
  EXPECT_EQ(mode.bounds, "one of: fast, slow|safe");
  const auto count = core::param_columns(info.params[3]);
  EXPECT_EQ(count.def, "required");
  EXPECT_EQ(count.bounds, ">= 1");
  ParamSpec fraction{"f", ParamType::kNumber, {}, 0.25, -std::numeric_limits<double>::infinity(), 0.5, {}, "f"};
  EXPECT_EQ(core::param_columns(fraction).def, "0.25");
  EXPECT_EQ(core::param_columns(fraction).bounds, "<= 0.5");
  ParamSpec flag{"b", ParamType::kBoolean, {}, true, -1e300, 1e300, {}, "b"};
  EXPECT_EQ(core::param_columns(flag).def, "true");
  EXPECT_EQ(core::param_columns(flag).bounds, "");

  EXPECT_TRUE(core::describe_params(info).starts_with("    from or from_s (duration, s) default 0, 0 to 1000000000: start\n"))
      << core::describe_params(info);
}

TEST(Plugin, FamilyTextAndMarkdown) {
  const auto family = core::family_of("toy", "/toy", "what toys do", toys());
  const std::string text = core::describe_family(family);
  EXPECT_TRUE(text.starts_with("toy (/toy): what toys do\n  empty: nothing to set\n  window: a time window\n    from"))
      << text;
  const std::string md = core::markdown_family(family);
  EXPECT_NE(md.find("## toy\n\nwhat toys do\n\nWhere: `/toy`\n"), std::string::npos) << md;
  EXPECT_NE(md.find("### `empty`\n\nnothing to set\n\n### `window`"), std::string::npos) << md;
  EXPECT_NE(md.find("| `from` or `from_s` | duration | s | 0 | 0 to 1000000000 | start |\n"), std::string::npos) << md;
  // A "|" inside a cell is escaped so the table keeps its columns.
  EXPECT_NE(md.find("| `mode` | choice |  | \"fast\" | one of: fast, slow\\|safe | how \\| why |\n"), std::string::npos)
      << md;
}

}  // namespace frugal::toys
