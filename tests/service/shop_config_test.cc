#include "service/shop_config.h"

#include <catch2/catch.hpp>

namespace vigil::shop {
namespace {

TEST_CASE("shop flags parse into the config") {
  ShopConfig c;
  Status st = ParseShopFlags(
      {"--listen=0.0.0.0:9000", "--pool-max", "4", "--pool-min=1", "--pool-acquire-timeout-ms=250",
       "--no-instrumentation", "--redis=10.0.0.2:6380", "--keep-alive-max-requests=1"},
      &c);
  REQUIRE(st.ok());
  CHECK(c.listen_host == "0.0.0.0");
  CHECK(c.listen_port == 9000);
  CHECK(c.pool.max_size == 4);
  CHECK(c.pool.min_size == 1);
  CHECK(c.pool.acquire_timeout.count() == 250);
  CHECK_FALSE(c.instrumentation);
  CHECK(c.redis.port == 6380);
  CHECK(c.keep_alive_max_requests == 1);
}

TEST_CASE("shop flags name what is wrong") {
  ShopConfig c;
  Status st = ParseShopFlags({"--pool-max=0"}, &c);
  CHECK(st.message().find("--pool-max") != std::string::npos);
  CHECK(ParseShopFlags({"--bogus=1"}, &c).message().find("--bogus") != std::string::npos);
  CHECK_FALSE(ParseShopFlags({"--listen=nohost"}, &c).ok());
  CHECK_FALSE(ParseShopFlags({"--pool-min=5", "--pool-max=2"}, &c).ok());
  CHECK(ParseShopFlags({"--help"}, &c).code() == Status::Code::kNotFound);
}

TEST_CASE("the config description never shows the DSN") {
  ShopConfig c;
  REQUIRE(ParseShopFlags({"--pg-dsn=host=db user=shop password=s3cret"}, &c).ok());
  CHECK(c.Describe().find("s3cret") == std::string::npos);
}

}  // namespace
}  // namespace vigil::shop
