#include "agent/remote/encode.h"

#include <snappy.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>

#include "agent/remote/remote.pb.h"
#include "fake_sender.h"
#include "rules/promql/value.h"

namespace vigil::remote {
namespace {

using testing::Decode;
using testing::Series;

TEST_CASE("encoded WriteRequests decode with the generated classes and snappy", "[remote]") {
  auto a = Series(Labels{{"__name__", "pg_up"}, {"Zone", "z"}, {"target", "main"}});
  auto b = Series(Labels{{"__name__", "redis_up"}, {"target", "cache"}});
  double stale = promql::StaleNaN();
  std::vector<QueuedSample> batch = {
      {a, 1000, 1}, {b, 1000, 0}, {a, 2000, 0.25}, {b, 2000, stale}, {a, 3000, -1e300}};
  std::string body = EncodeWriteRequest(batch);
  CHECK(snappy::IsValidCompressedBuffer(body.data(), body.size()));
  prompb::WriteRequest req = Decode(body);
  REQUIRE(req.timeseries_size() == 2);
  const prompb::TimeSeries& ta = req.timeseries(0);
  // Labels sorted by name, byte order ("Zone" < "__name__" < "target").
  REQUIRE(ta.labels_size() == 3);
  CHECK(ta.labels(0).name() == "Zone");
  CHECK(ta.labels(1).name() == "__name__");
  CHECK(ta.labels(1).value() == "pg_up");
  CHECK(ta.labels(2).name() == "target");
  REQUIRE(ta.samples_size() == 3);
  CHECK(ta.samples(0).timestamp() == 1000);
  CHECK(ta.samples(1).value() == 0.25);
  CHECK(ta.samples(2).timestamp() == 3000);
  CHECK(ta.samples(2).value() == -1e300);
  const prompb::TimeSeries& tb = req.timeseries(1);
  REQUIRE(tb.samples_size() == 2);
  // The staleness marker keeps its exact bits.
  CHECK(std::bit_cast<std::uint64_t>(tb.samples(1).value()) == std::bit_cast<std::uint64_t>(stale));
  CHECK(SerializeWriteRequest(batch).size() > body.size() / 2);
}

TEST_CASE("an empty batch is a valid empty WriteRequest", "[remote]") {
  prompb::WriteRequest req = Decode(EncodeWriteRequest({}));
  CHECK(req.timeseries_size() == 0);
}

}  // namespace
}  // namespace vigil::remote
