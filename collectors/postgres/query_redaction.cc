#include "collectors/postgres/query_redaction.h"

#include <vector>

#include "agent/base/log.h"

namespace vigil::collectors {
namespace {

enum Class : unsigned char { kCode = 0, kLiteral = 1, kComment = 2 };

bool IsIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }
bool IsTagChar(unsigned char c) { return IsIdentStart(c) || IsDigit(c); }

// One lexing of `s`, with plain '..' strings honouring backslash escapes or not
// (standard_conforming_strings off or on). Marks each byte's class in `cls`.
class Lexer {
 public:
  Lexer(std::string_view s, bool backslash_in_plain, std::vector<unsigned char>& cls)
      : s_(s), backslash_in_plain_(backslash_in_plain), cls_(cls) {}

  void Run() {
    std::size_t i = 0;
    while (i < s_.size()) i = Token(i);
  }

 private:
  unsigned char At(std::size_t i) const {
    return i < s_.size() ? static_cast<unsigned char>(s_[i]) : 0;
  }
  void Mark(std::size_t from, std::size_t to, Class c) {
    for (std::size_t k = from; k < to && k < s_.size(); ++k) cls_[k] = c;
  }

  // An unterminated comment or quoted identifier: PostgreSQL would read the rest differently,
  // so none of it is shown.
  std::size_t MaskToEnd(std::size_t i) {
    Mark(i, s_.size(), kLiteral);
    return s_.size();
  }

  // Lexes the token at `i`, marks it, returns where the next one starts (always > i).
  std::size_t Token(std::size_t i) {
    unsigned char c = At(i);
    if (c == '-' && At(i + 1) == '-') {  // to the end of the line (\n or \r, as scan.l)
      std::size_t end = s_.find_first_of("\n\r", i);
      end = end == std::string_view::npos ? s_.size() : end;
      Mark(i, end, kComment);
      return end;
    }
    if (c == '/' && At(i + 1) == '*') {
      std::size_t close = s_.find("*/", i + 2);
      if (close == std::string_view::npos) return MaskToEnd(i);
      Mark(i, close + 2, kComment);
      return close + 2;
    }
    if (c == '\'') return Literal(i, i, backslash_in_plain_);
    if (c == '"') {  // quoted identifier, "" doubled
      std::size_t j = i + 1;
      while (j < s_.size()) {
        if (At(j) == '"') {
          if (At(j + 1) != '"') return j + 1;
          ++j;
        }
        ++j;
      }
      return MaskToEnd(i);
    }
    if (c == '$') return Dollar(i);
    if (IsIdentStart(c)) {
      std::size_t j = i + 1;
      while (j < s_.size() && IsIdentChar(At(j))) ++j;
      if (j == i + 1 && At(j) == '\'') {
        switch (c) {  // E'..' B'..' X'..' N'..'
          case 'e':
          case 'E':
            return Literal(i, j, true);
          case 'b':
          case 'B':
          case 'x':
          case 'X':
          case 'n':
          case 'N':
            return Literal(i, j, backslash_in_plain_);
        }
      }
      if (j == i + 1 && (c == 'u' || c == 'U') && At(j) == '&' && At(j + 1) == '\'') {
        return Literal(i, j + 1, backslash_in_plain_);  // U&'..'
      }
      return j;
    }
    if (IsDigit(c) || (c == '.' && IsDigit(At(i + 1)))) return Number(i);
    return i + 1;
  }

  // A string literal whose prefix starts at `start` and whose opening quote is at `quote`.
  std::size_t Literal(std::size_t start, std::size_t quote, bool backslash) {
    std::size_t j = quote + 1;
    std::size_t end = s_.size();
    while (j < s_.size()) {
      unsigned char c = At(j);
      if (backslash && c == '\\') {
        j += 2;
      } else if (c == '\'') {
        if (At(j + 1) != '\'') {
          end = j + 1;
          break;
        }
        j += 2;
      } else {
        ++j;
      }
    }
    Mark(start, end, kLiteral);
    return end;
  }

  // $1 (a parameter), $tag$...$tag$ (a dollar-quoted string), or a lone $.
  std::size_t Dollar(std::size_t i) {
    if (IsDigit(At(i + 1))) {
      std::size_t j = i + 1;
      while (IsDigit(At(j))) ++j;
      return j;
    }
    std::size_t j = i + 1;
    if (IsIdentStart(At(j))) {
      while (IsTagChar(At(j))) ++j;
    }
    if (At(j) != '$') return i + 1;
    std::string_view delimiter = s_.substr(i, j + 1 - i);
    std::size_t close = s_.find(delimiter, j + 1);
    std::size_t end = close == std::string_view::npos ? s_.size() : close + delimiter.size();
    Mark(i, end, kLiteral);
    return end;
  }

  // 42, 1.5, .5, 1e-3, 0x1F, 0o17, 0b101, 1_000 (and any trailing junk: masked too).
  std::size_t Number(std::size_t i) {
    std::size_t j = i;
    while (j < s_.size()) {
      unsigned char c = At(j);
      if (IsDigit(c) || IsIdentStart(c) || c == '.') {
        ++j;
      } else if ((c == '+' || c == '-') && (At(j - 1) == 'e' || At(j - 1) == 'E') &&
                 IsDigit(At(j + 1))) {
        ++j;
      } else {
        break;
      }
    }
    Mark(i, j, kLiteral);
    return j;
  }

  std::string_view s_;
  bool backslash_in_plain_;
  std::vector<unsigned char>& cls_;
};

}  // namespace

std::string RedactQueryText(std::string_view sql) {
  if (sql.size() > kMaxRedactedQueryBytes) sql = sql.substr(0, kMaxRedactedQueryBytes);
  std::vector<unsigned char> conforming(sql.size(), kCode), legacy(sql.size(), kCode);
  Lexer(sql, false, conforming).Run();
  Lexer(sql, true, legacy).Run();
  std::string out;
  out.reserve(sql.size());
  std::size_t i = 0;
  auto literal = [&](std::size_t k) { return conforming[k] == kLiteral || legacy[k] == kLiteral; };
  while (i < sql.size()) {
    if (literal(i)) {
      while (i < sql.size() && literal(i)) ++i;
      out += '?';
    } else if (conforming[i] == kComment) {
      std::size_t j = i;
      while (j < sql.size() && conforming[j] == kComment && !literal(j)) ++j;
      out += RedactSecrets(sql.substr(i, j - i));
      i = j;
    } else {
      out += sql[i++];
    }
  }
  return out;
}

}  // namespace vigil::collectors
