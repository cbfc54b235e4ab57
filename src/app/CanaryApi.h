// The admin API's view of canary splits, and runtime changes to them:
//
//   GET    /-/canary                every canary route
//   GET    /-/canary/ROUTE          one (ROUTE, or LISTENER/ROUTE when the name is in
//                                   several listeners)
//   PUT    /-/canary/ROUTE          {"split": {"v1": 90, "v2": 10}} sets the split on every
//                                   worker at once (kept across reloads while the file's
//                                   split stays as it was); {"reset_rollback": true} puts
//                                   rolled-back canaries back in
//   DELETE /-/canary/ROUTE          drops the runtime split: the file's applies again
#pragma once

#include <string_view>

#include "admin/AdminMessages.h"
#include "core/Runtime.h"

namespace portico::app {

// `rest` is the path after "/-/canary" ("" or "/ROUTE").
admin::AdminResponse handle_canary_request(const core::Runtime& runtime,
                                           const admin::AdminRequest& request,
                                           std::string_view rest);

}  // namespace portico::app
