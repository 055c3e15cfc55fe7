// LabelMatcher: one `name op "value"` condition of a series selector (=, !=, =~, !~).
//
// Regular expressions are RE2 syntax, fully anchored, as in Prometheus. Immutable after
// construction and safe to use from several threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agent/base/labels.h"
#include "agent/base/status.h"

namespace re2 {
class RE2;
}

namespace vigil::promql {

class LabelMatcher {
 public:
  enum class Type { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

  // Fails when a regular expression does not compile.
  static Result<LabelMatcher> Make(Type type, std::string name, std::string value);

  Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // True when the label's value (empty when absent) satisfies the matcher.
  bool Matches(std::string_view value) const;
  bool MatchesLabels(const Labels& labels) const { return Matches(labels.Get(name_)); }
  // name="value" with the operator and Prometheus string quoting.
  std::string ToString() const;

 private:
  LabelMatcher(Type type, std::string name, std::string value, std::shared_ptr<re2::RE2> re)
      : type_(type), name_(std::move(name)), value_(std::move(value)), re_(std::move(re)) {}
  Type type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<re2::RE2> re_;  // set for the two regex types
};

const char* MatcherTypeString(LabelMatcher::Type t);
// Double-quoted PromQL string literal with Go-style escapes.
std::string QuoteString(std::string_view s);

}  // namespace vigil::promql
