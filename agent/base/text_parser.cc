#include "agent/base/text_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

namespace vigil {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelStart(char c) { return IsNameStart(c) && c != ':'; }
bool IsLabelChar(char c) { return IsNameChar(c) && c != ':'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string Describe(char c) {
  if (c == '\0') return "end of line";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", static_cast<unsigned char>(c));
    return buf;
  }
  return std::string("character '") + c + "'";
}

// Input quoted in a message is cut, so a hostile line cannot make messages (kept, logged,
// shown on the status page) as large as itself.
std::string Cut(std::string_view text, std::size_t max = 64) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

// A cursor over one line; errors are thrown as values through `error_`. A label over one of
// `limits` sets over_limit() too.
class LineParser {
 public:
  LineParser(std::string_view line, const ExpositionLimits& limits)
      : line_(line), limits_(limits) {}

  bool AtEnd() const { return pos_ >= line_.size(); }
  char Peek() const { return AtEnd() ? '\0' : line_[pos_]; }
  void SkipBlanks() {
    while (!AtEnd() && IsBlank(line_[pos_])) ++pos_;
  }
  std::string_view Rest() const { return line_.substr(std::min(pos_, line_.size())); }
  void Advance(std::size_t n) { pos_ += n; }

  // Returns the name at the cursor, or empty (with an error) when there is none.
  std::string_view Name(bool label) {
    std::size_t start = pos_;
    if (AtEnd() || !(label ? IsLabelStart(line_[pos_]) : IsNameStart(line_[pos_]))) {
      Unexpected();
      return {};
    }
    while (!AtEnd() && (label ? IsLabelChar(line_[pos_]) : IsNameChar(line_[pos_]))) ++pos_;
    return line_.substr(start, pos_ - start);
  }

  // Reads `{name="value",...}` (the cursor is on '{').
  bool LabelSet(std::vector<Label>& out) {
    ++pos_;  // '{'
    for (;;) {
      SkipBlanks();
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      std::string_view name = Name(true);
      if (name.empty()) return false;
      if (limits_.label_name_length_limit > 0 && name.size() > limits_.label_name_length_limit) {
        return OverLimit("label_name_length_limit " +
                         std::to_string(limits_.label_name_length_limit) + " exceeded: label \"" +
                         Cut(name, 50) + "\" has " + std::to_string(name.size()) + " bytes");
      }
      // This label and the metric name (Prometheus's __name__) are counted too.
      if (limits_.label_limit > 0 && out.size() + 2 > limits_.label_limit) {
        return OverLimit("label_limit " + std::to_string(limits_.label_limit) +
                         " exceeded: more than " + std::to_string(limits_.label_limit) +
                         " labels, the metric name included");
      }
      SkipBlanks();
      if (Peek() != '=') return Unexpected();
      ++pos_;
      SkipBlanks();
      if (Peek() != '"') return Unexpected();
      ++pos_;
      std::string value;
      for (;;) {
        if (AtEnd()) return Fail("unterminated label value");
        if (limits_.label_value_length_limit > 0 &&
            value.size() > limits_.label_value_length_limit) {
          return OverLimit("label_value_length_limit " +
                           std::to_string(limits_.label_value_length_limit) +
                           " exceeded: label \"" + Cut(name, 50) + "\" has more than " +
                           std::to_string(limits_.label_value_length_limit) + " bytes");
        }
        char c = line_[pos_++];
        if (c == '"') break;
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (AtEnd()) return Fail("unterminated label value");
        char e = line_[pos_++];
        if (e == 'n') {
          value.push_back('\n');
        } else if (e == '\\' || e == '"') {
          value.push_back(e);
        } else {
          return Fail(std::string("invalid escape sequence '\\") + e + "' in label value");
        }
      }
      if (limits_.label_value_length_limit > 0 && value.size() > limits_.label_value_length_limit) {
        return OverLimit("label_value_length_limit " +
                         std::to_string(limits_.label_value_length_limit) + " exceeded: label \"" +
                         Cut(name, 50) + "\" has more than " +
                         std::to_string(limits_.label_value_length_limit) + " bytes");
      }
      out.push_back(Label{std::string(name), std::move(value)});
      SkipBlanks();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      return Unexpected();
    }
  }

  // The next blank-separated token.
  std::string_view Token() {
    std::size_t start = pos_;
    while (!AtEnd() && !IsBlank(line_[pos_])) ++pos_;
    return line_.substr(start, pos_ - start);
  }

  bool Unexpected() { return Fail("unexpected " + Describe(Peek())); }
  bool Fail(std::string message) {
    if (!error_) error_ = std::move(message);
    return false;
  }
  bool OverLimit(std::string message) {
    if (!error_) over_limit_ = true;
    return Fail(std::move(message));
  }
  const std::optional<std::string>& error() const { return error_; }
  bool over_limit() const { return over_limit_; }

 private:
  std::string_view line_;
  const ExpositionLimits& limits_;
  std::size_t pos_ = 0;
  std::optional<std::string> error_;
  bool over_limit_ = false;
};

// The name of a duplicated label, or empty. Sorts `labels` by name: O(n log n), where
// comparing each label with all before it would be quadratic in a line of many labels.
std::string_view DuplicateName(std::vector<Label>& labels) {
  if (labels.size() < 2) return {};
  std::sort(labels.begin(), labels.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  auto dup = std::adjacent_find(labels.begin(), labels.end(),
                                [](const Label& a, const Label& b) { return a.name == b.name; });
  return dup == labels.end() ? std::string_view() : std::string_view(dup->name);
}

std::string UnescapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      char e = text[i + 1];
      if (e == 'n') {
        out.push_back('\n');
        ++i;
        continue;
      }
      if (e == '\\') {
        out.push_back('\\');
        ++i;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::optional<MetricType> TypeFromName(std::string_view t) {
  if (t == "counter") return MetricType::kCounter;
  if (t == "gauge") return MetricType::kGauge;
  if (t == "histogram") return MetricType::kHistogram;
  if (t == "summary") return MetricType::kSummary;
  if (t == "untyped") return MetricType::kUntyped;
  return std::nullopt;
}

class Parser {
 public:
  Parser(const ExpositionLimits& limits, const TextFormatOptions& options)
      : limits_(limits), options_(options) {}

  ParsedExposition Run(std::string_view text) {
    std::size_t number = 0;
    while (!text.empty() && out_.limit_error.empty()) {
      ++number;
      std::size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      line_ = number;
      ParseLine(line);
    }
    if (out_.limit_error.empty() && over_sample_limit_) {
      out_.limit_error = std::to_string(out_.samples) + " samples exceed sample_limit " +
                         std::to_string(limits_.sample_limit);
    }
    if (!out_.limit_error.empty()) return std::move(out_);  // no partial result
    for (Entry& e : entries_) {
      if (!e.family.samples.empty()) out_.families.push_back(std::move(e.family));
    }
    return std::move(out_);
  }

 private:
  struct Entry {
    MetricFamily family;
    bool typed = false;
    bool has_help = false;
  };

  void Error(const std::string& message) {
    ++out_.error_count;
    if (out_.errors.size() >= kMaxStoredErrors) return;
    out_.errors.push_back(ExpositionError{line_, "line " + std::to_string(line_) + ": " + message});
  }
  // Stops the parse (Run checks limit_error).
  void LimitError(const std::string& message) {
    out_.limit_error = "line " + std::to_string(line_) + ": " + message;
  }
  void LineError(const LineParser& p, std::string_view metric) {
    if (p.over_limit()) return LimitError(*p.error() + " (metric \"" + Cut(metric, 50) + "\")");
    Error(*p.error());
  }

  // nullptr (and a limit error) when a new family would pass sample_limit.
  Entry* EntryFor(std::string_view name) {
    auto it = index_.find(std::string(name));
    if (it != index_.end()) return &entries_[it->second];
    if (limits_.sample_limit > 0 && entries_.size() >= limits_.sample_limit) {
      LimitError("more than " + std::to_string(limits_.sample_limit) +
                 " metric families (sample_limit " + std::to_string(limits_.sample_limit) + ")");
      return nullptr;
    }
    index_.emplace(std::string(name), entries_.size());
    entries_.push_back(Entry{MetricFamily{std::string(name), "", MetricType::kUntyped, {}}});
    return &entries_.back();
  }
  Entry* Find(std::string_view name) {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &entries_[it->second];
  }

  void ParseLine(std::string_view line) {
    LineParser p(line, limits_);
    p.SkipBlanks();
    if (p.AtEnd()) return;
    if (p.Peek() == '#') {
      if (!over_sample_limit_) ParseComment(p);  // past the limit, samples are only counted
      return;
    }
    std::string_view name = p.Name(false);
    if (name.empty()) return Error(*p.error());
    if (limits_.label_value_length_limit > 0 && name.size() > limits_.label_value_length_limit) {
      return LimitError("label_value_length_limit " +
                        std::to_string(limits_.label_value_length_limit) +
                        " exceeded: metric name \"" + Cut(name, 50) + "\" has " +
                        std::to_string(name.size()) + " bytes");
    }
    std::vector<Label> labels;
    bool blank = IsBlank(p.Peek());
    p.SkipBlanks();
    if (p.Peek() == '{') {
      if (!p.LabelSet(labels)) return LineError(p, name);
      std::string_view dup = DuplicateName(labels);
      if (!dup.empty()) return Error("duplicate label name \"" + Cut(dup, 50) + "\"");
      blank = true;  // a value may follow '}' directly
    }
    if (!blank && !p.AtEnd()) {
      p.Unexpected();
      return Error(*p.error());
    }
    p.SkipBlanks();
    std::string_view value_text = p.Token();
    double value = 0;
    if (value_text.empty()) return Error("missing value");
    if (!IsNameChar(value_text.front()) && value_text.front() != '+' && value_text.front() != '-' &&
        value_text.front() != '.') {
      return Error("unexpected " + Describe(value_text.front()));
    }
    if (!ParseExpositionValue(value_text, value)) {
      return Error("invalid value \"" + Cut(value_text) + "\"");
    }
    p.SkipBlanks();
    TimestampMs timestamp = options_.default_timestamp;
    if (!p.AtEnd()) {
      std::string_view ts = p.Token();
      if (!ParseTimestamp(ts, timestamp)) return Error("invalid timestamp \"" + Cut(ts) + "\"");
      p.SkipBlanks();
      if (!p.AtEnd()) return Error("unexpected text after timestamp");
    }
    AddSample(name, Labels(std::move(labels)), value, timestamp);
  }

  void AddSample(std::string_view name, Labels labels, double value, TimestampMs ts) {
    if (limits_.sample_limit > 0 && out_.samples >= limits_.sample_limit) {
      if (!over_sample_limit_) {  // the scrape fails: free what it parsed, count the rest
        over_sample_limit_ = true;
        entries_ = {};
        index_ = {};
      }
      ++out_.samples;
      return;
    }
    Sample sample{std::move(labels), value, SampleSuffix::kNone, ts};
    Entry* entry = Find(name);
    if (entry == nullptr || entry->family.type == MetricType::kHistogram) {
      // A suffixed series of a declared histogram or summary?
      struct Suffix {
        std::string_view text;
        SampleSuffix suffix;
      };
      for (Suffix s : {Suffix{"_bucket", SampleSuffix::kBucket}, Suffix{"_sum", SampleSuffix::kSum},
                       Suffix{"_count", SampleSuffix::kCount}}) {
        if (!name.ends_with(s.text)) continue;
        Entry* base = Find(name.substr(0, name.size() - s.text.size()));
        if (base == nullptr) continue;
        MetricType t = base->family.type;
        bool fits = t == MetricType::kHistogram ||
                    (t == MetricType::kSummary && s.suffix != SampleSuffix::kBucket);
        if (!fits) continue;
        if (s.suffix == SampleSuffix::kBucket && !sample.labels.Has("le")) {
          return Error("histogram bucket " + Cut(name, 50) + " without \"le\" label");
        }
        sample.suffix = s.suffix;
        entry = base;
        break;
      }
    }
    if (entry != nullptr && entry->family.type == MetricType::kHistogram &&
        sample.suffix == SampleSuffix::kNone) {
      return Error("sample " + Cut(name, 50) +
                   " of histogram needs a _bucket, _sum or _count suffix");
    }
    if (entry == nullptr) entry = EntryFor(name);
    if (entry == nullptr) return;
    entry->family.samples.push_back(std::move(sample));
    ++out_.samples;
  }

  void ParseComment(LineParser& p) {
    p.Advance(1);  // '#'
    p.SkipBlanks();
    std::string_view keyword = p.Token();
    if (keyword != "HELP" && keyword != "TYPE") return;  // a plain comment
    p.SkipBlanks();
    std::string_view name = p.Name(false);
    if (name.empty()) return Error(*p.error());
    if (!p.AtEnd() && !IsBlank(p.Peek())) {
      p.Unexpected();
      return Error(*p.error());
    }
    p.SkipBlanks();
    if (keyword == "HELP") {
      Entry* e = EntryFor(name);
      if (e == nullptr) return;
      if (e->has_help) return Error("second HELP line for " + Cut(name, 50));
      e->has_help = true;
      e->family.help = UnescapeHelp(p.Rest());
      return;
    }
    std::string_view type_name = p.Token();
    p.SkipBlanks();
    std::optional<MetricType> type = TypeFromName(type_name);
    if (!type && options_.format == TextFormat::kOpenMetrics &&
        (type_name == "info" || type_name == "stateset" || type_name == "gaugehistogram" ||
         type_name == "unknown")) {
      type = MetricType::kUntyped;
    }
    if (!type || !p.AtEnd()) {
      return Error("invalid metric type \"" + Cut(std::string(type_name) + std::string(p.Rest())) +
                   "\"");
    }
    Entry* e = EntryFor(name);
    if (e == nullptr) return;
    if (e->typed) return Error("second TYPE line for " + Cut(name, 50));
    if (!e->family.samples.empty())
      return Error("TYPE line for " + Cut(name, 50) + " after its samples");
    e->typed = true;
    e->family.type = *type;
  }

  // Milliseconds in the text format; seconds with an optional fraction in OpenMetrics (cut to
  // whole milliseconds, and only within the range a TimestampMs holds).
  bool ParseTimestamp(std::string_view text, TimestampMs& out) const {
    if (options_.format == TextFormat::kPrometheus) {
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
      return ec == std::errc() && ptr == text.data() + text.size();
    }
    double seconds = 0;
    if (!ParseExpositionValue(text, seconds) || !std::isfinite(seconds) ||
        std::fabs(seconds) > 9e15) {
      return false;
    }
    out = static_cast<TimestampMs>(seconds * 1000);
    return true;
  }

  const ExpositionLimits& limits_;
  const TextFormatOptions& options_;
  bool over_sample_limit_ = false;
  ParsedExposition out_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t line_ = 0;
};

}  // namespace

bool ParseExpositionValue(std::string_view text, double& out) {
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text == "+Inf" || text == "Inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  // from_chars would also accept "inf", "-nan" and the like, which the format does not.
  std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
  if (digits.empty() ||
      !(digits.front() == '.' || (digits.front() >= '0' && digits.front() <= '9'))) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

ParsedExposition ParseExposition(std::string_view text, const ExpositionLimits& limits,
                                 const TextFormatOptions& options) {
  return Parser(limits, options).Run(text);
}

}  // namespace vigil
