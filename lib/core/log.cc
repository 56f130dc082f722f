#include "core/log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

namespace manage {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms.count()));
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (t == "DEBUG") return LogLevel::kDebug;
  if (t == "INFO") return LogLevel::kInfo;
  if (t == "WARN" || t == "WARNING") return LogLevel::kWarn;
  if (t == "ERROR" || t == "CRITICAL") return LogLevel::kError;
  return Status::InvalidArgument(
      fmt::format("LOG_LEVEL '{}' is not one of DEBUG, INFO, WARN, ERROR", text));
}

std::string LogfmtValue(std::string_view value) {
  bool quote = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) return std::string(value);
  return JsonString(value);
}

Logger Logger::Stderr(LogLevel level, bool json) {
  return Logger(
      [](const std::string& line) {
        std::string l = line + "\n";
        ssize_t ignored = ::write(STDERR_FILENO, l.data(), l.size());
        (void)ignored;
      },
      level, json);
}

Logger::Logger(LogSink sink, LogLevel level, bool json)
    : sink_(std::move(sink)),
      level_(level),
      json_(json),
      secrets_(std::make_shared<std::vector<std::string>>()) {}

Logger Logger::With(std::string key, std::string value) const {
  Logger copy = *this;
  copy.context_.emplace_back(std::move(key), std::move(value));
  return copy;
}

void Logger::AddSecret(const std::string& secret) {
  if (!secret.empty()) secrets_->push_back(secret);
}

void Logger::Debug(std::string_view msg, const LogFields& f) const {
  Log(LogLevel::kDebug, msg, f);
}
void Logger::Info(std::string_view msg, const LogFields& f) const { Log(LogLevel::kInfo, msg, f); }
void Logger::Warn(std::string_view msg, const LogFields& f) const { Log(LogLevel::kWarn, msg, f); }
void Logger::Error(std::string_view msg, const LogFields& f) const {
  Log(LogLevel::kError, msg, f);
}

void Logger::Log(LogLevel level, std::string_view msg, const LogFields& fields) const {
  if (!Enabled(level) || !sink_) return;
  sink_(Format(level, msg, fields));
}

std::string Logger::Mask(std::string text) const {
  for (const std::string& secret : *secrets_) {
    for (size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + 3)) {
      text.replace(pos, secret.size(), "***");
    }
  }
  return text;
}

std::string Logger::Format(LogLevel level, std::string_view msg, const LogFields& fields) const {
  std::vector<std::pair<std::string, std::string>> all = {{"ts", Timestamp()},
                                                          {"level", LevelName(level)}};
  all.insert(all.end(), context_.begin(), context_.end());
  all.emplace_back("msg", std::string(msg));
  all.insert(all.end(), fields.begin(), fields.end());
  // Masked before escaping: a secret holding '"' or '\' no longer matches
  // once it is escaped. The whole line again after, for a secret cut across.
  for (auto& [key, value] : all) value = Mask(std::move(value));
  std::string line;
  if (json_) {
    line = "{";
    for (size_t i = 0; i < all.size(); ++i) {
      if (i) line += ",";
      line += JsonString(all[i].first) + ":" + JsonString(all[i].second);
    }
    line += "}";
  } else {
    for (size_t i = 0; i < all.size(); ++i) {
      if (i) line += " ";
      line += all[i].first + "=" + LogfmtValue(all[i].second);
    }
  }
  return Mask(std::move(line));
}

}  // namespace manage
