#include "harness/PrometheusParser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "harness/Utf8.h"

namespace portico::it {

namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}
bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsNameStart(char c) {
  return IsAsciiLetter(c) || c == '_' || c == ':';
}
bool IsNameChar(char c) {
  return IsNameStart(c) || IsDigit(c);
}
bool IsLabelStart(char c) {
  return IsAsciiLetter(c) || c == '_';
}
bool IsLabelChar(char c) {
  return IsLabelStart(c) || IsDigit(c);
}

bool IsMetricName(std::string_view s) {
  return !s.empty() && IsNameStart(s[0]) && std::all_of(s.begin(), s.end(), IsNameChar);
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// The text up to the first blank, and what follows it.
std::pair<std::string_view, std::string_view> Token(std::string_view s) {
  size_t end = 0;
  while (end < s.size() && !IsBlank(s[end])) ++end;
  return {s.substr(0, end), s.substr(end)};
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? char(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? char(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// A float as Go's strconv.ParseFloat reads the format's values: a decimal number with an
// optional sign, fraction and exponent; Inf or Infinity with an optional sign; NaN (letter
// case free in both).
std::optional<double> ParseValue(std::string_view s) {
  std::string_view unsigned_part = s;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    unsigned_part.remove_prefix(1);
  }
  if (EqualsIgnoreAsciiCase(unsigned_part, "inf") ||
      EqualsIgnoreAsciiCase(unsigned_part, "infinity"))
    return negative ? -HUGE_VAL : HUGE_VAL;
  if (EqualsIgnoreAsciiCase(s, "nan")) return std::nan("");
  // Digits, at most one point, at least one digit, then an optional exponent.
  size_t i = 0;
  size_t digits = 0;
  while (i < unsigned_part.size() && IsDigit(unsigned_part[i])) {
    ++i;
    ++digits;
  }
  if (i < unsigned_part.size() && unsigned_part[i] == '.') {
    ++i;
    while (i < unsigned_part.size() && IsDigit(unsigned_part[i])) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) return std::nullopt;
  if (i < unsigned_part.size() && (unsigned_part[i] == 'e' || unsigned_part[i] == 'E')) {
    ++i;
    if (i < unsigned_part.size() && (unsigned_part[i] == '+' || unsigned_part[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < unsigned_part.size() && IsDigit(unsigned_part[i])) {
      ++i;
      ++exponent_digits;
    }
    if (exponent_digits == 0) return std::nullopt;
  }
  if (i != unsigned_part.size()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(unsigned_part.data(), unsigned_part.data() + i, value);
  if (end != unsigned_part.data() + i) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Go gives ±Inf for a too large magnitude and 0 for a too small one, with an error;
    // the format has no use for either.
    return std::nullopt;
  }
  return negative ? -value : value;
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::string FormatNumber(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string LabelsText(const PromLabels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Name and labels in a canonical order: two samples are the same series iff keys match.
std::string SeriesKey(std::string_view name, PromLabels labels) {
  std::sort(labels.begin(), labels.end());
  std::string key(name);
  for (const auto& [k, v] : labels) {
    key += '\xff';
    key += k;
    key += '\xfe';
    key += v;
  }
  return key;
}

// The sample names a family of this type owns.
std::vector<std::string> SampleNames(const std::string& family, std::string_view type) {
  if (type == "histogram") return {family + "_bucket", family + "_sum", family + "_count"};
  if (type == "summary") return {family, family + "_sum", family + "_count"};
  return {family};
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  PromExposition Run() {
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos, end - pos);
      pos = end + 1;
      ++line_;
      if (!IsUtf8(line)) {
        Problem("not valid UTF-8");
        continue;
      }
      if (line.find('\r') != std::string_view::npos) {
        Problem("carriage return (lines end with a line feed alone)");
        while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      }
      line = Trim(line);
      if (line.empty()) continue;
      if (line.front() == '#')
        Comment(line.substr(1));
      else
        Sample(line);
    }
    if (!text_.empty() && text_.back() != '\n')
      Problem("the last line does not end with a line feed");
    CheckHistograms();
    return std::move(out_);
  }

 private:
  void Problem(const std::string& what) { Problem(line_, what); }
  void Problem(size_t line, const std::string& what) {
    out_.problems.push_back("line " + std::to_string(line) + ": " + what);
  }

  PromFamily& FamilyNamed(const std::string& name) {
    auto [it, fresh] = family_index_.emplace(name, out_.families.size());
    if (fresh) out_.families.push_back(PromFamily{name, "", std::nullopt});
    return out_.families[it->second];
  }

  // A HELP, TYPE or sample line of `family`: its lines must form one group.
  void EnterGroup(const std::string& family) {
    if (family == group_) return;
    group_ = family;
    if (!groups_started_.insert(family).second && split_reported_.insert(family).second)
      Problem("the lines of " + family +
              " are not in one group (a family's HELP, TYPE and samples must be together)");
  }

  void Comment(std::string_view rest) {
    auto [keyword, after_keyword] = Token(TrimLeft(rest));
    if (keyword != "HELP" && keyword != "TYPE") return;  // a plain comment
    auto [name_view, after_name] = Token(TrimLeft(after_keyword));
    const std::string kw(keyword);
    if (name_view.empty()) {
      Problem(kw + " line without a metric name");
      return;
    }
    if (!IsMetricName(name_view)) {
      Problem(kw + " line: invalid metric name '" + std::string(name_view) + "'");
      return;
    }
    const std::string name(name_view);
    EnterGroup(name);
    PromFamily& family = FamilyNamed(name);
    if (keyword == "HELP") {
      if (family.help) Problem("second HELP line for " + name);
      if (sampled_.count(name)) Problem("HELP line for " + name + " after its samples");
      std::string_view doc = TrimLeft(after_name);
      std::string help;
      for (size_t i = 0; i < doc.size(); ++i) {
        if (doc[i] != '\\') {
          help += doc[i];
        } else if (i + 1 < doc.size() && doc[i + 1] == '\\') {
          help += '\\';
          ++i;
        } else if (i + 1 < doc.size() && doc[i + 1] == 'n') {
          help += '\n';
          ++i;
        } else {
          Problem("HELP line for " + name + ": invalid escape (only \\\\ and \\n)");
          help += '\\';
        }
      }
      family.help = std::move(help);
      return;
    }
    auto [type_view, extra] = Token(TrimLeft(after_name));
    if (type_view.empty()) {
      Problem("TYPE line for " + name + " without a type");
      return;
    }
    const std::string type(type_view);
    if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
        type != "untyped") {
      Problem("TYPE line for " + name + ": unknown type '" + type + "'");
      return;
    }
    if (!TrimLeft(extra).empty()) Problem("TYPE line for " + name + " has more than a type");
    if (!family.type.empty()) {
      Problem("second TYPE line for " + name);
      return;
    }
    if (sampled_.count(name)) Problem("TYPE line for " + name + " after its samples");
    family.type = type;
    for (const std::string& sample_name : SampleNames(name, type)) {
      auto [it, fresh] = owner_.emplace(sample_name, name);
      if (!fresh)
        Problem("samples named " + sample_name + " would belong to both " + it->second + " and " +
                name);
    }
  }

  void Sample(std::string_view line) {
    size_t i = 0;
    while (i < line.size() && IsNameChar(line[i])) ++i;
    std::string_view name = line.substr(0, i);
    if (name.empty() || !IsNameStart(name[0])) {
      Problem("a sample line must start with a metric name: '" + std::string(line) + "'");
      return;
    }
    PromSample s;
    s.name = std::string(name);
    s.line = line_;
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i < line.size() && line[i] == '{') {
      ++i;
      if (!Labels(line, i, s)) return;
    } else if (i == name.size() && i < line.size()) {
      Problem("unexpected character '" + std::string(1, line[i]) + "' after metric name " + s.name);
      return;
    }
    auto [value_text, after_value] = Token(TrimLeft(line.substr(i)));
    if (value_text.empty()) {
      Problem("sample " + s.name + " without a value");
      return;
    }
    std::optional<double> value = ParseValue(value_text);
    if (!value) {
      Problem("sample " + s.name + ": invalid value '" + std::string(value_text) + "'");
      return;
    }
    s.value = *value;
    auto [stamp, after_stamp] = Token(TrimLeft(after_value));
    if (!stamp.empty()) {
      s.timestamp_ms = ParseTimestamp(stamp);
      if (!s.timestamp_ms) {
        Problem("sample " + s.name + ": invalid timestamp '" + std::string(stamp) + "'");
        return;
      }
      if (!TrimLeft(after_stamp).empty()) {
        Problem("sample " + s.name + ": unexpected text after the timestamp");
        return;
      }
    }
    Record(std::move(s));
  }

  // The label set after '{' at line[i], up to and including its '}'.
  bool Labels(std::string_view line, size_t& i, PromSample& s) {
    auto skip_blanks = [&] {
      while (i < line.size() && IsBlank(line[i])) ++i;
    };
    std::set<std::string, std::less<>> seen;
    while (true) {
      skip_blanks();
      if (i >= line.size()) {
        Problem("sample " + s.name + ": label set not closed");
        return false;
      }
      if (line[i] == '}') {
        ++i;
        return true;
      }
      size_t start = i;
      while (i < line.size() && IsLabelChar(line[i])) ++i;
      const std::string label(line.substr(start, i - start));
      if (label.empty() || !IsLabelStart(label[0])) {
        Problem("sample " + s.name + ": invalid label name at '" + std::string(line.substr(start)) +
                "'");
        return false;
      }
      if (label.starts_with("__"))
        Problem("sample " + s.name + ": label name " + label + " is reserved (starts with __)");
      skip_blanks();
      if (i >= line.size() || line[i] != '=') {
        Problem("sample " + s.name + ": '=' expected after label " + label);
        return false;
      }
      ++i;
      skip_blanks();
      if (i >= line.size() || line[i] != '"') {
        Problem("sample " + s.name + ": the value of label " + label + " is not quoted");
        return false;
      }
      ++i;
      std::string value;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= line.size()) break;
        char e = line[i++];
        if (e == '\\' || e == '"') {
          value += e;
        } else if (e == 'n') {
          value += '\n';
        } else {
          Problem("sample " + s.name + ": invalid escape \\" + std::string(1, e) +
                  " in the value of label " + label);
          value += '\\';
          value += e;
        }
      }
      if (!closed) {
        Problem("sample " + s.name + ": the value of label " + label + " is not closed");
        return false;
      }
      if (!seen.insert(label).second) Problem("sample " + s.name + ": label " + label + " twice");
      s.labels.emplace_back(label, std::move(value));
      skip_blanks();
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        return true;
      }
      Problem("sample " + s.name + ": ',' or '}' expected after the value of label " + label);
      return false;
    }
  }

  void Record(PromSample s) {
    auto owner = owner_.find(s.name);
    const std::string family = owner == owner_.end() ? s.name : owner->second;
    EnterGroup(family);
    sampled_.insert(family);
    if (owner == owner_.end()) {
      Problem("sample " + s.name + " belongs to no family declared by a TYPE line before it");
    } else {
      CheckAgainstType(s, out_.families[family_index_.at(family)]);
    }
    if (!sample_keys_.insert(SeriesKey(s.name, s.labels)).second)
      Problem("sample " + s.Describe() + " appears twice");
    out_.samples.push_back(std::move(s));
  }

  void CheckAgainstType(const PromSample& s, const PromFamily& f) {
    const std::optional<std::string> le = s.Label("le");
    const std::optional<std::string> quantile = s.Label("quantile");
    const bool count_like =
        f.type == "counter" || s.name == f.name + "_count" || s.name == f.name + "_bucket";
    if (count_like && (std::isnan(s.value) || s.value < 0))
      Problem("sample " + s.Describe() + ": a count cannot be negative or NaN");
    if (f.type == "histogram") {
      if (s.name == f.name + "_bucket") {
        if (!le)
          Problem("histogram bucket " + s.Describe() + " without an le label");
        else if (!ParseValue(*le))
          Problem("histogram bucket " + s.Describe() + ": le is not a number");
      } else if (le) {
        Problem("sample " + s.Describe() + ": le belongs on _bucket samples only");
      }
    } else if (f.type == "summary") {
      if (s.name == f.name) {
        if (!quantile)
          Problem("summary sample " + s.Describe() + " without a quantile label");
        else if (!ParseValue(*quantile))
          Problem("summary sample " + s.Describe() + ": quantile is not a number");
      } else if (quantile) {
        Problem("sample " + s.Describe() + ": quantile belongs on the summary's own samples");
      }
    }
  }

  // Every histogram series (a family and its labels but le): cumulative buckets ending with
  // +Inf, which equals _count, and a _sum.
  void CheckHistograms() {
    struct Series {
      std::string describe;
      size_t line = 0;
      std::vector<std::pair<double, double>> buckets;  // (le, count)
      std::optional<double> sum;
      std::optional<double> count;
    };
    std::map<std::string, Series> series;
    for (const PromSample& s : out_.samples) {
      auto owner = owner_.find(s.name);
      if (owner == owner_.end()) continue;
      const PromFamily& f = out_.families[family_index_.at(owner->second)];
      if (f.type != "histogram") continue;
      PromLabels rest;
      std::optional<double> le;
      for (const auto& [k, v] : s.labels) {
        if (k == "le")
          le = ParseValue(v);
        else
          rest.emplace_back(k, v);
      }
      std::sort(rest.begin(), rest.end());
      Series& one = series[SeriesKey(f.name, rest)];
      if (one.describe.empty()) {
        one.describe = f.name + LabelsText(rest);
        one.line = s.line;
      }
      if (s.name == f.name + "_bucket") {
        if (le) one.buckets.emplace_back(*le, s.value);
      } else if (s.name == f.name + "_sum") {
        one.sum = s.value;
      } else {
        one.count = s.value;
      }
    }
    for (auto& [key, one] : series) {
      std::stable_sort(one.buckets.begin(), one.buckets.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = 1; i < one.buckets.size(); ++i) {
        const auto& [le_before, before] = one.buckets[i - 1];
        const auto& [le, value] = one.buckets[i];
        if (le == le_before)
          Problem(one.line,
                  "histogram " + one.describe + ": two buckets with le=" + FormatNumber(le));
        if (value < before)
          Problem(one.line, "histogram " + one.describe + ": buckets not cumulative: le=" +
                                FormatNumber(le) + " has " + FormatNumber(value) +
                                ", le=" + FormatNumber(le_before) + " has " + FormatNumber(before));
      }
      const bool has_inf = !one.buckets.empty() && std::isinf(one.buckets.back().first) &&
                           one.buckets.back().first > 0;
      if (!has_inf) Problem(one.line, "histogram " + one.describe + ": no +Inf bucket");
      if (!one.count)
        Problem(one.line, "histogram " + one.describe + ": no _count");
      else if (has_inf && one.buckets.back().second != *one.count)
        Problem(one.line, "histogram " + one.describe + ": +Inf bucket " +
                              FormatNumber(one.buckets.back().second) + " differs from _count " +
                              FormatNumber(*one.count));
      if (!one.sum) Problem(one.line, "histogram " + one.describe + ": no _sum");
    }
  }

  std::string_view text_;
  size_t line_ = 0;
  PromExposition out_;
  std::map<std::string, size_t, std::less<>> family_index_;
  std::map<std::string, std::string, std::less<>> owner_;  // sample name -> family name
  std::set<std::string, std::less<>> sampled_;             // families with a sample so far
  std::string group_;                                      // family of the previous line
  std::set<std::string, std::less<>> groups_started_;
  std::set<std::string, std::less<>> split_reported_;
  std::set<std::string, std::less<>> sample_keys_;
};

}  // namespace

std::optional<std::string> PromSample::Label(std::string_view label) const {
  for (const auto& [k, v] : labels)
    if (k == label) return v;
  return std::nullopt;
}

bool PromSample::HasLabels(const PromLabels& subset) const {
  return std::all_of(subset.begin(), subset.end(), [this](const auto& want) {
    std::optional<std::string> have = Label(want.first);
    return have && *have == want.second;
  });
}

std::string PromSample::Describe() const {
  return name + LabelsText(labels) + " " + FormatNumber(value);
}

const PromFamily* PromExposition::Family(std::string_view name) const {
  for (const PromFamily& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<const PromSample*> PromExposition::Find(std::string_view name,
                                                    const PromLabels& labels) const {
  std::vector<const PromSample*> out;
  for (const PromSample& s : samples)
    if (s.name == name && s.HasLabels(labels)) out.push_back(&s);
  return out;
}

std::optional<double> PromExposition::Value(std::string_view name, const PromLabels& labels) const {
  std::vector<const PromSample*> found = Find(name, labels);
  if (found.size() != 1) return std::nullopt;
  return found.front()->value;
}

double PromExposition::Sum(std::string_view name, const PromLabels& labels) const {
  double sum = 0;
  for (const PromSample* s : Find(name, labels)) sum += s->value;
  return sum;
}

std::string PromExposition::ProblemsText() const {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

PromExposition ParsePrometheusText(std::string_view text) {
  return Parser(text).Run();
}

}  // namespace portico::it
