#include "upstream/EndpointPool.h"

namespace portico::upstream {

EndpointPool::~EndpointPool() {
  // Idle connections close themselves; they must not point back at a dead pool.
  while (UpstreamConn* c = idle_.front()) {
    idle_.remove(c);
    c->abort();
  }
}

}  // namespace portico::upstream
