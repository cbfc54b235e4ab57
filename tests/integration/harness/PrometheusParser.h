// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests that
// scrape /-/metrics. It collects the families (HELP and TYPE lines) and the samples, and
// lists every way the text breaks the format instead of stopping at the first:
//
//   - syntax: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
//     (not starting with "__"), label values quoted with only \\ \" \n escapes, HELP text
//     with only \\ \n escapes, values as Go's ParseFloat takes them (NaN, +Inf, -Inf
//     included), an optional integer timestamp, UTF-8, and a line feed after the last line;
//   - structure: every sample belongs to a family declared by a TYPE line before it
//     (histogram samples are NAME_bucket with `le`, NAME_sum and NAME_count; summary samples
//     NAME with `quantile`, NAME_sum and NAME_count), no family declared twice, a family's
//     lines in one group with HELP and TYPE first, no label twice in a sample, no sample twice
//     (same name and labels), counters never negative;
//   - histograms: per label set, buckets cumulative (non-decreasing by `le`), a +Inf bucket
//     equal to _count, and a _sum.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::it {

using PromLabels = std::vector<std::pair<std::string, std::string>>;

struct PromSample {
  std::string name;
  PromLabels labels;  // as written, escapes resolved
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  size_t line = 0;  // 1-based

  // The value of label `name`, if the sample has it.
  std::optional<std::string> Label(std::string_view name) const;
  // Whether the sample has every label of `subset` with the same value.
  bool HasLabels(const PromLabels& subset) const;
  std::string Describe() const;  // name{labels} value
};

struct PromFamily {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary or untyped; "" without a TYPE line
  std::optional<std::string> help;
};

struct PromExposition {
  std::vector<PromFamily> families;   // in order of first mention
  std::vector<PromSample> samples;    // in order
  std::vector<std::string> problems;  // "line N: what", in order of discovery

  const PromFamily* Family(std::string_view name) const;
  // Samples named `name` whose labels include `labels`.
  std::vector<const PromSample*> Find(std::string_view name, const PromLabels& labels = {}) const;
  // The value of the one sample named `name` whose labels include `labels`; nullopt when
  // there is none or more than one.
  std::optional<double> Value(std::string_view name, const PromLabels& labels = {}) const;
  // The sum of the values of every matching sample (0 when none).
  double Sum(std::string_view name, const PromLabels& labels = {}) const;
  // One problem a line, for failure messages.
  std::string ProblemsText() const;
};

PromExposition ParsePrometheusText(std::string_view text);

}  // namespace portico::it
