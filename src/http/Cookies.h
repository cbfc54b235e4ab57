// Reading one cookie from a request's Cookie header(s) without allocating.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "http/Header.h"

namespace portico::http {

// The value of the first cookie named `name` (case-sensitive) over every Cookie header,
// without surrounding spaces or tabs and without one pair of surrounding double quotes
// (RFC 6265 allows either spelling of the same value), or nullopt. The one cookie reader:
// hash keys (`cookie:NAME`), filters (FilterContext::cookie) and flag allow lists use it.
std::optional<std::string_view> find_cookie(std::span<const Header> headers, std::string_view name);

}  // namespace portico::http
