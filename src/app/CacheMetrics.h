// Prometheus families of the cache zones (portico_cache_*).
#pragma once

#include "core/Runtime.h"
#include "stats/PrometheusText.h"

namespace portico::app {

void write_cache_metrics(stats::PrometheusText& out, const core::Runtime& runtime);

}  // namespace portico::app
