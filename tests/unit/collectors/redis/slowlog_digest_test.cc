#include "collectors/redis/slowlog_digest.h"

#include <catch2/catch.hpp>

namespace vigil::collectors {
namespace {

SlowlogEntry E(std::int64_t id, std::int64_t us, std::string cmd) {
  return SlowlogEntry{id, 1700000000 + id, us, std::move(cmd)};
}

TEST_CASE("slowlog entries are counted once across overlapping polls", "[redis]") {
  SlowlogDigest d;
  CHECK_FALSE(d.watermark().has_value());
  // SLOWLOG GET returns the newest first.
  d.Update("run1", {E(2, 3000, "get"), E(1, 1000, "get"), E(0, 500000, "keys")});
  CHECK(d.by_command().at("get").count == 2);
  CHECK(d.by_command().at("get").duration_seconds == Approx(0.004));
  CHECK(d.by_command().at("keys").count == 1);
  CHECK(d.watermark() == 2);
  CHECK(d.last_duration_seconds() == Approx(0.003));
  d.Update("run1", {E(3, 2000, "set"), E(2, 3000, "get"), E(1, 1000, "get")});
  CHECK(d.by_command().at("get").count == 2);
  CHECK(d.by_command().at("set").count == 1);
  d.Update("run1", {E(3, 2000, "set")});  // nothing new
  CHECK(d.by_command().at("set").count == 1);
  d.Update("run1", {});  // SLOWLOG RESET: ids keep growing on the server, watermark stays
  CHECK(d.watermark() == 3);
  CHECK(d.missed() == 0);
}

TEST_CASE("a gap in slowlog ids counts missed entries", "[redis]") {
  SlowlogDigest d;
  d.Update("r", {E(10, 1, "get")});
  d.Update("r", {E(15, 1, "get"), E(14, 1, "get")});  // 11..13 rotated out
  CHECK(d.missed() == 3);
  CHECK(d.by_command().at("get").count == 3);
}

TEST_CASE("a restarted server (new run_id) restarts ids, totals keep growing", "[redis]") {
  SlowlogDigest d;
  d.Update("old", {E(7, 1000, "get"), E(6, 1000, "get")});
  CHECK(d.by_command().at("get").count == 2);
  d.Update("new", {E(0, 1000, "get")});
  CHECK(d.by_command().at("get").count == 3);
  CHECK(d.watermark() == 0);
  CHECK(d.missed() == 0);
}

}  // namespace
}  // namespace vigil::collectors
