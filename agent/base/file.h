// Files vigil reads and writes whole: config, rule, web config and secret files, `vigil query
// --data`, and the alert state file. The one home for reading a file with a size bound and for
// replacing one atomically. Pure functions over the filesystem, thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "agent/base/status.h"

namespace vigil {

// All of `path`, at most `max_bytes`. The read stops one byte past the bound, so a huge file,
// a FIFO or /dev/zero cannot take memory or time beyond it. Errors (without the path, which
// the caller names): NotFound "cannot open: why", InvalidArgument "larger than N bytes",
// Unavailable "read failed: why".
[[nodiscard]] Result<std::string> ReadFileBounded(const std::string& path, std::size_t max_bytes);

// Writes `content` to `path` through `path.tmp`, fsynced and renamed over it, so a reader (or
// a crash) sees the old file or the new one, never a part. Creates missing parent folders.
[[nodiscard]] Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace vigil
