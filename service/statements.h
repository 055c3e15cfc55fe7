// The SQL shop runs: every statement is parameterized ($1, $2, ...), declared once here with
// the operation and table it reports to db_query_duration_seconds, and prepared per
// connection. Immutable data; thread-safe.
#pragma once

#include "service/pg_connection.h"

namespace vigil::shop {

enum StatementId {
  kPing = 0,
  kProductGet,
  kProductList,
  kProductListByCategory,
  kProductSearch,
  kProductInsert,
  kProductUpdate,
  kProductLockForOrder,
  kProductDecrementStock,
  kProductSales,
  kUserInsert,
  kUserGet,
  kUserExists,
  kOrderInsert,
  kOrderItemsInsert,
  kOrderGet,
  kUserOrders,
  kStatementCount
};

// Indexed by StatementId.
const Statement& GetStatement(StatementId id);

}  // namespace vigil::shop
