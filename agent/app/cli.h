// Command-line entry of the vigil binary, in the usual exporter style:
//   vigil --config.file=vigil.yml [--web.listen-address=ADDR] [--log.level=LEVEL]
//   vigil check config FILE...
//   vigil --version | --help
// Returns the process exit code; prints to the given streams.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vigil {

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vigil
