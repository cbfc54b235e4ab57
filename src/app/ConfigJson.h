// The running config as JSON for GET /-/config: every setting with its effective value
// (defaults filled in), shaped like the YAML. Secrets (the admin token) are replaced by
// "<redacted>". Durations are milliseconds, in keys ending in _ms.
#pragma once

#include "admin/JsonWriter.h"
#include "config/Config.h"

namespace portico::app {

void write_config_json(admin::JsonWriter& w, const config::Config& config);

}  // namespace portico::app
