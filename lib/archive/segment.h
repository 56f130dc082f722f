// A segment of the binlog archive: whole transactions of one replication
// domain, as the server wrote them, stored as one object whose name carries
// everything needed to place it without reading it:
//
//   <epoch>_<kind>_<prev>_<first>_<last>_<tmin>_<tmax>_<count>_<encoding>_<sha256>
//
//   epoch     10 digits: the archiving term that wrote it (archive/chain.h)
//   kind      t tail (cut every BINLOG_ARCHIVE_RPO), s sealed (tails merged),
//             f fill (events a gap lacked, read from another node), m marker
//             (an epoch's start: no transactions)
//   prev      GTID of the transaction just before the first one (D-0-0: none)
//   first, last  GTIDs of its first and last transactions (a marker: prev)
//   tmin, tmax   lowest and highest event time of its GTID events (Unix s)
//   count     transactions in it
//   encoding  n (stored as is) or z (zstd), then a<key id> when encrypted
//   sha256    of the segment's binlog bytes (its content before compression
//             and encryption), checked once decoded, before any byte is used
//
// The content is a binlog file: the magic, a format description event, then
// the transactions' events exactly as the server sent them (CRC-32 included);
// a marker's content is empty. The checksum is of the content rather than of
// the stored bytes because the name must be known before the upload starts
// (stores cannot rename) and an encrypted object differs at every upload;
// encrypted segments are also authenticated frame by frame as they are read.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "backup/backup_record.h"
#include "core/status.h"
#include "mysql/gtid.h"

namespace manage::archive {

using mysql::MariaDbGtid;

enum class SegmentKind : char { kTail = 't', kSealed = 's', kFill = 'f', kMarker = 'm' };

struct SegmentInfo {
  uint64_t epoch = 0;
  SegmentKind kind = SegmentKind::kTail;
  MariaDbGtid prev, first, last;
  uint32_t time_min = 0, time_max = 0;
  uint64_t transactions = 0;
  bool zstd = false;
  std::string key_id;  // empty: not encrypted
  std::string sha256;  // of the content: 64 lowercase hex digits
  std::string name;    // as stored (filled by ParseSegmentName and Name)
};

// "D-S-N".
std::string GtidText(const MariaDbGtid& gtid);
// One GTID "D-S-N" (N may be 0 here: the beginning of a domain's history).
Result<MariaDbGtid> ParseGtid(std::string_view text);

// The object name of `info`. InvalidArgument when a field cannot be written
// (a key id or checksum that is not hex).
Result<std::string> SegmentName(const SegmentInfo& info);
// InvalidArgument for any name that SegmentName would not write.
Result<SegmentInfo> ParseSegmentName(std::string_view name);

// What the snapshot pipeline's Decoder needs to decode a stored segment: its
// compression, encryption and key (the checksum is checked on the content).
backup::BackupRecord DecodingRecord(const SegmentInfo& info);

// The marker of epoch `epoch` attached after `at`.
SegmentInfo MarkerSegment(uint64_t epoch, const MariaDbGtid& at);

// Whether `gtid` is "no transaction yet" (sequence number 0).
inline bool IsBeginning(const MariaDbGtid& gtid) { return gtid.seqno == 0; }

}  // namespace manage::archive
