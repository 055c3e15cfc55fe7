// Names the calling thread (Linux: at most 15 bytes, longer names are cut), so that
// `top -H`, `ps -L`, gdb and /proc/PID/task/*/comm tell vigil's threads apart. The names are
// listed in docs/development.md ("The threads"). Thread-safe: it touches only the caller.
#pragma once

#include <string_view>

namespace vigil {

void SetCurrentThreadName(std::string_view name);

}  // namespace vigil
