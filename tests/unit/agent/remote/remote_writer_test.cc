#include "agent/remote/remote_writer.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "agent/config/config.h"
#include "fake_sender.h"

namespace vigil::remote {
namespace {

using testing::Decode;
using testing::Eventually;
using testing::FakeSender;

TEST_CASE("remote writer adds external labels, relabels, and counts relabel drops", "[remote]") {
  auto shared = std::make_shared<FakeSender::Shared>();
  RemoteWriteConfig c;
  c.url = "http://127.0.0.1:1/api/v1/write";
  c.name = "r";
  c.queue.batch_send_deadline = Duration(10);
  RelabelRule drop;
  drop.action = RelabelAction::kDrop;
  drop.source_labels = {"__name__"};
  drop.regex = "go_.*";
  RelabelRule rename;
  rename.source_labels = {"target"};
  rename.target_label = "instance";
  c.write_relabel_configs = {drop, rename};
  RemoteWriter w(
      {c}, Labels{{"env", "prod"}, {"target", "external-loses"}},
      [shared](const RemoteWriteConfig&) { return std::make_unique<FakeSender>(shared); });
  Labels kept{{"__name__", "pg_up"}, {"target", "main"}};
  Labels dropped{{"__name__", "go_threads"}};
  std::vector<WriterSample> samples = {{&kept, 1000, 1}, {&dropped, 1000, 7}, {&kept, 2000, 0}};
  w.Append(samples);
  REQUIRE(Eventually([&] { return w.Stats()[0].samples_sent == 2; }));
  CHECK(w.Stats()[0].samples_dropped == 1);
  std::lock_guard lock(shared->mu);
  REQUIRE(shared->bodies.size() == 1);
  prompb::WriteRequest req = Decode(shared->bodies[0]);
  REQUIRE(req.timeseries_size() == 1);
  Labels got;
  for (const prompb::Label& l : req.timeseries(0).labels()) got.Set(l.name(), l.value());
  CHECK(got ==
        Labels{{"__name__", "pg_up"}, {"env", "prod"}, {"instance", "main"}, {"target", "main"}});
  CHECK(req.timeseries(0).samples_size() == 2);
}

TEST_CASE("remote_write config parses with Prometheus's keys", "[remote]") {
  std::string dir = std::filesystem::temp_directory_path() / "vigil-remote-config-test";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/token") << "s3cret\n"; }
  std::string yaml = R"(remote_write:
  - url: https://mimir.example:9009/api/v1/push
    name: mimir
    remote_timeout: 5s
    bearer_token_file: )" +
                     dir + R"(/token
    tls_config: {ca_file: /etc/ssl/ca.pem, insecure_skip_verify: false}
    write_relabel_configs:
      - {source_labels: [__name__], regex: "pg_stat_statements_.*", action: drop}
      - {action: labeldrop, regex: "query_?id"}
    queue_config: {capacity: 1000, max_samples_per_send: 100, batch_send_deadline: 1s,
                   min_shards: 1, max_shards: 8, min_backoff: 100ms, max_backoff: 10s}
  - url: http://127.0.0.1:9090/api/v1/write
    basic_auth: {username: u, password: p}
)";
  Result<Config> c = ParseConfig(yaml, "vigil.yml");
  REQUIRE(c.ok());
  REQUIRE(c->remote_write.size() == 2);
  const RemoteWriteConfig& m = c->remote_write[0];
  CHECK(m.name == "mimir");
  CHECK(m.timeout == Duration(5000));
  CHECK(m.bearer_token == "s3cret");
  CHECK(m.tls.ca_file == "/etc/ssl/ca.pem");
  REQUIRE(m.write_relabel_configs.size() == 2);
  CHECK(m.write_relabel_configs[1].action == RelabelAction::kLabelDrop);
  CHECK(m.queue.capacity == 1000);
  CHECK(m.queue.max_shards == 8);
  CHECK(m.queue.min_backoff == Duration(100));
  CHECK(c->remote_write[1].name == "127.0.0.1:9090/api/v1/write");
  CHECK(c->remote_write[1].basic_auth_password == "p");
}

TEST_CASE("remote_write config errors name file:line:column", "[remote]") {
  std::string yaml = R"(remote_write:
  - url: http://user:pw@127.0.0.1:9090/api/v1/write
    queue_config: {capacity: 0, shards: 3}
    write_relabel_configs:
      - {regex: "(", target_label: x}
      - {action: hashmod}
  - url: ftp://x
)";
  Result<Config> c = ParseConfig(yaml, "vigil.yml");
  REQUIRE_FALSE(c.ok());
  std::string m = c.status().message();
  CHECK_THAT(m, Catch::Contains("vigil.yml:2:10"));
  CHECK_THAT(m, Catch::Contains("credentials in the URL"));
  CHECK_THAT(m, Catch::Contains("unknown key \"shards\""));
  CHECK_THAT(m, Catch::Contains("invalid regex"));
  CHECK_THAT(m, Catch::Contains("unsupported action \"hashmod\""));
  CHECK_THAT(m, Catch::Contains("vigil.yml:7:10"));
  CHECK_THAT(m, Catch::Contains("scheme must be http or https"));
  CHECK(m.find("pw@") == std::string::npos);
}

}  // namespace
}  // namespace vigil::remote
