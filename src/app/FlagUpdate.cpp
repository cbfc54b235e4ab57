#include "app/FlagUpdate.h"

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/BasisPoints.h"
#include "config/YamlReader.h"

namespace portico::app {

config::ParseResult<FlagUpdate> parse_flag_update(std::string_view body) {
  using R = config::ParseResult<FlagUpdate>;
  using config::Entry;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(body));
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null())
      where = std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": ";
    return R::fail("body:" + where + "invalid JSON: " + e.msg);
  }
  config::YamlReader reader("body");
  config::Item item{root, config::pos_of(root, {1, 1}), ""};
  FlagUpdate update;
  if (auto fields = reader.read_fields(item, {"enabled", "percent"})) {
    if (const Entry* e = fields->find("enabled")) update.enabled = reader.read_bool(e->value);
    if (const Entry* e = fields->find("percent")) {
      if (!e->value.node.IsScalar()) {
        reader.type_error(e->value, "a percentage from 0 to 100 such as 25 or 2.5");
      } else if (auto bp = config::parse_basis_points(e->value.node.Scalar())) {
        update.percent_bp = *bp;
      } else {
        reader.error(e->value.pos, e->value.path, bp.error);
      }
    }
    if (reader.error_count() == 0 && !update.enabled && !update.percent_bp)
      reader.error(item.pos, "", R"(give "percent" (0-100) and/or "enabled" (true or false))");
  }
  std::string errors;
  for (const config::ConfigError& e : reader.take_errors()) {
    if (!errors.empty()) errors += "; ";
    errors += e.to_string();
  }
  if (!errors.empty()) return R::fail(errors);
  return R::ok(update);
}

}  // namespace portico::app
