// The status page's static files, compiled into the binary (see embed_assets.cmake).
#pragma once

#include <cstddef>
#include <string_view>

namespace vigil::web {

struct Asset {
  const char* name;          // file name under agent/web/assets/, e.g. "app.js"
  const char* content_type;  // e.g. "text/javascript; charset=utf-8"
  const unsigned char* data;
  std::size_t size;

  std::string_view body() const { return {reinterpret_cast<const char*>(data), size}; }
};

extern const Asset kAssets[];
extern const std::size_t kAssetCount;

// The asset named `name`, or nullptr.
const Asset* FindAsset(std::string_view name);

}  // namespace vigil::web
