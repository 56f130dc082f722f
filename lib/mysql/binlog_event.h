// MariaDB binary log events as bytes: the v4 event header, the format
// description event (which says how long each event type's fixed part is and
// whether events end in a CRC-32), GTID events, the text of query events, and
// the rule that tells where a transaction's events (its "event group") end.
// The binlog archive keeps events exactly as the server wrote them and uses
// these only to read them: cut at transaction boundaries, name segments by
// GTID and time, check every event's CRC-32 on restore. Pure functions over
// byte strings; thread-safe. Malformed input is Internal ("binlog event ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "mysql/gtid.h"

namespace manage::mysql {

// The 4 bytes every binlog file starts with.
inline constexpr std::string_view kBinlogMagic{
    "\xfe"
    "bin",
    4};
inline constexpr size_t kEventHeaderBytes = 19;

// The event types the archive tells apart (MariaDB's numbering).
enum BinlogEventType : uint8_t {
  kQueryEvent = 2,
  kStopEvent = 3,
  kRotateEvent = 4,
  kFormatDescriptionEvent = 15,
  kXidEvent = 16,
  kIncidentEvent = 26,
  kHeartbeatEvent = 27,
  kXaPrepareEvent = 38,
  kAnnotateRowsEvent = 160,
  kBinlogCheckpointEvent = 161,
  kGtidEvent = 162,
  kGtidListEvent = 163,
  kStartEncryptionEvent = 164,
  kQueryCompressedEvent = 165,
};

// LOG_EVENT_ARTIFICIAL_F: made up by the server for a replica (the first
// rotate of a dump, a Gtid_list standing for skipped events), not in any file.
inline constexpr uint16_t kArtificialEventFlag = 0x20;

struct EventHeader {
  uint32_t timestamp = 0;  // seconds since the epoch; when the statement began
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t size = 0;     // of the whole event, header and checksum included
  uint32_t log_pos = 0;  // end of the event in its server's binlog file
  uint16_t flags = 0;
};

// The header of `event`; Internal when it is shorter than a header or than
// the size the header claims.
Result<EventHeader> ParseEventHeader(std::string_view event);

// What a format description event says about the events after it.
struct BinlogFormat {
  bool crc32 = false;  // events end in a 4-byte CRC-32 (binlog_checksum=CRC32)
  // Length of the fixed part after the header, per event type (index: type).
  uint8_t post_header[256] = {};
  std::string server_version;
  // The event's body without its creation time and checksum: two format
  // description events with the same layout have the same layout().
  std::string layout;
};

// Reads a format description event (header included). Internal when it is
// not one or is malformed; InvalidArgument for a checksum other than none or CRC32.
Result<BinlogFormat> ParseFormatDescription(std::string_view event);

// Checks the CRC-32 of `event` when `format` has them: Internal "CRC-32
// mismatch" otherwise. A format description event always carries its own.
Status CheckEventCrc(std::string_view event, const BinlogFormat& format);

// GTID event flags (flags2).
inline constexpr uint8_t kGtidStandalone = 0x01;

struct GtidEventInfo {
  MariaDbGtid gtid;
  uint8_t flags = 0;
  uint32_t timestamp = 0;
};

// A GTID event's GTID (its server_id is the header's) and flags.
Result<GtidEventInfo> ParseGtidEvent(std::string_view event);

// The statement of a query event; nullopt for a compressed one. Internal when
// the lengths inside do not fit the event.
Result<std::optional<std::string_view>> QueryText(std::string_view event,
                                                  const BinlogFormat& format);

// Whether `event`, inside a group begun by a GTID event with `gtid_flags`,
// is its last event: an XID, an XA PREPARE, a query that is COMMIT, ROLLBACK,
// XA COMMIT or XA ROLLBACK, or the one query of a standalone group (DDL).
// The server's replica applies groups by the same rule.
Result<bool> EndsGroup(std::string_view event, const BinlogFormat& format, uint8_t gtid_flags);

// Little-endian reads; REQUIRES: enough bytes.
uint32_t ReadLe32(std::string_view bytes, size_t at);
uint64_t ReadLe64(std::string_view bytes, size_t at);

}  // namespace manage::mysql
