#include "harness/Headers.h"

#include <cctype>

namespace portico::it {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> Headers::Get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

size_t Headers::Count(std::string_view name) const {
  size_t count = 0;
  for (const auto& field : fields_) count += EqualsIgnoreCase(field.first, name) ? 1 : 0;
  return count;
}

std::vector<std::string> Headers::All(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields_) {
    if (EqualsIgnoreCase(n, name)) out.push_back(v);
  }
  return out;
}

bool Headers::HasToken(std::string_view name, std::string_view token) const {
  for (const auto& value : All(name)) {
    size_t pos = 0;
    while (pos <= value.size()) {
      size_t comma = value.find(',', pos);
      if (comma == std::string::npos) comma = value.size();
      std::string_view item(value.data() + pos, comma - pos);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (EqualsIgnoreCase(item, token)) return true;
      pos = comma + 1;
    }
  }
  return false;
}

std::string Headers::ToString() const {
  std::string out;
  for (const auto& [n, v] : fields_) out += n + ": " + v + "\n";
  return out;
}

}  // namespace portico::it
