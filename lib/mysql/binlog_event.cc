#include "mysql/binlog_event.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace manage::mysql {
namespace {

constexpr size_t kChecksumBytes = 4;
// Format description body: binlog version (2), server version (50), creation
// time (4), header length (1), post-header lengths (one per type), checksum
// algorithm (1), checksum (4, present whatever the algorithm).
constexpr size_t kFdeVersionAt = kEventHeaderBytes + 2;
constexpr size_t kFdeCreatedAt = kFdeVersionAt + 50;
constexpr size_t kFdeHeaderLenAt = kFdeCreatedAt + 4;
constexpr size_t kFdePostHeadersAt = kFdeHeaderLenAt + 1;
constexpr uint8_t kChecksumOff = 0;
constexpr uint8_t kChecksumCrc32 = 1;

Status Malformed(const std::string& what) { return Status::Internal("binlog event: " + what); }

uint16_t ReadLe16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) |
                               (static_cast<uint16_t>(static_cast<uint8_t>(b[at + 1])) << 8));
}

bool StartsWithWord(std::string_view text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
  }
  return text.size() == word.size() || !std::isalnum(static_cast<unsigned char>(text[word.size()]));
}

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

uint32_t ReadLe32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

uint64_t ReadLe64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

Result<EventHeader> ParseEventHeader(std::string_view event) {
  if (event.size() < kEventHeaderBytes) return Malformed("shorter than its header");
  EventHeader h;
  h.timestamp = ReadLe32(event, 0);
  h.type = static_cast<uint8_t>(event[4]);
  h.server_id = ReadLe32(event, 5);
  h.size = ReadLe32(event, 9);
  h.log_pos = ReadLe32(event, 13);
  h.flags = ReadLe16(event, 17);
  if (h.size < kEventHeaderBytes || h.size != event.size()) {
    return Malformed("size " + std::to_string(h.size) + " in its header, " +
                     std::to_string(event.size()) + " bytes given");
  }
  return h;
}

Result<BinlogFormat> ParseFormatDescription(std::string_view event) {
  auto h = ParseEventHeader(event);
  if (!h.ok()) return h.status();
  if (h->type != kFormatDescriptionEvent) return Malformed("not a format description");
  // At least the fixed fields, one post-header length, the algorithm and the checksum.
  if (event.size() < kFdePostHeadersAt + 1 + 1 + kChecksumBytes) {
    return Malformed("format description too short");
  }
  if (static_cast<uint8_t>(event[kFdeHeaderLenAt]) != kEventHeaderBytes) {
    return Malformed("format description with a header length other than 19");
  }
  BinlogFormat f;
  const uint8_t alg = static_cast<uint8_t>(event[event.size() - kChecksumBytes - 1]);
  if (alg != kChecksumOff && alg != kChecksumCrc32) {
    return Status::InvalidArgument("binlog checksum algorithm " + std::to_string(alg) +
                                   " is not supported (use binlog_checksum=CRC32 or NONE)");
  }
  f.crc32 = alg == kChecksumCrc32;
  const size_t types = event.size() - kChecksumBytes - 1 - kFdePostHeadersAt;
  for (size_t i = 0; i < types && i < 255; ++i) {
    f.post_header[i + 1] = static_cast<uint8_t>(event[kFdePostHeadersAt + i]);
  }
  std::string_view version = event.substr(kFdeVersionAt, 50);
  f.server_version = std::string(version.substr(0, version.find('\0')));
  f.layout = std::string(event.substr(kEventHeaderBytes, kFdeCreatedAt - kEventHeaderBytes));
  f.layout += event.substr(kFdeHeaderLenAt, event.size() - kChecksumBytes - kFdeHeaderLenAt);
  return f;
}

Status CheckEventCrc(std::string_view event, const BinlogFormat& format) {
  auto h = ParseEventHeader(event);
  if (!h.ok()) return h.status();
  const bool has_crc = format.crc32 || h->type == kFormatDescriptionEvent;
  if (!has_crc) return Status::Ok();
  if (event.size() < kEventHeaderBytes + kChecksumBytes) return Malformed("no room for a CRC-32");
  // A format description written without checksums carries zeros there.
  const uint32_t stored = ReadLe32(event, event.size() - kChecksumBytes);
  if (h->type == kFormatDescriptionEvent && !format.crc32 && stored == 0) return Status::Ok();
  const uInt len = static_cast<uInt>(event.size() - kChecksumBytes);
  const uint32_t computed = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(event.data()), len));
  if (computed != stored) {
    return Malformed("CRC-32 mismatch in an event of type " + std::to_string(h->type) +
                     " at log position " + std::to_string(h->log_pos));
  }
  return Status::Ok();
}

Result<GtidEventInfo> ParseGtidEvent(std::string_view event) {
  auto h = ParseEventHeader(event);
  if (!h.ok()) return h.status();
  if (h->type != kGtidEvent) return Malformed("not a GTID event");
  if (event.size() < kEventHeaderBytes + 13) return Malformed("GTID event too short");
  GtidEventInfo g;
  g.gtid.seqno = ReadLe64(event, kEventHeaderBytes);
  g.gtid.domain_id = ReadLe32(event, kEventHeaderBytes + 8);
  g.gtid.server_id = h->server_id;
  g.flags = static_cast<uint8_t>(event[kEventHeaderBytes + 12]);
  g.timestamp = h->timestamp;
  if (g.gtid.seqno == 0) return Malformed("GTID event with sequence number 0");
  return g;
}

Result<std::optional<std::string_view>> QueryText(std::string_view event,
                                                  const BinlogFormat& format) {
  auto h = ParseEventHeader(event);
  if (!h.ok()) return h.status();
  if (h->type == kQueryCompressedEvent) return std::optional<std::string_view>();
  if (h->type != kQueryEvent) return Malformed("not a query event");
  const size_t post = format.post_header[kQueryEvent];
  const size_t end = event.size() - (format.crc32 ? kChecksumBytes : 0);
  // thread id (4), execution time (4), schema length (1), error (2), status length (2)
  if (post < 13 || kEventHeaderBytes + post > end) return Malformed("query event too short");
  const size_t schema_len = static_cast<uint8_t>(event[kEventHeaderBytes + 8]);
  const size_t status_len = ReadLe16(event, kEventHeaderBytes + 11);
  const size_t text_at = kEventHeaderBytes + post + status_len + schema_len + 1;
  if (text_at > end) return Malformed("query event lengths do not fit it");
  return std::optional<std::string_view>(event.substr(text_at, end - text_at));
}

Result<bool> EndsGroup(std::string_view event, const BinlogFormat& format, uint8_t gtid_flags) {
  auto h = ParseEventHeader(event);
  if (!h.ok()) return h.status();
  switch (h->type) {
    case kXidEvent:
    case kXaPrepareEvent:
      return true;
    case kQueryEvent:
    case kQueryCompressedEvent: {
      if (gtid_flags & kGtidStandalone) return true;
      auto text = QueryText(event, format);
      if (!text.ok()) return text.status();
      if (!text->has_value()) return false;
      // Exactly "COMMIT" or "ROLLBACK" as the server writes them: "ROLLBACK TO
      // sp" stays inside its transaction.
      std::string_view q = Trimmed(**text);
      if (q == "COMMIT" || q == "ROLLBACK") return true;
      return StartsWithWord(q, "XA") && (StartsWithWord(Trimmed(q.substr(2)), "COMMIT") ||
                                         StartsWithWord(Trimmed(q.substr(2)), "ROLLBACK"));
    }
    default:
      return false;
  }
}

}  // namespace manage::mysql
