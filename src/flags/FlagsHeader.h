// The upstream request header that tells backends which flags are on for a request
// (`flags_header`, x-portico-flags by default): "Name: a, b\r\n", the names in config order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "flags/FlagSet.h"

namespace portico::flags {

// Replaces `out` with the header line for the flags whose bit is set in `on`, or with
// nothing when none is on. Reuses out's capacity: no allocation in steady state.
void write_flags_header(std::string& out, std::string_view name, const FlagSet& set, uint64_t on);

}  // namespace portico::flags
