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
