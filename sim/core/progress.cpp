// Progress lines on stderr (contract in progress.hpp).
#include "sim/core/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>

namespace frugal::core {

ProgressMode stderr_progress_mode(bool quiet) {
  if (quiet) return ProgressMode::kQuiet;
  return ::isatty(STDERR_FILENO) ? ProgressMode::kTerminal : ProgressMode::kLines;
}

Progress::Progress(std::ostream& out, ProgressOptions options, Clock clock)
    : out_(out), options_(std::move(options)), clock_(std::move(clock)) {
  if (!clock_)
    clock_ = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
}

Progress::~Progress() {
  try {
    if (std::uncaught_exceptions() == 0) {
      end();
    } else {
      stop_ticker();
      if (line_shown_) out_ << "\n" << std::flush;  // unwinding: leave the last status, not "done"
    }
  } catch (...) {  // a destructor must not throw; a failed write of a progress line is harmless
  }
}

namespace {

/// A count as people write it: whole numbers without decimals, others with one.
std::string number(double v) {
  char text[48];
  std::snprintf(text, sizeof(text), v == std::floor(v) && std::abs(v) < 1e15 ? "%.0f" : "%.1f", v);
  return text;
}

}  // namespace

std::string Progress::duration(double s) {
  char text[48];
  if (!(s >= 0)) s = 0;
  if (s < 10) std::snprintf(text, sizeof(text), "%.1f s", s);
  else if (s < 60) std::snprintf(text, sizeof(text), "%.0f s", std::floor(s));
  else if (s < 3600) std::snprintf(text, sizeof(text), "%.0f min %02.0f s", std::floor(s / 60), std::floor(std::fmod(s, 60)));
  else if (s < 86400)
    std::snprintf(text, sizeof(text), "%.0f h %02.0f min", std::floor(s / 3600), std::floor(std::fmod(s, 3600) / 60));
  else std::snprintf(text, sizeof(text), "%.0f d %02.0f h", std::floor(s / 86400), std::floor(std::fmod(s, 86400) / 3600));
  return text;
}

std::string Progress::status(double done, const std::string& detail) const {
  std::lock_guard lock(mutex_);
  return status_locked(done, detail);
}

std::string Progress::status_locked(double done, const std::string& detail) const {
  const double elapsed = clock_() - start_s_;
  std::string line = phase_ + ":";
  if (total_ > 0) {
    line += " " + number(done) + "/" + number(total_);
    if (!unit_.empty()) line += " " + unit_;
    line += ",";
  }
  line += " " + duration(elapsed) + " elapsed";
  if (total_ > 0 && done > 0 && done < total_) line += ", ETA " + duration(elapsed / done * (total_ - done));
  if (!detail.empty()) line += ", " + detail;
  return line;
}

void Progress::draw(const std::string& line) {
  if (options_.mode == ProgressMode::kTerminal) {
    out_ << "\r" << options_.prefix << ": " << line << "\033[K" << std::flush;
    line_shown_ = true;
  } else {
    out_ << options_.prefix << ": " << line << "\n" << std::flush;
  }
}

void Progress::begin(const std::string& phase, double total, const std::string& unit, bool tick) {
  end();
  std::lock_guard lock(mutex_);
  phase_ = phase;
  unit_ = unit;
  total_ = total;
  done_ = 0;
  drawn_done_ = 0;
  detail_.clear();
  start_s_ = clock_();
  active_ = true;
  if (options_.mode == ProgressMode::kQuiet) return;
  last_draw_s_ = start_s_;
  if (options_.mode == ProgressMode::kTerminal) draw(status_locked(0, ""));
  else draw(phase_ + (total_ > 0 ? " (" + number(total_) + (unit_.empty() ? "" : " " + unit_) + ")" : ""));
  if (tick && options_.mode == ProgressMode::kTerminal) {
    stop_ = false;
    ticker_ = std::thread([this] {
      std::unique_lock held(mutex_);
      while (!stop_) {
        wake_.wait_for(held, std::chrono::duration<double>(options_.tick_interval_s));
        if (stop_ || !active_) break;
        last_draw_s_ = clock_();
        draw(status_locked(done_, detail_));
      }
    });
  }
}

void Progress::stop_ticker() {
  if (!ticker_.joinable()) return;  // only the calling thread starts and joins it
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  ticker_.join();
}

void Progress::update(double done, const std::string& detail) {
  std::lock_guard lock(mutex_);
  if (!active_) return;
  done_ = done;
  detail_ = detail;
  if (options_.mode == ProgressMode::kQuiet) return;
  const double now = clock_();
  const double interval =
      options_.mode == ProgressMode::kTerminal ? options_.redraw_interval_s : options_.line_interval_s;
  const bool reached_total = options_.mode == ProgressMode::kTerminal && total_ > 0 && done >= total_ && drawn_done_ < total_;
  if (now - last_draw_s_ < interval && !reached_total) return;
  last_draw_s_ = now;
  drawn_done_ = done;
  draw(status_locked(done, detail));
}

void Progress::end() {
  stop_ticker();
  std::lock_guard lock(mutex_);
  if (!active_) return;
  active_ = false;
  if (options_.mode == ProgressMode::kQuiet) return;
  if (options_.mode == ProgressMode::kTerminal) {
    draw(status_locked(done_, detail_));
    out_ << "\n" << std::flush;
    line_shown_ = false;
  } else {
    draw(phase_ + " done in " + duration(clock_() - start_s_));
  }
}

void Progress::clear() {
  std::lock_guard lock(mutex_);
  if (options_.mode != ProgressMode::kTerminal || !line_shown_) return;
  out_ << "\r\033[K" << std::flush;
  line_shown_ = false;
  last_draw_s_ = -1e300;  // redraw on the next update
}

}  // namespace frugal::core
