#include "app/ServiceNotifier.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <string>

namespace portico::app {

void ServiceNotifier::ready(std::string_view status) const {
  send("READY=1", status);
}

void ServiceNotifier::reloading(std::string_view status) const {
  send("RELOADING=1", status);
}

void ServiceNotifier::stopping(std::string_view status) const {
  send("STOPPING=1", status);
}

void ServiceNotifier::send(std::string_view state, std::string_view status) const {
  std::string message(state);
  message.append("\nSTATUS=").append(status);
  // unset_environment = 0: worker threads started later never read NOTIFY_SOCKET, and
  // a later reload will notify again.
  int rc = sd_notify(0, message.c_str());
  if (rc < 0) spdlog::warn("sd_notify({}) failed: {}", state, strerror(-rc));
}

}  // namespace portico::app
