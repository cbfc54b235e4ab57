// Drives a hiredis async context from a libuv loop: the same job as hiredis'
// adapters/libuv.h, which this replaces because that adapter drops poll errors. libuv
// reports an error on the socket (a refused connect, a reset) as status UV_EBADF and stops
// the poll handle; the adapter returns without telling hiredis, so a refused connect was
// only noticed by the connect timeout and a reset connection looked alive until the stall
// timeout. Here an error makes hiredis read (or, while connecting, write), which finds the
// socket error and frees the context through its usual callbacks.
#pragma once

#include <uv.h>

struct redisAsyncContext;

namespace portico::redis {

// Installs the event hooks. The poll handle belongs to the context: hiredis closes it (the
// cleanup hook) when the context is freed, and it is freed in its close callback, so the
// loop must run once more after that. False (nothing installed) if the socket cannot be
// polled.
bool attach_uv_poll(redisAsyncContext* ac, uv_loop_t* loop);

}  // namespace portico::redis
