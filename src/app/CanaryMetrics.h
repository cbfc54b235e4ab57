// The canary splits' metric families: requests per split target and how they were
// assigned, the share each target gets now, and rollbacks.
#pragma once

#include "core/Runtime.h"
#include "stats/PrometheusText.h"

namespace portico::app {

void write_canary_metrics(stats::PrometheusText& out, const core::Runtime& runtime);

}  // namespace portico::app
