// Command-line options.
#pragma once

#include <string>

namespace portico::app {

struct Options {
  enum class Mode { Run, Validate, Version, Help } mode = Mode::Help;
  std::string config_path;
  std::string error;  // set when the command line is wrong
};

Options parse_options(int argc, char** argv);
std::string usage();

}  // namespace portico::app
