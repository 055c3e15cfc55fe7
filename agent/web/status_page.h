// The status page: a small single-page app served at "/" from assets compiled into the binary.
// It reads only the JSON APIs the agent already serves (/api/v1/collectors, alerts, rules,
// postgres/statements, postgres/blocking, query, query_range); it has no state of its own.
#pragma once

#include "agent/http/server.h"

namespace vigil::web {

// Serves "/" (index.html) and "/static/<asset>" on `server` (the fast lane).
void RegisterStatusPage(http::Server& server);

}  // namespace vigil::web
