// The watcher on a real loop against a temporary directory: the three ways a config file
// gets replaced, and the changes that must not trigger a reload. Each wait has a deadline;
// "nothing happened" is checked after the watcher has looked (checks()), not after a sleep.
#include "app/ConfigWatcher.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace portico::app {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr milliseconds kDebounce{30};
constexpr auto kDeadline = std::chrono::seconds(3);

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class ConfigWatcherTest : public ::testing::Test {
 protected:
  ConfigWatcherTest() {
    char name[] = "/tmp/portico_watch_test_XXXXXX";
    EXPECT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
    uv_loop_init(&loop_);
    // Wakes the loop now and then so a deadline is noticed even with nothing happening.
    uv_timer_init(&loop_, &tick_);
    uv_timer_start(
        &tick_, [](uv_timer_t*) {}, 10, 10);
    uv_unref(reinterpret_cast<uv_handle_t*>(&tick_));
  }

  ~ConfigWatcherTest() override {
    watcher_.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    const auto deadline = Clock::now() + kDeadline;
    while (uv_run(&loop_, UV_RUN_NOWAIT) != 0 && Clock::now() < deadline) {
    }
    EXPECT_EQ(uv_loop_alive(&loop_), 0) << "a handle outlived the watcher";
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void watch(const fs::path& path, milliseconds debounce = kDebounce) {
    watcher_ = std::make_unique<ConfigWatcher>(
        &loop_, path.string(), [this] { ++changes_; }, debounce);
    watcher_->start();
  }
  // As the server watches certificate files: from the content hashed before it loaded them.
  void watch_from(const fs::path& path, std::optional<size_t> baseline) {
    watcher_ = std::make_unique<ConfigWatcher>(
        &loop_, path.string(), [this] { ++changes_; }, kDebounce);
    watcher_->start(baseline);
  }

  template <typename Done>
  bool run_until(Done done) {
    const auto deadline = Clock::now() + kDeadline;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      uv_run(&loop_, UV_RUN_ONCE);
    }
    return true;
  }

  // Runs the loop for a while: long enough for a stray event to have its check.
  void settle() {
    const auto until = Clock::now() + 4 * kDebounce;
    run_until([&] { return Clock::now() >= until; });
  }

  bool changed_once() {
    bool ok = run_until([&] { return changes_ >= 1; });
    settle();
    return ok && changes_ == 1;
  }

  // After something that must not count as a change: the watcher looked, and kept quiet.
  bool looked_and_kept_quiet(size_t checks_before) {
    bool looked = run_until([&] { return watcher_->checks() > checks_before; });
    settle();
    return looked && changes_ == 0;
  }

  fs::path dir_;
  uv_loop_t loop_;
  uv_timer_t tick_;
  std::unique_ptr<ConfigWatcher> watcher_;
  int changes_ = 0;
};

TEST_F(ConfigWatcherTest, WriteInPlace) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watch(file);
  write_file(file, "workers: 2\n");
  EXPECT_TRUE(changed_once()) << changes_;
}

TEST_F(ConfigWatcherTest, EditorRenamesATempFileOverIt) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watch(file);
  write_file(dir_ / ".portico.yaml.swp", "workers: 2\n");
  fs::rename(dir_ / ".portico.yaml.swp", file);
  EXPECT_TRUE(changed_once()) << changes_;
  // The watch is on the directory, so the new inode is watched as well as the old was.
  write_file(dir_ / "tmp", "workers: 3\n");
  fs::rename(dir_ / "tmp", file);
  run_until([&] { return changes_ >= 2; });
  EXPECT_EQ(changes_, 2);
}

TEST_F(ConfigWatcherTest, KubernetesConfigMapSwap) {
  // DIR/portico.yaml -> ..data/portico.yaml; ..data -> ..2024_01_01; what the kubelet does.
  fs::create_directory(dir_ / "..2024_01_01");
  write_file(dir_ / "..2024_01_01" / "portico.yaml", "workers: 1\n");
  fs::create_directory_symlink("..2024_01_01", dir_ / "..data");
  fs::create_symlink("..data/portico.yaml", dir_ / "portico.yaml");
  watch(dir_ / "portico.yaml");

  int expected = 0;
  for (std::string stamp : {"..2024_01_02", "..2024_01_03"}) {
    const std::string old_target = fs::read_symlink(dir_ / "..data").string();
    fs::create_directory(dir_ / stamp);
    write_file(dir_ / stamp / "portico.yaml", "workers: " + stamp + "\n");
    fs::create_directory_symlink(stamp, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    fs::remove_all(dir_ / old_target);
    ++expected;
    EXPECT_TRUE(run_until([&] { return changes_ >= expected; })) << stamp;
  }
  settle();
  EXPECT_EQ(changes_, 2);
}

TEST_F(ConfigWatcherTest, SymlinkToAFileElsewhereEditedInPlace) {
  fs::create_directory(dir_ / "real");
  write_file(dir_ / "real" / "config.yaml", "workers: 1\n");
  fs::create_directory(dir_ / "etc");
  fs::create_symlink(dir_ / "real" / "config.yaml", dir_ / "etc" / "portico.yaml");
  watch(dir_ / "etc" / "portico.yaml");
  write_file(dir_ / "real" / "config.yaml", "workers: 2\n");
  EXPECT_TRUE(changed_once()) << changes_;
}

TEST_F(ConfigWatcherTest, SameContentIsNoChange) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watch(file);
  write_file(file, "workers: 1\n");
  fs::last_write_time(file, fs::file_time_type::clock::now());  // touch
  EXPECT_TRUE(looked_and_kept_quiet(0));
}

TEST_F(ConfigWatcherTest, OtherFilesInTheDirectoryAreNoChange) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watch(file);
  write_file(dir_ / "unrelated.txt", "hello\n");
  fs::remove(dir_ / "unrelated.txt");
  EXPECT_TRUE(looked_and_kept_quiet(0));
}

TEST_F(ConfigWatcherTest, QuickWritesGiveOneCallback) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 0\n");
  // A longer quiet period, so a busy machine pausing this thread between two writes
  // cannot split them.
  watch(file, milliseconds(200));
  for (int i = 1; i <= 5; ++i) {
    write_file(file, "workers: " + std::to_string(i) + "\n");
    uv_run(&loop_, UV_RUN_NOWAIT);  // each write's events restart the quiet period
  }
  EXPECT_TRUE(changed_once()) << changes_;
  EXPECT_EQ(watcher_->checks(), 1u);
}

TEST_F(ConfigWatcherTest, MissingFileWaitsForItsReturn) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watch(file);
  fs::remove(file);
  EXPECT_TRUE(looked_and_kept_quiet(0));
  write_file(file, "workers: 2\n");
  EXPECT_TRUE(changed_once()) << changes_;
}

TEST_F(ConfigWatcherTest, RecreatedWithTheSameContentIsNoChange) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watch(file);
  fs::remove(file);
  write_file(file, "workers: 1\n");
  EXPECT_TRUE(looked_and_kept_quiet(0));
}

TEST_F(ConfigWatcherTest, NoCallbackAfterStop) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watch(file);
  write_file(file, "workers: 2\n");
  watcher_->stop();
  watcher_->stop();  // idempotent
  settle();
  EXPECT_EQ(changes_, 0);
}

TEST_F(ConfigWatcherTest, CallbackMayStopTheWatcher) {
  const fs::path file = dir_ / "portico.yaml";
  write_file(file, "workers: 1\n");
  watcher_ = std::make_unique<ConfigWatcher>(
      &loop_, file.string(),
      [this] {
        ++changes_;
        watcher_->stop();
      },
      kDebounce);
  watcher_->start();
  write_file(file, "workers: 2\n");
  EXPECT_TRUE(run_until([&] { return changes_ == 1; }));
  write_file(file, "workers: 3\n");
  settle();
  EXPECT_EQ(changes_, 1);
}

// The file changed after the baseline was taken but before the watch began, so its events
// came too early: the change is still reported, once.
TEST_F(ConfigWatcherTest, AChangeBetweenTheBaselineAndTheStartIsReported) {
  const fs::path file = dir_ / "site.pem";
  write_file(file, "old certificate\n");
  const std::optional<size_t> baseline = ConfigWatcher::content_hash(file.string());
  ASSERT_TRUE(baseline);
  write_file(file, "renewed certificate\n");
  watch_from(file, baseline);
  EXPECT_TRUE(changed_once()) << changes_;
}

TEST_F(ConfigWatcherTest, AFileUnreadableAtTheBaselineAndBackSinceIsReported) {
  const fs::path file = dir_ / "site.pem";
  write_file(file, "certificate\n");
  watch_from(file, std::nullopt);
  EXPECT_TRUE(changed_once()) << changes_;
}

TEST_F(ConfigWatcherTest, ABaselineEqualToTheFileIsNoChange) {
  const fs::path file = dir_ / "site.pem";
  write_file(file, "certificate\n");
  watch_from(file, ConfigWatcher::content_hash(file.string()));
  fs::last_write_time(file, fs::file_time_type::clock::now());  // touch: the watcher looks
  EXPECT_TRUE(looked_and_kept_quiet(0));
  write_file(file, "renewed certificate\n");
  EXPECT_TRUE(changed_once()) << changes_;
}

}  // namespace
}  // namespace portico::app
