#include "app/AdminBody.h"

namespace portico::app {

std::optional<config::Item> read_admin_body(std::string_view body, std::string& error) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(body));
  } catch (const YAML::Exception& e) {
    error = "request body: not valid JSON: " + e.msg + " at line " +
            std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
    return std::nullopt;
  }
  if (!node.IsMap()) {
    error = "request body: expected a JSON object";
    return std::nullopt;
  }
  return config::Item{node, config::pos_of(node, {1, 1}), ""};
}

std::string admin_body_errors(config::YamlReader& reader) {
  std::string out;
  for (const config::ConfigError& e : reader.take_errors()) {
    if (!out.empty()) out += "\n";
    out += e.to_string();
  }
  return out;
}

}  // namespace portico::app
