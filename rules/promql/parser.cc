#include "rules/promql/parser.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

#include "agent/base/duration.h"
#include "rules/promql/lexer.h"

namespace vigil::promql {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ParseAggOp(const std::string& lower, AggOp* op) {
  static const std::pair<const char*, AggOp> kOps[] = {
      {"sum", AggOp::kSum},           {"avg", AggOp::kAvg},
      {"min", AggOp::kMin},           {"max", AggOp::kMax},
      {"count", AggOp::kCount},       {"group", AggOp::kGroup},
      {"topk", AggOp::kTopK},         {"bottomk", AggOp::kBottomK},
      {"quantile", AggOp::kQuantile}, {"stddev", AggOp::kStddev},
      {"stdvar", AggOp::kStdvar},     {"count_values", AggOp::kCountValues}};
  for (const auto& [name, o] : kOps) {
    if (lower == name) {
      *op = o;
      return true;
    }
  }
  return false;
}

// Go's strconv.ParseFloat for the forms PromQL number literals take.
bool ParseNumber(const std::string& text, double* out) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(text.c_str() + 2, &end, 16);
    if (errno != 0 || *end != '\0') return false;
    *out = static_cast<double>(v);
    return true;
  }
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

// A range, step or offset: a duration of at most kMaxQueryDurationMs, so that query times plus
// offsets, ranges and lookback never overflow. Like Prometheus, no duration literal may be 0.
Result<std::int64_t> ParseQueryDuration(std::string_view text) {
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) return d.status();
  if (d->count() == 0) return Status::InvalidArgument("duration must be greater than 0");
  if (d->count() > kMaxQueryDurationMs) {
    return Status::InvalidArgument("duration \"" + std::string(text) + "\" is out of range");
  }
  return d->count();
}

// The depth of the tree, without recursion (it is what is being bounded).
int TreeDepth(const Expr& root) {
  int max = 0;
  std::vector<std::pair<const Expr*, int>> todo{{&root, 1}};
  while (!todo.empty()) {
    auto [e, d] = todo.back();
    todo.pop_back();
    max = std::max(max, d);
    for (const Expr* child : Children(*e)) todo.push_back({child, d + 1});
  }
  return max;
}

class Parser {
 public:
  Parser(std::string_view input, std::vector<Token> tokens)
      : input_(input), toks_(std::move(tokens)) {}

  Result<ExprPtr> Run() {
    ExprPtr e = ParseBinary(1);
    if (!status_.ok()) return status_;
    if (Peek().kind != TokenKind::kEof) {
      Fail(Peek().pos, "unexpected " + DescribeToken(Peek()));
      return status_;
    }
    // Operator chains ("a + a + ...") are parsed in a loop but deepen the tree all the same.
    if (TreeDepth(*e) > kMaxDepth) {
      Fail(0, "expression nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
      return status_;
    }
    return e;
  }

  // For series descriptions: a selector and nothing else.
  Result<ExprPtr> RunSelector() {
    ExprPtr e = ParseBinary(1);
    if (!status_.ok()) return status_;
    if (Peek().kind != TokenKind::kEof || e->kind != NodeKind::kVectorSelector) {
      return Status::InvalidArgument("invalid series description: " + std::string(input_));
    }
    return e;
  }

 private:
  // Reaching a lexer error token reports it (unless an earlier error was recorded).
  const Token& Peek(int ahead = 0) {
    std::size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    if (toks_[i].kind == TokenKind::kError) Fail(toks_[i].pos, toks_[i].text);
    return toks_[i];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool ok() const { return status_.ok(); }
  int depth_ = 0;      // ParseBinary calls in progress
  int operators_ = 0;  // binary operators parsed
  std::nullptr_t Fail(int pos, const std::string& msg) {
    if (status_.ok()) {
      status_ = Status::InvalidArgument(PositionString(input_, pos) + ": parse error: " + msg);
    }
    return nullptr;
  }
  bool Expect(TokenKind k, const char* what, const char* context) {
    if (Peek().kind != k) {
      Fail(Peek().pos, std::string("unexpected ") + DescribeToken(Peek()) + " in " + context +
                           ", expected " + what);
      return false;
    }
    Next();
    return true;
  }
  bool IsKeyword(const Token& t, const char* kw) const {
    return t.kind == TokenKind::kIdent && Lower(t.text) == kw;
  }
  int PrevEnd() const { return pos_ == 0 ? 0 : toks_[pos_ - 1].end; }

  // Precedence of the binary operator at the cursor; 0 when there is none.
  int PeekBinOp(BinOp* op) {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kAdd:
        *op = BinOp::kAdd;
        return 4;
      case TokenKind::kSub:
        *op = BinOp::kSub;
        return 4;
      case TokenKind::kMul:
        *op = BinOp::kMul;
        return 5;
      case TokenKind::kDiv:
        *op = BinOp::kDiv;
        return 5;
      case TokenKind::kMod:
        *op = BinOp::kMod;
        return 5;
      case TokenKind::kPow:
        *op = BinOp::kPow;
        return 6;
      case TokenKind::kEql:
        *op = BinOp::kEql;
        return 3;
      case TokenKind::kNeq:
        *op = BinOp::kNeq;
        return 3;
      case TokenKind::kLss:
        *op = BinOp::kLss;
        return 3;
      case TokenKind::kLte:
        *op = BinOp::kLte;
        return 3;
      case TokenKind::kGtr:
        *op = BinOp::kGtr;
        return 3;
      case TokenKind::kGte:
        *op = BinOp::kGte;
        return 3;
      case TokenKind::kIdent: {
        std::string l = Lower(t.text);
        if (l == "atan2") {
          *op = BinOp::kAtan2;
          return 5;
        }
        if (l == "and") {
          *op = BinOp::kAnd;
          return 2;
        }
        if (l == "unless") {
          *op = BinOp::kUnless;
          return 2;
        }
        if (l == "or") {
          *op = BinOp::kOr;
          return 1;
        }
        return 0;
      }
      default:
        return 0;
    }
  }

  // Deepest expression tree accepted. The parser, the evaluator, ToString and the destructors
  // all recurse over the tree, so without a bound a query of a few thousand "(" (or "a + a +
  // ...") overflows the stack of whatever thread parses it (found by fuzzing). Real queries
  // nest a few levels.
  static constexpr int kMaxDepth = 256;
  static constexpr int kMaxOperators = 1024;

  ExprPtr ParseBinary(int min_prec) {
    struct DepthGuard {
      int& d;
      explicit DepthGuard(int& depth) : d(++depth) {}
      ~DepthGuard() { --d; }
    } guard(depth_);
    if (depth_ > kMaxDepth) {
      return Fail(Peek().pos, "expression nested too deeply (more than " +
                                  std::to_string(kMaxDepth) + " levels)");
    }
    ExprPtr lhs = ParseUnary();
    if (!ok()) return nullptr;
    while (true) {
      BinOp op = BinOp::kAdd;
      int prec = PeekBinOp(&op);
      if (prec == 0 || prec < min_prec) break;
      const Token& op_tok = Next();
      int op_pos = op_tok.pos;
      // Chains are parsed in a loop, but a tree that deep must not even be built (its
      // destructor recurses); Run() checks the exact depth of what is left.
      if (++operators_ > kMaxOperators) {
        return Fail(op_pos,
                    "too many binary operators (more than " + std::to_string(kMaxOperators) + ")");
      }

      auto bin = std::make_unique<BinaryExpr>();
      bin->op = op;
      if (IsKeyword(Peek(), "bool")) {
        Next();
        bin->return_bool = true;
      }
      if (IsKeyword(Peek(), "on") || IsKeyword(Peek(), "ignoring")) {
        bin->matching.on = IsKeyword(Next(), "on");
        if (!ParseLabelList(&bin->matching.labels)) return nullptr;
        if (IsKeyword(Peek(), "group_left") || IsKeyword(Peek(), "group_right")) {
          bin->matching.card = IsKeyword(Next(), "group_left") ? VectorMatching::Card::kManyToOne
                                                               : VectorMatching::Card::kOneToMany;
          if (Peek().kind == TokenKind::kLParen) {
            if (!ParseLabelList(&bin->matching.include)) return nullptr;
          }
        }
      }
      ExprPtr rhs = ParseBinary(op == BinOp::kPow ? prec : prec + 1);
      if (!ok()) return nullptr;
      bin->pos = {lhs->pos.start, rhs->pos.end};
      bin->lhs = std::move(lhs);
      bin->rhs = std::move(rhs);
      if (!CheckBinary(bin.get(), op_pos)) return nullptr;
      lhs = std::move(bin);
    }
    return lhs;
  }

  bool CheckBinary(BinaryExpr* b, int op_pos) {
    ValueType lt = b->lhs->Type(), rt = b->rhs->Type();
    if (b->return_bool && !IsComparison(b->op)) {
      Fail(op_pos, "bool modifier can only be used on comparison operators");
      return false;
    }
    if (IsComparison(b->op) && !b->return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      Fail(op_pos, "comparisons between scalars must use BOOL modifier");
      return false;
    }
    if (IsSetOperator(b->op) && b->matching.card == VectorMatching::Card::kOneToOne) {
      b->matching.card = VectorMatching::Card::kManyToMany;
    }
    if (b->matching.on) {
      for (const auto& l : b->matching.labels) {
        if (std::find(b->matching.include.begin(), b->matching.include.end(), l) !=
            b->matching.include.end()) {
          Fail(op_pos, "label \"" + l + "\" must not occur in ON and GROUP clause at once");
          return false;
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      Fail(b->lhs->pos.start,
           "binary expression must contain only scalar and instant vector types");
      return false;
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      Fail(b->rhs->pos.start,
           "binary expression must contain only scalar and instant vector types");
      return false;
    }
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!b->matching.labels.empty() || b->matching.card == VectorMatching::Card::kManyToOne ||
          b->matching.card == VectorMatching::Card::kOneToMany) {
        Fail(b->pos.start, "vector matching only allowed between instant vectors");
        return false;
      }
      b->matching = VectorMatching{};
      if (IsSetOperator(b->op)) b->matching.card = VectorMatching::Card::kManyToMany;
    } else if (IsSetOperator(b->op) && b->matching.card != VectorMatching::Card::kManyToMany) {
      Fail(b->pos.start,
           std::string("no grouping allowed for \"") + BinOpString(b->op) + "\" operation");
      return false;
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(b->op)) {
      Fail(b->pos.start, std::string("set operator \"") + BinOpString(b->op) +
                             "\" not allowed in binary scalar expression");
      return false;
    }
    return true;
  }

  ExprPtr ParseUnary() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kAdd || t.kind == TokenKind::kSub) {
      int start = t.pos;
      bool negate = t.kind == TokenKind::kSub;
      Next();
      ExprPtr operand = ParseBinary(6);
      if (!ok()) return nullptr;
      if (operand->kind == NodeKind::kNumber) {
        auto* num = static_cast<NumberLiteral*>(operand.get());
        if (negate) num->value = -num->value;
        num->pos.start = start;
        return operand;
      }
      ValueType vt = operand->Type();
      if (vt != ValueType::kScalar && vt != ValueType::kVector) {
        return Fail(start, std::string("unary expression only allowed on expressions of type "
                                       "scalar or instant vector, got \"") +
                               ValueTypeName(vt) + "\"");
      }
      auto u = std::make_unique<UnaryExpr>();
      u->negate = negate;
      u->pos = {start, operand->pos.end};
      u->expr = std::move(operand);
      return u;
    }
    return ParsePostfix();
  }

  ExprPtr ParsePostfix() {
    ExprPtr e = ParsePrimary();
    if (!ok()) return nullptr;
    while (true) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kLBracket) {
        e = ParseRange(std::move(e));
        if (!ok()) return nullptr;
      } else if (IsKeyword(t, "offset")) {
        Next();
        TimeModifiers* mod = Modifiers(e.get());
        if (mod == nullptr) {
          return Fail(t.pos,
                      "offset modifier must be preceded by an instant vector selector or range "
                      "vector selector or a subquery");
        }
        if (mod->has_offset) return Fail(t.pos, "offset may not be set multiple times");
        bool neg = false;
        if (Peek().kind == TokenKind::kSub || Peek().kind == TokenKind::kAdd) {
          neg = Next().kind == TokenKind::kSub;
        }
        const Token& d = Next();
        if (d.kind != TokenKind::kDuration) {
          return Fail(d.pos, "unexpected " + DescribeToken(d) + " in offset, expected duration");
        }
        auto dur = ParseQueryDuration(d.text);
        if (!dur.ok()) return Fail(d.pos, dur.status().message());
        mod->offset_ms = neg ? -*dur : *dur;
        mod->has_offset = true;
        e->pos.end = PrevEnd();
      } else if (t.kind == TokenKind::kAt) {
        Next();
        TimeModifiers* mod = Modifiers(e.get());
        if (mod == nullptr) {
          return Fail(t.pos,
                      "@ modifier must be preceded by an instant vector selector or range vector "
                      "selector or a subquery");
        }
        if (mod->at != AtKind::kNone) {
          return Fail(t.pos, "@ <timestamp> may not be set multiple times");
        }
        if (!ParseAt(mod)) return nullptr;
        e->pos.end = PrevEnd();
      } else {
        return e;
      }
    }
  }

  // The modifiers `offset` and `@` apply to: a selector's, a range selector's (kept on its
  // vector selector) or a subquery's; nullptr for any other expression.
  static TimeModifiers* Modifiers(Expr* e) {
    switch (e->kind) {
      case NodeKind::kVectorSelector:
        return &static_cast<VectorSelector*>(e)->mod;
      case NodeKind::kMatrixSelector:
        return &static_cast<MatrixSelector*>(e)->selector->mod;
      case NodeKind::kSubquery:
        return &static_cast<SubqueryExpr*>(e)->mod;
      default:
        return nullptr;
    }
  }

  // After `@`: a number of seconds (optionally signed), `start()` or `end()`.
  bool ParseAt(TimeModifiers* mod) {
    const Token& t = Peek();
    if (IsKeyword(t, "start") || IsKeyword(t, "end")) {
      Next();
      mod->at = Lower(t.text) == "start" ? AtKind::kStart : AtKind::kEnd;
      if (!Expect(TokenKind::kLParen, "\"(\"", "@ modifier")) return false;
      return Expect(TokenKind::kRParen, "\")\"", "@ modifier");
    }
    bool neg = false;
    if (Peek().kind == TokenKind::kSub || Peek().kind == TokenKind::kAdd) {
      neg = Next().kind == TokenKind::kSub;
    }
    const Token& n = Next();
    double seconds = 0;
    if (n.kind == TokenKind::kIdent && (Lower(n.text) == "inf" || Lower(n.text) == "nan")) {
      seconds = Lower(n.text) == "inf" ? std::numeric_limits<double>::infinity()
                                       : std::numeric_limits<double>::quiet_NaN();
    } else if (n.kind != TokenKind::kNumber || !ParseNumber(n.text, &seconds)) {
      Fail(n.pos, "unexpected " + DescribeToken(n) + " in @, expected timestamp");
      return false;
    }
    if (neg) seconds = -seconds;
    // Query times are bounded by kMaxQueryDurationMs (agent/api), and so is `@`, so that an
    // `@` time minus offsets, ranges and lookback always fits in 64 bits.
    const double ms = std::round(seconds * 1000);
    if (!std::isfinite(ms) || std::fabs(ms) > static_cast<double>(kMaxQueryDurationMs)) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%f", seconds);
      Fail(n.pos, std::string("timestamp out of bounds for @ modifier: ") + buf);
      return false;
    }
    mod->at = AtKind::kTimestamp;
    mod->at_ms = static_cast<TimestampMs>(ms);
    return true;
  }

  // `e[range]` (a range selector) or `e[range:step]` / `e[range:]` (a subquery).
  ExprPtr ParseRange(ExprPtr e) {
    const Token& open = Next();  // [
    const Token& d = Next();
    if (d.kind != TokenKind::kDuration) {
      return Fail(d.pos, "unexpected " + DescribeToken(d) + " in range, expected duration");
    }
    auto range = ParseQueryDuration(d.text);
    if (!range.ok()) return Fail(d.pos, range.status().message());
    if (Peek().kind == TokenKind::kColon) {
      Next();
      std::int64_t step = 0;
      if (Peek().kind == TokenKind::kDuration) {
        const Token& st = Next();
        auto s = ParseQueryDuration(st.text);
        if (!s.ok()) return Fail(st.pos, s.status().message());
        step = *s;
      }
      if (!Expect(TokenKind::kRBracket, "\"]\"", "subquery")) return nullptr;
      if (e->Type() != ValueType::kVector) {
        return Fail(e->pos.start, std::string("subquery is only allowed on instant vector, got ") +
                                      ValueTypeName(e->Type()) + " instead");
      }
      auto sq = std::make_unique<SubqueryExpr>();
      sq->pos = {e->pos.start, PrevEnd()};
      sq->range_ms = *range;
      sq->step_ms = step;
      sq->expr = std::move(e);
      return sq;
    }
    if (!Expect(TokenKind::kRBracket, "\"]\"", "range")) return nullptr;
    if (e->kind != NodeKind::kVectorSelector) {
      return Fail(e->pos.start, "ranges only allowed for vector selectors");
    }
    auto* vs = static_cast<VectorSelector*>(e.get());
    if (vs->mod.has_offset) return Fail(open.pos, "no offset modifiers allowed before range");
    if (vs->mod.at != AtKind::kNone) return Fail(open.pos, "no @ modifiers allowed before range");
    auto ms = std::make_unique<MatrixSelector>();
    ms->pos = {e->pos.start, PrevEnd()};
    ms->range_ms = *range;
    ms->selector.reset(static_cast<VectorSelector*>(e.release()));
    return ms;
  }

  ExprPtr ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kNumber: {
        Next();
        auto n = std::make_unique<NumberLiteral>();
        n->pos = {t.pos, t.end};
        if (!ParseNumber(t.text, &n->value)) return Fail(t.pos, "bad number \"" + t.text + "\"");
        return n;
      }
      case TokenKind::kString: {
        Next();
        auto s = std::make_unique<StringLiteral>();
        s->pos = {t.pos, t.end};
        s->value = t.text;
        return s;
      }
      case TokenKind::kLParen: {
        Next();
        ExprPtr inner = ParseBinary(1);
        if (!ok()) return nullptr;
        if (!Expect(TokenKind::kRParen, "\")\"", "paren expression")) return nullptr;
        auto p = std::make_unique<ParenExpr>();
        p->pos = {t.pos, PrevEnd()};
        p->expr = std::move(inner);
        return p;
      }
      case TokenKind::kLBrace:
        return ParseSelector("", t.pos);
      case TokenKind::kIdent:
        return ParseIdent();
      case TokenKind::kDuration:
        return Fail(t.pos, "unexpected duration \"" + t.text + "\"");
      default:
        return Fail(t.pos, "unexpected " + DescribeToken(t));
    }
  }

  ExprPtr ParseIdent() {
    const Token& t = Next();
    std::string lower = Lower(t.text);
    AggOp agg;
    if (ParseAggOp(lower, &agg)) return ParseAggregate(agg, t.pos);
    if (lower == "inf" || lower == "nan") {
      auto n = std::make_unique<NumberLiteral>();
      n->pos = {t.pos, t.end};
      n->value = lower == "inf" ? std::numeric_limits<double>::infinity()
                                : std::numeric_limits<double>::quiet_NaN();
      return n;
    }
    static const std::set<std::string> kKeywords = {
        "by",   "without", "on",  "ignoring", "group_left", "group_right",
        "bool", "offset",  "and", "or",       "unless",     "atan2"};
    if (kKeywords.count(lower)) return Fail(t.pos, "unexpected " + DescribeToken(t));
    if (Peek().kind == TokenKind::kLParen) return ParseCall(t);
    return ParseSelector(t.text, t.pos);
  }

  ExprPtr ParseCall(const Token& name) {
    const FunctionDef* f = LookupFunction(name.text);
    if (f == nullptr) return Fail(name.pos, "unknown function with name \"" + name.text + "\"");
    Next();  // (
    auto call = std::make_unique<Call>();
    call->func = f;
    if (Peek().kind != TokenKind::kRParen) {
      while (true) {
        ExprPtr arg = ParseBinary(1);
        if (!ok()) return nullptr;
        call->args.push_back(std::move(arg));
        if (Peek().kind == TokenKind::kComma) {
          Next();
          if (Peek().kind == TokenKind::kRParen) break;
          continue;
        }
        break;
      }
    }
    if (!Expect(TokenKind::kRParen, "\",\" or \")\"", "function call")) return nullptr;
    call->pos = {name.pos, PrevEnd()};
    int nargs = static_cast<int>(f->arg_types.size());
    int got = static_cast<int>(call->args.size());
    std::string fname = std::string("\"") + f->name + "\"";
    if (f->variadic == 0) {
      if (got != nargs) {
        return Fail(name.pos, "expected " + std::to_string(nargs) + " argument(s) in call to " +
                                  fname + ", got " + std::to_string(got));
      }
    } else {
      int min = nargs - 1;
      if (got < min) {
        return Fail(name.pos, "expected at least " + std::to_string(min) +
                                  " argument(s) in call to " + fname + ", got " +
                                  std::to_string(got));
      }
      if (f->variadic > 0 && got > min + f->variadic) {
        return Fail(name.pos, "expected at most " + std::to_string(min + f->variadic) +
                                  " argument(s) in call to " + fname + ", got " +
                                  std::to_string(got));
      }
    }
    for (int i = 0; i < got; ++i) {
      ValueType want = f->arg_types[std::min(i, nargs - 1)];
      if (!ExpectType(*call->args[i], want, "call to function " + fname)) return nullptr;
    }
    return call;
  }

  bool ExpectType(const Expr& e, ValueType want, const std::string& context) {
    if (e.Type() != want) {
      Fail(e.pos.start, std::string("expected type ") + ValueTypeName(want) + " in " + context +
                            ", got " + ValueTypeName(e.Type()));
      return false;
    }
    return true;
  }

  ExprPtr ParseAggregate(AggOp op, int start) {
    auto agg = std::make_unique<AggregateExpr>();
    agg->op = op;
    auto grouping = [&]() -> bool {
      if (IsKeyword(Peek(), "by") || IsKeyword(Peek(), "without")) {
        agg->without = IsKeyword(Next(), "without");
        agg->grouping.clear();
        return ParseLabelList(&agg->grouping);
      }
      return true;
    };
    if (!grouping()) return nullptr;
    if (!Expect(TokenKind::kLParen, "\"(\"", "aggregation")) return nullptr;
    std::vector<ExprPtr> args;
    if (Peek().kind != TokenKind::kRParen) {
      while (true) {
        ExprPtr a = ParseBinary(1);
        if (!ok()) return nullptr;
        args.push_back(std::move(a));
        if (Peek().kind != TokenKind::kComma) break;
        Next();
        if (Peek().kind == TokenKind::kRParen) break;
      }
    }
    if (!Expect(TokenKind::kRParen, "\",\" or \")\"", "aggregation")) return nullptr;
    bool had_grouping = agg->without || !agg->grouping.empty();
    std::size_t before = pos_;
    if (!grouping()) return nullptr;
    if (had_grouping && pos_ != before) {
      return Fail(toks_[before].pos, "unexpected grouping after grouping");
    }
    agg->pos = {start, PrevEnd()};
    bool has_param = op == AggOp::kTopK || op == AggOp::kBottomK || op == AggOp::kQuantile ||
                     op == AggOp::kCountValues;
    std::size_t want = has_param ? 2 : 1;
    if (args.size() != want) {
      return Fail(start, "wrong number of arguments for aggregate expression provided, expected " +
                             std::to_string(want) + ", got " + std::to_string(args.size()));
    }
    if (has_param) agg->param = std::move(args[0]);
    agg->expr = std::move(args.back());
    if (!ExpectType(*agg->expr, ValueType::kVector, "aggregation expression")) return nullptr;
    if (agg->param) {
      ValueType want_param = op == AggOp::kCountValues ? ValueType::kString : ValueType::kScalar;
      if (!ExpectType(*agg->param, want_param, "aggregation parameter")) return nullptr;
    }
    return agg;
  }

  bool ParseLabelList(std::vector<std::string>* out) {
    if (!Expect(TokenKind::kLParen, "\"(\"", "grouping opts")) return false;
    while (Peek().kind != TokenKind::kRParen) {
      const Token& t = Next();
      if (t.kind != TokenKind::kIdent || !IsValidLabelName(t.text)) {
        Fail(t.pos, "unexpected " + DescribeToken(t) + " in grouping opts, expected label");
        return false;
      }
      out->push_back(t.text);
      if (Peek().kind == TokenKind::kComma) {
        Next();
      } else if (Peek().kind != TokenKind::kRParen) {
        Fail(Peek().pos,
             "unexpected " + DescribeToken(Peek()) + " in grouping opts, expected \",\" or \")\"");
        return false;
      }
    }
    Next();
    return true;
  }

  ExprPtr ParseSelector(const std::string& name, int start) {
    auto vs = std::make_unique<VectorSelector>();
    vs->name = name;
    if (Peek().kind == TokenKind::kLBrace) {
      Next();
      while (Peek().kind != TokenKind::kRBrace) {
        const Token& ln = Next();
        if (ln.kind != TokenKind::kIdent || !IsValidLabelName(ln.text)) {
          return Fail(ln.pos,
                      "unexpected " + DescribeToken(ln) + " in label matching, expected label");
        }
        const Token& op = Next();
        LabelMatcher::Type type;
        switch (op.kind) {
          case TokenKind::kAssign:
            type = LabelMatcher::Type::kEqual;
            break;
          case TokenKind::kNeq:
            type = LabelMatcher::Type::kNotEqual;
            break;
          case TokenKind::kRegexMatch:
            type = LabelMatcher::Type::kRegexMatch;
            break;
          case TokenKind::kRegexNoMatch:
            type = LabelMatcher::Type::kRegexNoMatch;
            break;
          default:
            return Fail(op.pos, "unexpected " + DescribeToken(op) +
                                    " in label matching, expected label matching operator");
        }
        const Token& val = Next();
        if (val.kind != TokenKind::kString) {
          return Fail(val.pos,
                      "unexpected " + DescribeToken(val) + " in label matching, expected string");
        }
        auto m = LabelMatcher::Make(type, ln.text, val.text);
        if (!m.ok()) return Fail(val.pos, m.status().message());
        vs->matchers.push_back(std::move(*m));
        if (Peek().kind == TokenKind::kComma) {
          Next();
        } else if (Peek().kind != TokenKind::kRBrace) {
          return Fail(Peek().pos, "unexpected " + DescribeToken(Peek()) +
                                      " in label matching, expected \",\" or \"}\"");
        }
      }
      Next();
    }
    vs->pos = {start, PrevEnd()};
    if (!name.empty()) {
      for (const auto& m : vs->matchers) {
        if (m.name() == "__name__") {
          return Fail(start, "metric name must not be set twice: \"" + name + "\" or \"" +
                                 m.value() + "\"");
        }
      }
      vs->matchers.insert(vs->matchers.begin(),
                          *LabelMatcher::Make(LabelMatcher::Type::kEqual, "__name__", name));
    }
    bool non_empty = false;
    for (const auto& m : vs->matchers) non_empty = non_empty || !m.Matches("");
    if (!non_empty) {
      return Fail(start, "vector selector must contain at least one non-empty matcher");
    }
    return vs;
  }

  std::string_view input_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  Status status_;
};

}  // namespace

Result<ExprPtr> ParseExpr(std::string_view input) {
  if (input.size() > kMaxQueryLength) {
    return Status::InvalidArgument("1:1: parse error: query is " + std::to_string(input.size()) +
                                   " bytes long, more than the " + std::to_string(kMaxQueryLength) +
                                   " allowed");
  }
  auto toks = Lex(input);
  if (!toks.ok()) return toks.status();
  Parser p(input, std::move(*toks));
  return p.Run();
}

Result<Labels> ParseSeriesLabels(std::string_view input) {
  auto toks = Lex(input);
  if (!toks.ok()) return toks.status();
  Parser p(input, std::move(*toks));
  auto e = p.RunSelector();
  if (!e.ok()) return e.status();
  const auto& vs = static_cast<const VectorSelector&>(**e);
  Labels out;
  for (const auto& m : vs.matchers) {
    if (m.type() != LabelMatcher::Type::kEqual) {
      return Status::InvalidArgument("invalid series description (only = allowed): " +
                                     std::string(input));
    }
    out.Set(m.name(), m.value());
  }
  return out;
}

}  // namespace vigil::promql
