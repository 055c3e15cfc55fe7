#include "service/statements.h"

namespace vigil::shop {
namespace {

// Order JSON with its items, built by one LEFT JOIN + GROUP BY (never one query per order).
#define SHOP_ORDER_JSON                                                                      \
  "json_build_object('id', o.id, 'user_id', o.user_id, 'status', o.status, 'total_cents', "  \
  "o.total_cents, 'created_at', o.created_at, 'items', coalesce(json_agg(json_build_object(" \
  "'product_id', oi.product_id, 'quantity', oi.quantity, 'unit_price_cents', "               \
  "oi.unit_price_cents) ORDER BY oi.product_id) FILTER (WHERE oi.order_id IS NOT NULL), "    \
  "'[]'))::text"

// Products as the API shows them (without the search_vector column).
#define SHOP_PRODUCT_COLUMNS \
  "id, sku, name, description, category, price_cents, stock, created_at, updated_at"

const Statement kStatements[kStatementCount] = {
    {kPing, "ping", "SELECT 1", "select", "none"},
    {kProductGet, "product_get",
     "SELECT p.id, row_to_json(p)::text FROM (SELECT " SHOP_PRODUCT_COLUMNS
     " FROM products WHERE id = $1) p",
     "select", "products"},
    {kProductList, "product_list",
     "SELECT p.id, row_to_json(p)::text FROM (SELECT " SHOP_PRODUCT_COLUMNS
     " FROM products WHERE id > $1 ORDER BY id LIMIT $2) p",
     "select", "products"},
    {kProductListByCategory, "product_list_by_category",
     "SELECT p.id, row_to_json(p)::text FROM (SELECT " SHOP_PRODUCT_COLUMNS
     " FROM products WHERE category = $1 AND id > $2 ORDER BY id LIMIT $3) p",
     "select", "products"},
    {kProductSearch, "product_search",
     "SELECT p.id, row_to_json(p)::text FROM (SELECT " SHOP_PRODUCT_COLUMNS
     " FROM products WHERE search_vector @@ plainto_tsquery('simple', $1) AND id > $2 "
     "ORDER BY id LIMIT $3) p",
     "select", "products"},
    {kProductInsert, "product_insert",
     "WITH p AS (INSERT INTO products (sku, name, description, category, price_cents, stock) "
     "VALUES ($1, $2, $3, $4, $5, $6) RETURNING " SHOP_PRODUCT_COLUMNS
     ") SELECT p.id, row_to_json(p)::text FROM p",
     "insert", "products"},
    {kProductUpdate, "product_update",
     "WITH p AS (UPDATE products SET name = coalesce($2, name), description = coalesce($3, "
     "description), price_cents = coalesce($4::bigint, price_cents), stock = coalesce($5::int, "
     "stock), updated_at = now() WHERE id = $1 RETURNING " SHOP_PRODUCT_COLUMNS
     ") SELECT p.id, row_to_json(p)::text FROM p",
     "update", "products"},
    {kProductLockForOrder, "product_lock_for_order",
     "SELECT id, price_cents, stock FROM products WHERE id = ANY($1::bigint[]) ORDER BY id "
     "FOR UPDATE",
     "select", "products"},
    {kProductDecrementStock, "product_decrement_stock",
     "UPDATE products SET stock = stock - d.q, updated_at = now() FROM (SELECT "
     "unnest($1::bigint[]) AS id, unnest($2::int[]) AS q) d WHERE products.id = d.id",
     "update", "products"},
    // Deliberately unindexed: order_items has no index on product_id, so this scans the whole
    // table and aggregates (the slow-query scenario's target).
    {kProductSales, "product_sales",
     "SELECT coalesce(json_agg(json_build_object('day', d.day, 'units', d.units, "
     "'revenue_cents', d.revenue) ORDER BY d.day), '[]')::text FROM (SELECT "
     "date_trunc('day', o.created_at)::date AS day, sum(oi.quantity) AS units, "
     "sum(oi.quantity * oi.unit_price_cents) AS revenue FROM order_items oi JOIN orders o ON "
     "o.id = oi.order_id WHERE oi.product_id = $1 GROUP BY 1) d",
     "select", "order_items"},
    {kUserInsert, "user_insert",
     "WITH u AS (INSERT INTO users (email, name) VALUES ($1, $2) RETURNING *) "
     "SELECT u.id, row_to_json(u)::text FROM u",
     "insert", "users"},
    {kUserGet, "user_get", "SELECT u.id, row_to_json(u)::text FROM users u WHERE u.id = $1",
     "select", "users"},
    {kUserExists, "user_exists", "SELECT 1 FROM users WHERE id = $1", "select", "users"},
    {kOrderInsert, "order_insert",
     "INSERT INTO orders (user_id, total_cents) VALUES ($1, $2) RETURNING id", "insert", "orders"},
    {kOrderItemsInsert, "order_items_insert",
     "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) SELECT $1, "
     "unnest($2::bigint[]), unnest($3::int[]), unnest($4::bigint[])",
     "insert", "order_items"},
    {kOrderGet, "order_get",
     "SELECT o.id, " SHOP_ORDER_JSON
     " FROM orders o LEFT JOIN order_items oi ON oi.order_id = o.id WHERE o.id = $1 "
     "GROUP BY o.id",
     "select", "orders"},
    {kUserOrders, "user_orders",
     "SELECT o.id, " SHOP_ORDER_JSON
     " FROM (SELECT * FROM orders WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3) o "
     "LEFT JOIN order_items oi ON oi.order_id = o.id "
     "GROUP BY o.id, o.user_id, o.status, o.total_cents, o.created_at ORDER BY o.id DESC",
     "select", "orders"},
};

}  // namespace

const Statement& GetStatement(StatementId id) { return kStatements[id]; }

}  // namespace vigil::shop
