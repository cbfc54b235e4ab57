// The JSON body of an admin API change (PUT), read with the config's YAML reader: JSON is
// YAML, so a body gets the same precise errors as a config file, with the position in the
// body and the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/YamlReader.h"

namespace portico::app {

// The body as a YAML item (its path "", its file "request body"); nullopt with `error` set
// when it does not parse or is not an object.
std::optional<config::Item> read_admin_body(std::string_view body, std::string& error);

// Every error of `reader`, one per line, for a 400 answer.
std::string admin_body_errors(config::YamlReader& reader);

}  // namespace portico::app
