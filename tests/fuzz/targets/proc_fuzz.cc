// libFuzzer target: the /proc parsers. The first byte picks the file kind.
#include <cstdint>
#include <string_view>

#include "collectors/process/proc_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      (void)vigil::collectors::ParseProcStat(text);
      break;
    case 1:
      vigil::collectors::ParseProcStatus(text);
      break;
    case 2:
      vigil::collectors::ParseSmapsRollup(text);
      break;
    case 3:
      vigil::collectors::ParseProcIo(text);
      break;
    case 4:
      vigil::collectors::ParseMaxOpenFiles(text);
      break;
    case 5:
      vigil::collectors::ParseCgroupV2Path(text);
      break;
    default:
      vigil::collectors::ParseBootTime(text);
      break;
  }
  return 0;
}
