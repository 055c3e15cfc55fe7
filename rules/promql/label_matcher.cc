#include "rules/promql/label_matcher.h"

#include <re2/re2.h>

namespace vigil::promql {

Result<LabelMatcher> LabelMatcher::Make(Type type, std::string name, std::string value) {
  std::shared_ptr<re2::RE2> re;
  if (type == Type::kRegexMatch || type == Type::kRegexNoMatch) {
    RE2::Options opts;
    opts.set_log_errors(false);
    // Prometheus 2.42 compiles "^(?:re)$" without (?s): '.' does not match a newline.
    re = std::make_shared<re2::RE2>("^(?:" + value + ")$", opts);
    if (!re->ok()) {
      return Status::InvalidArgument("invalid regular expression " + QuoteString(value) + ": " +
                                     re->error());
    }
  }
  return LabelMatcher(type, std::move(name), std::move(value), std::move(re));
}

bool LabelMatcher::Matches(std::string_view value) const {
  switch (type_) {
    case Type::kEqual:
      return value == value_;
    case Type::kNotEqual:
      return value != value_;
    case Type::kRegexMatch:
      return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
    case Type::kRegexNoMatch:
      return !re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
  }
  return false;
}

const char* MatcherTypeString(LabelMatcher::Type t) {
  switch (t) {
    case LabelMatcher::Type::kEqual:
      return "=";
    case LabelMatcher::Type::kNotEqual:
      return "!=";
    case LabelMatcher::Type::kRegexMatch:
      return "=~";
    case LabelMatcher::Type::kRegexNoMatch:
      return "!~";
  }
  return "?";
}

std::string LabelMatcher::ToString() const {
  return name_ + MatcherTypeString(type_) + QuoteString(value_);
}

std::string QuoteString(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
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
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace vigil::promql
