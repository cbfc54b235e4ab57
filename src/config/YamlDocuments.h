// The one YAML document of a config file, read without yaml-cpp's LoadAll: on some malformed
// text (a stray flow indicator after the first document, NUL bytes) yaml-cpp 0.7's parser
// stops advancing and LoadAll collects empty documents for ever, so a corrupt file would
// hang a reload and grow memory until the process died (found by tests/fuzz/fuzz_config).
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

namespace portico::config {

// Where a second document starts, if the text holds more than one. Counts at most two
// documents and builds no nodes. Throws YAML::Exception as yaml-cpp's loading does.
std::optional<YAML::Mark> second_document_start(const std::string& text);

}  // namespace portico::config
