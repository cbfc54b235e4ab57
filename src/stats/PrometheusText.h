// Writes the Prometheus text exposition format (version 0.0.4): a HELP and TYPE line per
// family, then its samples, label values escaped as the format requires.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace portico::stats {

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
 public:
  // type: counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  // A histogram's _bucket (cumulative, with `le`), _sum and _count samples, from per-bucket
  // counts in microseconds (the last bucket is +Inf).
  template <typename H>
  void histogram(std::string_view name, std::initializer_list<Label> labels, const H& h);

  const std::string& text() const { return out_; }

 private:
  void begin(std::string_view name, std::initializer_list<Label> labels, std::string_view le);
  std::string out_;
};

template <typename H>
void PrometheusText::histogram(std::string_view name, std::initializer_list<Label> labels,
                               const H& h) {
  std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= H::bounds(); ++i) {
    cumulative += h.bucket(i);
    std::string le = i < H::bounds() ? std::to_string(double(h.bound_us(i)) / 1e6) : "+Inf";
    while (le.find('.') != std::string::npos && (le.back() == '0' || le.back() == '.'))
      le.pop_back();  // "0.005000" -> "0.005"
    begin(bucket, labels, le);
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", labels, double(h.sum_us()) / 1e6);
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace portico::stats
