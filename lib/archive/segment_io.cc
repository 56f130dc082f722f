#include "archive/segment_io.h"

#include "storage/sha256.h"

namespace manage::archive {
namespace {

// Passes the content to `sink`: the header, then the spool's range.
Status EmitContent(const SegmentContent& c, const sys::OutputSink& sink) {
  if (!c.header.empty()) MANAGE_RETURN_IF_ERROR(sink(c.header));
  if (c.from == c.to) return Status::Ok();
  if (c.spool == nullptr) return Status::Internal("segment content without its spool");
  return c.spool->Read(c.from, c.to, sink);
}

}  // namespace

Result<std::vector<SegmentInfo>> ListSegments(storage::ObjectStore& store) {
  auto listed = store.List("");
  if (!listed.ok()) return listed.status().Annotate("list the binlog archive " + store.Location());
  std::vector<SegmentInfo> out;
  for (const storage::ObjectInfo& o : *listed) {
    auto info = ParseSegmentName(o.name);
    if (info.ok()) out.push_back(std::move(*info));
  }
  return out;
}

Result<SegmentInfo> UploadSegment(storage::ObjectStore& store, SegmentInfo info,
                                  const backup::Encoding& encoding, const SegmentContent& content) {
  storage::Sha256 hash;
  MANAGE_RETURN_IF_ERROR(EmitContent(content, [&](std::string_view chunk) {
    hash.Update(chunk);
    return Status::Ok();
  }));
  auto digest = hash.Finish();
  if (!digest.ok()) return digest.status();
  info.sha256 = *digest;
  info.zstd = encoding.zstd_level > 0;
  info.key_id = encoding.key != nullptr ? encoding.key->id : "";
  auto name = SegmentName(info);
  if (!name.ok()) return name.status();
  info.name = *name;
  auto writer = store.Create(info.name);
  if (!writer.ok()) return writer.status().Annotate("segment " + info.name);
  std::unique_ptr<backup::ByteSink> out =
      backup::SinkTo([&](std::string_view chunk) { return (*writer)->Write(chunk); });
  auto encoder = backup::Encoder::Create(encoding, out.get());
  if (!encoder.ok()) return encoder.status();
  Status st = EmitContent(content,
                          [&](std::string_view chunk) { return (*encoder)->input().Write(chunk); });
  if (st.ok()) st = (*encoder)->input().Close();
  if (st.ok()) st = (*writer)->Commit();
  if (!st.ok()) {
    (*writer)->Abort();
    return st.Annotate("segment " + info.name);
  }
  return info;
}

Status ReadSegment(storage::ObjectStore& store, const SegmentInfo& info,
                   const backup::BackupKey* key, const EventSplitter::OnEvent& on_event) {
  const bool empty_content = info.kind == SegmentKind::kMarker;
  EventSplitter splitter(!empty_content);
  storage::Sha256 hash;
  std::unique_ptr<backup::ByteSink> raw = backup::SinkTo([&](std::string_view chunk) {
    hash.Update(chunk);
    return splitter.Feed(chunk, on_event);
  });
  auto decoder = backup::Decoder::Create(DecodingRecord(info), key, raw.get());
  if (!decoder.ok()) return decoder.status().Annotate("segment " + info.name);
  Status st = store.Read(info.name,
                         [&](std::string_view chunk) { return (*decoder)->input().Write(chunk); });
  if (st.ok()) st = (*decoder)->input().Close();
  if (st.ok()) st = splitter.Finish();
  if (st.ok()) {
    auto digest = hash.Finish();
    if (!digest.ok()) return digest.status();
    if (*digest != info.sha256) {
      st = Status::Internal("checksum mismatch: expected " + info.sha256 + " got " + *digest);
    }
  }
  if (st.ok()) return Status::Ok();
  if (st.code() == Code::kFailedPrecondition || st.code() == Code::kNotFound ||
      st.code() == Code::kUnavailable || st.code() == Code::kAborted) {
    return st.Annotate("segment " + info.name);
  }
  return Status::Internal("segment " + info.name + " is corrupt: " + st.message());
}

}  // namespace manage::archive
