// RedactQueryText: the statement shape of SQL text with every literal masked, for query text
// that vigil shows (pg_stat_statements texts, pg_stat_activity.query in the blocking report).
//
// pg_stat_statements keeps utility statements verbatim (`CREATE ROLE x PASSWORD 'secret'`,
// `CREATE USER MAPPING ... OPTIONS (password '...')`, `ALTER SYSTEM SET primary_conninfo = '...'`,
// `DO $$ ... $$`), and pg_stat_activity.query is the raw text of a statement, where any constant
// can be a secret (`WHERE token = 'abc'`). So, as Datadog's and pganalyze's obfuscators do, every
// literal becomes `?`, whatever keyword precedes it: string constants in all their forms ('..'
// with '' doubled, E'..' with backslash escapes, B'..', X'..', N'..', U&'..', dollar-quoted
// $tag$..$tag$ bodies) and numeric constants (42, 1.5e-3, 0x1F, 1_000). Kept verbatim: keywords,
// identifiers (plain and "double-quoted"), operators, parameters ($1) and comments (tools such
// as sqlcommenter put the request's context there); comment text passes through RedactSecrets,
// so `password=...` and URL passwords inside a comment are masked too.
//
// The lexer follows PostgreSQL's (scan.l) for where tokens start and end. Two cases it cannot
// decide from the text alone are resolved towards masking more:
//   - whether a backslash escapes the next character in a plain '..' string depends on the
//     session's standard_conforming_strings: the text is lexed under both settings and a byte
//     is masked when either reading puts it inside a literal;
//   - block comments are not nested: after the first `*/` the lexer is back in code, so text
//     PostgreSQL would still read as a nested comment is lexed (and its literals masked).
// An unterminated literal, quoted identifier or block comment (text cut by left(query, n), or a
// statement PostgreSQL rejected) runs to the end of the text, and all of it is masked.
//
// Linear in the input: two passes; each token is scanned once and every search for a closing
// delimiter that fails ends the pass. Input beyond kMaxRedactedQueryBytes is
// dropped first. Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil::collectors {

// Hard bound on the text RedactQueryText looks at (callers cut shorter: pg_stat_activity texts
// at 500 characters in SQL, pg_stat_statements texts at StatementsOptions::full_text_length).
inline constexpr std::size_t kMaxRedactedQueryBytes = 64 * 1024;

// `sql` with each literal replaced by `?` (a run of adjacent literals by one `?`).
std::string RedactQueryText(std::string_view sql);

}  // namespace vigil::collectors
