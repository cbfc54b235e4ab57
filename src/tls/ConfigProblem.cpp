#include "tls/ConfigProblem.h"

#include <string>

namespace portico::tls {

std::invalid_argument config_problem(std::string_view source, const config::SourceMark& mark,
                                     std::string_view what, std::string_view problem) {
  std::string text(source);
  if (mark.line > 0) text += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
  text += ": ";
  text += what;
  text += ": ";
  text += problem;
  return std::invalid_argument(text);
}

}  // namespace portico::tls
