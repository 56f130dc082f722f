// Writing and reading segment objects (archive/segment.h) through the
// snapshot pipeline's encoding (backup/pipeline.h: zstd, AES-256-GCM).
// UploadSegment hashes the content first (the checksum is part of the name),
// then streams it encoded into the store: memory is a few fixed buffers
// whatever the segment's size. ReadSegment decodes an object, splits it into
// events and checks the checksum at the end: a caller must not use what it
// was given before ReadSegment returned OK. Not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "archive/events.h"
#include "archive/segment.h"
#include "archive/spool.h"
#include "backup/pipeline.h"
#include "storage/object_store.h"

namespace manage::archive {

// The content of a segment: `header` (the binlog magic and a format
// description; empty for a marker) then bytes [from, to) of `spool`.
struct SegmentContent {
  std::string header;
  Spool* spool = nullptr;  // may be null when from == to
  uint64_t from = 0, to = 0;
};

// Every segment in `store` (objects whose names are not segment names are
// left out); the store's listing error otherwise.
Result<std::vector<SegmentInfo>> ListSegments(storage::ObjectStore& store);

// Uploads `content` as segment `info` (its kind, epoch, GTIDs, times and
// count set by the caller; the encoding, checksum and name are filled in)
// and returns the completed info. Nothing is visible unless it returns OK.
Result<SegmentInfo> UploadSegment(storage::ObjectStore& store, SegmentInfo info,
                                  const backup::Encoding& encoding, const SegmentContent& content);

// Reads segment `info` and passes each event after the magic to `on_event`.
// FailedPrecondition when it is encrypted and `key` is missing or another;
// Internal "segment ... is corrupt: ..." when it does not decode, its events
// are cut or its checksum differs from its name's.
Status ReadSegment(storage::ObjectStore& store, const SegmentInfo& info,
                   const backup::BackupKey* key, const EventSplitter::OnEvent& on_event);

}  // namespace manage::archive
