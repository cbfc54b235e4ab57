// Percentages finer than a whole percent, for rollout shares: "12.5%", "0.01", 25. Kept
// as basis points (hundredths of a percent, 0 to 10000) so that they compare exactly and
// a hash bucket can be tested against them with integers.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/ValueParsers.h"

namespace portico::config {

// A number from 0 to 100 with at most two decimals, optionally followed by '%'.
ParseResult<uint32_t> parse_basis_points(std::string_view text);

// The shortest text of a share in basis points: 1000 → "10", 1250 → "12.5", 1 → "0.01".
std::string basis_points_text(uint32_t bp);

}  // namespace portico::config
