#include "harness/Json.h"

#include <charconv>
#include <cstdint>
#include <cstdio>

#include "harness/Utf8.h"

namespace portico::it {

namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

void DumpString(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void DumpValue(std::string& out, const Json& v) {
  switch (v.kind()) {
    case Json::Kind::kNull:
      out += "null";
      break;
    case Json::Kind::kBool:
      out += v.Bool() ? "true" : "false";
      break;
    case Json::Kind::kNumber: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", v.Number());
      out += buf;
      break;
    }
    case Json::Kind::kString:
      DumpString(out, v.String());
      break;
    case Json::Kind::kArray:
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        DumpValue(out, v.items()[i]);
      }
      out += ']';
      break;
    case Json::Kind::kObject:
      out += '{';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        DumpString(out, v.keys()[i]);
        out += ':';
        DumpValue(out, v.items()[i]);
      }
      out += '}';
      break;
  }
}

}  // namespace

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  std::optional<Json> Run(std::string* error) {
    Json value;
    bool ok = Value(value, 0);
    if (ok) {
      SkipSpace();
      if (pos_ != text_.size()) ok = Fail("text after the value");
    }
    if (!ok) {
      if (error) *error = error_;
      return std::nullopt;
    }
    return value;
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool Fail(const std::string& why) {
    if (error_.empty()) error_ = "offset " + std::to_string(pos_) + ": " + why;
    return false;
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r'))
      ++pos_;
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool Value(Json& out, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    SkipSpace();
    if (AtEnd()) return Fail("a value expected");
    const char c = Peek();
    if (c == 'n' && Literal("null")) {
      out.kind_ = Json::Kind::kNull;
      return true;
    }
    if (c == 't' && Literal("true")) {
      out.kind_ = Json::Kind::kBool;
      out.bool_ = true;
      return true;
    }
    if (c == 'f' && Literal("false")) {
      out.kind_ = Json::Kind::kBool;
      out.bool_ = false;
      return true;
    }
    if (c == '"') {
      out.kind_ = Json::Kind::kString;
      return String(out.string_);
    }
    if (c == '[') return Array(out, depth);
    if (c == '{') return Object(out, depth);
    if (c == '-' || IsDigit(c)) return Number(out);
    return Fail(std::string("unexpected '") + c + "'");
  }

  bool Number(Json& out) {
    const size_t start = pos_;
    if (Peek() == '-') ++pos_;
    if (AtEnd() || !IsDigit(Peek())) return Fail("a digit expected");
    if (Peek() == '0') {
      ++pos_;
    } else {
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Fail("a digit expected after '.'");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Fail("a digit expected in the exponent");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    out.kind_ = Json::Kind::kNumber;
    auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, out.number_);
    if (ec != std::errc() || end != text_.data() + pos_) return Fail("number out of range");
    return true;
  }

  bool Hex4(uint32_t& out) {
    if (text_.size() - pos_ < 4) return Fail("four hex digits expected");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      out <<= 4;
      if (IsDigit(c))
        out |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= uint32_t(c - 'A' + 10);
      else
        return Fail("four hex digits expected");
    }
    return true;
  }

  bool String(std::string& out) {
    const size_t open = pos_++;
    while (true) {
      if (AtEnd()) return Fail("string not closed");
      const auto c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') break;
      if (c < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (AtEnd()) return Fail("string not closed");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (!Literal("\\u")) return Fail("lone high surrogate");
            if (!Hex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return Fail("lone high surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Fail(std::string("invalid escape \\") + e);
      }
    }
    if (!IsUtf8(text_.substr(open, pos_ - open))) return Fail("string is not valid UTF-8");
    return true;
  }

  bool Array(Json& out, int depth) {
    out.kind_ = Json::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      Json item;
      if (!Value(item, depth + 1)) return false;
      out.items_.push_back(std::move(item));
      SkipSpace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        continue;
      }
      if (!AtEnd() && Peek() == ']') {
        ++pos_;
        return true;
      }
      return Fail("',' or ']' expected");
    }
  }

  bool Object(Json& out, int depth) {
    out.kind_ = Json::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') return Fail("a member name expected");
      std::string key;
      if (!String(key)) return false;
      if (out.Get(key)) return Fail("member \"" + key + "\" twice");
      SkipSpace();
      if (AtEnd() || Peek() != ':') return Fail("':' expected");
      ++pos_;
      Json value;
      if (!Value(value, depth + 1)) return false;
      out.keys_.push_back(std::move(key));
      out.items_.push_back(std::move(value));
      SkipSpace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        continue;
      }
      if (!AtEnd() && Peek() == '}') {
        ++pos_;
        return true;
      }
      return Fail("',' or '}' expected");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

const std::string& Json::String() const {
  static const std::string kEmpty;
  return kind_ == Kind::kString ? string_ : kEmpty;
}

const Json* Json::Get(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return &items_[i];
  return nullptr;
}

const Json* Json::Find(std::string_view path) const {
  const Json* at = this;
  while (at && !path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view step = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    if (at->IsArray()) {
      size_t index = 0;
      auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
      if (ec != std::errc() || end != step.data() + step.size() || index >= at->size())
        return nullptr;
      at = &at->items_[index];
    } else {
      at = at->Get(step);
    }
  }
  return at;
}

std::string Json::Dump() const {
  std::string out;
  DumpValue(out, *this);
  return out;
}

std::optional<Json> ParseJson(std::string_view text, std::string* error) {
  return JsonReader(text).Run(error);
}

}  // namespace portico::it
