// SHA-1 as lowercase hex, the name Redis gives a script (EVALSHA). Only for that: SHA-1 is
// not a security hash, and Portico links no crypto library into its core.
#pragma once

#include <string>
#include <string_view>

namespace portico::redis {

std::string sha1_hex(std::string_view data);

}  // namespace portico::redis
