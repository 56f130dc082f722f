#include "consul/codec.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace manage::consul {

namespace {

using rapidjson::SizeType;
using rapidjson::Value;

constexpr size_t kSnippetLength = 80;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Seconds(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i < in.size()) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

const char* VerbName(TxnOp::Verb verb) {
  switch (verb) {
    case TxnOp::Verb::kSet:
      return "set";
    case TxnOp::Verb::kCas:
      return "cas";
    case TxnOp::Verb::kCheckSession:
      return "check-session";
    case TxnOp::Verb::kCheckIndex:
      return "check-index";
    case TxnOp::Verb::kDelete:
      return "delete";
  }
  return "set";
}

void WriteString(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& s) {
  w.String(s.data(), static_cast<SizeType>(s.size()));
}

Status ParseDocument(std::string_view body, rapidjson::Document* doc) {
  doc->Parse(body.data(), body.size());
  if (!doc->HasParseError()) return Status::Ok();
  std::string snippet(body.substr(0, kSnippetLength));
  return Status::Internal(std::string("malformed JSON from Consul: ") +
                          rapidjson::GetParseError_En(doc->GetParseError()) + " at offset " +
                          std::to_string(doc->GetErrorOffset()) + " in \"" + snippet + "\"");
}

Status Unexpected(const std::string& what) {
  return Status::Internal("unexpected JSON from Consul: " + what);
}

// `where` names the enclosing value, like "kv[0]"; messages read "kv[0].Value is not a string".
Status ReadString(const Value& obj, const char* field, bool required, const std::string& where,
                  std::string* out) {
  auto it = obj.FindMember(field);
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    if (required) return Unexpected(where + "." + field + " is missing");
    out->clear();
    return Status::Ok();
  }
  if (!it->value.IsString()) return Unexpected(where + "." + field + " is not a string");
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}

// Missing or null reads as 0.
Status ReadUint64(const Value& obj, const char* field, const std::string& where, uint64_t* out) {
  auto it = obj.FindMember(field);
  *out = 0;
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsUint64()) return Unexpected(where + "." + field + " is not an unsigned integer");
  *out = it->value.GetUint64();
  return Status::Ok();
}

Status FindObject(const Value& obj, const char* field, const std::string& where,
                  const Value** out) {
  auto it = obj.FindMember(field);
  if (it == obj.MemberEnd()) return Unexpected(where + "." + field + " is missing");
  if (!it->value.IsObject()) return Unexpected(where + "." + field + " is not an object");
  *out = &it->value;
  return Status::Ok();
}

// Missing or null reads as an empty array.
Status FindArray(const Value& obj, const char* field, const std::string& where, const Value** out) {
  static const Value kEmpty(rapidjson::kArrayType);
  auto it = obj.FindMember(field);
  *out = &kEmpty;
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsArray()) return Unexpected(where + "." + field + " is not an array");
  *out = &it->value;
  return Status::Ok();
}

std::string Index(const char* name, SizeType i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

Result<KvPair> ParseKvPair(const Value& v, const std::string& where) {
  if (!v.IsObject()) return Unexpected(where + " is not an object");
  KvPair pair;
  std::string encoded;
  MANAGE_RETURN_IF_ERROR(ReadString(v, "Key", true, where, &pair.key));
  MANAGE_RETURN_IF_ERROR(ReadString(v, "Value", false, where, &encoded));
  MANAGE_RETURN_IF_ERROR(ReadString(v, "Session", false, where, &pair.session));
  MANAGE_RETURN_IF_ERROR(ReadUint64(v, "LockIndex", where, &pair.lock_index));
  MANAGE_RETURN_IF_ERROR(ReadUint64(v, "CreateIndex", where, &pair.create_index));
  MANAGE_RETURN_IF_ERROR(ReadUint64(v, "ModifyIndex", where, &pair.modify_index));
  MANAGE_RETURN_IF_ERROR(ReadUint64(v, "Flags", where, &pair.flags));
  Result<std::string> value = Base64Decode(encoded);
  if (!value.ok()) return Unexpected(where + ".Value is not base64: " + value.status().message());
  pair.value = std::move(value).value();
  return pair;
}

Status ReadService(const Value& service, const std::string& where, ServiceInstance* out) {
  MANAGE_RETURN_IF_ERROR(ReadString(service, "ID", true, where, &out->id));
  MANAGE_RETURN_IF_ERROR(ReadString(service, "Service", false, where, &out->service));
  MANAGE_RETURN_IF_ERROR(ReadString(service, "Address", false, where, &out->address));
  auto port = service.FindMember("Port");
  if (port != service.MemberEnd() && !port->value.IsNull()) {
    if (!port->value.IsInt() || port->value.GetInt() < 0 || port->value.GetInt() > 65535) {
      return Unexpected(where + ".Port is not a port number");
    }
    out->port = port->value.GetInt();
  }
  const Value* tags = nullptr;
  MANAGE_RETURN_IF_ERROR(FindArray(service, "Tags", where, &tags));
  for (SizeType i = 0; i < tags->Size(); ++i) {
    const Value& tag = (*tags)[i];
    if (!tag.IsString())
      return Unexpected(Index((where + ".Tags").c_str(), i) + " is not a string");
    out->tags.emplace_back(tag.GetString(), tag.GetStringLength());
  }
  return Status::Ok();
}

// True when every check's Status is "passing" (vacuously so with no checks).
Result<bool> AllChecksPassing(const Value& entry, const std::string& where) {
  const Value* checks = nullptr;
  MANAGE_RETURN_IF_ERROR(FindArray(entry, "Checks", where, &checks));
  bool passing = true;
  for (SizeType i = 0; i < checks->Size(); ++i) {
    const std::string check_where = Index((where + ".Checks").c_str(), i);
    if (!(*checks)[i].IsObject()) return Unexpected(check_where + " is not an object");
    std::string status;
    MANAGE_RETURN_IF_ERROR(ReadString((*checks)[i], "Status", true, check_where, &status));
    passing = passing && status == "passing";
  }
  return passing;
}

Result<ServiceInstance> ParseHealthEntry(const Value& v, const std::string& where) {
  if (!v.IsObject()) return Unexpected(where + " is not an object");
  const Value* node = nullptr;
  const Value* service = nullptr;
  MANAGE_RETURN_IF_ERROR(FindObject(v, "Node", where, &node));
  MANAGE_RETURN_IF_ERROR(FindObject(v, "Service", where, &service));
  ServiceInstance instance;
  std::string node_address;
  MANAGE_RETURN_IF_ERROR(ReadString(*node, "Node", true, where + ".Node", &instance.node));
  MANAGE_RETURN_IF_ERROR(ReadString(*node, "Address", false, where + ".Node", &node_address));
  MANAGE_RETURN_IF_ERROR(ReadService(*service, where + ".Service", &instance));
  if (instance.address.empty()) instance.address = node_address;
  Result<bool> passing = AllChecksPassing(v, where);
  if (!passing.ok()) return passing.status();
  instance.passing = *passing;
  return instance;
}

}  // namespace

Result<std::string> Base64Decode(std::string_view in) {
  size_t padding = 0;
  while (!in.empty() && in.back() == '=' && padding < 2) {
    in.remove_suffix(1);
    ++padding;
  }
  if (in.size() % 4 == 1 || (padding > 0 && (in.size() + padding) % 4 != 0)) {
    return Status::InvalidArgument("truncated base64 input");
  }
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return Status::InvalidArgument("invalid base64 character");
    bits = (bits << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  return out;
}

Status ValidateSessionSpec(const SessionSpec& spec) {
  if (spec.behavior != "release" && spec.behavior != "delete") {
    return Status::InvalidArgument("session behavior must be release or delete, not '" +
                                   spec.behavior + "'");
  }
  if (spec.ttl.count() != 0 && (spec.ttl < kMinSessionTtl || spec.ttl > kMaxSessionTtl)) {
    return Status::InvalidArgument("session TTL " + Seconds(spec.ttl) +
                                   " is outside Consul's range 10s..86400s");
  }
  if (spec.lock_delay.count() < 0) {
    return Status::InvalidArgument("session lock-delay must not be negative");
  }
  return Status::Ok();
}

std::string SessionCreateBody(const SessionSpec& spec) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("Name");
  WriteString(w, spec.name);
  if (spec.ttl.count() > 0) {
    w.Key("TTL");
    WriteString(w, Seconds(spec.ttl));
  }
  w.Key("Behavior");
  WriteString(w, spec.behavior);
  w.Key("LockDelay");
  WriteString(w, Seconds(spec.lock_delay));
  if (spec.checks.has_value()) {
    const std::vector<std::string>& checks = *spec.checks;
    if (checks.empty() || std::count(checks.begin(), checks.end(), "serfHealth")) {
      w.Key("Checks");
      w.StartArray();
      for (const std::string& check : checks) WriteString(w, check);
      w.EndArray();
    } else {
      w.Key("NodeChecks");
      w.StartArray();
      w.EndArray();
      w.Key("ServiceChecks");
      w.StartArray();
      for (const std::string& check : checks) {
        w.StartObject();
        w.Key("ID");
        WriteString(w, check);
        w.EndObject();
      }
      w.EndArray();
    }
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string ServiceRegisterBody(const ServiceRegistration& service) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("ID");
  WriteString(w, service.id);
  w.Key("Name");
  WriteString(w, service.name);
  if (!service.tags.empty()) {
    w.Key("Tags");
    w.StartArray();
    for (const std::string& tag : service.tags) WriteString(w, tag);
    w.EndArray();
  }
  if (service.port != 0) {
    w.Key("Port");
    w.Int(service.port);
  }
  if (!service.address.empty()) {
    w.Key("Address");
    WriteString(w, service.address);
  }
  w.Key("Check");
  w.StartObject();
  w.Key("TTL");
  WriteString(w, Seconds(service.check_ttl));
  if (!service.check_status.empty()) {
    w.Key("Status");
    WriteString(w, service.check_status);
  }
  if (!service.check_notes.empty()) {
    w.Key("Notes");
    WriteString(w, service.check_notes);
  }
  w.EndObject();
  w.Key("Checks");
  w.Null();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string CheckUpdateBody(const std::string& status, const std::string& output) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("Status");
  WriteString(w, status);
  w.Key("Output");
  WriteString(w, output);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string TxnBody(const std::vector<TxnOp>& ops) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const TxnOp& op : ops) {
    w.StartObject();
    w.Key("KV");
    w.StartObject();
    w.Key("Verb");
    w.String(VerbName(op.verb));
    w.Key("Key");
    WriteString(w, op.key);
    if (op.verb == TxnOp::Verb::kSet || op.verb == TxnOp::Verb::kCas) {
      w.Key("Value");
      WriteString(w, Base64Encode(op.value));
    }
    if (op.verb == TxnOp::Verb::kCheckSession) {
      w.Key("Session");
      WriteString(w, op.session);
    }
    if (op.verb == TxnOp::Verb::kCas || op.verb == TxnOp::Verb::kCheckIndex) {
      w.Key("Index");
      w.Uint64(op.index);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::vector<std::string>> ParseTxnErrors(std::string_view body) {
  rapidjson::Document doc;
  MANAGE_RETURN_IF_ERROR(ParseDocument(body, &doc));
  if (!doc.IsObject()) return Unexpected("transaction answer is not an object");
  const Value* errors = nullptr;
  MANAGE_RETURN_IF_ERROR(FindArray(doc, "Errors", "txn", &errors));
  std::vector<std::string> out;
  for (SizeType i = 0; i < errors->Size(); ++i) {
    const Value& e = (*errors)[i];
    const std::string where = Index("txn.Errors", i);
    if (!e.IsObject()) return Unexpected(where + " is not an object");
    uint64_t op = 0;
    std::string what;
    MANAGE_RETURN_IF_ERROR(ReadUint64(e, "OpIndex", where, &op));
    MANAGE_RETURN_IF_ERROR(ReadString(e, "What", true, where, &what));
    out.push_back("op " + std::to_string(op) + ": " + what);
  }
  return out;
}

Result<std::string> ParseSessionId(std::string_view body) {
  rapidjson::Document doc;
  MANAGE_RETURN_IF_ERROR(ParseDocument(body, &doc));
  if (!doc.IsObject()) return Unexpected("session is not an object");
  std::string id;
  MANAGE_RETURN_IF_ERROR(ReadString(doc, "ID", true, "session", &id));
  if (id.empty()) return Unexpected("session.ID is empty");
  return id;
}

Result<bool> ParseBool(std::string_view body) {
  rapidjson::Document doc;
  MANAGE_RETURN_IF_ERROR(ParseDocument(body, &doc));
  if (!doc.IsBool()) return Unexpected("expected true or false");
  return doc.GetBool();
}

Result<std::vector<KvPair>> ParseKvPairs(std::string_view body) {
  rapidjson::Document doc;
  MANAGE_RETURN_IF_ERROR(ParseDocument(body, &doc));
  if (!doc.IsArray()) return Unexpected("kv is not an array");
  std::vector<KvPair> pairs;
  for (SizeType i = 0; i < doc.Size(); ++i) {
    Result<KvPair> pair = ParseKvPair(doc[i], Index("kv", i));
    if (!pair.ok()) return pair.status();
    pairs.push_back(std::move(pair).value());
  }
  return pairs;
}

Result<std::vector<ServiceInstance>> ParseHealth(std::string_view body) {
  rapidjson::Document doc;
  MANAGE_RETURN_IF_ERROR(ParseDocument(body, &doc));
  if (!doc.IsArray()) return Unexpected("health is not an array");
  std::vector<ServiceInstance> instances;
  for (SizeType i = 0; i < doc.Size(); ++i) {
    Result<ServiceInstance> instance = ParseHealthEntry(doc[i], Index("health", i));
    if (!instance.ok()) return instance.status();
    instances.push_back(std::move(instance).value());
  }
  return instances;
}

}  // namespace manage::consul
