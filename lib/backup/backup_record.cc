#include "backup/backup_record.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>

#include "core/utc_time.h"
#include "storage/object_store.h"

namespace manage::backup {
namespace {

using std::chrono::system_clock;

Status Field(const rapidjson::Value& obj, const char* key, bool required, std::string* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    if (!required) return Status::Ok();
    return Status::InvalidArgument(std::string("backup record has no \"") + key + "\"");
  }
  if (!it->value.IsString()) {
    return Status::InvalidArgument(std::string("backup record \"") + key + "\" is not a string");
  }
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}

Status UintField(const rapidjson::Value& obj, const char* key, uint64_t* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsUint64()) {
    return Status::InvalidArgument(std::string("backup record \"") + key +
                                   "\" is not a non-negative integer");
  }
  *out = it->value.GetUint64();
  return Status::Ok();
}

}  // namespace

Result<BackupRecord> ParseBackupRecord(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return Status::InvalidArgument("backup record is not valid JSON");
  if (!doc.IsObject()) return Status::InvalidArgument("backup record is not a JSON object");
  BackupRecord r;
  std::string dt;
  MANAGE_RETURN_IF_ERROR(Field(doc, "id", true, &r.id));
  MANAGE_RETURN_IF_ERROR(Field(doc, "dt", true, &dt));
  MANAGE_RETURN_IF_ERROR(Field(doc, "gtid", false, &r.gtid));
  MANAGE_RETURN_IF_ERROR(Field(doc, "binlog", false, &r.binlog));
  MANAGE_RETURN_IF_ERROR(Field(doc, "sha256", false, &r.sha256));
  MANAGE_RETURN_IF_ERROR(Field(doc, "node", false, &r.node));
  MANAGE_RETURN_IF_ERROR(Field(doc, "store", false, &r.store));
  MANAGE_RETURN_IF_ERROR(UintField(doc, "size", &r.size));
  MANAGE_RETURN_IF_ERROR(Field(doc, "compression", false, &r.compression));
  MANAGE_RETURN_IF_ERROR(Field(doc, "encryption", false, &r.encryption));
  MANAGE_RETURN_IF_ERROR(Field(doc, "key_id", false, &r.key_id));
  MANAGE_RETURN_IF_ERROR(UintField(doc, "raw_size", &r.raw_size));
  MANAGE_RETURN_IF_ERROR(UintField(doc, "duration_ms", &r.duration_ms));
  MANAGE_RETURN_IF_ERROR(Field(doc, "service", false, &r.service));
  if (r.compression != kCompressionNone && r.compression != kCompressionZstd) {
    return Status::InvalidArgument("backup record \"compression\" is '" + r.compression +
                                   "', which this version cannot read");
  }
  if (r.encryption != kEncryptionNone && r.encryption != kEncryptionAesGcm) {
    return Status::InvalidArgument("backup record \"encryption\" is '" + r.encryption +
                                   "', which this version cannot read");
  }
  Result<system_clock::time_point> time = ParseBackupTime(dt);
  if (!time.ok()) return time.status();
  r.time = *time;
  return r;
}

std::string SerializeBackupRecord(const BackupRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto string_field = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  string_field("id", r.id);
  string_field("dt", FormatBackupTime(r.time));
  string_field("gtid", r.gtid);
  string_field("binlog", r.binlog);
  w.Key("size");
  w.Uint64(r.size);
  string_field("sha256", r.sha256);
  string_field("node", r.node);
  string_field("store", r.store);
  string_field("compression", r.compression);
  string_field("encryption", r.encryption);
  string_field("key_id", r.key_id);
  w.Key("raw_size");
  w.Uint64(r.raw_size);
  w.Key("duration_ms");
  w.Uint64(r.duration_ms);
  string_field("service", r.service);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string FormatBackupTime(system_clock::time_point time) { return FormatUtcTime(time); }

Result<system_clock::time_point> ParseBackupTime(std::string_view text) {
  Result<system_clock::time_point> t = ParseUtcTime(text);
  if (t.ok()) return t;
  return Status::InvalidArgument("bad backup time '" + std::string(text) +
                                 "': want YYYY-MM-DDTHH:MM:SS[.ffffff]");
}

Result<std::string> BackupName(std::string_view pattern, system_clock::time_point time) {
  std::time_t secs = system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(time));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[512];
  std::string fmt(pattern);
  size_t n = fmt.empty() ? 0 : std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
  if (n == 0) {
    return Status::InvalidArgument("BACKUP_NAME '" + fmt + "' gives an empty or too long name");
  }
  std::string name(buf, n);
  Status valid = storage::ValidateObjectName(name);
  if (!valid.ok()) return valid.Annotate("BACKUP_NAME '" + fmt + "'");
  return name;
}

}  // namespace manage::backup
