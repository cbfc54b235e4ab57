#include "health/Jitter.h"

#include <algorithm>
#include <cmath>

namespace portico::health {

std::chrono::milliseconds jittered_interval(std::chrono::milliseconds interval, double jitter,
                                            double unit) {
  jitter = std::clamp(jitter, 0.0, 1.0);
  unit = std::clamp(unit, 0.0, 1.0);
  double factor = 1.0 - jitter + 2.0 * jitter * unit;
  double ms = std::round(double(interval.count()) * factor);
  return std::chrono::milliseconds(std::max<long long>(0, static_cast<long long>(ms)));
}

}  // namespace portico::health
