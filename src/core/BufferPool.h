// Per-worker pool of read buffers. A connection borrows a block only while it has
// bytes in flight (a partial head, a body slice being written), so an idle keep-alive
// connection holds no buffer at all. Blocks are reference counted so a pending write
// can pin the bytes it points into while the reader moves on. Not thread-safe: one
// pool per worker thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace portico::core {

class BufferPool;

struct BufferBlock {
  BufferPool* pool = nullptr;
  uint32_t refs = 0;
  uint32_t capacity = 0;
  std::unique_ptr<char[]> bytes;
};

// Shared handle on a block; the block goes back to its pool with the last handle.
class BufRef {
 public:
  BufRef() = default;
  explicit BufRef(BufferBlock* block) : block_(block) { ++block_->refs; }
  BufRef(const BufRef& o) : block_(o.block_) {
    if (block_) ++block_->refs;
  }
  BufRef(BufRef&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
  BufRef& operator=(BufRef o) noexcept {
    std::swap(block_, o.block_);
    return *this;
  }
  ~BufRef() { reset(); }

  void reset();
  explicit operator bool() const { return block_ != nullptr; }
  char* data() const { return block_->bytes.get(); }
  uint32_t capacity() const { return block_->capacity; }
  bool unique() const { return block_->refs == 1; }

 private:
  BufferBlock* block_ = nullptr;
};

class BufferPool {
 public:
  static constexpr uint32_t kBlockSize = 16 * 1024;

  explicit BufferPool(size_t max_free = 256) : max_free_(max_free) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A block of at least `size` bytes; standard blocks come from the free list.
  BufRef acquire(uint32_t size = kBlockSize) {
    if (size <= kBlockSize && !free_.empty()) {
      BufferBlock* b = free_.back().release();
      free_.pop_back();
      return BufRef(b);
    }
    auto b = std::make_unique<BufferBlock>();
    b->pool = this;
    b->capacity = size <= kBlockSize ? kBlockSize : size;
    b->bytes = std::make_unique_for_overwrite<char[]>(b->capacity);
    return BufRef(b.release());  // owned by its references from here; see recycle()
  }

  size_t free_blocks() const { return free_.size(); }

 private:
  friend class BufRef;
  void recycle(BufferBlock* raw) {
    std::unique_ptr<BufferBlock> block(raw);
    if (block->capacity == kBlockSize && free_.size() < max_free_) free_.push_back(std::move(block));
  }

  size_t max_free_;
  std::vector<std::unique_ptr<BufferBlock>> free_;
};

inline void BufRef::reset() {
  if (block_ && --block_->refs == 0) block_->pool->recycle(block_);
  block_ = nullptr;
}

}  // namespace portico::core
