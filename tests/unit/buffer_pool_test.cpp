#include "core/BufferPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace portico::core {
namespace {

constexpr uint32_t kSmall = BufferPool::kSmallSize;
constexpr uint32_t kBlock = BufferPool::kBlockSize;

TEST(BufferPool, SizesRoundUpToTheTwoStandardBlocks) {
  static_assert(kSmall == 2 * 1024 && kBlock == 16 * 1024);
  BufferPool pool;
  EXPECT_EQ(pool.acquire(0).capacity(), kSmall);
  EXPECT_EQ(pool.acquire(1).capacity(), kSmall);
  EXPECT_EQ(pool.acquire(kSmall).capacity(), kSmall);
  EXPECT_EQ(pool.acquire(kSmall + 1).capacity(), kBlock);
  EXPECT_EQ(pool.acquire(kBlock).capacity(), kBlock);
  EXPECT_EQ(pool.acquire(kBlock + 1).capacity(), kBlock + 1);
  EXPECT_EQ(pool.acquire(100000).capacity(), 100000u);
}

TEST(BufRef, RefcountFollowsCopiesMovesAndResets) {
  BufferPool pool;
  BufRef a = pool.acquire(10);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a.unique());
  {
    BufRef b = a;  // copy
    EXPECT_FALSE(a.unique());
    EXPECT_FALSE(b.unique());
    EXPECT_EQ(b.data(), a.data());
    BufRef c = std::move(b);  // move: no new reference
    EXPECT_FALSE(b);
    EXPECT_EQ(c.data(), a.data());
    EXPECT_FALSE(a.unique());
    c.reset();
    EXPECT_FALSE(c);
    EXPECT_TRUE(a.unique());
    BufRef d;
    EXPECT_FALSE(d);
    d = a;  // copy-assign
    EXPECT_FALSE(a.unique());
    d = BufRef();  // assigning empty drops the reference
    EXPECT_TRUE(a.unique());
    BufRef e = a;
    e = e;  // self-assignment keeps the count
    EXPECT_FALSE(a.unique());
  }
  EXPECT_TRUE(a.unique());
  a.reset();
  EXPECT_FALSE(a);
  a.reset();  // resetting an empty handle is harmless
  EXPECT_FALSE(a);
}

TEST(BufRef, CopyAssignOverAnotherBlockReleasesIt) {
  BufferPool pool;
  BufRef a = pool.acquire(10);
  BufRef b = pool.acquire(10);
  char* b_data = b.data();
  ASSERT_NE(a.data(), b_data);
  b = a;  // b's old block had one reference: back to the pool
  EXPECT_FALSE(a.unique());
  BufRef c = pool.acquire(10);
  EXPECT_EQ(c.data(), b_data);
}

TEST(BufferPool, SmallBlocksAreRecycledAndReused) {
  BufferPool pool;
  char* p;
  {
    BufRef a = pool.acquire(100);
    p = a.data();
    std::memset(p, 'x', kSmall);  // the whole capacity is usable (ASan checks)
  }
  BufRef again = pool.acquire(kSmall);
  EXPECT_EQ(again.data(), p);
  EXPECT_EQ(again.capacity(), kSmall);
  EXPECT_TRUE(again.unique());
}

TEST(BufferPool, LargeBlocksAreRecycledAndReused) {
  BufferPool pool;
  char* p;
  {
    BufRef a = pool.acquire(kSmall + 1);
    p = a.data();
    std::memset(p, 'x', kBlock);
  }
  BufRef again = pool.acquire(kBlock);
  EXPECT_EQ(again.data(), p);
  EXPECT_EQ(again.capacity(), kBlock);
}

TEST(BufferPool, BlocksReturnToTheFreeListOfTheirSize) {
  BufferPool pool;
  BufRef small = pool.acquire(1);
  BufRef large = pool.acquire(kBlock);
  char* small_p = small.data();
  char* large_p = large.data();
  small.reset();
  large.reset();
  // A large request must not get the small block and vice versa.
  BufRef l = pool.acquire(kBlock);
  EXPECT_EQ(l.data(), large_p);
  EXPECT_EQ(l.capacity(), kBlock);
  BufRef s = pool.acquire(1);
  EXPECT_EQ(s.data(), small_p);
  EXPECT_EQ(s.capacity(), kSmall);
}

TEST(BufferPool, OnlyTheLastReferenceRecycles) {
  BufferPool pool;
  BufRef a = pool.acquire(1);
  char* p = a.data();
  BufRef pin = a;
  a.reset();
  BufRef other = pool.acquire(1);  // the first block is still pinned: not handed out
  EXPECT_NE(other.data(), p);
  pin.reset();
  BufRef reused = pool.acquire(1);
  EXPECT_EQ(reused.data(), p);
}

TEST(BufferPool, SeveralFreeBlocksAreAllReused) {
  BufferPool pool;
  std::vector<BufRef> refs;
  std::vector<char*> ptrs;
  for (int i = 0; i < 5; ++i) {
    refs.push_back(pool.acquire(kBlock));
    ptrs.push_back(refs.back().data());
  }
  refs.clear();
  std::vector<BufRef> again;
  for (int i = 0; i < 5; ++i) {
    again.push_back(pool.acquire(kBlock));
    EXPECT_NE(std::find(ptrs.begin(), ptrs.end(), again.back().data()), ptrs.end()) << i;
  }
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j) EXPECT_NE(again[i].data(), again[j].data());
}

TEST(BufferPool, OversizeBlocksAreNotKept) {
  BufferPool pool;
  {
    BufRef big = pool.acquire(kBlock * 2);
    EXPECT_EQ(big.capacity(), kBlock * 2);
    std::memset(big.data(), 'x', kBlock * 2);
  }
  // Had the oversize block gone to the 16 KiB free list, it would be handed out here.
  BufRef b = pool.acquire(kBlock);
  EXPECT_EQ(b.capacity(), kBlock);
  BufRef s = pool.acquire(1);
  EXPECT_EQ(s.capacity(), kSmall);
}

TEST(BufferPool, FreeListIsBoundedByMaxFree) {
  BufferPool pool(1);
  BufRef a = pool.acquire(1);
  BufRef b = pool.acquire(1);
  char* a_p = a.data();
  a.reset();  // kept: the free list has room for one
  b.reset();  // dropped: the free list is full
  BufRef x = pool.acquire(1);
  EXPECT_EQ(x.data(), a_p);
}

TEST(BufferPool, LendReturnsTheSameBlockWhileUnique) {
  BufferPool pool;
  char* p;
  {
    BufRef r = pool.lend();
    ASSERT_TRUE(r);
    EXPECT_EQ(r.capacity(), kBlock);
    EXPECT_TRUE(pool.is_lent(r));
    EXPECT_FALSE(r.unique());  // the pool keeps its own reference
    p = r.data();
  }
  for (int i = 0; i < 3; ++i) {
    BufRef r = pool.lend();
    EXPECT_EQ(r.data(), p) << i;
    EXPECT_TRUE(pool.is_lent(r));
  }
}

TEST(BufferPool, LendGivesAFreshBlockWhileThePreviousOneIsPinned) {
  BufferPool pool;
  BufRef pinned = pool.lend();  // e.g. a queued write points into it
  char* first = pinned.data();
  std::memcpy(first, "pinned bytes", 12);

  BufRef second = pool.lend();
  EXPECT_NE(second.data(), first);
  EXPECT_EQ(second.capacity(), kBlock);
  EXPECT_TRUE(pool.is_lent(second));
  EXPECT_FALSE(pool.is_lent(pinned));  // no longer the read buffer
  EXPECT_EQ(std::string(first, 12), "pinned bytes");
  std::memset(second.data(), 'y', kBlock);  // reading into the new block leaves the pinned one
  EXPECT_EQ(std::string(first, 12), "pinned bytes");

  // The pinned block was released by the pool: dropping the last holder recycles it.
  char* second_p = second.data();
  second.reset();
  pinned.reset();
  BufRef r = pool.lend();
  EXPECT_EQ(r.data(), second_p);  // the read buffer is still the second block
  BufRef from_free = pool.acquire(kBlock);
  EXPECT_EQ(from_free.data(), first);  // and the first is on the 16 KiB free list
}

TEST(BufferPool, IsLentIsFalseForOtherHandles) {
  BufferPool pool;
  BufRef empty;
  EXPECT_FALSE(pool.is_lent(empty));  // nothing lent yet either
  BufRef own = pool.acquire(kBlock);
  EXPECT_FALSE(pool.is_lent(own));
  BufRef lent = pool.lend();
  EXPECT_TRUE(pool.is_lent(lent));
  EXPECT_FALSE(pool.is_lent(own));
  EXPECT_FALSE(pool.is_lent(empty));
  BufRef copy = lent;
  EXPECT_TRUE(pool.is_lent(copy));  // any handle on the read buffer
  BufRef kept = pool.retain(lent.data(), 10);
  EXPECT_FALSE(pool.is_lent(kept));
}

TEST(BufferPool, RetainCopiesIntoAPrivateBlock) {
  BufferPool pool;
  BufRef lent = pool.lend();
  const std::string text = "GET / HTTP/1.1\r\nHost: a";
  std::memcpy(lent.data(), text.data(), text.size());
  BufRef kept = pool.retain(lent.data(), uint32_t(text.size()));
  EXPECT_NE(kept.data(), lent.data());
  EXPECT_TRUE(kept.unique());
  EXPECT_EQ(kept.capacity(), kSmall);
  EXPECT_EQ(std::string(kept.data(), text.size()), text);
  std::memset(lent.data(), 0, text.size());  // the next read overwrites the lent buffer
  EXPECT_EQ(std::string(kept.data(), text.size()), text);
}

TEST(BufferPool, RetainCapacityHonoursSizeAndMinimum) {
  BufferPool pool;
  std::string bytes(kBlock + 100, 'z');
  bytes[0] = 'a';
  bytes.back() = 'b';

  EXPECT_EQ(pool.retain(bytes.data(), 10).capacity(), kSmall);
  EXPECT_EQ(pool.retain(bytes.data(), 10, kSmall).capacity(), kSmall);
  EXPECT_EQ(pool.retain(bytes.data(), 10, kSmall + 1).capacity(), kBlock);
  EXPECT_EQ(pool.retain(bytes.data(), kSmall + 1, 0).capacity(), kBlock);
  EXPECT_EQ(pool.retain(bytes.data(), 10, 40000).capacity(), 40000u);

  // Larger than a block: exactly the size, every byte copied.
  uint32_t n = uint32_t(bytes.size());
  BufRef big = pool.retain(bytes.data(), n);
  EXPECT_EQ(big.capacity(), n);
  EXPECT_EQ(std::string(big.data(), n), bytes);

  // The minimum applies to capacity only; n bytes are copied.
  BufRef grown = pool.retain(bytes.data(), 5, 30000);
  EXPECT_EQ(grown.capacity(), 30000u);
  EXPECT_EQ(std::string(grown.data(), 5), bytes.substr(0, 5));
}

TEST(BufferPool, RetainedBlocksAreRecycledToo) {
  BufferPool pool;
  char* p;
  {
    BufRef kept = pool.retain("abc", 3);
    p = kept.data();
  }
  EXPECT_EQ(pool.acquire(1).data(), p);
}

}  // namespace
}  // namespace portico::core
