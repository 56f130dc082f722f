#include "backup/xbstream.h"

#include <zlib.h>

#include <algorithm>

namespace manage::backup {
namespace {

constexpr char kChunkMagic[] = "XBSTCK01";
constexpr size_t kHeaderBytes = 8 + 1 + 1 + 4;  // magic, flags, type, path length
constexpr uint32_t kMaxPath = 512;              // mbstream's FN_REFLEN
constexpr unsigned char kFlagIgnorable = 0x01;

uint64_t LittleEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = bytes.size(); i > 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[i - 1]);
  return v;
}

}  // namespace

Status XbstreamChecker::Bad(const std::string& why) const {
  return Status::Internal("not a valid xbstream at byte " + std::to_string(offset_) + ": " + why);
}

Status XbstreamChecker::Write(std::string_view data) {
  while (!data.empty()) MANAGE_RETURN_IF_ERROR(Consume(&data));
  return Status::Ok();
}

// Takes what the current state needs from *data and moves on when complete.
Status XbstreamChecker::Consume(std::string_view* data) {
  auto collect = [&](size_t need) {
    size_t take = std::min(need - field_.size(), data->size());
    field_.append(data->substr(0, take));
    data->remove_prefix(take);
    offset_ += take;
    return field_.size() == need;
  };
  switch (state_) {
    case State::kHeader: {
      if (!collect(kHeaderBytes)) return Status::Ok();
      if (field_.compare(0, 8, kChunkMagic) != 0) return Bad("wrong chunk magic");
      const auto flags = static_cast<unsigned char>(field_[8]);
      const char type = field_[9];
      if (type != 'P' && type != 'E' && !(flags & kFlagIgnorable)) {
        return Bad("unknown chunk type");
      }
      eof_chunk_ = type == 'E';
      path_left_ = static_cast<uint32_t>(LittleEndian(std::string_view(field_).substr(10, 4)));
      if (path_left_ >= kMaxPath) return Bad("path too long");
      field_.clear();
      state_ = State::kPath;
      return Status::Ok();
    }
    case State::kPath: {
      size_t take = std::min<size_t>(path_left_, data->size());
      data->remove_prefix(take);
      offset_ += take;
      path_left_ -= static_cast<uint32_t>(take);
      if (path_left_ > 0) return Status::Ok();
      if (eof_chunk_) {
        ++files_;
        state_ = State::kHeader;
      } else {
        state_ = State::kLengths;
      }
      return Status::Ok();
    }
    case State::kLengths:
      if (!collect(16)) return Status::Ok();
      payload_left_ = LittleEndian(std::string_view(field_).substr(0, 8));
      field_.clear();
      state_ = State::kChecksum;
      return Status::Ok();
    case State::kChecksum:
      if (!collect(4)) return Status::Ok();
      expected_crc_ = static_cast<uint32_t>(LittleEndian(field_));
      field_.clear();
      crc_ = crc32(0L, Z_NULL, 0);
      state_ = State::kPayload;
      [[fallthrough]];
    case State::kPayload: {
      size_t take = static_cast<size_t>(std::min<uint64_t>(payload_left_, data->size()));
      crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(data->data()), take);
      data->remove_prefix(take);
      offset_ += take;
      payload_ += take;
      payload_left_ -= take;
      if (payload_left_ > 0) return Status::Ok();
      if (static_cast<uint32_t>(crc_) != expected_crc_) return Bad("payload checksum mismatch");
      state_ = State::kHeader;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status XbstreamChecker::Close() {
  if (state_ != State::kHeader || !field_.empty()) return Bad("the stream ends inside a chunk");
  if (files_ == 0) return Bad("the stream holds no file");
  return Status::Ok();
}

}  // namespace manage::backup
