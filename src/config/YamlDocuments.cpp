#include "config/YamlDocuments.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>

namespace portico::config {

namespace {

// Notes where the second document starts: at its first node, as an error about it would
// point there, or at its `---` when it has none. Everything else is dropped.
class DocumentStarts final : public YAML::EventHandler {
 public:
  int count = 0;
  YAML::Mark second;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++count == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node_at(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node_at(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node_at(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node_at(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node_at(mark);
  }
  void OnMapEnd() override {}

 private:
  void node_at(const YAML::Mark& mark) {
    if (count == 2 && !second_has_node_) {
      second = mark;
      second_has_node_ = true;
    }
  }
  bool second_has_node_ = false;
};

}  // namespace

std::optional<YAML::Mark> second_document_start(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  while (starts.count < 2 && parser.HandleNextDocument(starts)) {
  }
  if (starts.count < 2) return std::nullopt;
  return starts.second;
}

}  // namespace portico::config
