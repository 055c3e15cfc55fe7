#include "agent/base/thread_name.h"

#include <pthread.h>

#include <string>

namespace vigil {

void SetCurrentThreadName(std::string_view name) {
  // The kernel keeps 16 bytes with the terminating NUL; a longer name fails with ERANGE.
  std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace vigil
