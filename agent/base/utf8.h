// UTF-8 checks for text that crosses into vigil (scraped HELP texts and label values, query
// text, Redis replies) before it is re-exported. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points over
// U+10FFFF), as Go's utf8.ValidString.
[[nodiscard]] bool IsValidUtf8(std::string_view s);

// `s` with each run of ill-formed bytes replaced by one U+FFFD, as Go's strings.ToValidUTF8;
// `s` itself when valid.
[[nodiscard]] std::string ToValidUtf8(std::string_view s);

}  // namespace vigil
