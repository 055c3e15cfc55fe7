// The floor: the least a client can do to get per-statement deltas from pg_stat_statements.
// Reads pg_stat_statements(false) (the same columns vigil reads) over libpq, parses every cell
// and diffs the counters in a hash map keyed by (userid, dbid, queryid, toplevel), ITERATIONS
// times, and prints its own CPU per read (getrusage) and wall time per read.
//
//   floor CONNINFO ITERATIONS text|binary [PAUSE_MS]
//
// Built by bench/exporters/run.sh with g++ -O2; not part of the CMake build.
#include <arpa/inet.h>
#include <endian.h>
#include <libpq-fe.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>

namespace {

constexpr const char* kQuery =
    "SELECT userid, dbid, queryid, toplevel, calls, total_exec_time, rows, shared_blks_hit, "
    "shared_blks_read, shared_blks_written, temp_blks_read, temp_blks_written, blk_read_time, "
    "blk_write_time FROM pg_stat_statements(false) WHERE queryid IS NOT NULL";
constexpr int kCounters = 10;

struct Key {
  std::uint32_t userid, dbid;
  std::int64_t queryid;
  bool toplevel;
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  std::size_t operator()(const Key& k) const {
    std::uint64_t h = static_cast<std::uint64_t>(k.queryid) * 0x9E3779B97F4A7C15ull;
    return h ^ ((static_cast<std::uint64_t>(k.dbid) << 32 | k.userid) + k.toplevel);
  }
};
struct Counters {
  double v[kCounters];
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::uint32_t Be32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}
std::int64_t Be64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return static_cast<std::int64_t>(be64toh(v));
}
double BeDouble(const char* p) {
  std::uint64_t v = static_cast<std::uint64_t>(Be64(p));
  double d;
  std::memcpy(&d, &v, 8);
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: floor CONNINFO ITERATIONS text|binary [PAUSE_MS]\n");
    return 2;
  }
  int iterations = std::atoi(argv[2]);
  bool binary = std::strcmp(argv[3], "binary") == 0;
  int pause_ms = argc > 4 ? std::atoi(argv[4]) : 0;
  PGconn* conn = PQconnectdb(argv[1]);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::fprintf(stderr, "floor: %s", PQerrorMessage(conn));
    return 1;
  }
  std::unordered_map<Key, Counters, KeyHash> previous;
  double delta_sum = 0;  // keeps the diff from being optimized away
  std::size_t rows_seen = 0;
  double cpu = 0, wall = 0;
  for (int it = 0; it < iterations; ++it) {
    double c0 = CpuSeconds();
    auto w0 = std::chrono::steady_clock::now();
    PGresult* res =
        PQexecParams(conn, kQuery, 0, nullptr, nullptr, nullptr, nullptr, binary ? 1 : 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      std::fprintf(stderr, "floor: %s", PQresultErrorMessage(res));
      return 1;
    }
    int n = PQntuples(res);
    std::unordered_map<Key, Counters, KeyHash> current;
    current.reserve(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
      Key k{};
      Counters c{};
      if (binary) {
        k.userid = Be32(PQgetvalue(res, r, 0));
        k.dbid = Be32(PQgetvalue(res, r, 1));
        k.queryid = Be64(PQgetvalue(res, r, 2));
        k.toplevel = PQgetvalue(res, r, 3)[0] != 0;
        for (int f = 0; f < kCounters; ++f) {
          const char* p = PQgetvalue(res, r, 4 + f);
          // int8 counters and float8 times: the column type decides.
          c.v[f] = PQftype(res, 4 + f) == 701 ? BeDouble(p) : static_cast<double>(Be64(p));
        }
      } else {
        k.userid = static_cast<std::uint32_t>(std::strtoul(PQgetvalue(res, r, 0), nullptr, 10));
        k.dbid = static_cast<std::uint32_t>(std::strtoul(PQgetvalue(res, r, 1), nullptr, 10));
        k.queryid = std::strtoll(PQgetvalue(res, r, 2), nullptr, 10);
        k.toplevel = PQgetvalue(res, r, 3)[0] == 't';
        for (int f = 0; f < kCounters; ++f)
          c.v[f] = std::strtod(PQgetvalue(res, r, 4 + f), nullptr);
      }
      auto prev = previous.find(k);
      if (prev != previous.end()) {
        for (int f = 0; f < kCounters; ++f) delta_sum += c.v[f] - prev->second.v[f];
      }
      current.emplace(k, c);
    }
    rows_seen = static_cast<std::size_t>(n);
    PQclear(res);
    previous.swap(current);
    cpu += CpuSeconds() - c0;
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  PQfinish(conn);
  std::printf("rows %zu cpu_ms_per_read %.3f wall_ms_per_read %.3f checksum %g\n", rows_seen,
              cpu * 1000 / iterations, wall * 1000 / iterations, delta_sum);
  return 0;
}
