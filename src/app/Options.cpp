#include "app/Options.h"

#include <string_view>

namespace portico::app {

Options parse_options(int argc, char** argv) {
  Options o;
  bool mode_set = false;
  auto set_mode = [&](Options::Mode m) {
    if (mode_set && o.mode != m) o.error = "choose one of --config, --validate, --version, --help";
    o.mode = m;
    mode_set = true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--config" || a == "-c" || a == "--validate") {
      set_mode(a == "--validate" ? Options::Mode::Validate : Options::Mode::Run);
      if (i + 1 >= argc) {
        o.error = std::string(a) + " needs a file";
        return o;
      }
      o.config_path = argv[++i];
    } else if (a.starts_with("--config=")) {
      set_mode(Options::Mode::Run);
      o.config_path = a.substr(9);
    } else if (a.starts_with("--validate=")) {
      set_mode(Options::Mode::Validate);
      o.config_path = a.substr(11);
    } else if (a == "--version" || a == "-V") {
      set_mode(Options::Mode::Version);
    } else if (a == "--help" || a == "-h") {
      set_mode(Options::Mode::Help);
    } else {
      o.error = "unknown option '" + std::string(a) + "'";
      return o;
    }
  }
  if (!mode_set) o.error = "no config file given";
  return o;
}

std::string usage() {
  return "usage: portico --config FILE     run the gateway\n"
         "       portico --validate FILE   check FILE and exit (0: valid, 1: errors listed)\n"
         "       portico --version         print the version\n"
         "       portico --help            print this help\n"
         "\n"
         "Signals: SIGTERM/SIGINT drain in-flight requests (drain_timeout) and exit 0.\n"
         "Configuration reference: docs/CONFIG.md\n";
}

}  // namespace portico::app
