#include "harness/CpuTime.h"

#include <filesystem>
#include <string>

#include "harness/TempDir.h"

namespace portico::it {

int64_t ReadCpuNs(pid_t pid) {
  std::error_code ec;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  int64_t total = 0;
  bool any = false;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    // "on-cpu-ns wait-ns timeslices"; a thread that just exited reads as empty.
    std::string stat = ReadFile(it->path().string() + "/schedstat");
    if (stat.empty()) continue;
    total += std::stoll(stat);
    any = true;
  }
  return any ? total : -1;
}

}  // namespace portico::it
