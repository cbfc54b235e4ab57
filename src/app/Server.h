// The main thread: loads the config, starts one Worker per thread, turns signals into
// orderly shutdown and reloads, and owns what runs beside the workers (health checks,
// DNS refresh, sd_notify). It never touches a worker's connections: a reload hands each
// worker the new Runtime through Worker::apply.
#pragma once

#include <string>

#include "config/Config.h"

namespace portico::app {

// Runs until SIGTERM/SIGINT; returns the process exit code. `config_path` is read again
// on every reload.
int run_server(config::Config config, std::string config_path);

}  // namespace portico::app
