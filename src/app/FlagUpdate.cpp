#include "app/FlagUpdate.h"

#include <string>

#include "app/AdminBody.h"
#include "config/BasisPoints.h"
#include "config/YamlReader.h"

namespace portico::app {

config::ParseResult<FlagUpdate> parse_flag_update(std::string_view body) {
  using R = config::ParseResult<FlagUpdate>;
  using config::Entry;
  std::string error;
  std::optional<config::Item> item = read_admin_body(body, error);
  if (!item) return R::fail(error);
  config::YamlReader reader("request body");
  FlagUpdate update;
  if (auto fields = reader.read_fields(*item, {"enabled", "percent"})) {
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
      reader.error(item->pos, "", R"(give "percent" (0-100) and/or "enabled" (true or false))");
  }
  if (reader.error_count() != 0) return R::fail(admin_body_errors(reader));
  return R::ok(update);
}

}  // namespace portico::app
