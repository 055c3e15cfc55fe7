#include "agent/base/log.h"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "agent/base/mutex.h"

namespace vigil {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
Mutex g_mu;
std::string* g_sink GUARDED_BY(g_mu) = nullptr;

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

void AppendValue(std::string& out, std::string_view value) {
  bool quote = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || c < 0x20) quote = true;
  }
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

bool StartsWithNoCase(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  }
  return true;
}

// When a secret-bearing key ("password=", "Authorization: ") starts at `i`, appends the key
// with a masked value to `out` and returns the index past the value; otherwise returns `i`.
std::size_t RedactKeyAt(std::string_view text, std::size_t i, std::string& out) {
  for (std::string_view key : {"password", "authorization", "passwd"}) {
    if (!StartsWithNoCase(text, i, key)) continue;
    std::size_t j = i + key.size();
    while (j < text.size() && text[j] == ' ') ++j;
    if (j >= text.size() || (text[j] != '=' && text[j] != ':')) continue;
    ++j;
    while (j < text.size() && text[j] == ' ') ++j;
    out.append(text.substr(i, j - i));
    out += "***";
    if (j < text.size() && (text[j] == '\'' || text[j] == '"')) {  // quoted: to the closing quote
      // libpq escapes a quote in a value with a backslash (password='it\'s').
      for (std::size_t k = j + 1; k < text.size(); ++k) {
        if (text[k] == '\\') {
          ++k;
        } else if (text[k] == text[j]) {
          return k + 1;
        }
      }
      return text.size();
    }
    if (key == "authorization") {  // the whole header value
      std::size_t eol = text.find_first_of("\r\n", j);
      return eol == std::string_view::npos ? text.size() : eol;
    }
    while (j < text.size() && text[j] != ' ' && text[j] != '\n' && text[j] != ',') ++j;
    return j;
  }
  return i;
}
}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void SetLogLevel(LogLevel level) { g_level.store(level); }
LogLevel GetLogLevel() { return g_level.load(); }

void SetLogSink(std::string* sink) {
  MutexLock lock(g_mu);
  g_sink = sink;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (level < g_level.load()) return;
  std::string line = "ts=" + Timestamp() + " level=" + LevelName(level) + " msg=";
  AppendValue(line, RedactSecrets(msg));
  for (const LogField& f : fields) {
    line += ' ';
    line += f.first;
    line += '=';
    AppendValue(line, RedactSecrets(f.second));
  }
  line += '\n';
  MutexLock lock(g_mu);
  if (g_sink) {
    *g_sink += line;
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

std::string RedactSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  std::size_t plain_until = 0;  // no userinfo in any URL starting before: linear time
  while (i < text.size()) {
    // scheme://user:password@host -> scheme://user:***@host. The authority ends at the
    // path, query, fragment, or where the URL ends in free text; its last '@' ends the
    // userinfo (a password may hold an unescaped '@').
    if (i >= plain_until && text.compare(i, 3, "://") == 0) {
      std::size_t start = i + 3;
      std::size_t stop = text.find_first_of("/?# \t\r\n\"'", start);
      if (stop == std::string_view::npos) stop = text.size();
      std::size_t end = text.substr(start, stop - start).rfind('@');
      if (end == std::string_view::npos) plain_until = stop;
      if (end != std::string_view::npos) {
        end += start;
        std::string_view userinfo = text.substr(start, end - start);
        std::size_t colon = userinfo.find(':');
        out += "://";
        if (colon != std::string_view::npos) {
          out += userinfo.substr(0, colon);
          out += ":***";
        } else {
          out += userinfo;
        }
        i = end;
        continue;
      }
    }
    if (std::size_t next = RedactKeyAt(text, i, out); next != i) {
      i = next;
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace vigil
