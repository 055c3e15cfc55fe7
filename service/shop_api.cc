#include "service/shop_api.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "agent/base/log.h"
#include "service/cursor.h"
#include "service/pg_connection.h"
#include "service/statements.h"
#include "service/validation.h"

namespace vigil::shop {
namespace {

constexpr std::int64_t kMaxId = 9'223'372'036'854'775'807LL;

ApiResponse BadField(const FieldError& e) {
  return JsonError(400, "invalid_field", e.message, e.field);
}

// Rejects query parameters the endpoint does not know, naming the first one.
std::optional<ApiResponse> RejectUnknownParams(const httplib::Request& req,
                                               std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : req.params) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return BadField({name, "is not a known query parameter"});
    }
    if (req.params.count(name) > 1) return BadField({name, "must be given once"});
  }
  return std::nullopt;
}

std::optional<std::int64_t> PathId(const httplib::Request& req, FieldError* err,
                                   const char* name = "id") {
  const std::string& text = req.matches.size() > 1 ? req.matches[1].str() : std::string();
  return ParseIntParam(text, name, 1, kMaxId, err);
}

// Reads limit (default `def`, 1..max) and cursor (optional) parameters.
bool PageParams(const httplib::Request& req, std::int64_t def, std::int64_t max,
                std::int64_t* limit, std::optional<std::int64_t>* after, FieldError* err) {
  *limit = def;
  if (req.has_param("limit")) {
    auto v = ParseIntParam(req.get_param_value("limit"), "limit", 1, max, err);
    if (!v) return false;
    *limit = *v;
  }
  if (req.has_param("cursor")) {
    Result<std::int64_t> c = DecodeCursor(req.get_param_value("cursor"));
    if (!c.ok()) {
      *err = {"cursor", "is not a cursor this API returned"};
      return false;
    }
    *after = *c;
  }
  return true;
}

// {"items":[<json>...],"next_cursor":...} from (id, json) rows.
std::string Page(const PgResult& rows, std::int64_t limit) {
  std::string body = "{\"items\":[";
  for (int i = 0; i < rows.rows(); ++i) {
    if (i > 0) body += ',';
    body += rows.Get(i, 1);
  }
  body += "],\"next_cursor\":";
  if (rows.rows() == limit && rows.rows() > 0) {
    body += '"' + EncodeCursor(rows.GetInt(rows.rows() - 1, 0)) + '"';
  } else {
    body += "null";
  }
  body += '}';
  return body;
}

// Runs `fn` on a pooled connection. A failure on a connection that turned out broken (the
// server restarted or killed it) marks it for replacement; with `retry`, `fn` reruns on another
// connection, at most once per pooled connection plus one (idle ones may all be dead).
template <typename T, typename Fn>
Result<T> WithConnection(ConnectionPool& pool, bool retry, Fn fn) {
  const std::size_t attempts = retry ? pool.options().max_size + 1 : 1;
  for (std::size_t attempt = 1;; ++attempt) {
    Result<ConnectionPool::Lease> lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    auto& conn = lease->As<PgConnection>();
    Result<T> r = fn(conn);
    if (r.ok() || r.status().code() != Status::Code::kUnavailable || !conn.IsBroken()) return r;
    lease->MarkBroken();
    if (attempt >= attempts) return r;
  }
}

std::string IdParam(std::int64_t id) { return std::to_string(id); }

}  // namespace

ApiResponse JsonError(int status, std::string_view code, std::string_view message,
                      std::string_view field) {
  nlohmann::json e = {{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  ApiResponse r;
  r.status = status;
  r.body =
      nlohmann::json{{"error", e}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (status == 503) r.retry_after_s = 1;
  return r;
}

ApiResponse ErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case Status::Code::kNotFound:
      return JsonError(404, "not_found", status.message());
    case Status::Code::kInvalidArgument:  // the store's business conflicts
      return JsonError(409, "conflict", status.message());
    case Status::Code::kDeadlineExceeded:
      if (status.message().rfind("connection pool exhausted", 0) == 0) {
        return JsonError(503, "pool_exhausted", "no database connection available; retry later");
      }
      LogWarn("query timed out", {{"err", status.message()}});
      return JsonError(503, "db_timeout", "the database did not answer in time; retry later");
    case Status::Code::kUnavailable:
      LogWarn("database unavailable", {{"err", status.message()}});
      return JsonError(503, "db_unavailable", "the database is unavailable; retry later");
    default:
      LogError("request failed", {{"err", status.message()}});
      return JsonError(500, "internal", "internal error");
  }
}

ApiResponse ShopApi::GetProduct(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto id = PathId(req, &err);
  if (!id) return BadField(err);
  const std::string key = IdParam(*id);
  if (auto cached = cache_.Get(CacheGroup::kProduct, key)) return {200, std::move(*cached)};
  Result<std::string> r =
      WithConnection<std::string>(pool_, true, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows = c.Exec(GetStatement(kProductGet), {key});
        if (!rows.ok()) return rows.status();
        if (rows->rows() == 0) return Status::NotFound("product " + key + " not found");
        return std::string(rows->Get(0, 1));
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  cache_.Set(CacheGroup::kProduct, key, *r);
  return {200, std::move(*r)};
}

ApiResponse ShopApi::ListProducts(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {"limit", "cursor", "category"})) return *bad;
  std::int64_t limit = 0;
  std::optional<std::int64_t> after;
  if (!PageParams(req, 20, 100, &limit, &after, &err)) return BadField(err);
  std::optional<std::string> category;
  if (req.has_param("category")) {
    category = req.get_param_value("category");
    if (category->empty() || !IsStorableText(*category, 50)) {
      return BadField({"category", "must be 1 to 50 bytes without NUL"});
    }
  }
  Result<std::string> r =
      WithConnection<std::string>(pool_, true, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows =
            category
                ? c.Exec(GetStatement(kProductListByCategory),
                         {*category, IdParam(after.value_or(0)), IdParam(limit)})
                : c.Exec(GetStatement(kProductList), {IdParam(after.value_or(0)), IdParam(limit)});
        if (!rows.ok()) return rows.status();
        return Page(*rows, limit);
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  return {200, std::move(*r)};
}

ApiResponse ShopApi::SearchProducts(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {"q", "limit", "cursor"})) return *bad;
  std::int64_t limit = 0;
  std::optional<std::int64_t> after;
  if (!PageParams(req, 20, 100, &limit, &after, &err)) return BadField(err);
  const std::string q = req.get_param_value("q");
  if (q.empty() || !IsStorableText(q, 100)) {
    return BadField({"q", "is required: 1 to 100 bytes without NUL"});
  }
  const std::string key = std::to_string(limit) + ":" + std::to_string(after.value_or(0)) + ":" + q;
  if (auto cached = cache_.Get(CacheGroup::kSearch, key)) return {200, std::move(*cached)};
  Result<std::string> r =
      WithConnection<std::string>(pool_, true, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows =
            c.Exec(GetStatement(kProductSearch), {q, IdParam(after.value_or(0)), IdParam(limit)});
        if (!rows.ok()) return rows.status();
        return Page(*rows, limit);
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  cache_.Set(CacheGroup::kSearch, key, *r);
  return {200, std::move(*r)};
}

ApiResponse ShopApi::ProductSales(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto id = PathId(req, &err);
  if (!id) return BadField(err);
  const std::string key = IdParam(*id);
  Result<std::string> r =
      WithConnection<std::string>(pool_, true, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> exists = c.Exec(GetStatement(kProductGet), {key});
        if (!exists.ok()) return exists.status();
        if (exists->rows() == 0) return Status::NotFound("product " + key + " not found");
        Result<PgResult> rows = c.Exec(GetStatement(kProductSales), {key});
        if (!rows.ok()) return rows.status();
        return "{\"product_id\":" + key + ",\"days\":" + std::string(rows->Get(0, 0)) + "}";
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  return {200, std::move(*r)};
}

ApiResponse ShopApi::CreateProduct(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto doc = ParseJsonObject(req.body, &err);
  if (!doc) return BadField(err);
  ObjectValidator v(*doc);
  auto sku = v.String("sku", true, 1, 64);
  auto name = v.String("name", true, 1, 200);
  auto description = v.String("description", false, 0, 4000);
  auto category = v.String("category", true, 1, 50);
  auto price = v.Int("price_cents", true, 0, 100'000'000'000LL);
  auto stock = v.Int("stock", true, 0, 2'000'000'000LL);
  v.RejectUnknownFields();
  if (!v.ok()) return BadField(v.error());
  Result<std::string> r =
      WithConnection<std::string>(pool_, false, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows = c.Exec(
            GetStatement(kProductInsert),
            {*sku, *name, description.value_or(""), *category, IdParam(*price), IdParam(*stock)});
        if (!rows.ok()) {
          if (c.last_sqlstate() == "23505") return Status::InvalidArgument("sku already exists");
          return rows.status();
        }
        return std::string(rows->Get(0, 1));
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  return {201, std::move(*r)};
}

ApiResponse ShopApi::UpdateProduct(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto id = PathId(req, &err);
  if (!id) return BadField(err);
  auto doc = ParseJsonObject(req.body, &err);
  if (!doc) return BadField(err);
  ObjectValidator v(*doc);
  auto name = v.String("name", false, 1, 200);
  auto description = v.String("description", false, 0, 4000);
  auto price = v.Int("price_cents", false, 0, 100'000'000'000LL);
  auto stock = v.Int("stock", false, 0, 2'000'000'000LL);
  v.RejectUnknownFields();
  if (v.ok() && !name && !description && !price && !stock) {
    v.Fail("body", "must set at least one of name, description, price_cents, stock");
  }
  if (!v.ok()) return BadField(v.error());
  const std::string key = IdParam(*id);
  Result<std::string> r =
      WithConnection<std::string>(pool_, false, [&](PgConnection& c) -> Result<std::string> {
        PgParams params = {key, name, description, std::nullopt, std::nullopt};
        if (price) params[3] = IdParam(*price);
        if (stock) params[4] = IdParam(*stock);
        Result<PgResult> rows = c.Exec(GetStatement(kProductUpdate), params);
        if (!rows.ok()) return rows.status();
        if (rows->rows() == 0) return Status::NotFound("product " + key + " not found");
        return std::string(rows->Get(0, 1));
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  (void)cache_.Delete(CacheGroup::kProduct, key);
  return {200, std::move(*r)};
}

ApiResponse ShopApi::CreateUser(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto doc = ParseJsonObject(req.body, &err);
  if (!doc) return BadField(err);
  ObjectValidator v(*doc);
  auto email = v.String("email", true, 3, 254);
  auto name = v.String("name", true, 1, 200);
  v.RejectUnknownFields();
  if (v.ok()) {
    const std::size_t at = email->find('@');
    if (at == std::string::npos || at == 0 || at + 1 == email->size() ||
        email->find('@', at + 1) != std::string::npos) {
      v.Fail("email", "must be an address with one @ between a local part and a domain");
    }
  }
  if (!v.ok()) return BadField(v.error());
  Result<std::string> r =
      WithConnection<std::string>(pool_, false, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows = c.Exec(GetStatement(kUserInsert), {*email, *name});
        if (!rows.ok()) {
          if (c.last_sqlstate() == "23505")
            return Status::InvalidArgument("email already registered");
          return rows.status();
        }
        return std::string(rows->Get(0, 1));
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  return {201, std::move(*r)};
}

ApiResponse ShopApi::GetUser(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto id = PathId(req, &err);
  if (!id) return BadField(err);
  const std::string key = IdParam(*id);
  if (auto cached = cache_.Get(CacheGroup::kUser, key)) return {200, std::move(*cached)};
  Result<std::string> r =
      WithConnection<std::string>(pool_, true, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows = c.Exec(GetStatement(kUserGet), {key});
        if (!rows.ok()) return rows.status();
        if (rows->rows() == 0) return Status::NotFound("user " + key + " not found");
        return std::string(rows->Get(0, 1));
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  cache_.Set(CacheGroup::kUser, key, *r);
  return {200, std::move(*r)};
}

ApiResponse ShopApi::ListUserOrders(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {"limit", "cursor"})) return *bad;
  auto id = PathId(req, &err);
  if (!id) return BadField(err);
  std::int64_t limit = 0;
  std::optional<std::int64_t> before;
  if (!PageParams(req, 10, 50, &limit, &before, &err)) return BadField(err);
  const std::string key = IdParam(*id);
  const std::string field = std::to_string(limit) + ":" + std::to_string(before.value_or(0));
  if (auto cached = cache_.HGet(CacheGroup::kUserOrders, key, field)) {
    return {200, std::move(*cached)};
  }
  Result<std::string> r =
      WithConnection<std::string>(pool_, true, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows = c.Exec(GetStatement(kUserOrders),
                                       {key, IdParam(before.value_or(kMaxId)), IdParam(limit)});
        if (!rows.ok()) return rows.status();
        if (rows->rows() == 0) {
          Result<PgResult> exists = c.Exec(GetStatement(kUserExists), {key});
          if (!exists.ok()) return exists.status();
          if (exists->rows() == 0) return Status::NotFound("user " + key + " not found");
        }
        return Page(*rows, limit);
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  cache_.HSet(CacheGroup::kUserOrders, key, field, *r);
  return {200, std::move(*r)};
}

ApiResponse ShopApi::CreateOrder(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto doc = ParseJsonObject(req.body, &err);
  if (!doc) return BadField(err);
  ObjectValidator v(*doc);
  auto user_id = v.Int("user_id", true, 1, kMaxId);
  const nlohmann::json* items = v.Array("items", true, 1, 20);
  v.RejectUnknownFields();
  struct Item {
    std::int64_t product_id;
    std::int64_t quantity;
  };
  std::vector<Item> wanted;
  if (v.ok()) {
    std::set<std::int64_t> seen;
    for (std::size_t i = 0; i < items->size() && v.ok(); ++i) {
      const std::string prefix = "items[" + std::to_string(i) + "].";
      const nlohmann::json& item = (*items)[i];
      if (!item.is_object()) {
        v.Fail("items[" + std::to_string(i) + "]", "must be an object");
        break;
      }
      ObjectValidator iv(item, prefix);
      auto pid = iv.Int("product_id", true, 1, kMaxId);
      auto qty = iv.Int("quantity", true, 1, 100);
      iv.RejectUnknownFields();
      if (iv.ok() && !seen.insert(*pid).second) {
        iv.Fail(prefix + "product_id", "appears more than once");
      }
      if (!iv.ok()) {
        v.Fail(iv.error().field, iv.error().message);
        break;
      }
      wanted.push_back({*pid, *qty});
    }
  }
  if (!v.ok()) return BadField(v.error());
  std::sort(wanted.begin(), wanted.end(),
            [](const Item& a, const Item& b) { return a.product_id < b.product_id; });
  std::string ids = "{", qtys = "{";
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (i > 0) {
      ids += ',';
      qtys += ',';
    }
    ids += IdParam(wanted[i].product_id);
    qtys += IdParam(wanted[i].quantity);
  }
  ids += '}';
  qtys += '}';
  const std::string uid = IdParam(*user_id);

  Result<std::string> r = WithConnection<
      std::string>(pool_, false, [&](PgConnection& c) -> Result<std::string> {
    Result<PgResult> begin = c.ExecSql("BEGIN");
    if (!begin.ok()) return begin.status();
    auto tx = [&]() -> Result<std::string> {
      Result<PgResult> user = c.Exec(GetStatement(kUserExists), {uid});
      if (!user.ok()) return user.status();
      if (user->rows() == 0) return Status::NotFound("user " + uid + " not found");
      // Row locks in id order, so concurrent orders never deadlock.
      Result<PgResult> locked = c.Exec(GetStatement(kProductLockForOrder), {ids});
      if (!locked.ok()) return locked.status();
      std::int64_t total = 0;
      std::string prices = "{";
      for (std::size_t i = 0; i < wanted.size(); ++i) {
        const int row = static_cast<int>(i);
        if (row >= locked->rows() || locked->GetInt(row, 0) != wanted[i].product_id) {
          return Status::NotFound("product " + IdParam(wanted[i].product_id) + " not found");
        }
        if (locked->GetInt(row, 2) < wanted[i].quantity) {
          return Status::InvalidArgument("insufficient stock for product " +
                                         IdParam(wanted[i].product_id));
        }
        const std::int64_t price = locked->GetInt(row, 1);
        total += price * wanted[i].quantity;
        if (i > 0) prices += ',';
        prices += IdParam(price);
      }
      prices += '}';
      Result<PgResult> dec = c.Exec(GetStatement(kProductDecrementStock), {ids, qtys});
      if (!dec.ok()) return dec.status();
      Result<PgResult> order = c.Exec(GetStatement(kOrderInsert), {uid, IdParam(total)});
      if (!order.ok()) return order.status();
      const std::string order_id(order->Get(0, 0));
      Result<PgResult> ins = c.Exec(GetStatement(kOrderItemsInsert), {order_id, ids, qtys, prices});
      if (!ins.ok()) return ins.status();
      Result<PgResult> out = c.Exec(GetStatement(kOrderGet), {order_id});
      if (!out.ok()) return out.status();
      Result<PgResult> commit = c.ExecSql("COMMIT");
      if (!commit.ok()) return commit.status();
      return std::string(out->Get(0, 1));
    };
    Result<std::string> result = tx();
    if (!result.ok() && !c.IsBroken()) (void)c.ExecSql("ROLLBACK");
    return result;
  });
  if (!r.ok()) return ErrorFromStatus(r.status());
  (void)cache_.Delete(CacheGroup::kUserOrders, uid);
  for (const Item& item : wanted)
    (void)cache_.Delete(CacheGroup::kProduct, IdParam(item.product_id));
  return {201, std::move(*r)};
}

ApiResponse ShopApi::GetOrder(const httplib::Request& req) {
  FieldError err;
  if (auto bad = RejectUnknownParams(req, {})) return *bad;
  auto id = PathId(req, &err);
  if (!id) return BadField(err);
  const std::string key = IdParam(*id);
  Result<std::string> r =
      WithConnection<std::string>(pool_, true, [&](PgConnection& c) -> Result<std::string> {
        Result<PgResult> rows = c.Exec(GetStatement(kOrderGet), {key});
        if (!rows.ok()) return rows.status();
        if (rows->rows() == 0) return Status::NotFound("order " + key + " not found");
        return std::string(rows->Get(0, 1));
      });
  if (!r.ok()) return ErrorFromStatus(r.status());
  return {200, std::move(*r)};
}

ApiResponse ShopApi::Ready(std::chrono::milliseconds timeout) {
  Result<ConnectionPool::Lease> lease = pool_.Acquire(timeout);
  if (!lease.ok()) {
    return JsonError(503, "not_ready", "postgres: " + lease.status().message());
  }
  auto& conn = lease->As<PgConnection>();
  Result<PgResult> ping = conn.Exec(GetStatement(kPing), {});
  if (!ping.ok()) {
    if (conn.IsBroken()) lease->MarkBroken();
    return JsonError(503, "not_ready", "postgres: " + ping.status().message());
  }
  nlohmann::json body = {{"status", "ready"},
                         {"postgres", "ok"},
                         {"redis", cache_.available() ? "ok" : "unavailable"}};
  return {200, body.dump()};
}

}  // namespace vigil::shop
