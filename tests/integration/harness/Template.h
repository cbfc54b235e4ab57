// Fills {{NAME}} placeholders in a config template (YAML flow maps use single braces).
#pragma once

#include <map>
#include <string>

namespace portico::it {

using Vars = std::map<std::string, std::string>;

// Replaces every {{KEY}} with vars[KEY]. Throws std::invalid_argument on a placeholder that
// has no value, so a typo in a test config fails loudly instead of reaching the proxy.
std::string Fill(const std::string& text, const Vars& vars);

}  // namespace portico::it
