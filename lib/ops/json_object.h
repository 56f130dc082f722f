// JsonObject: keyed members for rapidjson's SAX writer, one line a field, for
// the operator reports' JSON renderings.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

namespace manage::ops {

class JsonObject {
 public:
  explicit JsonObject(rapidjson::Writer<rapidjson::StringBuffer>& w) : w_(w) {}
  JsonObject& Str(const char* key, const std::string& v) {
    w_.Key(key);
    w_.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  // An empty string is written as null.
  JsonObject& StrOrNull(const char* key, const std::string& v) {
    if (!v.empty()) return Str(key, v);
    w_.Key(key);
    w_.Null();
    return *this;
  }
  JsonObject& Int(const char* key, int64_t v) {
    w_.Key(key);
    w_.Int64(v);
    return *this;
  }
  JsonObject& Uint(const char* key, uint64_t v) {
    w_.Key(key);
    w_.Uint64(v);
    return *this;
  }
  JsonObject& Bool(const char* key, bool v) {
    w_.Key(key);
    w_.Bool(v);
    return *this;
  }
  // An absent value is written as null.
  template <typename T>
  JsonObject& Maybe(const char* key, const std::optional<T>& v) {
    if (!v) {
      w_.Key(key);
      w_.Null();
      return *this;
    }
    if constexpr (std::is_same_v<T, bool>) {
      return Bool(key, *v);
    } else {
      return Int(key, *v);
    }
  }

 private:
  rapidjson::Writer<rapidjson::StringBuffer>& w_;
};

}  // namespace manage::ops
