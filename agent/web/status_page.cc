#include "agent/web/status_page.h"

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
void Serve(const Asset& asset, http::Response& res) {
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Everything is same-origin; inline scripts, frames and foreign hosts are not needed.
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; frame-ancestors 'none'");
  res.Set(200, std::string(asset.body()), asset.content_type);
}

}  // namespace

void RegisterStatusPage(http::Server& server) {
  server.Handle("GET", "/", http::Lane::kFast, [](const http::Request&, http::Response& res) {
    if (const Asset* a = FindAsset("index.html")) Serve(*a, res);
  });
  server.Handle("GET", "/static/", http::Lane::kFast,
                [](const http::Request& req, http::Response& res) {
                  std::string_view name = std::string_view(req.path).substr(8);
                  const Asset* a = FindAsset(name);
                  if (a == nullptr || name == "index.html") {
                    res.Set(404, "not found\n", "text/plain");
                    return;
                  }
                  Serve(*a, res);
                });
}

}  // namespace vigil::web
