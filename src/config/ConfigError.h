// One problem found in a config file, with where it is.
#pragma once

#include <string>

namespace portico::config {

struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when the error is about the file as a whole
  int column = 0;   // 1-based; 0 when line is 0
  std::string key;  // dotted path, e.g. "listeners[0].routes[1].match.path_regex"; may be empty
  std::string message;
  // Set on the entries of LoadResult::warnings, so that a line printed from either list
  // says which kind it is without the caller having to.
  bool warning = false;

  // "FILE:LINE:COL: KEY: MESSAGE"; the position is left out when line is 0 and the key
  // when it is empty. A warning reads "FILE:LINE:COL: KEY: warning: MESSAGE".
  std::string to_string() const;
};

}  // namespace portico::config
