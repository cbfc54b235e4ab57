// The admin API's feature flag paths (dispatched from AdminApi.cpp), on the main thread:
//
//   GET    /-/flags        every flag's live values: {"header": ..., "flags": [VIEW, ...]}
//   GET    /-/flags/NAME   one flag: VIEW
//   PUT    /-/flags/NAME   body {"percent": 25} and/or {"enabled": false}: runtime overrides,
//                          seen by every worker on its next request; 200 with the new VIEW,
//                          400 with the body's errors (nothing changes)
//   DELETE /-/flags/NAME   drops the overrides (back to the file's values); 200 with VIEW
//
// VIEW: {"name", "enabled", "percent", "key", "source": {"enabled": "file"|"runtime",
// "percent": "file"|"runtime"}, "file": {"enabled", "percent"}, "decisions": {"on", "off"}}.
// An unknown flag is 404; other methods 405 with Allow. Overrides outlive a reload unless
// the file's values for that flag change (see flags/FlagSet.h).
#pragma once

#include <string_view>

#include "admin/AdminMessages.h"
#include "app/AdminApi.h"

namespace portico::app {

// Whether the path is /-/flags or under it.
bool is_flags_path(std::string_view path);

admin::AdminResponse handle_flags_request(AdminTarget& target, const admin::AdminRequest& request);

}  // namespace portico::app
