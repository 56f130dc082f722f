#include "storage/xml.h"

#include <catch2/catch.hpp>
#include <string>

namespace manage::storage {
namespace {

TEST_CASE("ParseXml reads elements, text, references and skips the rest") {
  Result<XmlElement> doc = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->"
      "<Root xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\" a='1'>\n"
      "  <Key>a&amp;b &lt;&gt;&quot;&apos;&#65;&#x42;&#xe9;</Key>"
      "  <Empty/><Data><![CDATA[<raw>&amp;]]></Data><?pi x?><Nested><Deep>d</Deep></Nested>"
      "</Root>\n");
  REQUIRE(doc.ok());
  CHECK(doc->name == "Root");
  CHECK(doc->ChildText("Key") == "a&b <>\"'AB\xc3\xa9");
  CHECK(doc->Child("Empty") != nullptr);
  CHECK(doc->ChildText("Empty").empty());
  CHECK(doc->ChildText("Data") == "<raw>&amp;");
  REQUIRE(doc->Child("Nested") != nullptr);
  CHECK(doc->Child("Nested")->ChildText("Deep") == "d");
  CHECK(doc->Child("Missing") == nullptr);
  CHECK(doc->ChildText("Missing").empty());
}

TEST_CASE("ParseXml refuses what is not well-formed") {
  const char* bad[] = {
      "",
      "just text",
      "<a>",
      "<a></b>",
      "<a><b></a></b>",
      "<a>&unknown;</a>",
      "<a>&amp</a>",
      "<a>&#;</a>",
      "<a>&#x110000;</a>",
      "<a></a><b></b>",
      "<a></a>trailing",
      "<a b=c></a>",
      "<a b='<'></a>",
      "<!DOCTYPE a><a></a>",
      "<a><!DOCTYPE b></a>",
      "<a><![CDATA[x</a>",
      "<a><!-- x</a>",
      "< a></a>",
  };
  for (const char* doc : bad) {
    INFO(doc);
    Result<XmlElement> r = ParseXml(doc);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  CHECK_FALSE(ParseXml(deep).ok());
}

TEST_CASE("XmlEscape writes the five special characters as entities") {
  CHECK(XmlEscape("\"etag\"&<x>'") == "&quot;etag&quot;&amp;&lt;x&gt;&apos;");
  Result<XmlElement> back = ParseXml("<a>" + XmlEscape("\"e\"&<>'") + "</a>");
  REQUIRE(back.ok());
  CHECK(back->text == "\"e\"&<>'");
}

}  // namespace
}  // namespace manage::storage
