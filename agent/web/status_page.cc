#include "agent/web/status_page.h"

#include <httplib.h>

#include <string>

#include "agent/web/assets.h"

namespace vigil::web {

const Asset* FindAsset(std::string_view name) {
  for (std::size_t i = 0; i < kAssetCount; ++i) {
    if (name == kAssets[i].name) return &kAssets[i];
  }
  return nullptr;
}

namespace {

// The assets change only with the binary, so the binary's asset bytes are a fine validator;
// no-cache makes the browser revalidate after an upgrade instead of running a stale page.
void Serve(const Asset& asset, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  // Everything is same-origin; inline scripts, frames and foreign hosts are not needed.
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                 "script-src 'self'; frame-ancestors 'none'");
  res.set_content(std::string(asset.body()), asset.content_type);
}

}  // namespace

void RegisterStatusPage(httplib::Server& server) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    if (const Asset* a = FindAsset("index.html")) Serve(*a, res);
  });
  server.Get(R"(/static/([A-Za-z0-9_.-]+))",
             [](const httplib::Request& req, httplib::Response& res) {
               const Asset* a = FindAsset(req.matches[1].str());
               if (a == nullptr || std::string_view(a->name) == "index.html") {
                 res.status = 404;
                 res.set_content("not found\n", "text/plain");
                 return;
               }
               Serve(*a, res);
             });
}

}  // namespace vigil::web
