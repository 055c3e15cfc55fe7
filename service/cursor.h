// Cursor: the opaque keyset-pagination token handed to clients ("next_cursor").
//
// A cursor names the last id a page returned; the next page continues strictly after it in the
// listing's order. Encoded as unpadded base64url of "c1:<id>:<check>" where <check> is a
// small checksum, so hand-edited or truncated cursors are rejected as invalid input rather than
// silently paging from somewhere else. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace vigil::shop {

std::string EncodeCursor(std::int64_t last_id);
// InvalidArgument when `text` is not a cursor EncodeCursor produced.
Result<std::int64_t> DecodeCursor(std::string_view text);

// Unpadded base64url (RFC 4648 §5); exposed for tests.
std::string Base64UrlEncode(std::string_view bytes);
// InvalidArgument on characters outside the alphabet or an impossible length.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace vigil::shop
