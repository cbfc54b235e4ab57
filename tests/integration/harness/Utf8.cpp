#include "harness/Utf8.h"

#include <cstdint>

namespace portico::it {

bool IsUtf8(std::string_view s) {
  static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t more = 0;
    uint32_t cp = 0;
    if ((lead & 0xE0) == 0xC0) {
      more = 1;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      more = 2;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      more = 3;
      cp = lead & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= more) return false;
    for (size_t k = 1; k <= more; ++k) {
      auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < kSmallest[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += more + 1;
  }
  return true;
}

}  // namespace portico::it
