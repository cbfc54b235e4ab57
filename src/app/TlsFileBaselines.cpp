#include "app/TlsFileBaselines.h"

#include "app/ConfigWatcher.h"

namespace portico::app {

TlsFileBaselines tls_file_baselines(const config::Config& config) {
  TlsFileBaselines out;
  auto add = [&out](const std::string& path) {
    if (!path.empty() && !out.contains(path)) out.emplace(path, ConfigWatcher::content_hash(path));
  };
  for (const config::Listener& l : config.listeners) {
    if (!l.tls.enabled) continue;
    for (const config::TlsCertificate& c : l.tls.certificates) {
      add(c.cert);
      add(c.key);
    }
    if (l.tls.client_certificates.enabled) add(l.tls.client_certificates.ca);
  }
  for (const config::Upstream& u : config.upstreams) {
    if (!u.tls.enabled) continue;
    add(u.tls.ca);
    add(u.tls.cert);
    add(u.tls.key);
  }
  return out;
}

}  // namespace portico::app
