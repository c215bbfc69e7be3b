// Progress lines (sim/core/progress.hpp) on a hand-advanced clock: formatting of counts,
// durations and ETA, throttling per mode, the terminal's in-place redraw, quiet mode.
#include <gtest/gtest.h>

#include <sstream>

#include "sim/core/progress.hpp"

namespace {

using frugal::core::Progress;
using frugal::core::ProgressMode;
using frugal::core::ProgressOptions;

struct HandClock {
  double now_s = 1000;
  Progress::Clock clock() {
    return [this] { return now_s; };
  }
};

ProgressOptions options(ProgressMode mode) {
  ProgressOptions o;
  o.mode = mode;
  return o;
}

TEST(Progress, DurationsReadAsPeopleWriteThem) {
  EXPECT_EQ(Progress::duration(0.42), "0.4 s");
  EXPECT_EQ(Progress::duration(12.7), "12 s");
  EXPECT_EQ(Progress::duration(185), "3 min 05 s");
  EXPECT_EQ(Progress::duration(2 * 3600 + 7 * 60 + 59), "2 h 07 min");
  EXPECT_EQ(Progress::duration(3 * 86400 + 4 * 3600 + 100), "3 d 04 h");
  EXPECT_EQ(Progress::duration(-1), "0.0 s");
}

TEST(Progress, StatusHasCountElapsedAndEta) {
  HandClock t;
  std::ostringstream out;
  Progress p(out, options(ProgressMode::kQuiet), t.clock());
  p.begin("sweep", 192, "points");
  t.now_s += 65;
  // 65 s for 12 points: 180 more take 975 s.
  EXPECT_EQ(p.status(12), "sweep: 12/192 points, 1 min 05 s elapsed, ETA 16 min 15 s");
  EXPECT_EQ(p.status(0), "sweep: 0/192 points, 1 min 05 s elapsed");       // no ETA before anything is done
  EXPECT_EQ(p.status(192), "sweep: 192/192 points, 1 min 05 s elapsed");   // none when done
  EXPECT_EQ(p.status(2.5, "last: 0003"), "sweep: 2.5/192 points, 1 min 05 s elapsed, ETA 1 h 22 min, last: 0003");
  p.begin("planning");
  t.now_s += 3;
  EXPECT_EQ(p.status(0), "planning: 3.0 s elapsed");
  EXPECT_EQ(out.str(), "");  // quiet
}

TEST(Progress, TerminalRedrawsOneLineInPlaceAtMostEveryInterval) {
  HandClock t;
  std::ostringstream out;
  Progress p(out, options(ProgressMode::kTerminal), t.clock());
  p.begin("campaign", 7, "days");
  EXPECT_EQ(out.str(), "\rfrugalsim: campaign: 0/7 days, 0.0 s elapsed\033[K");
  out.str("");
  t.now_s += 0.1;
  p.update(1);
  EXPECT_EQ(out.str(), "");  // throttled: 0.1 s < 0.25 s since the last drawing
  t.now_s += 0.2;
  p.update(2);
  EXPECT_EQ(out.str(), "\rfrugalsim: campaign: 2/7 days, 0.3 s elapsed, ETA 0.8 s\033[K");
  out.str("");
  t.now_s += 0.01;
  p.update(7);  // reaching the total is drawn at once, once
  EXPECT_EQ(out.str(), "\rfrugalsim: campaign: 7/7 days, 0.3 s elapsed\033[K");
  out.str("");
  p.update(7);
  EXPECT_EQ(out.str(), "");
  p.clear();  // before other output to the terminal
  EXPECT_EQ(out.str(), "\r\033[K");
  out.str("");
  p.end();  // the final state stays on screen
  EXPECT_EQ(out.str(), "\rfrugalsim: campaign: 7/7 days, 0.3 s elapsed\033[K\n");
  out.str("");
  p.end();  // once only
  EXPECT_EQ(out.str(), "");
}

TEST(Progress, LinesModePrintsEachPhaseAndRareProgress) {
  HandClock t;
  std::ostringstream out;
  {
    Progress p(out, options(ProgressMode::kLines), t.clock());
    p.begin("planning");
    t.now_s += 1.5;
    p.begin("sweep", 4, "points");  // ends planning
    t.now_s += 10;
    p.update(1);  // not yet: one line per 30 s at most
    t.now_s += 25;
    p.update(2);
    t.now_s += 1;
    p.update(3);
    t.now_s += 4;
  }  // the destructor ends the phase
  EXPECT_EQ(out.str(),
            "frugalsim: planning\n"
            "frugalsim: planning done in 1.5 s\n"
            "frugalsim: sweep (4 points)\n"
            "frugalsim: sweep: 2/4 points, 35 s elapsed, ETA 35 s\n"
            "frugalsim: sweep done in 40 s\n");
}

TEST(Progress, QuietPrintsNothing) {
  HandClock t;
  std::ostringstream out;
  {
    Progress p(out, options(ProgressMode::kQuiet), t.clock());
    p.begin("simulating", 10);
    t.now_s += 100;
    p.update(5);
    p.clear();
  }
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(frugal::core::stderr_progress_mode(true), ProgressMode::kQuiet);
}

}  // namespace
