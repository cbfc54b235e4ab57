// Notices when the config file's content changes, whichever way it is changed: written in
// place, replaced by an editor (a temporary file renamed over it), or swapped by a
// Kubernetes ConfigMap volume, where the path is a symlink through `..data`, itself a
// symlink that is renamed to point at a new timestamped directory.
//
// A watch on the file itself would follow its inode and go quiet after a rename, so the
// watcher watches the file's directory, and also the directory its symlinks resolve
// into when that is another one (re-resolved after every change). Events only start a
// quiet-period timer; when it expires the file is read and the callback runs only if the
// content differs from the last seen: touching the file, or changing another file in the
// directory, does nothing. Runs on the main thread's loop.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace portico::app {

class ConfigWatcher {
 public:
  ConfigWatcher(uv_loop_t* loop, std::string path, std::function<void()> on_change,
                std::chrono::milliseconds debounce = std::chrono::milliseconds(250));
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Remembers the current content (call it right after loading the file) and starts
  // watching. A directory that cannot be watched is logged; the watcher then stays idle.
  void start();
  // Starts watching from `baseline`, content_hash() of the file as it was before it was
  // loaded (nullopt: it could not be read then). A change between that and now, which sent
  // its events before the watch began, is reported after the quiet period like any other.
  void start(std::optional<size_t> baseline);

  // The hash start() and the change checks compare; nullopt when the file cannot be read.
  static std::optional<size_t> content_hash(const std::string& path);
  // Stops watching; no callback after this. The watcher may be destroyed right after,
  // and stop() may be called from the callback.
  void stop();

  // Times the file was read after a quiet period, changed or not (for tests and logs).
  size_t checks() const { return checks_; }

 private:
  std::unique_ptr<uv_fs_event_t> watch(const std::string& dir);
  void on_event(const char* filename, int status);
  void on_quiet();
  void follow_symlinks();
  void start_watching();
  void check_after_quiet_period();

  uv_loop_t* loop_;
  std::string path_;
  std::function<void()> on_change_;
  std::chrono::milliseconds debounce_;

  std::string dir_;         // the path's directory, as resolved at start()
  std::string target_dir_;  // where the path's symlinks lead, when not dir_
  std::unique_ptr<uv_fs_event_t> dir_watch_;
  std::unique_ptr<uv_fs_event_t> target_watch_;
  std::unique_ptr<uv_timer_t> quiet_timer_;
  std::optional<size_t> last_hash_;  // of the content last seen; none while unreadable
  bool retried_ = false;             // the file was missing and one retry is scheduled
  size_t checks_ = 0;
};

}  // namespace portico::app
