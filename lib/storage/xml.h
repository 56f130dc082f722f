// A small strict XML reader for the answers of S3-compatible stores: elements,
// attributes (skipped), text with the five predefined entities and character
// references, comments, processing instructions and CDATA. No DTDs, no
// namespaces beyond ignoring prefixes' meaning (names are kept as written).
// Pure; the parsed tree owns its strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace manage::storage {

struct XmlElement {
  std::string name;
  std::string text;  // character data directly inside this element, decoded
  std::vector<XmlElement> children;

  // The first child named `child`, or nullptr.
  const XmlElement* Child(std::string_view child) const;
  // The text of the first child named `child`; "" when there is none.
  std::string ChildText(std::string_view child) const;
};

// The document's root element. InvalidArgument for anything that is not
// well-formed (mismatched or unclosed tags, bad references, text outside the
// root, a second root, nesting deeper than 64).
Result<XmlElement> ParseXml(std::string_view document);

// `text` with &, <, >, " and ' written as entities.
std::string XmlEscape(std::string_view text);

}  // namespace manage::storage
