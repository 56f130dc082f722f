#include "archive/archive_state.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace manage::archive {
namespace {

Status Bad(const char* key) {
  return Status::InvalidArgument(std::string("binlog archive record: \"") + key +
                                 "\" is missing or has the wrong type");
}

Status Text(const rapidjson::Value& doc, const char* key, std::string* out) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd()) return Status::Ok();
  if (!it->value.IsString()) return Bad(key);
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}

}  // namespace

std::string SerializeArchiveState(const ArchiveState& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("epoch");
  w.Uint64(s.epoch);
  w.Key("node");
  w.String(s.node.c_str(), static_cast<rapidjson::SizeType>(s.node.size()));
  if (!s.session.empty()) {
    w.Key("session");
    w.String(s.session.c_str(), static_cast<rapidjson::SizeType>(s.session.size()));
  }
  w.Key("gtid");
  w.String(s.gtid.c_str(), static_cast<rapidjson::SizeType>(s.gtid.size()));
  w.Key("time");
  w.Uint(s.time);
  if (!s.segment.empty()) {
    w.Key("segment");
    w.String(s.segment.c_str(), static_cast<rapidjson::SizeType>(s.segment.size()));
  }
  w.EndObject();
  return buf.GetString();
}

Result<ArchiveState> ParseArchiveState(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("binlog archive record is not a JSON object");
  }
  ArchiveState s;
  auto epoch = doc.FindMember("epoch");
  if (epoch == doc.MemberEnd() || !epoch->value.IsUint64()) return Bad("epoch");
  s.epoch = epoch->value.GetUint64();
  auto time = doc.FindMember("time");
  if (time != doc.MemberEnd()) {
    if (!time->value.IsUint()) return Bad("time");
    s.time = time->value.GetUint();
  }
  MANAGE_RETURN_IF_ERROR(Text(doc, "node", &s.node));
  MANAGE_RETURN_IF_ERROR(Text(doc, "session", &s.session));
  MANAGE_RETURN_IF_ERROR(Text(doc, "gtid", &s.gtid));
  MANAGE_RETURN_IF_ERROR(Text(doc, "segment", &s.segment));
  return s;
}

}  // namespace manage::archive
