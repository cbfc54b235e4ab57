// Reads a YAML config into the structs of Config.h and validates it as a whole.
// Every problem found is reported, not only the first, each with the file, line and
// column and the dotted key path, so one run of `portico --validate` shows all of them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "config/ConfigError.h"

namespace portico::config {

struct LoadResult {
  std::optional<Config> config;     // set iff errors is empty
  std::vector<ConfigError> errors;  // in file order
  // Problems that do not stop the config from loading (an upstream endpoint name that does
  // not resolve yet), in file order. Filled whether or not there are errors.
  std::vector<ConfigError> warnings;
};

// Reads and loads the file; an unreadable file gives one error at line 0 naming the
// system's reason. Upstream endpoint names are resolved (once, now); one that does not
// resolve is a warning and leaves that endpoint's address.length at 0.
LoadResult load_config_file(const std::string& path);

// Loads YAML text; `file_label` is used as Config::source and in errors.
LoadResult load_config_string(std::string_view yaml, const std::string& file_label);

}  // namespace portico::config
