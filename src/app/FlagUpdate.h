// The body of PUT /-/flags/NAME: a JSON object with "percent" (0 to 100, at most two
// decimals, as in the config file) and/or "enabled" (true or false), nothing else. Read
// like every admin body (AdminBody.h): mistakes come with their position and key
// ("request body:1:13: percent: ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/ValueParsers.h"

namespace portico::app {

struct FlagUpdate {
  std::optional<bool> enabled;
  std::optional<uint32_t> percent_bp;
};

config::ParseResult<FlagUpdate> parse_flag_update(std::string_view body);

}  // namespace portico::app
