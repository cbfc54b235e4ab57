// The admin API's one authentication scheme: `Authorization: Bearer TOKEN` (RFC 6750).
#pragma once

#include <span>
#include <string_view>

#include "http/Header.h"

namespace portico::admin {

// True when the request has exactly one Authorization field and it is `Bearer <token>`
// (the scheme's case ignored). The token is compared in time that depends only on the
// length of what the client sent, so timing reveals neither how much of a guess was right
// nor how long the real token is.
bool bearer_token_matches(std::span<const http::Header> headers, std::string_view token);

}  // namespace portico::admin
