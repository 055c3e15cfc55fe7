#include "rules/template.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <variant>

#include "rules/promql/label_matcher.h"

namespace vigil::rules {
namespace {

// ---------------------------------------------------------------------------------------
// Values.

struct TValue;
using Fields = std::vector<std::pair<std::string, TValue>>;

struct TValue {
  enum class Kind { kNil, kBool, kInt, kFloat, kString, kStringMap, kObject, kList };
  // Declared here, defined below once TValue is complete: std::pair<std::string, TValue>
  // (Fields) must not be instantiated while TValue is incomplete (clang rejects it).
  TValue();
  TValue(const TValue&);
  TValue(TValue&&) noexcept;
  TValue& operator=(const TValue&);
  TValue& operator=(TValue&&) noexcept;
  ~TValue();

  Kind kind = Kind::kNil;
  bool b = false;
  std::int64_t i = 0;
  double f = 0;
  std::string s;
  std::map<std::string, std::string> map;  // kStringMap
  Fields fields;                           // kObject (ordered)
  std::vector<TValue> list;                // kList

  static TValue Bool(bool v) {
    TValue t;
    t.kind = Kind::kBool;
    t.b = v;
    return t;
  }
  static TValue Int(std::int64_t v) {
    TValue t;
    t.kind = Kind::kInt;
    t.i = v;
    return t;
  }
  static TValue Float(double v) {
    TValue t;
    t.kind = Kind::kFloat;
    t.f = v;
    return t;
  }
  static TValue Str(std::string v) {
    TValue t;
    t.kind = Kind::kString;
    t.s = std::move(v);
    return t;
  }
  static TValue Map(const Labels& l) {
    TValue t;
    t.kind = Kind::kStringMap;
    for (const auto& lab : l) t.map[lab.name] = lab.value;
    return t;
  }
};

TValue::TValue() = default;
TValue::TValue(const TValue&) = default;
TValue::TValue(TValue&&) noexcept = default;
TValue& TValue::operator=(const TValue&) = default;
TValue& TValue::operator=(TValue&&) noexcept = default;
TValue::~TValue() = default;

TValue SampleValue(const promql::Sample& s) {
  TValue t;
  t.kind = TValue::Kind::kObject;
  t.fields.emplace_back("Labels", TValue::Map(s.metric));
  t.fields.emplace_back("Value", TValue::Float(s.v));
  return t;
}

const char* GoTypeName(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return "<nil>";
    case TValue::Kind::kBool:
      return "bool";
    case TValue::Kind::kInt:
      return "int";
    case TValue::Kind::kFloat:
      return "float64";
    case TValue::Kind::kString:
      return "string";
    case TValue::Kind::kStringMap:
      return "map[string]string";
    case TValue::Kind::kObject:
      return "template.sample";
    case TValue::Kind::kList:
      return "template.queryResult";
  }
  return "?";
}

std::string Print(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return "<no value>";
    case TValue::Kind::kBool:
      return v.b ? "true" : "false";
    case TValue::Kind::kInt:
      return std::to_string(v.i);
    case TValue::Kind::kFloat:
      return GoFormatFloat(v.f);
    case TValue::Kind::kString:
      return v.s;
    case TValue::Kind::kStringMap: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, val] : v.map) {
        if (!first) out += " ";
        first = false;
        out += k + ":" + val;
      }
      return out + "]";
    }
    case TValue::Kind::kObject: {
      std::string out = "{";
      for (std::size_t i = 0; i < v.fields.size(); ++i) {
        if (i) out += " ";
        out += Print(v.fields[i].second);
      }
      return out + "}";
    }
    case TValue::Kind::kList: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.list.size(); ++i) {
        if (i) out += " ";
        out += Print(v.list[i]);
      }
      return out + "]";
    }
  }
  return "";
}

bool Truth(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return false;
    case TValue::Kind::kBool:
      return v.b;
    case TValue::Kind::kInt:
      return v.i != 0;
    case TValue::Kind::kFloat:
      return v.f != 0;
    case TValue::Kind::kString:
      return !v.s.empty();
    case TValue::Kind::kStringMap:
      return !v.map.empty();
    case TValue::Kind::kObject:
      return true;
    case TValue::Kind::kList:
      return !v.list.empty();
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Go fmt helpers.

// snprintf into a string of the size it needs (widths and precisions are bounded by the
// caller, so the result is at most a few KiB).
template <typename T>
std::string CFormat(const std::string& spec, T v) {
  char buf[128];
  int n = std::snprintf(buf, sizeof(buf), spec.c_str(), v);
  if (n < 0) return "";
  if (static_cast<std::size_t>(n) < sizeof(buf))
    return std::string(buf, static_cast<std::size_t>(n));
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec.c_str(), v);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string GoG4(double v) {  // fmt.Sprintf("%.4g", v)
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return CFormat("%.4g", v);
}

Result<double> ToFloat(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kFloat:
      return v.f;
    case TValue::Kind::kInt:
      return static_cast<double>(v.i);
    case TValue::Kind::kString: {
      double d;
      const std::string& s = v.s;
      std::string lower;
      for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "nan") return std::nan("");
      if (lower == "inf" || lower == "+inf") return INFINITY;
      if (lower == "-inf") return -INFINITY;
      char* end = nullptr;
      d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() ||
          std::isspace(static_cast<unsigned char>(s[0]))) {
        return Status::InvalidArgument("strconv.ParseFloat: parsing \"" + s + "\": invalid syntax");
      }
      return d;
    }
    default:
      return Status::InvalidArgument(std::string("can't convert ") + GoTypeName(v) + " to float");
  }
}

// Reads the digits of a printf width or precision at format[*j]; false when the number is over
// kMaxPrintfWidth (Go would try to pad to it: a width of 999999999 is a gigabyte).
bool ReadPrintfNumber(const std::string& format, std::size_t* j, int* value) {
  long long n = 0;
  while (*j < format.size() && std::isdigit(static_cast<unsigned char>(format[*j]))) {
    n = n * 10 + (format[(*j)++] - '0');
    if (n > kMaxPrintfWidth) return false;
  }
  *value = static_cast<int>(n);
  return true;
}

Status PrintfWidthError(const std::string& format) {
  return Status::InvalidArgument("printf: width or precision over " +
                                 std::to_string(kMaxPrintfWidth) + " in \"" + format + "\"");
}

// fmt.Sprintf subset: flags, width, precision and the verbs v s d f F e E g G x X q t %.
// Widths and precisions over kMaxPrintfWidth are errors.
Result<std::string> GoSprintf(const std::string& format, const std::vector<TValue>& args) {
  std::string out;
  std::size_t argi = 0;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out += c;
      continue;
    }
    std::size_t j = i + 1;
    std::string flags;
    while (j < format.size() && std::string("+-# 0").find(format[j]) != std::string::npos) {
      flags += format[j++];
    }
    std::string width, prec;
    bool has_prec = false;
    int width_n = 0, prec_n = 0;
    std::size_t digits = j;
    if (!ReadPrintfNumber(format, &j, &width_n)) return PrintfWidthError(format);
    if (j > digits) width = std::to_string(width_n);
    if (j < format.size() && format[j] == '.') {
      has_prec = true;
      ++j;
      if (!ReadPrintfNumber(format, &j, &prec_n)) return PrintfWidthError(format);
      prec = std::to_string(prec_n);
    }
    if (j >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[j];
    i = j;
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (argi >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const TValue& a = args[argi++];
    std::string cspec = "%" + flags + width + (has_prec ? "." + prec : "");
    auto bad = [&] {
      return std::string("%!") + verb + "(" + GoTypeName(a) + "=" + Print(a) + ")";
    };
    auto pad = [&](std::string s) {
      auto w = static_cast<std::size_t>(width_n);
      if (s.size() < w) {
        if (flags.find('-') != std::string::npos) {
          s += std::string(w - s.size(), ' ');
        } else {
          s = std::string(w - s.size(), ' ') + s;
        }
      }
      return s;
    };
    switch (verb) {
      case 'v':
      case 's':
        if (verb == 's' && a.kind != TValue::Kind::kString && a.kind != TValue::Kind::kStringMap &&
            a.kind != TValue::Kind::kObject && a.kind != TValue::Kind::kList) {
          out += bad();
        } else {
          std::string s = Print(a);
          if (has_prec && a.kind == TValue::Kind::kString) {
            s = s.substr(0, static_cast<std::size_t>(prec_n));
          }
          out += pad(s);
        }
        break;
      case 'q':
        if (a.kind != TValue::Kind::kString) {
          out += bad();
        } else {
          out += pad(promql::QuoteString(a.s));
        }
        break;
      case 't':
        out += a.kind == TValue::Kind::kBool ? pad(a.b ? "true" : "false") : bad();
        break;
      case 'd':
      case 'x':
      case 'X':
        if (a.kind == TValue::Kind::kInt) {
          out += CFormat(cspec + "ll" + verb, static_cast<long long>(a.i));
        } else if (a.kind == TValue::Kind::kString && verb != 'd') {
          static const char kHex[] = "0123456789abcdef0123456789ABCDEF";
          std::string h;
          for (unsigned char ch : a.s) {
            h += kHex[(ch >> 4) + (verb == 'X' ? 16 : 0)];
            h += kHex[(ch & 15) + (verb == 'X' ? 16 : 0)];
          }
          out += pad(h);
        } else {
          out += bad();
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (a.kind != TValue::Kind::kFloat) {
          out += bad();
          break;
        }
        if (std::isnan(a.f) || std::isinf(a.f)) {
          std::string s = std::isnan(a.f) ? "NaN" : (a.f > 0 ? "+Inf" : "-Inf");
          if (std::isinf(a.f) && a.f > 0 && flags.find('+') == std::string::npos) s = "+Inf";
          out += pad(s);
          break;
        }
        if ((verb == 'g' || verb == 'G') && !has_prec) {
          std::string s = GoFormatFloat(a.f);
          if (flags.find('+') != std::string::npos && a.f >= 0) s = "+" + s;
          if (verb == 'G') {
            for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          }
          out += pad(s);
          break;
        }
        if ((verb == 'e' || verb == 'E') && !has_prec) {
          char buf[64];
          auto r = std::to_chars(buf, buf + sizeof(buf), a.f, std::chars_format::scientific);
          std::string s(buf, r.ptr);
          if (verb == 'E') {
            for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          }
          out += pad(s);
          break;
        }
        out += CFormat(cspec + (verb == 'F' ? 'f' : verb), a.f);
        break;
      }
      default:
        out += std::string("%!") + verb + "(" + GoTypeName(a) + "=" + Print(a) + ")";
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (std::size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += std::string(GoTypeName(args[k])) + "=" + Print(args[k]);
    }
    out += ")";
  }
  return out;
}

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return GoG4(v);
  std::string prefix;
  if (std::fabs(v) >= 1) {
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return GoG4(v) + prefix;
  }
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix;
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return GoG4(v);
  std::string prefix;
  for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return GoG4(v) + prefix;
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoG4(v);
  if (v == 0) return GoG4(v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    // Go converts out-of-range floats to the minimum int64 on amd64.
    std::int64_t d = v >= 9.2233720368547758e18 ? std::numeric_limits<std::int64_t>::min()
                                                : static_cast<std::int64_t>(v);
    std::int64_t seconds = d % 60, minutes = (d / 60) % 60, hours = (d / 3600) % 24,
                 days = d / 86400;
    auto s = [](std::int64_t x) { return std::to_string(x); };
    if (days != 0)
      return sign + s(days) + "d " + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (hours != 0) return sign + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (minutes != 0) return sign + s(minutes) + "m " + s(seconds) + "s";
    return sign + GoG4(v) + "s";
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix + "s";
}

std::string HumanizeTimestamp(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoG4(v);
  // Prometheus: model.TimeFromUnixNano(int64(v * 1e9)); Go on amd64 turns an out-of-range
  // float into the minimum int64 (1677-09-21), never undefined behaviour.
  double ns_f = v * 1e9;
  std::int64_t ns = ns_f >= -9.2233720368547758e18 && ns_f < 9.2233720368547758e18
                        ? static_cast<std::int64_t>(ns_f)
                        : std::numeric_limits<std::int64_t>::min();
  std::int64_t secs = ns / 1'000'000'000, nanos = ns % 1'000'000'000;
  if (nanos < 0) {
    secs -= 1;
    nanos += 1'000'000'000;
  }
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (nanos > 0) {
    char nb[32];
    std::snprintf(nb, sizeof(nb), ".%09lld", static_cast<long long>(nanos));
    std::string n = nb;
    while (!n.empty() && n.back() == '0') n.pop_back();
    out += n;
  }
  return out + " +0000 UTC";
}

// ---------------------------------------------------------------------------------------
// Lexer and parser.

// Every function Executor::Call implements (Go's parser rejects the others, so does ours).
bool IsKnownFunction(const std::string& name) {
  static const char* const kFunctions[] = {
      "printf", "print", "humanize", "humanize1024", "humanizeDuration", "humanizePercentage",
      "humanizeTimestamp", "query", "first", "value", "label", "sortByLabel", "toUpper", "toLower",
      "title", "match", "reReplaceAll", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not",
      "len", "index", "safeHtml", "html", "urlquery", "println", "externalURL", "pathPrefix",
      "stripPort", "strvalue",
      // Prometheus defines these; vigil does not run them
      // yet (an execution error), but a rule file that
      // names them still loads.
      "args", "graphLink", "tableLink", "parseDuration", "toTime", "js", "slice", "call"};
  for (const char* f : kFunctions) {
    if (name == f) return true;
  }
  return false;
}

// The widths and precisions of a literal printf format, checked at parse time.
Status CheckPrintfFormat(const std::string& format) {
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    std::size_t j = i + 1;
    while (j < format.size() && std::string("+-# 0").find(format[j]) != std::string::npos) ++j;
    int n = 0;
    if (!ReadPrintfNumber(format, &j, &n)) return PrintfWidthError(format);
    if (j < format.size() && format[j] == '.') {
      ++j;
      if (!ReadPrintfNumber(format, &j, &n)) return PrintfWidthError(format);
    }
    i = j;  // the verb (%% included)
  }
  return Status::Ok();
}

struct Arg;
struct Command {
  std::vector<Arg> args;
};
struct Pipeline {
  std::vector<std::string> decl;  // variables declared (:=) or assigned (=)
  bool assign = false;            // `=` rather than `:=`
  std::vector<Command> cmds;
};
struct Arg {
  enum class Kind { kField, kVariable, kIdent, kString, kInt, kFloat, kBool, kNil, kPipe, kDot };
  Kind kind = Kind::kNil;
  std::string name;                // variable name ("$x") or function name
  std::vector<std::string> chain;  // field chain (.A.B)
  std::string str;
  std::int64_t i = 0;
  double f = 0;
  bool b = false;
  std::shared_ptr<Pipeline> pipe;
};

}  // namespace

struct Template::Node {
  enum class Kind { kText, kAction, kIf, kRange, kWith };
  Kind kind = Kind::kText;
  std::string text;
  Pipeline pipe;
  std::vector<std::unique_ptr<Node>> list, else_list;
};

namespace {

using NodeList = std::vector<std::unique_ptr<Template::Node>>;

struct Tok {
  enum class Kind {
    kEnd,
    kIdent,
    kField,
    kVar,
    kString,
    kNumber,
    kLParen,
    kRParen,
    kPipe,
    kDeclare,
    kAssign,
    kComma,
    kDot
  };
  Kind kind = Kind::kEnd;
  std::string text;
};

Result<std::vector<Tok>> LexAction(const std::string& s) {
  std::vector<Tok> out;
  std::size_t i = 0;
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Tok t;
    if (c == '(' || c == ')' || c == '|' || c == ',') {
      t.kind = c == '('   ? Tok::Kind::kLParen
               : c == ')' ? Tok::Kind::kRParen
               : c == '|' ? Tok::Kind::kPipe
                          : Tok::Kind::kComma;
      ++i;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
      t.kind = Tok::Kind::kDeclare;
      i += 2;
    } else if (c == '=') {
      t.kind = Tok::Kind::kAssign;
      ++i;
    } else if (c == '"' || c == '`') {
      std::size_t j = i + 1;
      std::string v;
      while (j < s.size() && s[j] != c) {
        if (c == '"' && s[j] == '\\' && j + 1 < s.size()) {
          char e = s[++j];
          v += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          v += s[j];
        }
        ++j;
      }
      if (j >= s.size()) return Status::InvalidArgument("unterminated quoted string");
      t.kind = Tok::Kind::kString;
      t.text = v;
      i = j + 1;
    } else if (c == '$') {
      std::size_t j = i + 1;
      while (j < s.size() && ident_char(s[j])) ++j;
      t.kind = Tok::Kind::kVar;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (c == '.') {
      std::size_t j = i + 1;
      if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
        t.kind = Tok::Kind::kNumber;
        t.text = s.substr(i, j - i);
      } else if (j < s.size() && ident_char(s[j])) {
        while (j < s.size() && ident_char(s[j])) ++j;
        t.kind = Tok::Kind::kField;
        t.text = s.substr(i + 1, j - i - 1);
      } else {
        t.kind = Tok::Kind::kDot;
      }
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+') {
      std::size_t j = i + 1;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
              ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) {
        ++j;
      }
      t.kind = Tok::Kind::kNumber;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (ident_char(c)) {
      std::size_t j = i;
      while (j < s.size() && ident_char(s[j])) ++j;
      t.kind = Tok::Kind::kIdent;
      t.text = s.substr(i, j - i);
      i = j;
    } else {
      return Status::InvalidArgument(std::string("unexpected \"") + c + "\" in command");
    }
    out.push_back(std::move(t));
  }
  return out;
}

class ActionParser {
 public:
  explicit ActionParser(std::vector<Tok> toks) : toks_(std::move(toks)) {}

  Result<Pipeline> ParsePipeline(bool allow_decl) {
    Pipeline p;
    if (allow_decl) {
      // $x := ... or $i, $x := ... or $x = ...
      std::size_t save = pos_;
      std::vector<std::string> vars;
      while (Peek().kind == Tok::Kind::kVar) {
        vars.push_back(Next().text);
        if (Peek().kind == Tok::Kind::kComma) {
          Next();
          continue;
        }
        break;
      }
      if (!vars.empty() &&
          (Peek().kind == Tok::Kind::kDeclare || Peek().kind == Tok::Kind::kAssign)) {
        p.assign = Next().kind == Tok::Kind::kAssign;
        p.decl = std::move(vars);
      } else {
        pos_ = save;
      }
    }
    while (true) {
      Command cmd;
      while (Peek().kind != Tok::Kind::kEnd && Peek().kind != Tok::Kind::kPipe &&
             Peek().kind != Tok::Kind::kRParen) {
        auto a = ParseArg();
        if (!a.ok()) return a.status();
        cmd.args.push_back(std::move(*a));
      }
      if (cmd.args.empty()) return Status::InvalidArgument("missing value for command");
      if (cmd.args[0].kind == Arg::Kind::kIdent && cmd.args[0].name == "printf" &&
          cmd.args.size() > 1 && cmd.args[1].kind == Arg::Kind::kString) {
        if (Status s = CheckPrintfFormat(cmd.args[1].str); !s.ok()) return s;
      }
      p.cmds.push_back(std::move(cmd));
      if (Peek().kind != Tok::Kind::kPipe) break;
      Next();
    }
    return p;
  }

  bool AtEnd() const { return pos_ >= toks_.size(); }
  const Tok& Peek() const {
    static const Tok kEnd;
    return pos_ < toks_.size() ? toks_[pos_] : kEnd;
  }

 private:
  const Tok& Next() { return toks_[pos_++]; }

  Result<Arg> ParseArg() {
    const Tok& t = Next();
    Arg a;
    switch (t.kind) {
      case Tok::Kind::kField:
        a.kind = Arg::Kind::kField;
        a.chain.push_back(t.text);
        break;
      case Tok::Kind::kDot:
        a.kind = Arg::Kind::kDot;
        return a;
      case Tok::Kind::kVar:
        a.kind = Arg::Kind::kVariable;
        a.name = t.text;
        break;
      case Tok::Kind::kString:
        a.kind = Arg::Kind::kString;
        a.str = t.text;
        return a;
      case Tok::Kind::kNumber: {
        const std::string& n = t.text;
        bool is_float = n.find_first_of(".eE") != std::string::npos &&
                        !(n.size() > 1 && (n[1] == 'x' || n[1] == 'X'));
        if (is_float) {
          a.kind = Arg::Kind::kFloat;
          char* end = nullptr;
          a.f = std::strtod(n.c_str(), &end);
          if (*end) return Status::InvalidArgument("bad number syntax: \"" + n + "\"");
        } else {
          a.kind = Arg::Kind::kInt;
          char* end = nullptr;
          a.i = std::strtoll(n.c_str(), &end, 0);
          if (*end) return Status::InvalidArgument("bad number syntax: \"" + n + "\"");
        }
        return a;
      }
      case Tok::Kind::kIdent:
        if (t.text == "true" || t.text == "false") {
          a.kind = Arg::Kind::kBool;
          a.b = t.text == "true";
          return a;
        }
        if (t.text == "nil") {
          a.kind = Arg::Kind::kNil;
          return a;
        }
        if (!IsKnownFunction(t.text)) {
          return Status::InvalidArgument("function \"" + t.text + "\" not defined");
        }
        a.kind = Arg::Kind::kIdent;
        a.name = t.text;
        return a;
      case Tok::Kind::kLParen: {
        if (++parens_ > kMaxTemplateNesting) {
          return Status::InvalidArgument("parentheses nested deeper than " +
                                         std::to_string(kMaxTemplateNesting));
        }
        auto p = ParsePipeline(false);
        --parens_;
        if (!p.ok()) return p.status();
        if (Peek().kind != Tok::Kind::kRParen)
          return Status::InvalidArgument("unclosed left paren");
        Next();
        a.kind = Arg::Kind::kPipe;
        a.pipe = std::make_shared<Pipeline>(std::move(*p));
        break;
      }
      default:
        return Status::InvalidArgument("unexpected \"" + t.text + "\" in command");
    }
    // Field chain after a variable or parenthesised pipeline: $labels.instance, (x).Value.
    while (Peek().kind == Tok::Kind::kField) a.chain.push_back(Next().text);
    return a;
  }

  std::vector<Tok> toks_;
  std::size_t pos_ = 0;
  int parens_ = 0;
};

struct RawAction {
  std::string body;
  bool is_action;
};

class TemplateParser {
 public:
  explicit TemplateParser(const std::string& text) : text_(text) {}

  Result<NodeList> Parse() {
    // Split into text and actions, applying trim markers.
    std::size_t i = 0;
    while (i < text_.size()) {
      std::size_t open = text_.find("{{", i);
      if (open == std::string::npos) {
        items_.push_back({text_.substr(i), false});
        break;
      }
      std::string txt = text_.substr(i, open - i);
      std::size_t body_start = open + 2;
      if (body_start + 1 < text_.size() && text_[body_start] == '-' &&
          std::isspace(static_cast<unsigned char>(text_[body_start + 1]))) {
        while (!txt.empty() && std::isspace(static_cast<unsigned char>(txt.back()))) txt.pop_back();
        body_start += 1;
      }
      if (!txt.empty()) items_.push_back({txt, false});
      // Find the closing braces, skipping quoted strings.
      std::size_t j = body_start;
      char quote = 0;
      while (j + 1 < text_.size()) {
        char c = text_[j];
        if (quote) {
          if (c == '\\' && quote == '"') {
            j += 2;
            continue;
          }
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '`') {
          quote = c;
        } else if (c == '}' && text_[j + 1] == '}') {
          break;
        }
        ++j;
      }
      if (j + 1 >= text_.size()) return Status::InvalidArgument("unclosed action");
      std::string body = text_.substr(body_start, j - body_start);
      i = j + 2;
      if (body.size() >= 2 && body.back() == '-' &&
          std::isspace(static_cast<unsigned char>(body[body.size() - 2]))) {
        body.pop_back();
        while (i < text_.size() && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
      }
      items_.push_back({body, true});
    }
    NodeList out;
    std::string end_kw;
    Status s = ParseList(&out, &end_kw);
    if (!s.ok()) return s;
    if (!end_kw.empty()) return Status::InvalidArgument("unexpected {{" + end_kw + "}}");
    return out;
  }

 private:
  // Parses nodes until {{end}} / {{else ...}} (returned in *end_kw) or the input ends.
  Status ParseList(NodeList* out, std::string* end_kw, std::string* else_rest = nullptr) {
    while (pos_ < items_.size()) {
      const RawAction& it = items_[pos_++];
      if (!it.is_action) {
        auto n = std::make_unique<Template::Node>();
        n->kind = Template::Node::Kind::kText;
        n->text = it.body;
        out->push_back(std::move(n));
        continue;
      }
      std::string body = it.body;
      std::size_t b = body.find_first_not_of(" \t\r\n");
      if (b == std::string::npos) return Status::InvalidArgument("missing value for command");
      body = body.substr(b);
      if (body.rfind("/*", 0) == 0) continue;  // comment
      std::string kw = body.substr(0, body.find_first_of(" \t\r\n"));
      std::string rest = kw.size() < body.size() ? body.substr(kw.size()) : "";
      if (kw == "end") {
        *end_kw = "end";
        return Status::Ok();
      }
      if (kw == "else") {
        *end_kw = "else";
        if (else_rest) *else_rest = rest;
        return Status::Ok();
      }
      if (kw == "if" || kw == "range" || kw == "with") {
        Status s = ParseControl(kw, rest, out);
        if (!s.ok()) return s;
        continue;
      }
      if (kw == "define" || kw == "template" || kw == "block") {
        return Status::InvalidArgument("{{" + kw + "}} is not supported");
      }
      auto toks = LexAction(body);
      if (!toks.ok()) return toks.status();
      ActionParser p(std::move(*toks));
      auto pipe = p.ParsePipeline(true);
      if (!pipe.ok()) return pipe.status();
      if (!p.AtEnd())
        return Status::InvalidArgument("unexpected \"" + p.Peek().text + "\" in operand");
      auto n = std::make_unique<Template::Node>();
      n->kind = Template::Node::Kind::kAction;
      n->pipe = std::move(*pipe);
      out->push_back(std::move(n));
    }
    return Status::Ok();
  }

  Status ParseControl(const std::string& kw, const std::string& rest, NodeList* out) {
    if (depth_ >= kMaxTemplateNesting) {
      return Status::InvalidArgument("if/range/with nested deeper than " +
                                     std::to_string(kMaxTemplateNesting));
    }
    ++depth_;
    Status s = ParseControlBody(kw, rest, out);
    --depth_;
    return s;
  }

  Status ParseControlBody(const std::string& kw, const std::string& rest, NodeList* out) {
    auto toks = LexAction(rest);
    if (!toks.ok()) return toks.status();
    ActionParser p(std::move(*toks));
    auto pipe = p.ParsePipeline(true);
    if (!pipe.ok()) return pipe.status();
    if (!p.AtEnd()) return Status::InvalidArgument("unexpected \"" + p.Peek().text + "\" in " + kw);
    auto n = std::make_unique<Template::Node>();
    n->kind = kw == "if"      ? Template::Node::Kind::kIf
              : kw == "range" ? Template::Node::Kind::kRange
                              : Template::Node::Kind::kWith;
    n->pipe = std::move(*pipe);
    std::string end_kw, else_rest;
    Status s = ParseList(&n->list, &end_kw, &else_rest);
    if (!s.ok()) return s;
    if (end_kw.empty()) return Status::InvalidArgument("unexpected EOF");
    if (end_kw == "else") {
      std::size_t b = else_rest.find_first_not_of(" \t\r\n");
      std::string trimmed = b == std::string::npos ? "" : else_rest.substr(b);
      if (trimmed.rfind("if", 0) == 0 &&
          (trimmed.size() == 2 || std::isspace(static_cast<unsigned char>(trimmed[2])))) {
        // {{else if x}} ... is {{else}}{{if x}} ... {{end}}{{end}} sharing one {{end}}.
        s = ParseControl("if", trimmed.substr(2), &n->else_list);
        if (!s.ok()) return s;
      } else {
        std::string end2;
        s = ParseList(&n->else_list, &end2);
        if (!s.ok()) return s;
        if (end2 != "end") return Status::InvalidArgument("expected end; found else");
      }
    }
    out->push_back(std::move(n));
    return Status::Ok();
  }

  const std::string& text_;
  std::vector<RawAction> items_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------
// Execution.

class Executor {
 public:
  Executor(const TemplateData& data, const TemplateQueryFunc& query) : query_(query) {
    root_.kind = TValue::Kind::kObject;
    root_.fields.emplace_back("Labels", TValue::Map(data.labels));
    root_.fields.emplace_back("ExternalLabels", TValue::Map(data.external_labels));
    root_.fields.emplace_back("ExternalURL", TValue::Str(data.external_url));
    root_.fields.emplace_back("Value", TValue::Float(data.value));
    vars_.push_back({"$", root_});
    // Prometheus prepends these definitions to every alert template.
    vars_.push_back({"$labels", root_.fields[0].second});
    vars_.push_back({"$externalLabels", root_.fields[1].second});
    vars_.push_back({"$externalURL", root_.fields[2].second});
    vars_.push_back({"$value", root_.fields[3].second});
  }

  Status Run(const NodeList& list, std::string* out) { return Walk(list, root_, out); }
  bool limit_hit() const { return limit_hit_; }

 private:
  Status Walk(const NodeList& list, const TValue& dot, std::string* out) {
    for (const auto& n : list) {
      Status s = WalkNode(*n, dot, out);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Status Limit(const std::string& what) {
    limit_hit_ = true;
    return Status::InvalidArgument(what);
  }
  Status Step() {
    if (++steps_ > kMaxTemplateSteps) {
      return Limit("template stopped after " + std::to_string(kMaxTemplateSteps) + " steps");
    }
    return Status::Ok();
  }
  Status CheckSize(std::size_t size, const char* what) {
    if (size > kMaxTemplateOutputBytes) {
      return Limit(std::string(what) + " over " + std::to_string(kMaxTemplateOutputBytes) +
                   " bytes");
    }
    return Status::Ok();
  }

  Status WalkNode(const Template::Node& n, const TValue& dot, std::string* out) {
    using K = Template::Node::Kind;
    if (Status s = Step(); !s.ok()) return s;
    if (n.kind == K::kText) {
      *out += n.text;
      return CheckSize(out->size(), "output");
    }
    std::size_t mark = vars_.size();
    auto v = EvalPipeline(n.pipe, dot, n.kind == K::kRange);
    if (!v.ok()) return v.status();
    Status s;
    switch (n.kind) {
      case K::kAction:
        if (n.pipe.decl.empty()) *out += Print(*v);
        return CheckSize(out->size(), "output");  // declared variables stay in scope until
                                                  // the enclosing end
      case K::kIf:
        s = Walk(Truth(*v) ? n.list : n.else_list, dot, out);
        break;
      case K::kWith:
        s = Truth(*v) ? Walk(n.list, *v, out) : Walk(n.else_list, dot, out);
        break;
      case K::kRange: {
        std::size_t count = 0;
        if (v->kind == TValue::Kind::kList) {
          count = v->list.size();
        } else if (v->kind == TValue::Kind::kStringMap) {
          count = v->map.size();
        } else if (v->kind == TValue::Kind::kInt) {
          count = v->i > 0 ? static_cast<std::size_t>(v->i) : 0;  // each iteration is a step
        } else if (v->kind != TValue::Kind::kNil) {
          s = Status::InvalidArgument(std::string("range can't iterate over ") + Print(*v));
          break;
        }
        if (count == 0) {
          s = Walk(n.else_list, dot, out);
          break;
        }
        auto map_it = v->map.begin();
        for (std::size_t idx = 0; idx < count; ++idx) {
          s = Step();
          if (!s.ok()) break;
          TValue key, elem;  // (key, element), made one at a time
          if (v->kind == TValue::Kind::kList) {
            key = TValue::Int(static_cast<std::int64_t>(idx));
            elem = v->list[idx];
          } else if (v->kind == TValue::Kind::kStringMap) {
            key = TValue::Str(map_it->first);
            elem = TValue::Str(map_it->second);
            ++map_it;
          } else {
            key = TValue::Int(static_cast<std::int64_t>(idx));
            elem = key;
          }
          std::size_t inner = vars_.size();
          if (n.pipe.decl.size() == 1) {
            vars_.push_back({n.pipe.decl[0], elem});
          } else if (n.pipe.decl.size() == 2) {
            vars_.push_back({n.pipe.decl[0], key});
            vars_.push_back({n.pipe.decl[1], elem});
          }
          s = Walk(n.list, elem, out);
          vars_.resize(inner);
          if (!s.ok()) break;
        }
        break;
      }
      default:
        break;
    }
    vars_.resize(mark);
    return s;
  }

  Result<TValue> EvalPipeline(const Pipeline& p, const TValue& dot, bool is_range) {
    TValue last;
    bool have_last = false;
    for (const auto& cmd : p.cmds) {
      auto v = EvalCommand(cmd, dot, have_last ? &last : nullptr);
      if (!v.ok()) return v;
      last = std::move(*v);
      have_last = true;
    }
    if (!p.decl.empty() && !is_range) {
      if (p.assign) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == p.decl[0]) {
            it->second = last;
            return last;
          }
        }
        return Status::InvalidArgument("undefined variable: " + p.decl[0]);
      }
      vars_.push_back({p.decl[0], last});
    }
    return last;
  }

  Result<TValue> FieldChain(TValue v, const std::vector<std::string>& chain, std::size_t from) {
    for (std::size_t i = from; i < chain.size(); ++i) {
      const std::string& f = chain[i];
      if (v.kind == TValue::Kind::kStringMap) {
        auto it = v.map.find(f);
        v = TValue::Str(it == v.map.end() ? "" : it->second);
      } else if (v.kind == TValue::Kind::kObject) {
        bool found = false;
        for (const auto& [name, val] : v.fields) {
          if (name == f) {
            TValue copy = val;
            v = std::move(copy);
            found = true;
            break;
          }
        }
        if (!found) return Status::InvalidArgument("can't evaluate field " + f);
      } else if (v.kind == TValue::Kind::kNil) {
        return Status::InvalidArgument("nil pointer evaluating ." + f);
      } else {
        return Status::InvalidArgument("can't evaluate field " + f + " in type " + GoTypeName(v));
      }
    }
    return v;
  }

  Result<TValue> EvalArg(const Arg& a, const TValue& dot) {
    switch (a.kind) {
      case Arg::Kind::kDot:
        return dot;
      case Arg::Kind::kField:
        return FieldChain(dot, a.chain, 0);
      case Arg::Kind::kVariable:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == a.name) return FieldChain(it->second, a.chain, 0);
        }
        return Status::InvalidArgument("undefined variable \"" + a.name + "\"");
      case Arg::Kind::kString:
        return TValue::Str(a.str);
      case Arg::Kind::kInt:
        return TValue::Int(a.i);
      case Arg::Kind::kFloat:
        return TValue::Float(a.f);
      case Arg::Kind::kBool:
        return TValue::Bool(a.b);
      case Arg::Kind::kNil:
        return TValue{};
      case Arg::Kind::kPipe: {
        auto v = EvalPipeline(*a.pipe, dot, false);
        if (!v.ok()) return v;
        return FieldChain(*v, a.chain, 0);
      }
      case Arg::Kind::kIdent: {
        Command c;
        c.args.push_back(a);
        return EvalCommand(c, dot, nullptr);
      }
    }
    return TValue{};
  }

  Result<TValue> EvalCommand(const Command& cmd, const TValue& dot, const TValue* piped) {
    const Arg& head = cmd.args[0];
    if (head.kind != Arg::Kind::kIdent) {
      if (cmd.args.size() > 1 || piped) {
        return Status::InvalidArgument("can't give argument to non-function");
      }
      return EvalArg(head, dot);
    }
    std::vector<TValue> args;
    for (std::size_t i = 1; i < cmd.args.size(); ++i) {
      auto v = EvalArg(cmd.args[i], dot);
      if (!v.ok()) return v;
      args.push_back(std::move(*v));
    }
    if (piped) args.push_back(*piped);
    auto r = Call(head.name, args);
    if (!r.ok()) {
      return Status::InvalidArgument("error calling " + head.name + ": " + r.status().message());
    }
    return r;
  }

  static Status WantArgs(const std::string& fn, const std::vector<TValue>& args, std::size_t n) {
    if (args.size() != n) {
      return Status::InvalidArgument("wrong number of args for " + fn + ": want " +
                                     std::to_string(n) + " got " + std::to_string(args.size()));
    }
    return Status::Ok();
  }

  Result<int> Compare(const TValue& a, const TValue& b) {
    if (a.kind == TValue::Kind::kString && b.kind == TValue::Kind::kString) {
      return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    }
    if (a.kind == TValue::Kind::kInt && b.kind == TValue::Kind::kInt) {
      return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    }
    if (a.kind == TValue::Kind::kFloat && b.kind == TValue::Kind::kFloat) {
      return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
    }
    if (a.kind == TValue::Kind::kBool && b.kind == TValue::Kind::kBool) return a.b == b.b ? 0 : 2;
    return Status::InvalidArgument("incompatible types for comparison");
  }

  // A function call: one step; a string result over the output bound is a limit error (so
  // that no value can double its way to gigabytes before it reaches the output).
  Result<TValue> Call(const std::string& fn, std::vector<TValue>& args) {
    if (Status s = Step(); !s.ok()) return s;
    Result<TValue> r = CallFunction(fn, args);
    if (r.ok() && r->kind == TValue::Kind::kString) {
      if (Status s = CheckSize(r->s.size(), "string"); !s.ok()) return s;
    }
    return r;
  }

  Result<TValue> CallFunction(const std::string& fn, std::vector<TValue>& args) {
    if (fn == "printf") {
      if (args.empty() || args[0].kind != TValue::Kind::kString) {
        return Status::InvalidArgument("printf needs a format string");
      }
      std::vector<TValue> rest(args.begin() + 1, args.end());
      Result<std::string> r = GoSprintf(args[0].s, rest);
      if (!r.ok()) return Limit(r.status().message());
      return TValue::Str(std::move(*r));
    }
    if (fn == "print") {
      std::string out;
      for (std::size_t i = 0; i < args.size(); ++i) {
        bool both_non_string = i > 0 && args[i].kind != TValue::Kind::kString &&
                               args[i - 1].kind != TValue::Kind::kString;
        if (both_non_string) out += " ";
        out += Print(args[i]);
      }
      return TValue::Str(out);
    }
    if (fn == "humanize" || fn == "humanize1024" || fn == "humanizeDuration" ||
        fn == "humanizePercentage" || fn == "humanizeTimestamp") {
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      auto v = ToFloat(args[0]);
      if (!v.ok()) return v.status();
      if (fn == "humanize") return TValue::Str(Humanize(*v));
      if (fn == "humanize1024") return TValue::Str(Humanize1024(*v));
      if (fn == "humanizeDuration") return TValue::Str(HumanizeDuration(*v));
      if (fn == "humanizeTimestamp") return TValue::Str(HumanizeTimestamp(*v));
      return TValue::Str(GoG4(*v * 100) + "%");
    }
    if (fn == "query") {
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      if (!query_) return Status::InvalidArgument("query is not available here");
      if (++queries_ > kMaxTemplateQueries) {
        return Limit("more than " + std::to_string(kMaxTemplateQueries) + " queries");
      }
      auto res = query_(args[0].s);
      if (!res.ok()) return res.status();
      TValue list;
      list.kind = TValue::Kind::kList;
      for (const auto& smp : *res) list.list.push_back(SampleValue(smp));
      return list;
    }
    if (fn == "first") {
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      if (args[0].kind != TValue::Kind::kList || args[0].list.empty()) {
        return Status::InvalidArgument("first() called on vector with no elements");
      }
      return args[0].list[0];
    }
    if (fn == "println") {  // Go's Sprintln: spaces between every operand, then a newline
      std::string out;
      for (std::size_t i = 0; i < args.size(); ++i) out += (i > 0 ? " " : "") + Print(args[i]);
      return TValue::Str(out + "\n");
    }
    if (fn == "externalURL" || fn == "pathPrefix") {
      Status s = WantArgs(fn, args, 0);
      if (!s.ok()) return s;
      std::string url = root_.fields[2].second.s;
      if (fn == "externalURL") return TValue::Str(url);
      std::size_t scheme = url.find("://");
      std::size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
      return TValue::Str(path == std::string::npos ? "" : url.substr(path));
    }
    if (fn == "stripPort") {  // net.SplitHostPort's host, or the input when it has no port
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      const std::string& hp = args[0].s;
      if (!hp.empty() && hp[0] == '[') {
        std::size_t close = hp.find(']');
        if (close != std::string::npos && close + 1 < hp.size() && hp[close + 1] == ':') {
          return TValue::Str(hp.substr(1, close - 1));
        }
        return TValue::Str(hp);
      }
      std::size_t colon = hp.find(':');
      if (colon == std::string::npos || hp.find(':', colon + 1) != std::string::npos) {
        return TValue::Str(hp);
      }
      return TValue::Str(hp.substr(0, colon));
    }
    if (fn == "strvalue") {  // a sample's "__value__" label (Prometheus keeps strings there)
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      return FieldChain(args[0], {"Labels", "__value__"}, 0);
    }
    if (fn == "value" || fn == "label") {
      if (fn == "label") {
        Status s = WantArgs(fn, args, 2);
        if (!s.ok()) return s;
        return FieldChain(args[1], {"Labels", args[0].s}, 0);
      }
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      return FieldChain(args[0], {"Value"}, 0);
    }
    if (fn == "sortByLabel") {
      Status s = WantArgs(fn, args, 2);
      if (!s.ok()) return s;
      TValue list = args[1];
      std::string l = args[0].s;
      std::stable_sort(list.list.begin(), list.list.end(), [&](const TValue& a, const TValue& b) {
        auto get = [&](const TValue& v) {
          auto it = v.fields[0].second.map.find(l);
          return it == v.fields[0].second.map.end() ? std::string() : it->second;
        };
        return get(a) < get(b);
      });
      return list;
    }
    if (fn == "toUpper" || fn == "toLower" || fn == "title") {
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      std::string v = args[0].s;
      bool start = true;
      for (auto& c : v) {
        auto uc = static_cast<unsigned char>(c);
        if (fn == "toUpper") c = static_cast<char>(std::toupper(uc));
        if (fn == "toLower") c = static_cast<char>(std::tolower(uc));
        if (fn == "title") {
          if (start && std::isalpha(uc)) c = static_cast<char>(std::toupper(uc));
          start = !std::isalnum(uc) && c != '_' && c != '\'';
        }
      }
      return TValue::Str(v);
    }
    if (fn == "match" || fn == "reReplaceAll") {
      Status s = WantArgs(fn, args, fn == "match" ? 2 : 3);
      if (!s.ok()) return s;
      RE2::Options o;
      o.set_log_errors(false);
      RE2 re(args[0].s, o);
      if (!re.ok()) return Status::InvalidArgument("error parsing regexp: " + re.error());
      if (fn == "match") return TValue::Bool(RE2::PartialMatch(args[1].s, re));
      std::string text = args[2].s;
      std::string repl;
      for (std::size_t i = 0; i < args[1].s.size(); ++i) {
        char c = args[1].s[i];
        if (c == '$' && i + 1 < args[1].s.size() &&
            std::isdigit(static_cast<unsigned char>(args[1].s[i + 1]))) {
          repl += '\\';
        } else if (c == '\\') {
          repl += '\\';
        }
        repl += c == '$' && i + 1 < args[1].s.size() &&
                        std::isdigit(static_cast<unsigned char>(args[1].s[i + 1]))
                    ? ""
                    : std::string(1, c);
      }
      // Every match (empty ones too: at most one per byte and one at the end) adds the
      // replacement, whose back-references add at most the whole text each: refused when that
      // could pass the bound, before RE2 builds it.
      std::size_t refs = static_cast<std::size_t>(std::count(repl.begin(), repl.end(), '\\'));
      double worst = static_cast<double>(text.size() + 1) *
                         (static_cast<double>(repl.size()) +
                          static_cast<double>(refs) * static_cast<double>(text.size())) +
                     static_cast<double>(text.size());
      if (worst > 16.0 * 1024 * 1024) {
        return Limit("reReplaceAll: result could pass 16 MiB");
      }
      RE2::GlobalReplace(&text, re, repl);
      return TValue::Str(text);
    }
    if (fn == "eq" || fn == "ne" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge") {
      if (args.size() < 2) return Status::InvalidArgument("missing argument for comparison");
      if (fn == "eq") {
        for (std::size_t i = 1; i < args.size(); ++i) {
          auto c = Compare(args[0], args[i]);
          if (!c.ok()) return c.status();
          if (*c == 0) return TValue::Bool(true);
        }
        return TValue::Bool(false);
      }
      auto c = Compare(args[0], args[1]);
      if (!c.ok()) return c.status();
      if (*c == 2 && fn != "ne") return Status::InvalidArgument("invalid type for comparison");
      if (fn == "ne") return TValue::Bool(*c != 0);
      if (fn == "lt") return TValue::Bool(*c < 0);
      if (fn == "le") return TValue::Bool(*c <= 0);
      if (fn == "gt") return TValue::Bool(*c > 0);
      return TValue::Bool(*c >= 0);
    }
    if (fn == "and" || fn == "or") {
      if (args.empty()) return Status::InvalidArgument("wrong number of args for " + fn);
      for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (fn == "and" ? !Truth(args[i]) : Truth(args[i])) return args[i];
      }
      return args.back();
    }
    if (fn == "not") {
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      return TValue::Bool(!Truth(args[0]));
    }
    if (fn == "len") {
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      const TValue& v = args[0];
      if (v.kind == TValue::Kind::kString)
        return TValue::Int(static_cast<std::int64_t>(v.s.size()));
      if (v.kind == TValue::Kind::kStringMap)
        return TValue::Int(static_cast<std::int64_t>(v.map.size()));
      if (v.kind == TValue::Kind::kList)
        return TValue::Int(static_cast<std::int64_t>(v.list.size()));
      return Status::InvalidArgument(std::string("len of type ") + GoTypeName(v));
    }
    if (fn == "index") {
      Status s = WantArgs(fn, args, 2);
      if (!s.ok()) return s;
      if (args[0].kind == TValue::Kind::kStringMap) {
        auto it = args[0].map.find(args[1].s);
        return TValue::Str(it == args[0].map.end() ? "" : it->second);
      }
      if (args[0].kind == TValue::Kind::kList && args[1].kind == TValue::Kind::kInt) {
        if (args[1].i < 0 || args[1].i >= static_cast<std::int64_t>(args[0].list.size())) {
          return Status::InvalidArgument("index out of range: " + std::to_string(args[1].i));
        }
        return args[0].list[static_cast<std::size_t>(args[1].i)];
      }
      return Status::InvalidArgument("can't index item");
    }
    if (fn == "safeHtml" || fn == "html" || fn == "urlquery") {
      Status s = WantArgs(fn, args, 1);
      if (!s.ok()) return s;
      return TValue::Str(Print(args[0]));
    }
    return Status::InvalidArgument("function \"" + fn + "\" not defined");
  }

  TValue root_;
  std::vector<std::pair<std::string, TValue>> vars_;
  const TemplateQueryFunc& query_;
  std::int64_t steps_ = 0;
  int queries_ = 0;
  bool limit_hit_ = false;
};

}  // namespace

std::string GoFormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  int exp = std::atoi(sci.c_str() + sci.find('e') + 1);
  if (exp < -4 || exp >= 6) return sci;  // strconv 'g' with shortest precision
  r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

Result<Template> Template::Parse(const std::string& name, const std::string& text) {
  TemplateParser p(text);
  auto nodes = p.Parse();
  if (!nodes.ok()) {
    return Status::InvalidArgument("template: " + name + ": " + nodes.status().message());
  }
  Template t;
  t.name_ = name;
  t.root_ = std::make_shared<const NodeList>(std::move(*nodes));
  return t;
}

Result<std::string> Template::Execute(const TemplateData& data, const TemplateQueryFunc& query,
                                      bool* limit_hit) const {
  Executor ex(data, query);
  std::string out;
  Status s = ex.Run(*root_, &out);
  if (limit_hit) *limit_hit = ex.limit_hit();
  if (!s.ok()) {
    return Status::InvalidArgument("error executing template " + name_ + ": template: " + name_ +
                                   ": executing \"" + name_ + "\": " + s.message());
  }
  return out;
}

std::string ExpandAlertTemplate(const std::string& name, const std::string& text,
                                const TemplateData& data, const TemplateQueryFunc& query,
                                std::string* limit_error) {
  auto t = Template::Parse(name, text);
  if (!t.ok()) return "<error expanding template: " + t.status().message() + ">";
  bool limit_hit = false;
  auto r = t->Execute(data, query, &limit_hit);
  if (!r.ok()) {
    if (limit_hit && limit_error) *limit_error = r.status().message();
    return "<error expanding template: " + r.status().message() + ">";
  }
  return *r;
}

}  // namespace vigil::rules
