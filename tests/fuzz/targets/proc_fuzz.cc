// libFuzzer target: the /proc parsers. The first byte picks the file kind.
#include <cstdint>
#include <string_view>

#include "collectors/process/proc_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      (void)vigil::ParseProcStat(text);
      break;
    case 1:
      vigil::ParseProcStatus(text);
      break;
    case 2:
      vigil::ParseSmapsRollup(text);
      break;
    case 3:
      vigil::ParseProcIo(text);
      break;
    case 4:
      vigil::ParseMaxOpenFiles(text);
      break;
    case 5:
      vigil::ParseCgroupV2Path(text);
      break;
    default:
      vigil::ParseBootTime(text);
      break;
  }
  return 0;
}
