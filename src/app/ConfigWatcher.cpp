#include "app/ConfigWatcher.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/UvClose.h"
#include "core/UvError.h"

namespace portico::app {

namespace {

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The path with every symlink followed; nullopt while it leads nowhere (mid-swap).
std::optional<std::string> resolved(const std::string& path) {
  std::array<char, PATH_MAX> buffer{};
  if (!::realpath(path.c_str(), buffer.data())) return std::nullopt;
  return std::string(buffer.data());
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::optional<std::string> read_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return std::nullopt;
  std::string text;
  std::array<char, 8192> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0)
    text.append(buffer.data(), n);
  if (std::ferror(file.get())) return std::nullopt;
  return text;
}

}  // namespace

std::optional<size_t> ConfigWatcher::content_hash(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  return std::hash<std::string_view>{}(*text);
}

ConfigWatcher::ConfigWatcher(uv_loop_t* loop, std::string path, std::function<void()> on_change,
                             std::chrono::milliseconds debounce)
    : loop_(loop), path_(std::move(path)), on_change_(std::move(on_change)), debounce_(debounce) {}

ConfigWatcher::~ConfigWatcher() {
  stop();
}

void ConfigWatcher::start() {
  if (quiet_timer_) return;
  last_hash_ = content_hash(path_);
  start_watching();
}

void ConfigWatcher::start(std::optional<size_t> baseline) {
  if (quiet_timer_) return;
  last_hash_ = baseline;
  start_watching();
  // The events of a change made before the watch began are lost: look once now. The
  // callback runs from the timer, never from within start() (its caller may be a reload).
  if (content_hash(path_) != baseline) check_after_quiet_period();
}

void ConfigWatcher::start_watching() {
  quiet_timer_ = std::make_unique<uv_timer_t>();
  uv_timer_init(loop_, quiet_timer_.get());
  quiet_timer_->data = this;
  dir_ = resolved(parent_dir(path_)).value_or(parent_dir(path_));
  dir_watch_ = watch(dir_);
  follow_symlinks();
}

void ConfigWatcher::stop() {
  core::close_owned(dir_watch_);
  core::close_owned(target_watch_);
  core::close_owned(quiet_timer_);
  target_dir_.clear();
  retried_ = false;
}

std::unique_ptr<uv_fs_event_t> ConfigWatcher::watch(const std::string& dir) {
  auto handle = std::make_unique<uv_fs_event_t>();
  uv_fs_event_init(loop_, handle.get());
  handle->data = this;
  const int rc = uv_fs_event_start(
      handle.get(),
      [](uv_fs_event_t* h, const char* filename, int, int status) {
        static_cast<ConfigWatcher*>(h->data)->on_event(filename, status);
      },
      dir.c_str(), 0);
  if (rc != 0) {
    spdlog::warn("config watcher: cannot watch {} for changes of {}: {}", dir, path_,
                 core::uv_error_text(rc));
    core::close_owned(handle);
  }
  return handle;
}

// Where the file really lives can change with every update (a ConfigMap's new
// timestamped directory), so it is looked up again each time.
void ConfigWatcher::follow_symlinks() {
  auto real = resolved(path_);
  if (!real) return;  // mid-swap: keep watching what we had
  std::string dir = parent_dir(*real);
  if (dir == dir_) dir.clear();
  if (dir == target_dir_) return;
  core::close_owned(target_watch_);
  target_dir_ = dir;
  if (!dir.empty()) target_watch_ = watch(dir);
}

void ConfigWatcher::on_event(const char* filename, int status) {
  if (status < 0) {
    spdlog::debug("config watcher: {}: {}", path_, core::uv_error_text(status));
  } else {
    spdlog::trace("config watcher: change of {}", filename ? filename : "?");
  }
  // Every event restarts the quiet period: an editor's save or a ConfigMap swap is
  // several events, and the file is read once they have stopped.
  retried_ = false;
  check_after_quiet_period();
}

void ConfigWatcher::check_after_quiet_period() {
  uv_timer_start(
      quiet_timer_.get(), [](uv_timer_t* t) { static_cast<ConfigWatcher*>(t->data)->on_quiet(); },
      uint64_t(debounce_.count()), 0);
}

void ConfigWatcher::on_quiet() {
  ++checks_;
  follow_symlinks();
  const std::optional<size_t> hash = content_hash(path_);
  if (!hash) {
    // Caught between a removal and its replacement: the replacement's events call us
    // again, but look once more in case they came before this read.
    if (!retried_) {
      retried_ = true;
      uv_timer_start(
          quiet_timer_.get(),
          [](uv_timer_t* t) { static_cast<ConfigWatcher*>(t->data)->on_quiet(); },
          uint64_t(debounce_.count()), 0);
    } else {
      spdlog::debug("config watcher: {} cannot be read; waiting for it to come back", path_);
    }
    return;
  }
  if (hash == last_hash_) return;
  last_hash_ = hash;
  spdlog::info("config file {} changed", path_);
  on_change_();  // last: it may stop or destroy this watcher
}

}  // namespace portico::app
