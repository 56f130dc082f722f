// Logger: one logfmt (or JSON) line per event on a sink, normally stderr.
// A Logger is a cheap value: With() returns a copy carrying extra context
// fields. Registered secrets are masked in every line as a last line of defence;
// callers still must not log secrets. Not thread-safe; use one per thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace manage {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses DEBUG/INFO/WARN/WARNING/ERROR/CRITICAL in any case.
Result<LogLevel> ParseLogLevel(std::string_view text);

using LogFields = std::vector<std::pair<std::string, std::string>>;
using LogSink = std::function<void(const std::string& line)>;

class Logger {
 public:
  // A logger writing to stderr with one write(2) per line.
  static Logger Stderr(LogLevel level, bool json);
  Logger(LogSink sink, LogLevel level, bool json);

  Logger With(std::string key, std::string value) const;
  // Masks `secret` (if non-empty) in every line this logger and its copies write.
  void AddSecret(const std::string& secret);

  void Debug(std::string_view msg, const LogFields& fields = {}) const;
  void Info(std::string_view msg, const LogFields& fields = {}) const;
  void Warn(std::string_view msg, const LogFields& fields = {}) const;
  void Error(std::string_view msg, const LogFields& fields = {}) const;
  void Log(LogLevel level, std::string_view msg, const LogFields& fields) const;
  bool Enabled(LogLevel level) const { return level >= level_; }

 private:
  std::string Format(LogLevel level, std::string_view msg, const LogFields& fields) const;
  std::string Mask(std::string text) const;

  LogSink sink_;
  LogLevel level_;
  bool json_;
  LogFields context_;
  std::shared_ptr<std::vector<std::string>> secrets_;
};

// Quotes a logfmt value when it has spaces, quotes or '=' in it.
std::string LogfmtValue(std::string_view value);

}  // namespace manage
