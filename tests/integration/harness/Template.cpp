#include "harness/Template.h"

#include <stdexcept>

namespace portico::it {

std::string Fill(const std::string& text, const Vars& vars) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      out.append(text, pos, std::string::npos);
      break;
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) throw std::invalid_argument("unclosed {{ in template");
    out.append(text, pos, open - pos);
    std::string key = text.substr(open + 2, close - open - 2);
    auto it = vars.find(key);
    if (it == vars.end()) throw std::invalid_argument("no value for {{" + key + "}}");
    out += it->second;
    pos = close + 2;
  }
  return out;
}

}  // namespace portico::it
