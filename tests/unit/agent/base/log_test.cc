#include "agent/base/log.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

TEST_CASE("Secrets are redacted from free text", "[log]") {
  CHECK(RedactSecrets("host=db password=hunter2 user=x") == "host=db password=*** user=x");
  CHECK(RedactSecrets("host=db password='a b c' user=x") == "host=db password=*** user=x");
  CHECK(RedactSecrets("postgres://vigil:hunter2@127.0.0.1:5432/shop") ==
        "postgres://vigil:***@127.0.0.1:5432/shop");
  CHECK(RedactSecrets("redis://default@127.0.0.1") == "redis://default@127.0.0.1");
  CHECK(RedactSecrets("Authorization: Basic dXNlcjpwYXNz\nnext") == "Authorization: ***\nnext");
  CHECK(RedactSecrets("PASSWORD: hunter2") == "PASSWORD: ***");
  CHECK(RedactSecrets("no secrets here") == "no secrets here");
  // Escaped quotes, an unescaped '@' in a password, URLs that end at a quote or a query.
  CHECK(RedactSecrets("password='it\\'s pw1' user=x") == "password=*** user=x");
  CHECK(RedactSecrets("postgres://u:p@ss-pw2@h/db") == "postgres://u:***@h/db");
  CHECK(RedactSecrets("url=\"http://u:pw3@h\" next@x") == "url=\"http://u:***@h\" next@x");
  CHECK(RedactSecrets("http://h/p?u=a@b") == "http://h/p?u=a@b");
  // Linear: many scheme separators without userinfo.
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "://x";
  CHECK(RedactSecrets(many) == many);
}

TEST_CASE("Log lines are logfmt, filtered by level, and never show a password", "[log]") {
  std::string out;
  SetLogSink(&out);
  SetLogLevel(LogLevel::kInfo);
  LogDebug("hidden");
  LogWarn("connect failed", {{"target", "main"}, {"dsn", "host=x password=hunter2"}});
  SetLogSink(nullptr);
  CHECK(out.find("hidden") == std::string::npos);
  CHECK(out.find("level=warn msg=\"connect failed\" target=main dsn=\"host=x password=***\"") !=
        std::string::npos);
  CHECK(out.find("hunter2") == std::string::npos);
  LogLevel level;
  REQUIRE(ParseLogLevel("debug", &level));
  CHECK(level == LogLevel::kDebug);
  CHECK_FALSE(ParseLogLevel("verbose", &level));
}

}  // namespace
}  // namespace vigil
