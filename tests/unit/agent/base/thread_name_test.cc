#include "agent/base/thread_name.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>

namespace vigil {
namespace {

std::string OwnThreadName() {
  std::ifstream comm("/proc/self/task/" + std::to_string(syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST_CASE("A thread's name shows in /proc, cut to the kernel's 15 bytes", "[thread_name]") {
  std::string short_name, long_name;
  std::thread t([&] {
    SetCurrentThreadName("vigil-test");
    short_name = OwnThreadName();
    SetCurrentThreadName("vigil-a-name-longer-than-fifteen");
    long_name = OwnThreadName();
  });
  t.join();
  CHECK(short_name == "vigil-test");
  CHECK(long_name == "vigil-a-name-lo");
}

}  // namespace
}  // namespace vigil
