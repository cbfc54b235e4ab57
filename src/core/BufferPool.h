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
  static constexpr uint32_t kBlockSize = 16 * 1024;  // what one read may fill
  static constexpr uint32_t kSmallSize = 2 * 1024;   // what a waiting connection keeps

  explicit BufferPool(size_t max_free = 64) : max_free_(max_free) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // The worker's read buffer, lent for one read. The loop reads one socket at a time,
  // so one block serves every connection: after the read, a connection copies out only
  // the bytes it must keep (retain()). A block still pinned by a queued write is left
  // to that write and a fresh one becomes the read buffer.
  BufRef lend() {
    if (!scratch_ || !scratch_.unique()) scratch_ = acquire(kBlockSize);
    return scratch_;
  }
  bool is_lent(const BufRef& b) const { return b && scratch_ && b.data() == scratch_.data(); }

  // A private block holding a copy of `bytes`, with room for at least `min_capacity`.
  BufRef retain(const char* bytes, uint32_t n, uint32_t min_capacity = 0) {
    BufRef b = acquire(n > min_capacity ? n : min_capacity);
    std::memcpy(b.data(), bytes, n);
    return b;
  }

  // A block of at least `size` bytes; standard sizes come from the free lists.
  BufRef acquire(uint32_t size) {
    uint32_t cap = size <= kSmallSize ? kSmallSize : size <= kBlockSize ? kBlockSize : size;
    auto& free = cap == kSmallSize ? free_small_ : free_;
    if (cap <= kBlockSize && !free.empty()) {
      BufferBlock* b = free.back().release();
      free.pop_back();
      return BufRef(b);
    }
    auto b = std::make_unique<BufferBlock>();
    b->pool = this;
    b->capacity = cap;
    b->bytes = std::make_unique_for_overwrite<char[]>(cap);
    return BufRef(b.release());  // owned by its references from here; see recycle()
  }

 private:
  friend class BufRef;
  void recycle(BufferBlock* raw) {
    std::unique_ptr<BufferBlock> block(raw);
    auto& free = block->capacity == kSmallSize ? free_small_ : free_;
    if (block->capacity <= kBlockSize && free.size() < max_free_) free.push_back(std::move(block));
  }

  size_t max_free_;
  std::vector<std::unique_ptr<BufferBlock>> free_;
  std::vector<std::unique_ptr<BufferBlock>> free_small_;
  BufRef scratch_;  // declared last: destroyed first, while the free lists still exist
};

inline void BufRef::reset() {
  if (block_ && --block_->refs == 0) block_->pool->recycle(block_);
  block_ = nullptr;
}

}  // namespace portico::core
