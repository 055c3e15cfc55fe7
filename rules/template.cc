#include "rules/template.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <string_view>
#include <variant>

#include "rules/promql/label_matcher.h"
#include "rules/template_values.h"

namespace vigil::rules {
namespace {

using namespace template_internal;  // TValue and Go's fmt (template_values.h)

// ---------------------------------------------------------------------------------------
// Lexer and parser.

// Every function Executor::Call implements (Go's parser rejects the others, so does ours).
enum class TemplateFunction {
  kPrintf,
  kPrint,
  kHumanize,
  kHumanize1024,
  kHumanizeDuration,
  kHumanizePercentage,
  kHumanizeTimestamp,
  kQuery,
  kFirst,
  kPrintln,
  kExternalURL,
  kPathPrefix,
  kStripPort,
  kStrvalue,
  kValue,
  kLabel,
  kSortByLabel,
  kToUpper,
  kToLower,
  kTitle,
  kMatch,
  kReReplaceAll,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,
  kLen,
  kIndex,
  kSafeHtml,
  kHtml,
  kUrlquery,
  kUnsupported,  // defined by Prometheus, not run by vigil yet: an execution error
};

// Every function a template may name, Prometheus's set: the one list the parser checks names
// against and the executor dispatches on.
struct TemplateFunctionEntry {
  const char* name;
  TemplateFunction id;
};
constexpr TemplateFunctionEntry kTemplateFunctions[] = {
    {"printf", TemplateFunction::kPrintf},
    {"print", TemplateFunction::kPrint},
    {"humanize", TemplateFunction::kHumanize},
    {"humanize1024", TemplateFunction::kHumanize1024},
    {"humanizeDuration", TemplateFunction::kHumanizeDuration},
    {"humanizePercentage", TemplateFunction::kHumanizePercentage},
    {"humanizeTimestamp", TemplateFunction::kHumanizeTimestamp},
    {"query", TemplateFunction::kQuery},
    {"first", TemplateFunction::kFirst},
    {"println", TemplateFunction::kPrintln},
    {"externalURL", TemplateFunction::kExternalURL},
    {"pathPrefix", TemplateFunction::kPathPrefix},
    {"stripPort", TemplateFunction::kStripPort},
    {"strvalue", TemplateFunction::kStrvalue},
    {"value", TemplateFunction::kValue},
    {"label", TemplateFunction::kLabel},
    {"sortByLabel", TemplateFunction::kSortByLabel},
    {"toUpper", TemplateFunction::kToUpper},
    {"toLower", TemplateFunction::kToLower},
    {"title", TemplateFunction::kTitle},
    {"match", TemplateFunction::kMatch},
    {"reReplaceAll", TemplateFunction::kReReplaceAll},
    {"eq", TemplateFunction::kEq},
    {"ne", TemplateFunction::kNe},
    {"lt", TemplateFunction::kLt},
    {"le", TemplateFunction::kLe},
    {"gt", TemplateFunction::kGt},
    {"ge", TemplateFunction::kGe},
    {"and", TemplateFunction::kAnd},
    {"or", TemplateFunction::kOr},
    {"not", TemplateFunction::kNot},
    {"len", TemplateFunction::kLen},
    {"index", TemplateFunction::kIndex},
    {"safeHtml", TemplateFunction::kSafeHtml},
    {"html", TemplateFunction::kHtml},
    {"urlquery", TemplateFunction::kUrlquery},
    {"args", TemplateFunction::kUnsupported},
    {"graphLink", TemplateFunction::kUnsupported},
    {"tableLink", TemplateFunction::kUnsupported},
    {"parseDuration", TemplateFunction::kUnsupported},
    {"toTime", TemplateFunction::kUnsupported},
    {"js", TemplateFunction::kUnsupported},
    {"slice", TemplateFunction::kUnsupported},
    {"call", TemplateFunction::kUnsupported},
};

// Null when `name` is no template function (a parse error, as in Go).
const TemplateFunctionEntry* LookupTemplateFunction(std::string_view name) {
  for (const TemplateFunctionEntry& f : kTemplateFunctions) {
    if (name == f.name) return &f;
  }
  return nullptr;
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
        if (LookupTemplateFunction(t.text) == nullptr) {
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
    const TemplateFunctionEntry* entry = LookupTemplateFunction(fn);
    if (entry == nullptr) return Status::InvalidArgument("function \"" + fn + "\" not defined");
    Result<TValue> r = CallFunction(fn, entry->id, args);
    if (r.ok() && r->kind == TValue::Kind::kString) {
      if (Status s = CheckSize(r->s.size(), "string"); !s.ok()) return s;
    }
    return r;
  }

  Result<TValue> CallFunction(const std::string& fn, TemplateFunction id,
                              std::vector<TValue>& args) {
    using F = TemplateFunction;
    switch (id) {
      case F::kPrintf: {
        if (args.empty() || args[0].kind != TValue::Kind::kString) {
          return Status::InvalidArgument("printf needs a format string");
        }
        std::vector<TValue> rest(args.begin() + 1, args.end());
        Result<std::string> r = GoSprintf(args[0].s, rest);
        if (!r.ok()) return Limit(r.status().message());
        return TValue::Str(std::move(*r));
      }
      case F::kPrint: {
        std::string out;
        for (std::size_t i = 0; i < args.size(); ++i) {
          bool both_non_string = i > 0 && args[i].kind != TValue::Kind::kString &&
                                 args[i - 1].kind != TValue::Kind::kString;
          if (both_non_string) out += " ";
          out += Print(args[i]);
        }
        return TValue::Str(out);
      }
      case F::kHumanize:
      case F::kHumanize1024:
      case F::kHumanizeDuration:
      case F::kHumanizePercentage:
      case F::kHumanizeTimestamp: {
        Status s = WantArgs(fn, args, 1);
        if (!s.ok()) return s;
        auto v = ToFloat(args[0]);
        if (!v.ok()) return v.status();
        if (id == F::kHumanize) return TValue::Str(Humanize(*v));
        if (id == F::kHumanize1024) return TValue::Str(Humanize1024(*v));
        if (id == F::kHumanizeDuration) return TValue::Str(HumanizeDuration(*v));
        if (id == F::kHumanizeTimestamp) return TValue::Str(HumanizeTimestamp(*v));
        return TValue::Str(GoG4(*v * 100) + "%");
      }
      case F::kQuery: {
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
      case F::kFirst: {
        Status s = WantArgs(fn, args, 1);
        if (!s.ok()) return s;
        if (args[0].kind != TValue::Kind::kList || args[0].list.empty()) {
          return Status::InvalidArgument("first() called on vector with no elements");
        }
        return args[0].list[0];
      }
      case F::kPrintln: {  // Go's Sprintln: spaces between every operand, then a newline
        std::string out;
        for (std::size_t i = 0; i < args.size(); ++i) out += (i > 0 ? " " : "") + Print(args[i]);
        return TValue::Str(out + "\n");
      }
      case F::kExternalURL:
      case F::kPathPrefix: {
        Status s = WantArgs(fn, args, 0);
        if (!s.ok()) return s;
        std::string url = root_.fields[2].second.s;
        if (id == F::kExternalURL) return TValue::Str(url);
        std::size_t scheme = url.find("://");
        std::size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
        return TValue::Str(path == std::string::npos ? "" : url.substr(path));
      }
      case F::kStripPort: {  // net.SplitHostPort's host, or the input when it has no port
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
      case F::kStrvalue: {  // a sample's "__value__" label (Prometheus keeps strings there)
        Status s = WantArgs(fn, args, 1);
        if (!s.ok()) return s;
        return FieldChain(args[0], {"Labels", "__value__"}, 0);
      }
      case F::kValue:
      case F::kLabel: {
        if (id == F::kLabel) {
          Status s = WantArgs(fn, args, 2);
          if (!s.ok()) return s;
          return FieldChain(args[1], {"Labels", args[0].s}, 0);
        }
        Status s = WantArgs(fn, args, 1);
        if (!s.ok()) return s;
        return FieldChain(args[0], {"Value"}, 0);
      }
      case F::kSortByLabel: {
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
      case F::kToUpper:
      case F::kToLower:
      case F::kTitle: {
        Status s = WantArgs(fn, args, 1);
        if (!s.ok()) return s;
        std::string v = args[0].s;
        bool start = true;
        for (auto& c : v) {
          auto uc = static_cast<unsigned char>(c);
          if (id == F::kToUpper) c = static_cast<char>(std::toupper(uc));
          if (id == F::kToLower) c = static_cast<char>(std::tolower(uc));
          if (id == F::kTitle) {
            if (start && std::isalpha(uc)) c = static_cast<char>(std::toupper(uc));
            start = !std::isalnum(uc) && c != '_' && c != '\'';
          }
        }
        return TValue::Str(v);
      }
      case F::kMatch:
      case F::kReReplaceAll: {
        Status s = WantArgs(fn, args, id == F::kMatch ? 2 : 3);
        if (!s.ok()) return s;
        RE2::Options o;
        o.set_log_errors(false);
        RE2 re(args[0].s, o);
        if (!re.ok()) return Status::InvalidArgument("error parsing regexp: " + re.error());
        if (id == F::kMatch) return TValue::Bool(RE2::PartialMatch(args[1].s, re));
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
      case F::kEq:
      case F::kNe:
      case F::kLt:
      case F::kLe:
      case F::kGt:
      case F::kGe: {
        if (args.size() < 2) return Status::InvalidArgument("missing argument for comparison");
        if (id == F::kEq) {
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
        if (id == F::kNe) return TValue::Bool(*c != 0);
        if (id == F::kLt) return TValue::Bool(*c < 0);
        if (id == F::kLe) return TValue::Bool(*c <= 0);
        if (id == F::kGt) return TValue::Bool(*c > 0);
        return TValue::Bool(*c >= 0);
      }
      case F::kAnd:
      case F::kOr: {
        if (args.empty()) return Status::InvalidArgument("wrong number of args for " + fn);
        for (std::size_t i = 0; i + 1 < args.size(); ++i) {
          if (id == F::kAnd ? !Truth(args[i]) : Truth(args[i])) return args[i];
        }
        return args.back();
      }
      case F::kNot: {
        Status s = WantArgs(fn, args, 1);
        if (!s.ok()) return s;
        return TValue::Bool(!Truth(args[0]));
      }
      case F::kLen: {
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
      case F::kIndex: {
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
      case F::kSafeHtml:
      case F::kHtml:
      case F::kUrlquery: {
        Status s = WantArgs(fn, args, 1);
        if (!s.ok()) return s;
        return TValue::Str(Print(args[0]));
      }
      case F::kUnsupported:
        break;
    }
    return Status::InvalidArgument("function \"" + fn + "\" is not supported by vigil yet");
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
