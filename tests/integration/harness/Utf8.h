// UTF-8 validity, for the readers of what the proxy writes (JSON, Prometheus text).
#pragma once

#include <string_view>

namespace portico::it {

// Well-formed UTF-8: no stray continuation bytes, truncated sequences, overlong forms,
// surrogates or code points past U+10FFFF.
bool IsUtf8(std::string_view s);

}  // namespace portico::it
