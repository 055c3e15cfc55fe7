// Lexer: splits PromQL text into tokens, each with its byte offset.
//
// Stateless apart from the input; one instance per thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"

namespace vigil::promql {

enum class TokenKind {
  kEof,
  kError,
  kIdent,
  kNumber,
  kDuration,
  kString,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kComma,
  kColon,
  kAssign,
  kEql,
  kNeq,
  kRegexMatch,
  kRegexNoMatch,
  kLss,
  kLte,
  kGtr,
  kGte,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAt,
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  std::string text;  // source text; for strings, the unescaped value
  int pos = 0;       // byte offset in the input
  int end = 0;
};

// Tokenizes `input`. The last token is kEof, or kError (text = the message, pos = where) when
// the input cannot be tokenized; the parser reports it when it reaches it, so earlier syntax
// errors win as in Prometheus' streaming lexer. Never fails today; Result for future limits.
Result<std::vector<Token>> Lex(std::string_view input);

// "line:col" (both 1-based) of byte offset `pos` in `input`.
std::string PositionString(std::string_view input, int pos);
// Human-readable description of a token for error messages.
std::string DescribeToken(const Token& t);

}  // namespace vigil::promql
