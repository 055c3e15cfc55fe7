#include "service/shop_config.h"

#include <catch2/catch.hpp>
#include <cstdlib>

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
  CHECK_FALSE(ParseShopFlags({"--listen=:8080"}, &c).ok());
  CHECK_FALSE(ParseShopFlags({"--redis=127.0.0.1:65536"}, &c).ok());
  REQUIRE(ParseShopFlags({"--listen=[::1]:8081"}, &c).ok());
  CHECK(c.listen_host == "::1");
  CHECK(c.listen_port == 8081);
  CHECK_FALSE(ParseShopFlags({"--pool-min=5", "--pool-max=2"}, &c).ok());
  CHECK(ParseShopFlags({"--help"}, &c).code() == Status::Code::kNotFound);
}

TEST_CASE("shop listens on loopback and opens fault injection only with its own flag") {
  ShopConfig defaults;
  REQUIRE(ParseShopFlags({}, &defaults).ok());
  CHECK(defaults.listen_host == "127.0.0.1");
  CHECK_FALSE(defaults.admin_endpoints);
  CHECK_FALSE(defaults.fault_injection);
  ShopConfig admin;
  REQUIRE(ParseShopFlags({"--enable-admin"}, &admin).ok());
  CHECK(admin.admin_endpoints);
  CHECK_FALSE(admin.fault_injection);  // the cache-flush switch does not open the faults
  ShopConfig faults;
  REQUIRE(ParseShopFlags({"--enable-fault-injection"}, &faults).ok());
  CHECK(faults.fault_injection);
  CHECK(faults.Describe().find("fault_injection=1") != std::string::npos);
  setenv("SHOP_ENABLE_FAULT_INJECTION", "1", 1);
  ShopConfig from_env;
  REQUIRE(ParseShopFlags({}, &from_env).ok());
  unsetenv("SHOP_ENABLE_FAULT_INJECTION");
  CHECK(from_env.fault_injection);
}

TEST_CASE("the config description never shows the DSN") {
  ShopConfig c;
  REQUIRE(ParseShopFlags({"--pg-dsn=host=db user=shop password=s3cret"}, &c).ok());
  CHECK(c.Describe().find("s3cret") == std::string::npos);
}

}  // namespace
}  // namespace vigil::shop
