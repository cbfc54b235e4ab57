// The content of every certificate, key and CA file a config names, hashed before the config
// is built. The watchers of those files start from these hashes, not from what the files hold
// once the reload is done: a file changed while the new config was being built (a renewal
// caught half-way) is then still seen as changed, and reloaded again.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "config/Config.h"

namespace portico::app {

// Path -> ConfigWatcher::content_hash() (nullopt: unreadable). Listeners' certificates and
// keys and client CA, upstreams' CA, client certificate and key.
using TlsFileBaselines = std::map<std::string, std::optional<size_t>>;

TlsFileBaselines tls_file_baselines(const config::Config& config);

}  // namespace portico::app
