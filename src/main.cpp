#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "app/Options.h"
#include "app/Server.h"
#include "config/ConfigLoader.h"
#include "core/Runtime.h"

using namespace portico;

int main(int argc, char** argv) {
  app::Options opts = app::parse_options(argc, argv);
  if (!opts.error.empty()) {
    std::fprintf(stderr, "portico: %s\n\n%s", opts.error.c_str(), app::usage().c_str());
    return 2;
  }
  switch (opts.mode) {
    case app::Options::Mode::Help:
      std::fputs(app::usage().c_str(), stdout);
      return 0;
    case app::Options::Mode::Version:
      std::printf("portico %s\n", PORTICO_VERSION);
      return 0;
    default:
      break;
  }

  config::LoadResult loaded = config::load_config_file(opts.config_path);
  for (const auto& w : loaded.warnings) std::fprintf(stderr, "%s\n", w.to_string().c_str());
  for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!loaded.config) {
    std::fprintf(stderr, "portico: %zu error%s in %s\n", loaded.errors.size(),
                 loaded.errors.size() == 1 ? "" : "s", opts.config_path.c_str());
    return 1;
  }
  if (opts.mode == app::Options::Mode::Validate) {
    // Compiling catches what only shows across sections (a pool given two breakers).
    try {
      core::Runtime::build(*loaded.config);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\nportico: 1 error in %s\n", opts.config_path.c_str(), e.what(),
                   opts.config_path.c_str());
      return 1;
    }
    size_t n = loaded.warnings.size();
    if (n == 0)
      std::printf("%s: ok\n", opts.config_path.c_str());
    else
      std::printf("%s: ok (%zu warning%s)\n", opts.config_path.c_str(), n, n == 1 ? "" : "s");
    return 0;
  }

  // The error log: stderr (journald adds its own timestamps under systemd).
  auto logger = spdlog::stderr_logger_mt("portico");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(loaded.config->log.level));
  spdlog::flush_on(spdlog::level::info);
  return app::run_server(std::move(*loaded.config), opts.config_path);
}
