// shop's schema: versioned migrations and the bulk seed loader.
//
// Migrate() applies the migrations not yet recorded in schema_migrations, each in its own
// transaction, so it is safe to run on every start. Seed() replaces the data with realistic
// generated volumes: it drops foreign keys and secondary indexes, loads every table with
// COPY, then rebuilds them and runs ANALYZE (seconds for the default 100k products, 10k users,
// 200k orders). Data is generated from a seeded PRNG, so a seed reproduces the same rows.
// Functions take a connection the caller owns; not thread-safe with respect to it.
#pragma once

#include <cstdint>

#include "agent/base/status.h"
#include "service/pg_connection.h"

namespace vigil::shop {

Status Migrate(PgConnection& conn);

struct SeedOptions {
  std::int64_t products = 100'000;
  std::int64_t users = 10'000;
  std::int64_t orders = 200'000;
  std::uint64_t seed = 42;
};

struct SeedReport {
  std::int64_t products = 0;
  std::int64_t users = 0;
  std::int64_t orders = 0;
  std::int64_t order_items = 0;
  double seconds = 0;
};

// REQUIRES: Migrate() has run; products >= 1 and users >= 1 when orders > 0.
Result<SeedReport> Seed(PgConnection& conn, const SeedOptions& options);

}  // namespace vigil::shop
