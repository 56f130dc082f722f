#include "storage/xml.h"

#include <cstdint>

namespace manage::storage {
namespace {

constexpr int kMaxDepth = 64;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsNameChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':' || u >= 0x80;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view doc) : doc_(doc) {}

  Result<XmlElement> Document() {
    SkipMisc();
    if (!Peek("<")) return Error("no root element");
    XmlElement root;
    MANAGE_RETURN_IF_ERROR(Element(root, 1));
    SkipMisc();
    if (pos_ != doc_.size()) return Error("content after the root element");
    return root;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("malformed XML at byte " + std::to_string(pos_) + ": " + what);
  }
  bool Peek(std::string_view s) const { return doc_.substr(pos_).starts_with(s); }
  bool AtEnd() const { return pos_ >= doc_.size(); }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(doc_[pos_])) ++pos_;
  }
  // Skips to just after `end`; false when it never comes.
  bool SkipPast(std::string_view end) {
    const size_t at = doc_.find(end, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + end.size();
    return true;
  }

  // White space, comments and processing instructions (the XML declaration).
  void SkipMisc() {
    for (;;) {
      SkipSpace();
      if (Peek("<?")) {
        if (!SkipPast("?>")) return;
      } else if (Peek("<!--")) {
        if (!SkipPast("-->")) return;
      } else {
        return;
      }
    }
  }

  std::string Name() {
    const size_t start = pos_;
    while (!AtEnd() && IsNameChar(doc_[pos_])) ++pos_;
    return std::string(doc_.substr(start, pos_ - start));
  }

  Status Reference(std::string& out) {
    const size_t end = doc_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 12) return Error("unterminated reference");
    const std::string_view ref = doc_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    if (ref == "amp") {
      out.push_back('&');
    } else if (ref == "lt") {
      out.push_back('<');
    } else if (ref == "gt") {
      out.push_back('>');
    } else if (ref == "quot") {
      out.push_back('"');
    } else if (ref == "apos") {
      out.push_back('\'');
    } else if (ref.size() > 1 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return Error("empty character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0 || cp > 0x10FFFF) return Error("bad character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      }
      if (cp == 0 || cp > 0x10FFFF) return Error("bad character reference");
      AppendUtf8(cp, out);
    } else {
      return Error("unknown entity '&" + std::string(ref) + ";'");
    }
    return Status::Ok();
  }

  // Skips the attributes of a start tag, checking their quoting.
  Status Attributes() {
    for (;;) {
      SkipSpace();
      if (AtEnd()) return Error("unterminated start tag");
      if (doc_[pos_] == '>' || Peek("/>")) return Status::Ok();
      if (Name().empty()) return Error("bad attribute name");
      SkipSpace();
      if (!Peek("=")) return Error("attribute without a value");
      ++pos_;
      SkipSpace();
      if (AtEnd() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) return Error("unquoted attribute");
      const char quote = doc_[pos_++];
      const size_t end = doc_.find(quote, pos_);
      if (end == std::string_view::npos) return Error("unterminated attribute");
      if (doc_.substr(pos_, end - pos_).find('<') != std::string_view::npos) {
        return Error("'<' in an attribute value");
      }
      pos_ = end + 1;
    }
  }

  // REQUIRES: at '<' of a start tag.
  Status Element(XmlElement& element, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    ++pos_;
    element.name = Name();
    if (element.name.empty()) return Error("bad element name");
    MANAGE_RETURN_IF_ERROR(Attributes());
    if (Peek("/>")) {
      pos_ += 2;
      return Status::Ok();
    }
    ++pos_;  // '>'
    return Content(element, depth);
  }

  Status Content(XmlElement& element, int depth) {
    for (;;) {
      if (AtEnd()) return Error("<" + element.name + "> is not closed");
      const char c = doc_[pos_];
      if (c == '&') {
        MANAGE_RETURN_IF_ERROR(Reference(element.text));
      } else if (c != '<') {
        element.text.push_back(c);
        ++pos_;
      } else if (Peek("</")) {
        pos_ += 2;
        if (Name() != element.name) return Error("</...> does not close <" + element.name + ">");
        SkipSpace();
        if (!Peek(">")) return Error("bad end tag");
        ++pos_;
        return Status::Ok();
      } else if (Peek("<!--")) {
        if (!SkipPast("-->")) return Error("unterminated comment");
      } else if (Peek("<![CDATA[")) {
        pos_ += 9;
        const size_t end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) return Error("unterminated CDATA");
        element.text.append(doc_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (Peek("<?")) {
        if (!SkipPast("?>")) return Error("unterminated processing instruction");
      } else if (Peek("<!")) {
        return Error("declarations are not supported");
      } else {
        element.children.emplace_back();
        MANAGE_RETURN_IF_ERROR(Element(element.children.back(), depth + 1));
      }
    }
  }

  std::string_view doc_;
  size_t pos_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child) const {
  for (const XmlElement& c : children) {
    if (c.name == child) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child) const {
  const XmlElement* c = Child(child);
  return c == nullptr ? "" : c->text;
}

Result<XmlElement> ParseXml(std::string_view document) { return Parser(document).Document(); }

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace manage::storage
