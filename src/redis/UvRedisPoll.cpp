#include "redis/UvRedisPoll.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>

namespace portico::redis {

namespace {

struct Poll {
  uv_poll_t handle;
  redisAsyncContext* ac = nullptr;  // null once hiredis has let go (cleanup)
  int events = 0;
};

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* p = static_cast<Poll*>(handle->data);
  if (p->ac == nullptr) return;
  if (status < 0) {
    // A socket error: whichever operation hiredis is waiting for will now fail and report it.
    events = (p->ac->c.flags & REDIS_CONNECTED) ? UV_READABLE : UV_WRITABLE;
  }
  if (events & UV_READABLE) redisAsyncHandleRead(p->ac);
  // Reading may have freed the context; its cleanup hook cleared p->ac.
  if (p->ac != nullptr && (events & UV_WRITABLE)) redisAsyncHandleWrite(p->ac);
}

void update(Poll* p) {
  if (p->events != 0) {
    uv_poll_start(&p->handle, p->events, on_poll);
  } else {
    uv_poll_stop(&p->handle);
  }
}

void add_read(void* data) {
  auto* p = static_cast<Poll*>(data);
  p->events |= UV_READABLE;
  update(p);
}

void del_read(void* data) {
  auto* p = static_cast<Poll*>(data);
  p->events &= ~UV_READABLE;
  update(p);
}

void add_write(void* data) {
  auto* p = static_cast<Poll*>(data);
  p->events |= UV_WRITABLE;
  update(p);
}

void del_write(void* data) {
  auto* p = static_cast<Poll*>(data);
  p->events &= ~UV_WRITABLE;
  update(p);
}

void cleanup(void* data) {
  auto* p = static_cast<Poll*>(data);
  p->ac = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
           [](uv_handle_t* h) { std::unique_ptr<Poll>(static_cast<Poll*>(h->data)); });
}

}  // namespace

bool attach_uv_poll(redisAsyncContext* ac, uv_loop_t* loop) {
  if (ac->ev.data != nullptr) return false;
  auto p = std::make_unique<Poll>();
  // A failed init leaves nothing on the loop, so the Poll can simply be freed.
  if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) return false;
  p->ac = ac;
  p->handle.data = p.get();
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  ac->ev.data = p.release();  // now owned by the handle: freed in its close callback
  return true;
}

}  // namespace portico::redis
