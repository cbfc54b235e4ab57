// TLS contexts are built from a loaded config, and what goes wrong there (a file that
// cannot be read, a cipher list OpenSSL refuses) is reported in the shape of the loader's
// own errors, at the place in the YAML that asked for it.
#pragma once

#include <stdexcept>
#include <string_view>

#include "config/Config.h"

namespace portico::tls {

// "SOURCE:LINE:COL: WHAT: PROBLEM" (no position when the mark has no line).
std::invalid_argument config_problem(std::string_view source, const config::SourceMark& mark,
                                     std::string_view what, std::string_view problem);

}  // namespace portico::tls
