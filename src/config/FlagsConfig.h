// The config's feature flags: the top-level `flags:` and `flags_header:` keys, and the
// `flags:` condition of a route's match. Written on YamlReader, so mistakes are reported
// with file, line, column and key like every other config error.
#pragma once

#include <string>
#include <vector>

#include "config/Config.h"
#include "config/YamlReader.h"

namespace portico::config {

// `flags: { NAME: { enabled, percent, key, allow }, ... }`, in file order. A flag whose
// settings have errors is still added (by name), so that routes naming it are not
// reported a second time as naming an unknown flag.
void read_flags(YamlReader& reader, const Item& item, std::vector<Flag>& flags);

// `flags_header: NAME`; "" or `off` sends no header.
void read_flags_header(YamlReader& reader, const Item& item, std::string& header);

// A route's `match: { flags: { NAME: true|false, ... } }`; each NAME must be one of `flags`.
void read_flag_conditions(YamlReader& reader, const Item& item, const std::vector<Flag>& flags,
                          std::vector<FlagCondition>& conditions);

// A request key as the config spells it: "header:NAME", "cookie:NAME", "client_ip", "path".
std::string request_key_text(const HashKey& key);

}  // namespace portico::config
