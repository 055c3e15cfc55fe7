#include "service/schema.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

namespace vigil::shop {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// Constraints and indexes the seed drops before COPY and rebuilds after.
struct Derived {
  const char* drop;
  const char* create;
};

const Derived kDerived[] = {
    {"ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_id_fkey",
     "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
     "REFERENCES users (id)"},
    {"ALTER TABLE order_items DROP CONSTRAINT IF EXISTS order_items_order_id_fkey",
     "ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) "
     "REFERENCES orders (id)"},
    {"ALTER TABLE order_items DROP CONSTRAINT IF EXISTS order_items_product_id_fkey",
     "ALTER TABLE order_items ADD CONSTRAINT order_items_product_id_fkey FOREIGN KEY "
     "(product_id) REFERENCES products (id)"},
    {"DROP INDEX IF EXISTS products_category_id_idx",
     "CREATE INDEX products_category_id_idx ON products (category, id)"},
    {"DROP INDEX IF EXISTS products_name_fts_idx",
     "CREATE INDEX products_name_fts_idx ON products USING gin (search_vector)"},
    {"DROP INDEX IF EXISTS orders_user_id_id_idx",
     "CREATE INDEX orders_user_id_id_idx ON orders (user_id, id DESC)"},
    // Deliberately no index on order_items (product_id): see product_sales in statements.cc.
};

const Migration kMigrations[] = {
    {1,
     "CREATE TABLE products ("
     " id bigserial PRIMARY KEY,"
     " sku text NOT NULL UNIQUE,"
     " name text NOT NULL,"
     " description text NOT NULL DEFAULT '',"
     " category text NOT NULL,"
     " price_cents bigint NOT NULL CHECK (price_cents >= 0),"
     " stock integer NOT NULL CHECK (stock >= 0),"
     " created_at timestamptz NOT NULL DEFAULT now(),"
     " updated_at timestamptz NOT NULL DEFAULT now(),"
     " search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', name)) STORED);"
     "CREATE TABLE users ("
     " id bigserial PRIMARY KEY,"
     " email text NOT NULL UNIQUE,"
     " name text NOT NULL,"
     " created_at timestamptz NOT NULL DEFAULT now());"
     "CREATE TABLE orders ("
     " id bigserial PRIMARY KEY,"
     " user_id bigint NOT NULL,"
     " status text NOT NULL DEFAULT 'placed',"
     " total_cents bigint NOT NULL CHECK (total_cents >= 0),"
     " created_at timestamptz NOT NULL DEFAULT now());"
     "CREATE TABLE order_items ("
     " order_id bigint NOT NULL,"
     " product_id bigint NOT NULL,"
     " quantity integer NOT NULL CHECK (quantity > 0),"
     " unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),"
     " PRIMARY KEY (order_id, product_id));"},
};

// splitmix64: small, fast and good enough for test data.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(Next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  // Skewed towards small values: popular products get most orders.
  std::int64_t Skewed(std::int64_t n) {
    const double u = static_cast<double>(Next() >> 11) / 9007199254740992.0;
    return std::min<std::int64_t>(n, 1 + static_cast<std::int64_t>(u * u * u * n));
  }

 private:
  std::uint64_t state_;
};

const char* const kAdjectives[] = {"Sturdy",   "Compact", "Classic", "Modern",  "Rustic",
                                   "Premium",  "Eco",     "Smart",   "Vintage", "Ergonomic",
                                   "Portable", "Deluxe",  "Minimal", "Rugged",  "Silent"};
const char* const kMaterials[] = {"Oak",  "Steel",  "Cotton", "Bamboo", "Leather", "Glass",
                                  "Wool", "Copper", "Linen",  "Walnut", "Ceramic", "Carbon"};
const char* const kNouns[] = {"Chair",  "Lamp",     "Backpack", "Kettle", "Desk",  "Jacket",
                              "Mug",    "Speaker",  "Blanket",  "Watch",  "Shelf", "Headphones",
                              "Bottle", "Notebook", "Sneakers", "Rug"};
const char* const kCategories[] = {"furniture", "lighting", "bags",     "kitchen",
                                   "office",    "apparel",  "audio",    "bedding",
                                   "outdoor",   "decor",    "footwear", "stationery"};
const char* const kFirst[] = {"Ada",    "Alan",    "Grace",  "Linus", "Barbara", "Ken",  "Margaret",
                              "Dennis", "Frances", "Edsger", "Radia", "Tim",     "Hedy", "John"};
const char* const kLast[] = {"Lovelace", "Turing",  "Hopper", "Torvalds", "Liskov",  "Thompson",
                             "Hamilton", "Ritchie", "Allen",  "Dijkstra", "Perlman", "Lee"};

template <typename T, std::size_t N>
const char* Pick(Rng& rng, const T (&words)[N]) {
  return words[rng.Next() % N];
}

// Feeds COPY in chunks of about 1 MiB.
template <typename Row>
Status CopyRows(PgConnection& conn, const std::string& sql, std::int64_t count, Row row) {
  std::int64_t i = 0;
  return conn.CopyIn(sql, [&](std::string* chunk) {
    while (i < count && chunk->size() < (1u << 20)) row(++i, chunk);
    return i < count;
  });
}

}  // namespace

Status Migrate(PgConnection& conn) {
  Result<PgResult> r = conn.ExecSql(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
      "applied_at timestamptz NOT NULL DEFAULT now())");
  if (!r.ok()) return r.status().WithContext("migrate");
  for (const Migration& m : kMigrations) {
    Result<PgResult> done = conn.ExecSql("SELECT 1 FROM schema_migrations WHERE version = " +
                                         std::to_string(m.version));
    if (!done.ok()) return done.status().WithContext("migrate");
    if (done->rows() > 0) continue;
    std::string sql = std::string("BEGIN;") + m.sql;
    if (m.version == 1) {
      for (const Derived& d : kDerived) sql += std::string(d.create) + ";";
    }
    sql +=
        "INSERT INTO schema_migrations (version) VALUES (" + std::to_string(m.version) + ");COMMIT";
    Result<PgResult> applied = conn.ExecSql(sql);
    if (!applied.ok()) {
      (void)conn.ExecSql("ROLLBACK");
      return applied.status().WithContext("migration " + std::to_string(m.version));
    }
  }
  return Status::Ok();
}

Result<SeedReport> Seed(PgConnection& conn, const SeedOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.orders > 0 && (o.products < 1 || o.users < 1)) {
    return Status::InvalidArgument("seed: orders need at least one product and one user");
  }
  auto exec = [&](const std::string& sql) -> Status {
    Result<PgResult> r = conn.ExecSql(sql);
    return r.ok() ? Status::Ok() : r.status().WithContext("seed");
  };
  Status st = exec("BEGIN");
  if (!st.ok()) return st;
  auto fail = [&](const Status& s) -> Result<SeedReport> {
    (void)conn.ExecSql("ROLLBACK");
    return s;
  };
  if (!(st = exec("TRUNCATE order_items, orders, users, products RESTART IDENTITY")).ok()) {
    return fail(st);
  }
  for (const Derived& d : kDerived) {
    if (!(st = exec(d.drop)).ok()) return fail(st);
  }

  Rng rng(o.seed);
  const std::time_t now = std::time(nullptr);
  // A timestamp up to `max_days` before now, as COPY text ("2024-05-01 12:00:00+00").
  auto past = [&](std::int64_t max_days) {
    const std::time_t t = now - static_cast<std::time_t>(rng.Uniform(0, max_days * 86'400));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+00", &tm);
    return std::string(buf);
  };

  std::vector<std::int64_t> prices(static_cast<std::size_t>(o.products) + 1);
  st = CopyRows(conn,
                "COPY products (id, sku, name, description, category, price_cents, stock, "
                "created_at, updated_at) FROM STDIN",
                o.products, [&](std::int64_t id, std::string* out) {
                  const std::int64_t price = rng.Uniform(199, 99'999);
                  prices[static_cast<std::size_t>(id)] = price;
                  const char* adjective = Pick(rng, kAdjectives);
                  const char* material = Pick(rng, kMaterials);
                  const char* noun = Pick(rng, kNouns);
                  const std::string created = past(730);
                  *out += std::to_string(id) + "\tSKU-" + std::to_string(1'000'000 + id) + "\t" +
                          adjective + " " + material + " " + noun + " " +
                          std::to_string(rng.Uniform(100, 999)) + "\tA " + adjective + " " + noun +
                          " made of " + material + ", built to last.\t" + Pick(rng, kCategories) +
                          "\t" + std::to_string(price) + "\t" +
                          std::to_string(rng.Uniform(1'000, 100'000)) + "\t" + created + "\t" +
                          created + "\n";
                });
  if (!st.ok()) return fail(st.WithContext("seed products"));

  st = CopyRows(conn, "COPY users (id, email, name, created_at) FROM STDIN", o.users,
                [&](std::int64_t id, std::string* out) {
                  *out += std::to_string(id) + "\tuser" + std::to_string(id) + "@example.com\t" +
                          Pick(rng, kFirst) + " " + Pick(rng, kLast) + "\t" + past(1000) + "\n";
                });
  if (!st.ok()) return fail(st.WithContext("seed users"));

  // Orders and their items are generated together so totals match the items.
  std::string items;
  std::int64_t item_count = 0;
  st = CopyRows(conn, "COPY orders (id, user_id, status, total_cents, created_at) FROM STDIN",
                o.orders, [&](std::int64_t id, std::string* out) {
                  const int n = static_cast<int>(rng.Uniform(1, 5));
                  std::int64_t chosen[5];
                  int m = 0;
                  std::int64_t total = 0;
                  for (int k = 0; k < n; ++k) {
                    std::int64_t product = rng.Skewed(o.products);
                    if (std::find(chosen, chosen + m, product) != chosen + m) {
                      product = rng.Uniform(1, o.products);
                    }
                    if (std::find(chosen, chosen + m, product) != chosen + m) continue;
                    chosen[m++] = product;
                    const std::int64_t qty = rng.Uniform(1, 3);
                    const std::int64_t price = prices[static_cast<std::size_t>(product)];
                    total += qty * price;
                    items += std::to_string(id) + "\t" + std::to_string(product) + "\t" +
                             std::to_string(qty) + "\t" + std::to_string(price) + "\n";
                    ++item_count;
                  }
                  *out += std::to_string(id) + "\t" + std::to_string(rng.Uniform(1, o.users)) +
                          "\t" + (rng.Uniform(0, 9) == 0 ? "shipped" : "placed") + "\t" +
                          std::to_string(total) + "\t" + past(365) + "\n";
                });
  if (!st.ok()) return fail(st.WithContext("seed orders"));
  std::size_t pos = 0;
  st = conn.CopyIn("COPY order_items (order_id, product_id, quantity, unit_price_cents) FROM STDIN",
                   [&](std::string* chunk) {
                     const std::size_t n = std::min<std::size_t>(1u << 20, items.size() - pos);
                     chunk->assign(items, pos, n);
                     pos += n;
                     return pos < items.size();
                   });
  if (!st.ok()) return fail(st.WithContext("seed order_items"));
  items.clear();
  items.shrink_to_fit();

  for (const char* table : {"products", "users", "orders"}) {
    st = exec(std::string("SELECT setval(pg_get_serial_sequence('") + table +
              "', 'id'), greatest(1, (SELECT coalesce(max(id), 0) FROM " + table +
              ")), (SELECT "
              "count(*) > 0 FROM " +
              table + "))");
    if (!st.ok()) return fail(st);
  }
  for (const Derived& d : kDerived) {
    if (!(st = exec(d.create)).ok()) return fail(st);
  }
  if (!(st = exec("COMMIT")).ok()) return fail(st);
  if (!(st = exec("ANALYZE products, users, orders, order_items")).ok()) return st;

  SeedReport report;
  report.products = o.products;
  report.users = o.users;
  report.orders = o.orders;
  report.order_items = item_count;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace vigil::shop
