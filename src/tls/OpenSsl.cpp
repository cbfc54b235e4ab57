#include "tls/OpenSsl.h"

#include <openssl/err.h>

namespace portico::tls {

std::string take_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    // "error:0A000086:SSL routines::certificate verify failed": keep the words only.
    const char* reason = ERR_reason_error_string(e);
    out += reason ? reason : buf;
  }
  return out;
}

}  // namespace portico::tls
