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

}  // namespace portico::it
