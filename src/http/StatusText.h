#pragma once

#include <string_view>

namespace portico::http {

// Reason phrase for a status code ("" for codes without a registered one).
std::string_view status_text(int status);

}  // namespace portico::http
