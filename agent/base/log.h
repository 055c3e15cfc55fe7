// A leveled logfmt logger: `ts=... level=info msg="..." key=value ...` on stderr.
//
// Thread-safe. Values pass through RedactSecrets() before they are written, so a DSN or URL
// handed to the logger by mistake never shows its password.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace vigil {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn" or "error"; false otherwise.
bool ParseLogLevel(std::string_view text, LogLevel* out);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Redirects output (tests); nullptr restores stderr. The sink must outlive its use.
void SetLogSink(std::string* sink);

using LogField = std::pair<std::string_view, std::string>;
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

inline void LogDebug(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kDebug, msg, f);
}
inline void LogInfo(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, msg, f);
}
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarn, msg, f);
}
inline void LogError(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, msg, f);
}

// Masks secrets in free text: `password=...` / `password: ...` pairs (libpq keyword DSNs,
// YAML), the password of `scheme://user:password@host` URLs, and `Authorization: ...` values.
std::string RedactSecrets(std::string_view text);

}  // namespace vigil
