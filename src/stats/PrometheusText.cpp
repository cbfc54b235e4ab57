#include "stats/PrometheusText.h"

#include <cstdio>

namespace portico::stats {

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::begin(std::string_view name, std::initializer_list<Label> labels,
                           std::string_view le) {
  out_.append(name);
  if (labels.size() == 0 && le.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view k, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_.append(k).append("=\"");
    for (char c : v) {
      if (c == '\\')
        out_ += "\\\\";
      else if (c == '"')
        out_ += "\\\"";
      else if (c == '\n')
        out_ += "\\n";
      else
        out_ += c;
    }
    out_ += '"';
  };
  for (const auto& [k, v] : labels) label(k, v);
  if (!le.empty()) label("le", le);
  out_ += "} ";
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels,
                            double value) {
  begin(name, labels, {});
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g\n", value);
  out_ += buf;
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels,
                            uint64_t value) {
  begin(name, labels, {});
  out_ += std::to_string(value);
  out_ += '\n';
}

}  // namespace portico::stats
