// The main thread: loads the config, starts one Worker per thread, and turns signals
// into orderly shutdown. It never touches a worker's connections.
#pragma once

#include "config/Config.h"

namespace portico::app {

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_server(config::Config config);

}  // namespace portico::app
