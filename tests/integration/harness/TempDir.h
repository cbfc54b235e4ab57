// A private directory under $TMPDIR (or /tmp) for one test's config and logs.
// Removed when destroyed, unless the current test failed: then it is kept and its path printed.
#pragma once

#include <string>

namespace portico::it {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  // Writes `content` to File(name) and returns that path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// The whole content of a file ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// Replaces the file at `path` as editors do: `content` is written to a new file beside it,
// which is then renamed over it, so a reader sees the old or the new content, never a mix.
// Throws std::runtime_error when it cannot.
void ReplaceFile(const std::string& path, const std::string& content);

}  // namespace portico::it
