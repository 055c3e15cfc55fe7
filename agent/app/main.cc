#include <iostream>
#include <string>
#include <vector>

#include "agent/app/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return vigil::RunCli(args, std::cout, std::cerr);
}
