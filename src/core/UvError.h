// libuv error text without uv_strerror's leak: for a code it does not know, uv_strerror
// allocates a message that is never freed.
#pragma once

#include <uv.h>

#include <string>

namespace portico::core {

inline std::string uv_error_text(int code) {
  if (code == 0) return "protocol error";
  char buf[128];
  uv_strerror_r(code, buf, sizeof buf);
  return buf;
}

}  // namespace portico::core
