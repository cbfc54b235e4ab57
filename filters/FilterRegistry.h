// The filters Portico knows, by the name used in the config. Each entry parses the
// filter's YAML node, reporting problems through the loader's YamlReader (so they come
// with file:line:col and the key), and returns its FilterConfig.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "config/YamlReader.h"
#include "filters/FilterConfig.h"

namespace portico::filters {

// nullptr when the node is invalid (errors were reported).
using ParseFilter = std::shared_ptr<const FilterConfig> (*)(config::YamlReader& reader,
                                                            const config::Item& item);

struct FilterType {
  std::string_view name;
  ParseFilter parse;
};

std::span<const FilterType> filter_types();
const FilterType* find_filter_type(std::string_view name);

}  // namespace portico::filters
