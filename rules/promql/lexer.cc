#include "rules/promql/lexer.h"

#include <cctype>

namespace vigil::promql {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

void AppendUtf8(std::string* out, unsigned cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xc0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xe0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PositionString(std::string_view input, int pos) {
  int line = 1, col = 1;
  for (int i = 0; i < pos && i < static_cast<int>(input.size()); ++i) {
    if (input[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

std::string DescribeToken(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEof:
      return "end of input";
    case TokenKind::kIdent:
      return "identifier \"" + t.text + "\"";
    case TokenKind::kNumber:
      return "number \"" + t.text + "\"";
    case TokenKind::kDuration:
      return "duration \"" + t.text + "\"";
    case TokenKind::kString:
      return "string";
    default:
      return "\"" + t.text + "\"";
  }
}

Result<std::vector<Token>> Lex(std::string_view in) {
  std::vector<Token> out;
  const int n = static_cast<int>(in.size());
  int i = 0;
  int paren_depth = 0;
  bool in_brackets = false;  // inside `[...]` a ':' separates a subquery's range and step
  auto err = [&](int pos, const std::string& msg) {
    Token e;
    e.kind = TokenKind::kError;
    e.text = msg;
    e.pos = pos;
    e.end = pos;
    out.push_back(std::move(e));
    return out;
  };
  while (true) {
    while (i < n && (std::isspace(static_cast<unsigned char>(in[i])) || in[i] == '#')) {
      if (in[i] == '#') {
        while (i < n && in[i] != '\n') ++i;
      } else {
        ++i;
      }
    }
    Token t;
    t.pos = i;
    if (i >= n) {
      if (paren_depth > 0) return err(n, "unclosed left parenthesis");
      t.kind = TokenKind::kEof;
      t.end = n;
      out.push_back(t);
      return out;
    }
    char c = in[i];
    auto two = [&](char next) { return i + 1 < n && in[i + 1] == next; };
    auto punct = [&](TokenKind k, int len) {
      t.kind = k;
      t.text = std::string(in.substr(i, len));
      i += len;
    };
    if (c == ':' && in_brackets) {
      t.kind = TokenKind::kColon;
      t.text = ":";
      ++i;
    } else if (IsIdentStart(c)) {
      int j = i;
      while (j < n && IsIdentChar(in[j])) ++j;
      t.kind = TokenKind::kIdent;
      t.text = std::string(in.substr(i, j - i));
      i = j;
    } else if (IsDigit(c) || (c == '.' && i + 1 < n && IsDigit(in[i + 1]))) {
      // A duration is digits followed by a unit, repeated ("1h30m"); anything else is a number.
      int j = i;
      while (j < n && IsDigit(in[j])) ++j;
      bool duration = false;
      if (j > i && j < n && std::string_view("smhdwy").find(in[j]) != std::string_view::npos) {
        int k = i;
        duration = true;
        while (k < n && IsDigit(in[k])) {
          while (k < n && IsDigit(in[k])) ++k;
          if (k + 1 < n && in[k] == 'm' && in[k + 1] == 's') {
            k += 2;
          } else if (k < n && std::string_view("smhdwy").find(in[k]) != std::string_view::npos) {
            ++k;
          } else {
            duration = false;
            break;
          }
        }
        if (duration && k < n && IsIdentChar(in[k]) && in[k] != ':') duration = false;
        if (duration) {
          t.kind = TokenKind::kDuration;
          t.text = std::string(in.substr(i, k - i));
          i = k;
        }
      }
      if (!duration) {
        int k = i;
        if (c == '0' && k + 1 < n && (in[k + 1] == 'x' || in[k + 1] == 'X')) {
          k += 2;
          while (k < n && HexVal(in[k]) >= 0) ++k;
        } else {
          while (k < n && IsDigit(in[k])) ++k;
          if (k < n && in[k] == '.') {
            ++k;
            while (k < n && IsDigit(in[k])) ++k;
          }
          if (k < n && (in[k] == 'e' || in[k] == 'E')) {
            int e = k + 1;
            if (e < n && (in[e] == '+' || in[e] == '-')) ++e;
            if (e < n && IsDigit(in[e])) {
              k = e;
              while (k < n && IsDigit(in[k])) ++k;
            }
          }
        }
        if (k < n && IsIdentChar(in[k])) {
          return err(
              i, "bad number or duration syntax: \"" + std::string(in.substr(i, k + 1 - i)) + "\"");
        }
        t.kind = TokenKind::kNumber;
        t.text = std::string(in.substr(i, k - i));
        i = k;
      }
    } else if (c == '"' || c == '\'') {
      std::string val;
      int j = i + 1;
      bool closed = false;
      while (j < n) {
        char d = in[j];
        if (d == c) {
          closed = true;
          ++j;
          break;
        }
        if (d == '\n') break;
        if (d != '\\') {
          val += d;
          ++j;
          continue;
        }
        if (j + 1 >= n) break;
        char e = in[j + 1];
        j += 2;
        switch (e) {
          case 'a':
            val += '\a';
            break;
          case 'b':
            val += '\b';
            break;
          case 'f':
            val += '\f';
            break;
          case 'n':
            val += '\n';
            break;
          case 'r':
            val += '\r';
            break;
          case 't':
            val += '\t';
            break;
          case 'v':
            val += '\v';
            break;
          case '\\':
            val += '\\';
            break;
          case '\'':
          case '"':
            if (e != c) return err(j - 2, "unknown escape sequence");
            val += e;
            break;
          case 'x':
          case 'u':
          case 'U': {
            int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            unsigned cp = 0;
            for (int q = 0; q < len; ++q) {
              if (j >= n || HexVal(in[j]) < 0)
                return err(j, "illegal character in escape sequence");
              cp = cp * 16 + HexVal(in[j++]);
            }
            if (e == 'x') {
              val += static_cast<char>(cp);
            } else {
              if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
                return err(j, "escape sequence is an invalid Unicode code point");
              }
              AppendUtf8(&val, cp);
            }
            break;
          }
          default:
            if (e >= '0' && e <= '7') {
              unsigned cp = e - '0';
              for (int q = 0; q < 2; ++q) {
                if (j >= n || in[j] < '0' || in[j] > '7') {
                  return err(j, "illegal character in escape sequence");
                }
                cp = cp * 8 + (in[j++] - '0');
              }
              if (cp > 255) return err(j, "octal escape value > 255");
              val += static_cast<char>(cp);
            } else {
              return err(j - 2, "unknown escape sequence");
            }
        }
      }
      if (!closed) return err(i, "unterminated quoted string");
      t.kind = TokenKind::kString;
      t.text = val;
      i = j;
    } else if (c == '`') {
      int j = i + 1;
      while (j < n && in[j] != '`') ++j;
      if (j >= n) return err(i, "unterminated raw string");
      t.kind = TokenKind::kString;
      t.text = std::string(in.substr(i + 1, j - i - 1));
      i = j + 1;
    } else {
      switch (c) {
        case '(':
          ++paren_depth;
          punct(TokenKind::kLParen, 1);
          break;
        case ')':
          if (--paren_depth < 0) return err(i, "unexpected right parenthesis ')'");
          punct(TokenKind::kRParen, 1);
          break;
        case '{':
          punct(TokenKind::kLBrace, 1);
          break;
        case '}':
          punct(TokenKind::kRBrace, 1);
          break;
        case '[':
          in_brackets = true;
          punct(TokenKind::kLBracket, 1);
          break;
        case ']':
          in_brackets = false;
          punct(TokenKind::kRBracket, 1);
          break;
        case '@':
          punct(TokenKind::kAt, 1);
          break;
        case ',':
          punct(TokenKind::kComma, 1);
          break;
        case ':':
          punct(TokenKind::kColon, 1);
          break;
        case '+':
          punct(TokenKind::kAdd, 1);
          break;
        case '-':
          punct(TokenKind::kSub, 1);
          break;
        case '*':
          punct(TokenKind::kMul, 1);
          break;
        case '/':
          punct(TokenKind::kDiv, 1);
          break;
        case '%':
          punct(TokenKind::kMod, 1);
          break;
        case '^':
          punct(TokenKind::kPow, 1);
          break;
        case '=':
          if (two('='))
            punct(TokenKind::kEql, 2);
          else if (two('~'))
            punct(TokenKind::kRegexMatch, 2);
          else
            punct(TokenKind::kAssign, 1);
          break;
        case '!':
          if (two('='))
            punct(TokenKind::kNeq, 2);
          else if (two('~'))
            punct(TokenKind::kRegexNoMatch, 2);
          else
            return err(i, "unexpected character after '!': " +
                              std::string(1, i + 1 < n ? in[i + 1] : ' '));
          break;
        case '<':
          if (two('='))
            punct(TokenKind::kLte, 2);
          else
            punct(TokenKind::kLss, 1);
          break;
        case '>':
          if (two('='))
            punct(TokenKind::kGte, 2);
          else
            punct(TokenKind::kGtr, 1);
          break;
        default:
          return err(i, "unexpected character: '" + std::string(1, c) + "'");
      }
    }
    t.end = i;
    out.push_back(std::move(t));
  }
}

}  // namespace vigil::promql
