// Closing a libuv handle that a unique_ptr owns: libuv may still touch the handle until
// its close callback, so ownership passes to that callback, which frees it. Nulls `h`;
// does nothing when it is already null.
#pragma once

#include <uv.h>

#include <memory>

namespace portico::core {

template <typename Handle>
void close_owned(std::unique_ptr<Handle>& h) {
  if (!h) return;
  uv_close(reinterpret_cast<uv_handle_t*>(h.release()),
           [](uv_handle_t* raw) { std::unique_ptr<Handle>(reinterpret_cast<Handle*>(raw)); });
}

}  // namespace portico::core
