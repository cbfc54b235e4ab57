// A doubly linked list threaded through its elements (which derive from ListHook),
// so adding and removing a connection never allocates.
#pragma once

#include <cstddef>

namespace portico::core {

template <typename Tag>
class ListHook {
 public:
  bool linked() const { return linked_; }

 private:
  template <typename T, typename G>
  friend class IntrusiveList;
  ListHook* prev_ = nullptr;
  ListHook* next_ = nullptr;
  bool linked_ = false;
};

template <typename T, typename Tag = T>
class IntrusiveList {
  using Hook = ListHook<Tag>;

 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return first_ == nullptr; }
  size_t size() const { return size_; }
  T* front() const { return first_ ? static_cast<T*>(first_) : nullptr; }
  T* back() const { return last_ ? static_cast<T*>(last_) : nullptr; }
  static T* next(T* item) {
    Hook* n = static_cast<Hook*>(item)->next_;
    return n ? static_cast<T*>(n) : nullptr;
  }

  void push_back(T* item) {
    Hook* h = static_cast<Hook*>(item);
    h->prev_ = last_;
    h->next_ = nullptr;
    h->linked_ = true;
    if (last_)
      last_->next_ = h;
    else
      first_ = h;
    last_ = h;
    ++size_;
  }
  void push_front(T* item) {
    Hook* h = static_cast<Hook*>(item);
    h->prev_ = nullptr;
    h->next_ = first_;
    h->linked_ = true;
    if (first_)
      first_->prev_ = h;
    else
      last_ = h;
    first_ = h;
    ++size_;
  }
  void remove(T* item) {
    Hook* h = static_cast<Hook*>(item);
    if (!h->linked_) return;
    if (h->prev_)
      h->prev_->next_ = h->next_;
    else
      first_ = h->next_;
    if (h->next_)
      h->next_->prev_ = h->prev_;
    else
      last_ = h->prev_;
    h->prev_ = h->next_ = nullptr;
    h->linked_ = false;
    --size_;
  }
  static bool contains_hook(const T* item) { return static_cast<const Hook*>(item)->linked_; }

 private:
  Hook* first_ = nullptr;
  Hook* last_ = nullptr;
  size_t size_ = 0;
};

}  // namespace portico::core
