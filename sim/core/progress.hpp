// Progress of long work for the person waiting: phase, done/total, elapsed time and ETA on
// stderr. On a terminal one status line rewritten in place; otherwise (a log file, a pipe) a
// plain line per phase and at most one progress line every so often; nothing when quiet. Never
// writes to stdout, so outputs on stdout and in files do not depend on it.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace frugal::core {

enum class ProgressMode {
  kQuiet,     ///< prints nothing
  kLines,     ///< plain lines: a phase's start and end, progress at most every line_interval_s
  kTerminal,  ///< one status line, redrawn ("\r", erase to end of line) at most every redraw_interval_s
};

/// kQuiet when `quiet`, else kTerminal when stderr is a terminal, else kLines.
ProgressMode stderr_progress_mode(bool quiet);

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kLines;
  std::string prefix = "frugalsim";  ///< starts every line: "frugalsim: simulating ..."
  double redraw_interval_s = 0.25;   ///< terminal: least time between two redraws
  double line_interval_s = 30;       ///< lines: least time between two progress lines of a phase
  double tick_interval_s = 1;        ///< terminal: redraws of a ticking phase (see begin())
};

/// One piece of long work in phases, each with an optional count (`total` > 0) of `unit`s.
/// Time comes from `clock` (seconds, non-decreasing; default: the steady clock), so tests drive
/// it by hand. Call it from one thread; one per process is the intended use.
class Progress {
 public:
  using Clock = std::function<double()>;
  Progress(std::ostream& out, ProgressOptions options, Clock clock = {});
  /// Ends the current phase, unless an exception is unwinding (then the phase is not "done":
  /// a terminal keeps its last status line, lines mode adds nothing).
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Ends the current phase, if any, and starts `phase` ("planning", "simulating"). `total` > 0:
  /// the phase counts `done` up to it in `unit`s ("points", "days"); 0: no count, no ETA.
  /// `tick`: on a terminal, a thread redraws the line every tick_interval_s so that the elapsed
  /// time moves during work that reports nothing (one long simulation); it stops when the phase
  /// ends. Do not fork() during a ticking phase (the child would inherit a half-held lock).
  void begin(const std::string& phase, double total = 0, const std::string& unit = "", bool tick = false);
  /// The phase has done `done` of its total; `detail` is shown after the count. Throttled: drawn
  /// only when the interval of the mode has passed since the last drawing (or, on a terminal,
  /// when `done` first reaches the total).
  void update(double done, const std::string& detail = "");
  /// Ends the phase: terminal, the final status and a newline; lines, "<phase> done in <elapsed>".
  void end();
  /// Terminal: erases the status line, so that the caller can print to the terminal (it comes
  /// back on the next update). Nothing in the other modes.
  void clear();

  /// The status of the current phase at `done`: "simulating: 12/192 points, 1 min 05 s elapsed,
  /// ETA 9 min 20 s, <detail>" (no count without a total, no ETA before anything is done).
  std::string status(double done, const std::string& detail = "") const;
  /// "0.4 s", "12 s", "3 min 05 s", "2 h 07 min", "3 d 04 h".
  static std::string duration(double seconds);

 private:
  void draw(const std::string& line);                                   // mutex_ held
  std::string status_locked(double done, const std::string& detail) const;  // mutex_ held
  void stop_ticker();

  std::ostream& out_;
  ProgressOptions options_;
  Clock clock_;
  std::string phase_;
  std::string unit_;
  double total_ = 0;
  double start_s_ = 0;
  double last_draw_s_ = -1e300;
  double done_ = 0;
  double drawn_done_ = 0;  ///< `done` of the last drawing
  std::string detail_;
  bool active_ = false;
  bool line_shown_ = false;  ///< terminal: a status line is on the screen, without newline
  mutable std::mutex mutex_;  // the state above, shared with the ticker
  std::condition_variable wake_;
  std::thread ticker_;
  bool stop_ = false;
};

}  // namespace frugal::core
