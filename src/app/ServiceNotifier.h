// Tells the service manager what Portico is doing (sd_notify): READY once every listener
// is bound and the workers run, RELOADING while a reload is applied (READY again after,
// whatever its outcome), STOPPING when the drain starts, and a one-line STATUS.
// Outside systemd (no NOTIFY_SOCKET in the environment) every call does nothing.
#pragma once

#include <string_view>

namespace portico::app {

class ServiceNotifier {
 public:
  void ready(std::string_view status) const;
  void reloading(std::string_view status) const;
  void stopping(std::string_view status) const;

 private:
  void send(std::string_view state, std::string_view status) const;
};

}  // namespace portico::app
