// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms a
// recipient must accept. Times are whole seconds since the Unix epoch, UTC.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace portico::cache {

// nullopt for anything that is not one of the three forms (or names an impossible date).
std::optional<int64_t> parse_http_date(std::string_view text);

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters).
using HttpDateText = std::array<char, 29>;
void format_http_date(int64_t seconds, HttpDateText& out);

// The wall clock, in milliseconds since the epoch: what dates and ages are measured on
// (RFC 9111 §4.2.3's request_time, response_time and now).
int64_t unix_now_ms();

}  // namespace portico::cache
