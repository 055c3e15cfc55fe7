#include "collectors/postgres/query_redaction.h"

#include <catch2/catch.hpp>
#include <string>

namespace vigil::collectors {
namespace {

// The redacted text must not hold `secret` anywhere.
void CheckHidden(std::string_view sql, std::string_view secret) {
  std::string out = RedactQueryText(sql);
  INFO(sql << " -> " << out);
  CHECK(out.find(secret) == std::string::npos);
}

}  // namespace

TEST_CASE("Role passwords in every spelling are masked", "[redaction]") {
  CHECK(RedactQueryText("CREATE ROLE app PASSWORD 'hunter2'") == "CREATE ROLE app PASSWORD ?");
  CHECK(RedactQueryText("alter user app with encrypted password 'md5abc'") ==
        "alter user app with encrypted password ?");
  CHECK(RedactQueryText("ALTER ROLE app /* c */ PASSWORD\n'hunter2' VALID UNTIL 'infinity'") ==
        "ALTER ROLE app /* c */ PASSWORD\n? VALID UNTIL ?");
  CHECK(RedactQueryText("ALTER ROLE app PASSWORD 'it''s a secret'") == "ALTER ROLE app PASSWORD ?");
  CHECK(RedactQueryText("ALTER ROLE app PASSWORD E'it\\'s a secret'") ==
        "ALTER ROLE app PASSWORD ?");
  CHECK(RedactQueryText("ALTER ROLE app PASSWORD $$hunter2$$") == "ALTER ROLE app PASSWORD ?");
  CHECK(RedactQueryText("ALTER ROLE app PASSWORD $pw$it's $$ hunter2$pw$ LOGIN") ==
        "ALTER ROLE app PASSWORD ? LOGIN");
  CHECK(RedactQueryText("ALTER ROLE app PASSWORD U&'hunter\\0032'") == "ALTER ROLE app PASSWORD ?");
  CHECK(RedactQueryText("ALTER ROLE app PASSWORD NULL") == "ALTER ROLE app PASSWORD NULL");
  // What psql's \password sends: the verifier, computed on the client.
  CheckHidden("ALTER USER app PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy'", "c2FsdA");
}

TEST_CASE("Options, settings and programs keep their shape without their values", "[redaction]") {
  CHECK(RedactQueryText("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', password 'pw')") ==
        "CREATE USER MAPPING FOR app SERVER s OPTIONS (user ?, password ?)");
  CheckHidden(
      "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', password 'pw1')",
      "pw1");
  CHECK(RedactQueryText("ALTER SYSTEM SET primary_conninfo = 'host=h password=pw2'") ==
        "ALTER SYSTEM SET primary_conninfo = ?");
  CHECK(RedactQueryText("COPY t FROM PROGRAM 'curl -H \"token: tk\" http://x'") ==
        "COPY t FROM PROGRAM ?");
  CheckHidden("DO $body$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''pw3'''; END $body$", "pw3");
}

TEST_CASE("Activity text: every literal is masked, identifiers and parameters stay",
          "[redaction]") {
  CHECK(RedactQueryText("SELECT * FROM t1 WHERE token = 'abc' AND n > 42 AND f < 1.5e-3") ==
        "SELECT * FROM t1 WHERE token = ? AND n > ? AND f < ?");
  CHECK(RedactQueryText("SELECT pg_sleep(30), 'x' FROM \"Odd \"\" 'name'\"") ==
        "SELECT pg_sleep(?), ? FROM \"Odd \"\" 'name'\"");
  CHECK(RedactQueryText("SELECT $1, a$b, .5, 0x1F, 1_000, -7") == "SELECT $1, a$b, ?, ?, ?, -?");
  CHECK(RedactQueryText("SELECT x::numeric(10,2), B'101', X'ff', N'n', E'\\x41'") ==
        "SELECT x::numeric(?,?), ?, ?, ?, ?");
  CHECK(RedactQueryText("SELECT interval '1 day'") == "SELECT interval ?");
  CHECK(RedactQueryText("SELECT 'a' 'b'") == "SELECT ? ?");
  CHECK(RedactQueryText("").empty());
}

TEST_CASE("Comments stay, their secrets do not", "[redaction]") {
  CHECK(RedactQueryText("/* action='show' */ SELECT 1") == "/* action='show' */ SELECT ?");
  CHECK(RedactQueryText("SELECT 1 -- password=pw4\nFROM t") == "SELECT ? -- password=***\nFROM t");
  CheckHidden("/* postgres://u:pw5@h/db */ SELECT 1", "pw5");
  // A quote in a comment opens no literal, a comment marker in a literal opens no comment.
  CHECK(RedactQueryText("SELECT 1 -- it's\n, 'pw6'") == "SELECT ? -- it's\n, ?");
  CHECK(RedactQueryText("SELECT '-- pw7', '/* pw8 */'") == "SELECT ?, ?");
  // PostgreSQL ends a -- comment at \r too: what follows is code, and its literal masked.
  CHECK(RedactQueryText("SELECT 1 --c\r'pw9'") == "SELECT ? --c\r?");
}

TEST_CASE("What the lexer cannot decide is masked", "[redaction]") {
  // standard_conforming_strings off: \' escapes, so the literal runs on; on: it ends at \'.
  // Both readings are masked.
  CheckHidden("SELECT 'a\\', 'pw10'", "pw10");
  CheckHidden("SELECT 'a\\' , pw11 '", "pw11");
  // Nested block comments: after the inner */ the lexer reads code, and masks the literal.
  CHECK(RedactQueryText("/* a /* b */ 'pw12' */ SELECT 1") == "/* a /* b */ ? */ SELECT ?");
  // Unterminated (cut by left(query, 500), or rejected by the server): masked to the end.
  CHECK(RedactQueryText("ALTER ROLE a PASSWORD 'hunter2-sec") == "ALTER ROLE a PASSWORD ?");
  CHECK(RedactQueryText("ALTER ROLE a PASSWORD $x$hunter2") == "ALTER ROLE a PASSWORD ?");
  CHECK(RedactQueryText("SELECT \"abc 'pw13'") == "SELECT ?");
  CHECK(RedactQueryText("SELECT 1 /* 'pw14'") == "SELECT ? ?");
}

TEST_CASE("Redaction is bounded in size and linear on hostile input", "[redaction]") {
  std::string huge(kMaxRedactedQueryBytes * 4, '\'');
  CHECK(RedactQueryText(huge) == "?");
  auto repeat = [](std::string_view unit) {
    std::string text;
    while (text.size() + unit.size() + 8 <= kMaxRedactedQueryBytes) text += unit;
    return text;
  };
  // Inputs a rescanning lexer would search to the end once per token (quadratic): an
  // unterminated token masks the rest at once.
  CHECK(RedactQueryText(repeat("/* ")) == "?");
  CHECK(RedactQueryText("x \"" + repeat(" \"\"")) == "x ?");
  CHECK(RedactQueryText("x $a$" + repeat(" $b$")) == "x ?");
  CHECK(RedactQueryText(repeat("-- 'a'\n")) == repeat("-- 'a'\n"));
  CHECK(RedactQueryText(repeat("t1.c2 ")) == repeat("t1.c2 "));
}

}  // namespace vigil::collectors
