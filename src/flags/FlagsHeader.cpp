#include "flags/FlagsHeader.h"

namespace portico::flags {

void write_flags_header(std::string& out, std::string_view name, const FlagSet& set, uint64_t on) {
  out.clear();
  if (on == 0) return;
  out.append(name).append(": ");
  bool first = true;
  for (size_t i = 0; i < set.size(); ++i) {
    if (!(on & (uint64_t{1} << i))) continue;
    if (!first) out.append(", ");
    first = false;
    out.append(set.config(i).name);
  }
  out.append("\r\n");
}

}  // namespace portico::flags
