// Runs promtool-format rule tests with vigil's tester and prints the report (test helper;
// the lead wires RunRuleTests into `vigil test rules`).
#include <iostream>

#include "rules/rule_tester.h"

int main(int argc, char** argv) {
  std::vector<std::string> files(argv + 1, argv + argc);
  return vigil::rules::RunRuleTests(files, std::cout, std::cerr);
}
